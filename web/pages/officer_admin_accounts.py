"""Officer accounts on the admin page: creating one (a password meeting profiles/passwords.py's rules), disabling
one (it cannot sign in again; its records stay) or enabling it again, and resetting a password — each through
web/usecases/accounts.py, which records the action. Administrators only."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from graph.officers import ROLES as OFFICER_ROLES
from profiles.errors import Conflict, NotFound, Rejected
from profiles.passwords import MIN_LENGTH, check_new
from web.pages import sessions
from web.pages.applying import form_text
from web.pages.guards import services, signed_in, visitor
from web.pages.officer_admin_view import ADMINS, MAX_NAME, admin_page, officer_role
from web.pages.officer_common import bp
from web.usecases.accounts import create_officer, reset_officer_password, set_officer_active

USERNAME = re.compile(r"^[a-z0-9._-]{1,64}$")  # what graph/officers.py accepts, said before anything is written


def password_error(password: str) -> str | None:
    """The rule the password breaks, in the visitor's language (profiles.passwords keeps the rules)."""
    try:
        check_new(password)
    except Rejected:
        if len(password) < MIN_LENGTH:
            return _("at least %(n)d characters", n=MIN_LENGTH)
        return _("use at least 5 different characters")
    return None


def _typed_account() -> tuple[dict, dict]:
    """What the create form holds, and the errors by field (the ids the page's fields carry)."""
    typed, errors = {}, {}
    typed["username"] = (request.form.get("username") or "").strip().lower()
    if not typed["username"]:
        errors["username"] = _("required")
    elif not USERNAME.match(typed["username"]):
        errors["username"] = _("letters, digits, '.', '-' and '_' only, at most 64")
    for field in ("officer_name", "department"):
        typed[field], error = form_text(request.form.get(field), limit=MAX_NAME)
        if error:
            errors[field] = error
    typed["officer_role"] = request.form.get("officer_role") or ""
    if typed["officer_role"] not in OFFICER_ROLES:
        errors["officer_role"] = _("choose a role from the list")
    error = password_error(request.form.get("password") or "")
    if error:
        errors["password"] = error
    return typed, errors


@bp.post("/admin/officers")
@signed_in("officer", roles=ADMINS)
def create_officer_account():
    typed, errors = _typed_account()
    if not errors:
        try:
            created = create_officer(services(), visitor().actor, typed["username"], typed["officer_name"],
                                     typed["officer_role"], typed["department"], request.form.get("password") or "")
        except Conflict:
            errors["username"] = _("this user name is taken: choose another")
        except Rejected as exc:  # the graph's own checks, should the page's have let something through
            errors[{"name": "officer_name", "role": "officer_role"}.get(exc.field, exc.field)] = exc.reason
    if errors:
        return admin_page(422, officer_errors=errors, officer=typed)
    flash(_("The account %(username)s (%(name)s, %(role)s) is created. Give the officer the password in person.",
            username=created.username, name=created.name, role=officer_role(created.role)), "ok")
    return redirect(url_for(".admin") + "#h-officers", code=303)


@bp.post("/admin/officers/<username>/active")
@signed_in("officer", roles=ADMINS)
def officer_active(username: str):
    """Disable an account (`active=0`) or enable it again (`active=1`)."""
    active = request.form.get("active") == "1"
    try:
        set_officer_active(services(), visitor().actor, username, active, visitor().username or "")
        if not active:
            sessions.end_officer_sessions(username)
    except NotFound:
        abort(404)
    except Rejected:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for(".admin") + "#h-officers", code=303)
    flash(_("The account %(username)s can sign in again.", username=username) if active else
          _("The account %(username)s is disabled: it cannot sign in any more, and wherever it was signed in it is "
            "signed out. Its records stay.", username=username), "ok")
    return redirect(url_for(".admin") + "#h-officers", code=303)


@bp.route("/admin/officers/<username>/password", methods=["GET", "POST"])
@signed_in("officer", roles=ADMINS)
def officer_password(username: str):
    """A new password for an officer who forgot theirs; the old one stops working at once."""
    try:
        account = services().officers.get(username)
    except NotFound:
        abort(404)
    shown = {"username": account.username, "name": account.name, "role": officer_role(account.role)}
    if request.method == "GET":
        return render_template("officer/admin_password.html", account=shown, errors={})
    error = password_error(request.form.get("password") or "")
    if error:
        return render_template("officer/admin_password.html", account=shown, errors={"password": error}), 422
    reset_officer_password(services(), visitor().actor, username, request.form.get("password") or "")
    sessions.end_officer_sessions(username, keep=visitor().sid)
    flash(_("The password of %(username)s is reset and the account is signed out wherever it was signed in. Give the "
            "officer the new one in person.", username=username), "ok")
    return redirect(url_for(".admin") + "#h-officers", code=303)
