"""Signing in and out: citizens by ID number + SMS code, businesses by credit code + a code to the legal
representative, officers by password; the language switch. Rate-limited per address and per account."""

from __future__ import annotations

import re
import time
import unicodedata
from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import format_time, get_locale
from flask_babel import gettext as _

from notifier import login_codes
from profiles.identifiers import InvalidIdentifier, parse_resident_id, parse_uscc
from web.pages import sessions
from web.pages.guards import LOGIN_ENDPOINTS, safe_next, services, today
from web.pages.i18n import LANGUAGES
from web.pages.limits import limiter
from web.usecases.accounts import sign_in_officer

bp = Blueprint("login", __name__)
HOME = {"citizen": "citizen.home", "business": "enterprise.home", "officer": "officer.home"}


@bp.app_context_processor
def _page_frame() -> dict:
    """What base.html's frame needs on every page: the session clock, and where each kind of visitor signs in."""
    return {"session_seconds_left": sessions.seconds_left, "login_endpoints": LOGIN_ENDPOINTS}


def _per_address() -> str:
    return services().settings.login_limit_address


def _per_account() -> str:
    return services().settings.login_limit_account


def _account_key() -> str:
    """The account a request is about, whatever address it comes from and however its identifier was typed: the
    parsed, canonical ID number (by its blind index) or credit code, the officer's name as it is matched, or — for
    a code — the pending sign-in kept on the server, never anything posted with it."""
    endpoint = request.endpoint
    if endpoint in ("login.code", "login.resend"):
        found = _pending()
        return "account:" + (found.account if found else "none")
    if endpoint == "login.officer":
        return "account:officer:" + unicodedata.normalize("NFKC", request.form.get("username", "")).strip().lower()
    account = _typed_account("citizen" if endpoint == "login.citizen" else "business")
    if account is None:  # unparseable: refused with 422 and nothing is sent, so it gets a bucket of its own
        typed = request.form.get("id_number") or request.form.get("uscc") or ""
        return "account:unparsed:" + services().blind_index("login_unparsed", typed)
    return "account:" + account


def _typed_account(kind: str) -> str | None:
    """The account the identifier typed into this form belongs to, or None when it does not parse (cached for the
    request: the limiter and the view both ask)."""
    if "typed_account" not in g:
        try:
            if kind == "citizen":
                number = parse_resident_id(request.form.get("id_number", ""), today()).number
                g.typed_account = login_codes.citizen_account(services(), number)
            else:
                g.typed_account = login_codes.business_account(parse_uscc(request.form.get("uscc", "")))
        except InvalidIdentifier as exc:
            g.typed_account, g.typed_error = None, exc.reason
    return g.typed_account


def _pending() -> login_codes.PendingSignIn | None:
    if "pending_sign_in" not in g:
        g.pending_sign_in = login_codes.pending(services(), session.get("pending"))
    return g.pending_sign_in


def _form(template: str, status: int = 200, **context):
    return render_template(template, **context), status


# --- citizens and businesses: identifier, then the code ---------------------------------------------------------
def _ask_for_code(kind: str, field: str):
    """Keep the pending sign-in on the server and queue its code: the same answer, cookie and work for a number on
    file and one that is not (the job finds out which, after the answer)."""
    account = _typed_account(kind)
    if account is None:
        return _form("login/identifier.html", 422, kind=kind, typed=request.form.get(field, ""),
                     errors={field: _(g.typed_error)}, waiting=_waiting())
    _send_code(kind, account, safe_next(request.args.get("next"), ""))
    return redirect(url_for("login.code"), code=303)


def _send_code(kind: str, account: str, next_path: str) -> None:
    previous = _pending()
    if previous is not None:
        login_codes.forget(services(), previous)
    found = login_codes.begin(services(), kind, account, next_path, str(get_locale() or "zh_CN"))
    session["pending"] = found.token
    services().redis.set(RESEND + found.token, time.time() + _resend_after(), ex=2 * services().settings.otp_ttl_s)


# Asking for a code, first or again, is one limit: a resend is not a way round the first code's limits.
_address_limit = limiter.shared_limit(_per_address, scope="login-code-request", methods=["POST"])
_account_limit = limiter.shared_limit(_per_account, scope="login-code-request", key_func=_account_key,
                                      methods=["POST"])


@bp.route("/login", methods=["GET", "POST"])
@_address_limit
@_account_limit
def citizen():
    if request.method == "GET":
        return _form("login/identifier.html", kind="citizen", waiting=_waiting())
    return _ask_for_code("citizen", "id_number")


@bp.route("/biz/login", methods=["GET", "POST"])
@_address_limit
@_account_limit
def business():
    if request.method == "GET":
        return _form("login/identifier.html", kind="business", waiting=_waiting())
    return _ask_for_code("business", "uscc")


_NOTICE_LINK = re.compile(r"/n/[A-Za-z0-9_-]+")


def _waiting() -> bool:
    """Whether the visitor came from a reminder's link (/n/<nid>): the page says a prefilled application waits,
    and nothing about what it is before sign-in."""
    return bool(_NOTICE_LINK.fullmatch(safe_next(request.args.get("next"), "")))


# --- the code page: tries left, and a new code after a wait the server keeps -----------------------------------
RESEND = "pages:resend-at:"  # pending token -> when (epoch seconds) a new code may be asked for


