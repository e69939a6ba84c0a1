"""The words of the citizen's pages: statuses, channels, provenances, events, relations and the reason an item is
due, in plain language in the visitor's language (each msgid written out, so the translation check finds it)."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from profiles.catalog import model
from profiles.rules import DueItem, Snapshot, retirement_months
from web.pages.guards import services
from web.pages.i18n import is_chinese
from web.pages.names import material_name, service_name, text  # noqa: F401  (re-exported to the views)


def application_status(status: str) -> str:
    return {"draft": _("Prepared for you, not yet submitted"), "submitted": _("Submitted, being processed"),
            "approved": _("Approved"), "rejected": _("Rejected"),
            "needs_correction": _("Returned for correction: see what to fix"),
            "withdrawn": _("Withdrawn: you may apply again"),
            "settled": _("No longer needed: settled by another application")}.get(status, status)


def status_tone(status: str) -> str:
    """The badge's colour: done well, done badly, waiting on someone, or nothing to do."""
    return {"approved": "ok", "rejected": "bad", "needs_correction": "bad", "submitted": "warn"}.get(status, "none")


def notice_kind(kind: str) -> str:
    return {"reminder": _("Reminder"), "offer": _("You can claim"), "yellow_card": _("Processing time warning"),
            "red_card": _("Processing time exceeded"), "decision_approved": _("Decision: approved"),
            "decision_rejected": _("Decision: not approved"),
            "decision_needs_correction": _("Returned for correction")}.get(kind, kind)


def channel(name: str) -> str:
    return {"inbox": _("Inbox"), "sms": _("SMS"), "email": _("E-mail")}.get(name, name)


def material_status(status: str) -> str:
    return {"valid": _("Valid"), "expiring": _("Expiring soon"), "expired": _("Expired"),
            "superseded": _("Replaced by a newer one")}.get(status, status)


def provenance(name: str) -> str:
    return {"issued": _("Issued"), "verified": _("Verified"), "declared": _("Declared"),
            "missing": _("To fill in")}.get(name, name)


def provenance_explained(name: str) -> str:
    return {"issued": _("Issued: sent to us by the issuing authority's own system, so it cannot be edited here."),
            "verified": _("Verified: an officer checked the original at a service window."),
            "declared": _("Declared: you told us; you may correct it when you apply."),
            "missing": _("To fill in: not on file, please enter it.")}.get(name, name)


def checklist_state(state: str) -> str:
    return {"reusable": _("On file, nothing to bring"),
            "expiring_before_decision": _("Expires before the decision date: bring a renewed one"),
            "missing": _("Not on file: please bring it")}.get(state, state)


def event_kind(kind: str) -> str:
    return {"birth": _("Birth"), "school_entry": _("School entry"), "marriage": _("Marriage"),
            "divorce": _("Divorce"), "household_move": _("Household registration moved"),
            "retirement": _("Retirement"), "death": _("Death"),
            "medical_insurance_paid": _("Medical insurance contribution paid"), "founding": _("Founding"),
            "change": _("Registration change"), "annual_report": _("Annual report"),
            "closure": _("Closure")}.get(kind, kind)


def relation(type_: str, outgoing: bool) -> str:
    """What the other side is to this person."""
    names = {("PARENT_OF", True): _("Child"), ("PARENT_OF", False): _("Parent"),
             ("GUARDIAN_OF", True): _("Under your guardianship"), ("GUARDIAN_OF", False): _("Guardian"),
             ("SPOUSE_OF", True): _("Spouse"), ("SPOUSE_OF", False): _("Spouse"),
             ("LEGAL_REP_OF", True): _("Business you represent"), ("SHAREHOLDER_OF", True): _("Shareholding"),
             ("EMPLOYED_BY", True): _("Employer")}
    return names.get((type_, outgoing), type_)


def listing(names: list[str]) -> str:
    """Names in a run: 居民身份证、居民户口簿 / ID card, household register."""
    return ("、" if is_chinese() else ", ").join(names)


def roles(said: list[str]) -> str:
    """A relative's roles on one line: 父母、监护人 / Parent, guardian."""
    return listing([*said[:1], *((r if is_chinese() else r[:1].lower() + r[1:]) for r in said[1:])])


