"""An application's life as its applicant sees it, on the citizen and enterprise pages alike: its moves in plain words,
its number in the lists, and withdrawing or correcting it through the use cases (web/usecases/applications.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from flask_babel import gettext as _

from profiles.matters import OPEN
from profiles.models import Application, Transition
from profiles.prefill import PrefilledForm
from web.pages.applying import check_declared, form_text
from web.pages.guards import services, today, visitor
from web.usecases import applications as usecases

MAX_REASON = 500  # as the API's withdrawal takes it (web/api/schemas.py WithdrawalIn)
CONFIRMED = "yes"
OFFICERS = ("officer", "supervisor", "admin")


def can_withdraw(app: Application) -> bool:
    return app.status in OPEN


def can_resubmit(app: Application) -> bool:
    return app.status == "needs_correction"


# --- what happened, by whom --------------------------------------------------------------------------------------
def history(aid: str, yours: Callable[[Transition], bool]) -> list[dict]:
    """Every move of the application, oldest first: when (local time), what happened, by whom, and its note (what
    to correct, why it was rejected, why it was withdrawn). `yours` says which moves the visitor made."""
    zone = services().settings.zone
    return [{"at": t.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), "before": t.before, "after": t.after,
             "what": move_said(t.before, t.after), "who": _("you") if yours(t) else who_said(t), "note": t.note}
            for t in services().applications.history(aid)]


def move_said(before: str, after: str) -> str:
    if after == "submitted":
        return _("Corrected and resubmitted") if before == "needs_correction" else _("Application filed")
    return {"needs_correction": _("Returned for correction"), "approved": _("Approved"), "rejected": _("Rejected"),
            "withdrawn": _("Withdrawn by the applicant")}.get(after, f"{before} → {after}")


def who_said(t: Transition) -> str:
    """Someone other than the visitor: an officer by the name recorded, a department system, a family member."""
    if t.role == "citizen":
        return _("Another family member")
    if t.role == "system":
        return _("%(name)s (department system)", name=t.actor)
    return t.actor  # an officer, as the window recorded their name


def resubmitted(rows: list[dict]) -> bool:
    """The application's latest filing is a corrected one."""
    filings = [r for r in rows if r["after"] == "submitted"]
    return bool(filings) and filings[-1]["before"] == "needs_correction"


def numbered(rows: list[dict]) -> list[dict]:
    """The subject's applications as the portal lists them, each with its number (受理编号; a draft has none).
    Rows without the number are completed from the application itself."""
    return [a if "number" in a else {**a, "number": None if a["status"] == "draft"
                                     else services().applications.get(a["aid"]).number} for a in rows]


# --- withdrawing -------------------------------------------------------------------------------------------------
def check_withdrawal(form: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The reason (required free text) and the errors by field; the applicant must confirm."""
    reason, error = form_text(form.get("reason"), limit=MAX_REASON)
    errors = {"reason": error} if error else {}
    if form.get("confirm") != CONFIRMED:
        errors["confirm"] = _("Please confirm that you want to withdraw this application")
    return reason, errors


def withdraw(app: Application, reason: str) -> Application:
    """Raises profiles.errors.Conflict when it was decided or withdrawn meanwhile."""
    return usecases.withdraw(services(), visitor().actor, app.aid, reason)


def withdrawn_said() -> str:
    return _("Withdrawn. The matter is open again: you can apply again whenever you are ready.")


def withdraw_refused() -> str:
    return _("This application can no longer be withdrawn: it has been decided or withdrawn meanwhile. Nothing was "
             "changed; its current status is shown below.")


# --- correcting and resubmitting ---------------------------------------------------------------------------------
def as_filed(form: PrefilledForm, app: Application) -> PrefilledForm:
    """The service's form with the values the applicant filed in the fields they may edit; issued values stay
    locked, as on file (the same rule as the first filing: check_declared takes them from the file)."""
    return replace(form, fields=tuple(
        f if f.locked or f.name not in app.fields else replace(f, value=str(app.fields[f.name] or ""))
        for f in form.fields))


def resubmit(app: Application, form: PrefilledForm, posted: Mapping[str, str], confirm: str | None
             ) -> tuple[Application | None, dict[str, str]]:
    """(the resubmitted application, {}) or (None, errors by field), nothing written when there are errors. Raises
    profiles.errors.Conflict when it is no longer waiting for a correction."""
    values, errors = check_declared(form, posted)
    if confirm != CONFIRMED:
        errors["confirm"] = _("Please confirm the corrected application before resubmitting it")
    if errors:
        return None, errors
    moved = usecases.resubmit(services(), visitor().actor, app.aid, {**app.fields, **values}, today())
    return moved, {}


def resubmitted_said(app: Application) -> str:
    return _("Resubmitted. The decision is now due by %(day)s.",
             day=app.decide_by.isoformat() if app.decide_by else "—")


def resubmit_refused() -> str:
    return _("This application is not waiting for a correction, so nothing was resubmitted. Its current status is "
             "shown below.")