def _resend_after() -> int:
    return int(current_app.config.get("LOGIN_RESEND_AFTER_S", 60))


def _resend_at(found: login_codes.PendingSignIn) -> float:
    """When a new code may be asked for: a while after the last one, or — once the wrong tries are used up — when
    the account's wrong tries are forgotten (no code is sent before that anyway)."""
    redis = services().redis
    at = float(redis.get(RESEND + found.token) or 0)
    if login_codes.tries_left(services(), found.account) == 0:
        at = max(at, time.time() + max(0, redis.ttl(login_codes.TRIES + found.account)))
    return at


def _code_page(found: login_codes.PendingSignIn, status: int = 200, **context):
    at = _resend_at(found)
    return _form("login/code.html", status, pending=found, resend_at=int(at),
                 resend_wait=max(0, int(at - time.time() + 0.999)),
                 resend_clock=format_time(datetime.fromtimestamp(at, UTC), "HH:mm:ss"), **context)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_per_address, methods=["POST"])
@limiter.limit(_per_account, key_func=_account_key, methods=["POST"])
def code():
    found = _pending()
    if found is None:
        session.pop("pending", None)
        return redirect(url_for("login.citizen"), code=303)
    if request.method == "GET":
        return _code_page(found)
    typed = request.form.get("code", "").strip()
    if not typed.isdigit() or len(typed) != 6:
        return _code_page(found, 422, errors={"code": _("Enter the six digits of the code.")})
    login = login_codes.check(services(), found, typed)
    if login is None:
        left = login_codes.tries_left(services(), found.account)
        message = (_("The code is wrong or has expired. Tries left: %(left)s.", left=left) if left else
                   _("The code is wrong or has expired, and that was the last try: ask for a new code when the "
                     "page allows it."))
        return _code_page(found, 422, errors={"code": message}, tries_left=left)
    parts = login.split(":")
    if parts[0] == "citizen":
        person = services().subjects.get_person(parts[1])
        sessions.start("citizen", person.name, pid=person.pid)
    else:
        entity = services().subjects.get_entity(parts[1])
        sessions.start("business", entity.name, eid=entity.eid, pid=parts[2])
    return redirect(safe_next(found.next, url_for(HOME[found.kind])), code=303)


@bp.route("/login/code/resend", methods=["POST"])
@_address_limit
@_account_limit
def resend():
    """A new code for the same sign-in (same account, same page to land on), not before the server allows it."""
    found = _pending()
    if found is None:
        session.pop("pending", None)
        return redirect(url_for("login.citizen"), code=303)
    if time.time() < _resend_at(found):
        page, status = _code_page(found, 429, too_early=True)
        return page, status, {"Retry-After": str(max(1, int(_resend_at(found) - time.time() + 0.999)))}
    _send_code(found.kind, found.account, found.next)
    flash(_("A new code is on its way. The earlier code no longer works."), "info")
    return redirect(url_for("login.code"), code=303)


# --- officers ---------------------------------------------------------------------------------------------------
@bp.route("/officer/login", methods=["GET", "POST"])
@limiter.limit(_per_address, methods=["POST"])
@limiter.limit(_per_account, key_func=_account_key, methods=["POST"])
def officer():
    if request.method == "GET":
        return _form("login/officer.html")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    errors = {}
    if not username:
        errors["username"] = _("required")
    if not password:
        errors["password"] = _("required")
    if errors:
        return _form("login/officer.html", 422, username=username, errors=errors)
    found = sign_in_officer(services(), username, password)
    if found is None:
        return _form("login/officer.html", 422, username=username,
                     errors={"password": _("user name or password is wrong")})
    visitor = sessions.start("officer", found.name, username=found.username, role=found.role)
    if not services().officers.get(found.username).active:  # disabled while the password was being checked
        sessions.end()
        return _form("login/officer.html", 422, username=username,
                     errors={"password": _("user name or password is wrong")})
    visitor.data["actor"] = found.actor.name
    visitor.data["department"] = found.department
    sessions.save(visitor)
    return redirect(safe_next(request.args.get("next"), url_for(HOME["officer"])), code=303)


@bp.route("/logout", methods=["POST"])
def logout():
    visitor = sessions.current()
    sessions.end()
    kind = visitor.kind if visitor else "citizen"
    flash(_("You have signed out. You can sign in again on this page."), "info")
    return redirect(url_for(LOGIN_PAGES[kind]), code=303)


LOGIN_PAGES = {"citizen": "login.citizen", "business": "login.business", "officer": "login.officer"}


@bp.route("/lang/<code>")
def language(code: str):
    """The language switch: remembered in the session, back to the page it was pressed on."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), "/"), code=303)


# --- the session clock: read by web/static/session.js, which warns before the session ends -----------------------
@bp.route("/session")
def session_left():
    """Seconds left in this session, without restarting its clock (another tab may have used it meanwhile)."""
    return jsonify(seconds_left=sessions.seconds_left())


@bp.route("/session/extend", methods=["POST"])
def session_extend():
    """"Stay signed in": any request of the signed-in visitor restarts the idle clock; this one does only that."""
    sessions.current()
    return jsonify(seconds_left=sessions.seconds_left())


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/")
def index():
    """The front door: where each kind of visitor signs in (or their page, when signed in)."""
    visitor = sessions.current()
    if visitor is not None:
        return redirect(url_for(HOME[visitor.kind]), code=303)
    return render_template("index.html")
