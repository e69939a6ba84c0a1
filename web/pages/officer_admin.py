"""The administrators' page of the officer console (/officer/admin) and its API keys: the keys without their
secrets, creating one (its secret shown once, never cached) and revoking one after a confirmation; the officer
accounts' routes are in officer_admin_accounts.py. Any other role is refused and recorded."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from graph.apikeys import ROLES
from profiles.errors import NotFound, Rejected
from web.pages import officer_admin_accounts  # noqa: F401  (its routes join bp)
from web.pages.applying import form_text
from web.pages.guards import services, signed_in, visitor
from web.pages.officer_admin_view import ADMINS, MAX_NAME, ROLE_NAMES, admin_page, key_row
from web.pages.officer_common import bp
from web.usecases.accounts import create_api_key, revoke_api_key


@bp.get("/admin")
@signed_in("officer", roles=ADMINS)
def admin():
    return admin_page()


@bp.get("/admin/keys")
@signed_in("officer", roles=ADMINS)
def api_keys():
    """The keys live on the admin page now; the old address leads there."""
    return redirect(url_for(".admin") + "#h-keys", code=303)


@bp.post("/admin/keys")
@signed_in("officer", roles=ADMINS)
def create_key():
    name, error = form_text(request.form.get("name"), limit=MAX_NAME)
    errors = {"name": error} if error else {}
    role = request.form.get("role") or ""
    if role not in ROLES:
        errors["role"] = _("choose a role from the list")
    if errors:
        return admin_page(422, key_errors=errors, key={"name": name, "role": role})
    try:
        key = create_api_key(services(), visitor().actor, name, role)
    except Rejected:
        return admin_page(422, key_errors={"name": _("this is the name the service itself reads under; choose "
                                                     "another")}, key={"name": name, "role": role})
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
            return render_template("officer/key_revoke.html", key=key_row(keys.get(kid)))
        done = revoke_api_key(services(), visitor().actor, kid)
    except NotFound:
        abort(404)
    if done.already:
        flash(_("The key %(name)s (%(kid)s) was already revoked.", name=done.key.name, kid=kid))
    else:
        flash(_("The key %(name)s (%(kid)s) is revoked: its next request will be refused.", name=done.key.name,
                kid=kid))
    return redirect(url_for(".admin") + "#h-keys", code=303)