def role(name: str) -> str:
    return {"officer": _("Service window officer"), "supervisor": _("Supervisor"), "admin": _("Administrator"),
            "system": _("Department system")}.get(name, name)


def sex(value: str | None) -> str | None:
    return {"M": _("Male"), "F": _("Female")}.get(value or "", value)


def as_shown(value: str, source: str | None) -> str:
    """A coded value as the form shows it: the sex by its name ("F" is 女 / Female), a date in the reader's words."""
    source = source or ""
    if source.endswith(".sex"):
        return sex(value) or ""
    if source.endswith((".birth_date", ".expires_on")):
        try:
            return long_date(date.fromisoformat(value))
        except ValueError:  # 长期 (long-term) or typed by hand: as it stands
            return value
    return value


# --- why an item is due --------------------------------------------------------------------------------------
def due_reason(item: DueItem, snapshot: Snapshot) -> str:
    """The rule's reason in a sentence: which material expires, which birthday, which yearly window, which event."""
    service = services().catalog.services.get(item.service)
    kind = item.reason.rule.rsplit(":", 1)[-1]
    trigger = next((t for t in service.triggers if t.kind == kind), None) if service else None
    source = item.reason.source
    if isinstance(trigger, model.ExpiryTrigger):
        return _("%(material)s expires on %(day)s", material=material_name(trigger.material),
                 day=long_date(item.due_on))
    if isinstance(trigger, model.AgeTrigger):
        return _age_reason(item, trigger, snapshot)
    if isinstance(trigger, model.YearlyTrigger):
        return every_year(trigger.window_from, trigger.window_to)
    if isinstance(trigger, model.AfterEventTrigger):
        event = next((e for e in snapshot.events if f"event:{e.evid}" == source), None)
        return _("%(event)s on %(day)s: to be done within the time limit", event=event_kind(trigger.event),
                 day=long_date(event.occurred_on) if event else "?")
    return item.reason.detail


def _age_reason(item: DueItem, trigger: model.AgeTrigger, snapshot: Snapshot) -> str:
    if trigger.schedule and snapshot.person is not None:
        step = next((s for s in trigger.schedule if s.id == item.reason.parameter), None)
        if step is None:
            return item.reason.detail
        years, months = divmod(retirement_months(step, snapshot.person.birth_date), 12)
        said = _("Reaches the statutory retirement age of %(years)d years %(months)d months on %(day)s",
                 years=years, months=months, day=long_date(item.due_on))
        if "category not on file" in item.reason.detail:
            said += " " + _("Your category is not on file, so the earliest date not yet passed is used.")
        return said
    if trigger.reached_by is not None:
        return _("Is %(age)d years old by the cut-off date %(day)s", age=trigger.age or 0,
                 day=long_date(item.due_on))
    return _("Turns %(age)d on %(day)s", age=trigger.age or 0, day=long_date(item.due_on))


def days_left(due_on: date, today: date) -> str:
    n = (due_on - today).days
    if n == 0:
        return _("Due today")
    return ngettext("%(num)d day left", "%(num)d days left", n)


def working_days(n: int) -> str:
    return ngettext("%(num)d working day", "%(num)d working days", n)


def offer_reason(item: DueItem, today: date) -> str:
    """An offer's why: since when it can be claimed; never a date it is due by (it has none)."""
    if item.opens_on <= today:
        return _("You can claim it since %(day)s.", day=long_date(item.opens_on))
    return _("You can claim it from %(day)s.", day=long_date(item.opens_on))


# --- dates in the reader's language ----------------------------------------------------------------------------
def long_date(day: date | None) -> str:
    """2026年12月31日 / 31 December 2026."""
    if day is None:
        return "—"
    return format_date(day, "y年M月d日" if is_chinese() else "d MMMM y")


def month_day(md: model.MonthDay) -> str:
    """A day of every year, with no year in it: 9月1日 / 1 September (2000 is only a leap year to carry 29 Feb)."""
    return format_date(date(2000, md.month, md.day), "M月d日" if is_chinese() else "d MMMM")


def every_year(start: model.MonthDay, end: model.MonthDay) -> str:
    return _("Every year from %(start)s to %(end)s", start=month_day(start), end=month_day(end))
