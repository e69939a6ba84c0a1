"""What the administrators' page (/officer/admin) shows: the API keys without their secrets, the officer accounts,
the refused attempts of officers (in words) and what administrators did; the routes are in officer_admin.py and
officer_admin_accounts.py."""

from __future__ import annotations

import re
from datetime import datetime

from flask import render_template
from flask_babel import lazy_gettext as _l

from graph.apikeys import ROLES, ApiKeyInfo
from graph.officers import ROLES as OFFICER_ROLES
from graph.officers import Officer
from web.pages.guards import services, visitor

ADMINS = ("admin",)
MAX_NAME = 100
REFUSALS_SHOWN = 100
ROLE_NAMES = {"system": _l("Department system"), "officer": _l("Window staff"), "admin": _l("Administrator")}
ROLE_HINTS = {"system": _l("Department system: writes persons, entities, relations, materials and events."),
              "officer": _l("Window staff: reads records with a stated purpose, prefills forms, handles applications."),
              "admin": _l("Administrator: everything, including scans.")}
OFFICER_ROLE_NAMES = {"officer": _l("Window officer"), "supervisor": _l("Supervisor"),
                      "admin": _l("Administrator")}
ACTIONS = {"created_officer": _l("created the account"), "disabled_officer": _l("disabled the account"),
           "enabled_officer": _l("enabled the account again"), "reset_password": _l("reset the password"),
           "created_key": _l("created the API key"), "revoked_key": _l("revoked the API key")}
# guards.refuse and the views write these reasons in English for the record; the page says them in words.
REASONS = (
    (re.compile(r"^no purpose stated for (?P<label>Person|Entity) \S+$"), _l("no purpose stated for the record")),
    (re.compile(r"^role (?P<role>\w+) may not use (?P<page>\S+)$"), _l("the role %(role)s may not use this page")),
    (re.compile(r"^\w+ is decided by its own department, not .*$"),
     _l("the application is decided by another department")),
)


def local_time(moment: datetime | None) -> str | None:
    return moment.astimezone(services().settings.zone).strftime("%Y-%m-%d %H:%M") if moment else None


def key_row(key: ApiKeyInfo) -> dict:
    return {"kid": key.kid, "name": key.name, "role": str(ROLE_NAMES.get(key.role, key.role)),
            "created": local_time(key.created_at), "last_used": local_time(key.last_used_at),
            "revoked": local_time(key.revoked_at) if key.revoked else None}


def officer_role(role: str) -> str:
    return str(OFFICER_ROLE_NAMES.get(role, role))


def reason_words(reason: str) -> str:
    for pattern, words in REASONS:
        found = pattern.match(reason)
        if found:
            role = found.groupdict().get("role")
            return str(words) % {"role": officer_role(role)} if role else str(words)
    return reason


def _officer_row(o: Officer) -> dict:
    return {"username": o.username, "name": o.name, "role": officer_role(o.role), "department": o.department,
            "active": o.active, "own": o.username == visitor().username}


def admin_page(status: int = 200, *, key_errors: dict | None = None, key: dict | None = None,
               officer_errors: dict | None = None, officer: dict | None = None):
    """The whole page; a form shown again with its errors keeps what was typed (never a password)."""
    keys = [key_row(k) for k in services().api_keys.all_keys()]
    officers = [_officer_row(o) for o in services().officers.all()]
    refusals = [{"at": local_time(r.at), "actor": r.actor, "role": officer_role(r.role), "path": r.path,
                 "reason": reason_words(r.reason)}
                for r in services().portal.refusals_of_roles(OFFICER_ROLES, REFUSALS_SHOWN)]
    actions = [{"at": local_time(a.at), "actor": a.actor, "action": str(ACTIONS.get(a.action, a.action)),
                "target": a.target} for a in services().officers.actions()]
    errors = {**(key_errors or {}), **(officer_errors or {})}
    return render_template(
        "officer/admin.html", keys=keys, officers=officers, refusals=refusals, actions=actions, errors=errors,
        key_errors=key_errors or {}, key=key or {"name": "", "role": ""}, officer_errors=officer_errors or {},
        officer=officer or {"department": visitor().data.get("department", "")},
        roles=[(r, ROLE_NAMES[r], ROLE_HINTS[r]) for r in ROLES],
        officer_roles=[(r, officer_role(r)) for r in OFFICER_ROLES]), status
