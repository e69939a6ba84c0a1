"""Signing in and out: citizens by ID number + SMS code, businesses by credit code + a code to the legal
representative, officers by password; the language switch. Rate-limited per address and per account."""

from __future__ import annotations

import hashlib
import secrets

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from profiles.errors import NotFound
from profiles.identifiers import InvalidIdentifier, parse_resident_id, parse_uscc
from profiles.privacy import mask_phone
from web.pages import otp, sessions
from web.pages.guards import safe_next, services, today
from web.pages.i18n import LANGUAGES
from web.pages.limits import limiter

bp = Blueprint("login", __name__)
HOME = {"citizen": "citizen.home", "business": "enterprise.home", "officer": "officer.home"}


def _per_address() -> str:
    return services().settings.login_limit_address


def _per_account() -> str:
    return services().settings.login_limit_account


def _account_key() -> str:
    """The account a request is about, whatever address it comes from: the typed identifier or the pending login."""
    typed = (request.form.get("id_number") or request.form.get("uscc") or request.form.get("username") or "")
    typed = typed.strip().upper() or session.get("pending", {}).get("login", "")
    return "account:" + hashlib.sha256(typed.encode()).hexdigest()


def _form(template: str, status: int = 200, **context):
    return render_template(template, **context), status


# --- citizens and businesses: identifier, then the code ---------------------------------------------------------
def _begin(kind: str, login: str | None, phone: str | None) -> None:
    """Remember who is signing in and send the code; an unknown identifier looks the same from outside."""
    sent = bool(login and phone and otp.send(login, phone))
    session["pending"] = {"kind": kind, "login": login or "unknown:" + secrets.token_hex(8),
                          "to": mask_phone(phone) if sent and phone else None,
                          "next": safe_next(request.args.get("next"), "")}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_per_address, methods=["POST"])
@limiter.limit(_per_account, key_func=_account_key, methods=["POST"])
def citizen():
    if request.method == "GET":
        return _form("login/identifier.html", kind="citizen")
    typed = request.form.get("id_number", "")
    try:
        number = parse_resident_id(typed, today()).number
    except InvalidIdentifier as exc:
        return _form("login/identifier.html", 422, kind="citizen", typed=typed,
                     errors={"id_number": _(exc.reason)})
    try:
        person = services().subjects.find_person(number)
        login, phone = f"citizen:{person.pid}", person.phone
    except NotFound:
        login, phone = None, None
    _begin("citizen", login, phone)
    return redirect(url_for("login.code"), code=303)


@bp.route("/biz/login", methods=["GET", "POST"])
@limiter.limit(_per_address, methods=["POST"])
@limiter.limit(_per_account, key_func=_account_key, methods=["POST"])
def business():
    if request.method == "GET":
        return _form("login/identifier.html", kind="business")
    typed = request.form.get("uscc", "")
    try:
        code = parse_uscc(typed)
    except InvalidIdentifier as exc:
        return _form("login/identifier.html", 422, kind="business", typed=typed, errors={"uscc": _(exc.reason)})
    login, phone = None, None
    try:
        entity = services().subjects.find_entity(code)
        reps = services().snapshots.load("Entity", entity.eid).legal_reps
        for pid in reps:  # the code goes to the first legal representative with a mobile on file
            rep = services().subjects.get_person(pid)
            if rep.phone:
                login, phone = f"business:{entity.eid}:{pid}", rep.phone
                break
    except NotFound:
        pass
    _begin("business", login, phone)
    return redirect(url_for("login.code"), code=303)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_per_address, methods=["POST"])
@limiter.limit(_per_account, key_func=_account_key, methods=["POST"])
def code():
    pending = session.get("pending")
    if not pending:
        return redirect(url_for("login.citizen"), code=303)
    if request.method == "GET":
        return _form("login/code.html", pending=pending)
    typed = request.form.get("code", "").strip()
    if not typed.isdigit() or len(typed) != 6:
        return _form("login/code.html", 422, pending=pending, errors={"code": _("six digits")})
    if not otp.check(pending["login"], typed):
        return _form("login/code.html", 422, pending=pending,
                     errors={"code": _("wrong or expired; check the message or ask for a new code")})
    parts = pending["login"].split(":")
    if parts[0] == "citizen":
        person = services().subjects.get_person(parts[1])
        sessions.start("citizen", person.name, pid=person.pid)
    else:
        entity = services().subjects.get_entity(parts[1])
        sessions.start("business", entity.name, eid=entity.eid, pid=parts[2])
    return redirect(safe_next(pending.get("next"), url_for(HOME[pending["kind"]])), code=303)


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
    found = services().officers.sign_in(username, password)
    if found is None:
        return _form("login/officer.html", 422, username=username,
                     errors={"password": _("user name or password is wrong")})
    visitor = sessions.start("officer", found.name, username=found.username, role=found.role)
    visitor.data["actor"] = found.actor.name
    visitor.data["department"] = found.department
    sessions.save(visitor)
    return redirect(safe_next(request.args.get("next"), url_for(HOME["officer"])), code=303)


@bp.route("/logout", methods=["POST"])
def logout():
    visitor = sessions.current()
    sessions.end()
    kind = visitor.kind if visitor else "citizen"
    return redirect(url_for(LOGIN_PAGES[kind]), code=303)


LOGIN_PAGES = {"citizen": "login.citizen", "business": "login.business", "officer": "login.officer"}


@bp.route("/lang/<code>")
def language(code: str):
    """The language switch: remembered in the session, back to the page it was pressed on."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), "/"), code=303)


@bp.route("/")
def index():
    """The front door: where each kind of visitor signs in (or their page, when signed in)."""
    visitor = sessions.current()
    if visitor is not None:
        return redirect(url_for(HOME[visitor.kind]), code=303)
    return render_template("index.html")
