"""Who may see what on the pages: sign-in required per kind of visitor, a citizen's own record and their wards',
a business's own, an officer's stated purpose per record; every refusal is recorded before the 403/404."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from profiles.models import Actor
from web.pages import sessions
from web.pages.sessions import Visitor
from web.usecases.reads import read_subject, record_refusal
from web.usecases.subjects import SubjectRef

PURPOSE_TTL_S = 30 * 60  # a stated purpose covers the officer's pages of that record for this long
MAX_PURPOSE = 200
LOGIN_ENDPOINTS = {"citizen": "login.citizen", "business": "login.business", "officer": "login.officer"}
HOME_ENDPOINTS = {"citizen": "citizen.home", "business": "enterprise.home", "officer": "officer.home"}


def services():
    return current_app.extensions["lifecycle"]


def today() -> date:
    return datetime.now(services().settings.zone).date()


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never another host (`//evil`, `https://…`) after signing in.

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, so `/%09/evil.example` (decoded)
    and `/\\evil.example` would lead off the site. The target is judged after removing control characters (which also
    keeps CR/LF out of the Location header) and refused if it has a scheme, a host or a backslash.
    """
    if not target:
        return default
    cleaned = "".join(ch for ch in target if unicodedata.category(ch) != "Cc")
    parts = urlsplit(cleaned)
    if not cleaned.startswith("/") or cleaned.startswith("//") or "\\" in cleaned or parts.scheme or parts.netloc:
        return default
    return cleaned


def form_page() -> str | None:
    """The page a posted form was on (its Referer, sent for this site only: the Referrer-Policy is same-origin),
    as a path on this site, or None."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""), "") or None


def kind_of_path(path: str) -> str:
    """Whose sign-in a path on this site needs: the enterprise pages, the officer console, or a citizen's."""
    if path.startswith("/biz"):
        return "business"
    return "officer" if path.startswith("/officer") else "citizen"


def session_ended(kind: str):
    """A form posted after the session ended: nothing was done; sign in again and come back to the form's page
    (a GET of it: a post-only address has no page to come back to), else to their home page."""
    flash(_("Your session had ended, so what you sent was not saved. Sign in again to go back to the page; "
            "you may need to fill in the form again."), "error")
    back = form_page() or url_for(HOME_ENDPOINTS[kind])
    return redirect(url_for(LOGIN_ENDPOINTS[kind], next=back), code=303)


def signed_in(kind: str, roles: tuple[str, ...] = ()) -> Callable:
    """The view needs a visitor of this kind (and, for officers, one of these roles); others go to sign in, and
    come back to this page after (or, for a form posted once the session has ended, to the form's page)."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            visitor = sessions.current()
            if visitor is None or visitor.kind != kind:
                if visitor is None and request.method == "POST":
                    return session_ended(kind)
                return redirect(url_for(LOGIN_ENDPOINTS[kind], next=request.full_path.rstrip("?")), code=303)
            if roles and visitor.role not in roles:
                refuse(403, f"role {visitor.role} may not use {request.endpoint}")
            return view(*args, **kwargs)
        guarded._signed_in = kind  # type: ignore[attr-defined]  # the authorization tests list routes by this
        return guarded
    return decorate


def visitor() -> Visitor:
    found = sessions.current()
    assert found is not None, "use @signed_in on the view"
    return found


def refuse(status: int, reason: str) -> None:
    """Record the attempt (who, which path, why), then answer 403 or 404. Never returns."""
    who = sessions.current()
    actor = who.actor if who else Actor(name=f"anonymous {request.remote_addr}", role="anonymous")
    record_refusal(services(), actor, request.full_path.rstrip("?"), reason)
    abort(status)


def acting_for(pid: str) -> str:
    """For a citizen: 'self' or 'ward' when `pid` is theirs to see, else the attempt is recorded and 404."""
    v = visitor()
    if pid == v.pid:
        return "self"
    if pid in services().portal.wards(v.pid, today()):
        return "ward"
    refuse(404, f"person {pid} is not the citizen's own record or a ward's")
    raise AssertionError("unreachable")


# --- officers: a purpose per record ---------------------------------------------------------------------------
def state_purpose(label: str, subject_id: str, purpose: str) -> None:
    """The officer said why they open this record; it covers their pages of it for PURPOSE_TTL_S."""
    v = visitor()
    v.data.setdefault("purposes", {})[f"{label}:{subject_id}"] = {"purpose": purpose,
                                                                    "until": time.time() + PURPOSE_TTL_S}
    sessions.save(v)


def stated_purpose(label: str, subject_id: str) -> str | None:
    """The purpose the officer stated for this record while it still covers it, else None (no refusal)."""
    stated = visitor().data.get("purposes", {}).get(f"{label}:{subject_id}")
    return stated["purpose"] if stated and stated["until"] >= time.time() else None


def purpose_for(label: str, subject_id: str) -> str:
    """The purpose the officer stated for this record, or the attempt is recorded and 403."""
    stated = stated_purpose(label, subject_id)
    if stated is None:
        refuse(403, f"no purpose stated for {label} {subject_id}")
    return stated


def record_view(label: str, subject_id: str, what: str, purpose: str | None = None) -> None:
    """An officer's read of a record, written to the access log the citizen sees before the page is answered."""
    v = visitor()
    read_subject(services(), v.actor, SubjectRef(label, subject_id), purpose or purpose_for(label, subject_id), what)
