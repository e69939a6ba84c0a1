"""The administrators' page of API keys in the officer console: the keys without their secrets, creating one (its
secret shown once, never cached) and revoking one after a confirmation; any other role is refused and recorded."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from graph.apikeys import ROLES, ApiKeyInfo
from profiles.errors import NotFound
from web.pages.applying import form_text
from web.pages.guards import services, signed_in, visitor
from web.pages.officer_common import bp
from web.usecases.accounts import create_api_key, revoke_api_key

ADMINS = ("admin",)
MAX_NAME = 100
ROLE_NAMES = {"system": _l("Department system"), "officer": _l("Window staff"), "admin": _l("Administrator")}
ROLE_HINTS = {"system": _l("Department system: writes persons, entities, relations, materials and events."),
              "officer": _l("Window staff: reads records with a stated purpose, prefills forms, handles applications."),
              "admin": _l("Administrator: everything, including scans.")}


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(services().settings.zone).strftime("%Y-%m-%d %H:%M") if moment else None


def _row(key: ApiKeyInfo) -> dict:
    return {"kid": key.kid, "name": key.name, "role": str(ROLE_NAMES.get(key.role, key.role)),
            "created": _local(key.created_at), "last_used": _local(key.last_used_at),
            "revoked": _local(key.revoked_at) if key.revoked else None}


def _list_page(status: int = 200, errors: dict | None = None, name: str = "", role: str = ""):
    keys = [_row(k) for k in services().api_keys.all_keys()]
    return render_template("officer/keys.html", keys=keys, errors=errors or {}, name=name, role=role,
                           roles=[(r, ROLE_NAMES[r], ROLE_HINTS[r]) for r in ROLES]), status


@bp.get("/admin/keys")
@signed_in("officer", roles=ADMINS)
def api_keys():
    return _list_page()


@bp.post("/admin/keys")
@signed_in("officer", roles=ADMINS)
def create_key():
    name, error = form_text(request.form.get("name"), limit=MAX_NAME)
    errors = {"name": error} if error else {}
    role = request.form.get("role") or ""
    if role not in ROLES:
        errors["role"] = _("choose a role from the list")
    if errors:
        return _list_page(422, errors, name, role)
    key = create_api_key(services(), visitor().actor, name, role)
    answer = make_response(render_template("officer/key_created.html", key=key, name=name,
                                           role=ROLE_NAMES[role]))
    answer.headers["Cache-Control"] = "no-store"  # the secret exists nowhere else: no cache may keep a copy
    return answer


@bp.route("/admin/keys/<kid>/revoke", methods=["GET", "POST"])
@signed_in("officer", roles=ADMINS)
def revoke_key(kid: str):
    """GET asks to confirm (naming the key); POST revokes it, after which its next API request gets 401."""
    keys = services().api_keys
    try:
        if request.method == "GET":
            return render_template("officer/key_revoke.html", key=_row(keys.get(kid)))
        done = revoke_api_key(services(), visitor().actor, kid)
    except NotFound:
        abort(404)
    if done.already:
        flash(_("The key %(name)s (%(kid)s) was already revoked.", name=done.key.name, kid=kid))
    else:
        flash(_("The key %(name)s (%(kid)s) is revoked: its next request will be refused.", name=done.key.name,
                kid=kid))
    return redirect(url_for(".api_keys"), code=303)
