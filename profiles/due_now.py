"""What the window checks before filing (pure): which services are due for a subject today (pre-ticked), and for one
that is not, why not — as data (`NotDue`); the page puts it into words.

Decisions, each a choice:
- Due now: an item the evaluator (profiles.rules.due_items) lists within the catalog's largest reminder offset — the
  scan's horizon, the farthest ahead anyone is reminded — whose matter has opened (`opens_on` <= today). So the
  window pre-ticks what the citizen has been, or is being, reminded of, and not a renewal whose window opens later.
- A bundle (一件事) is due when one of its services is; it is not due, with its first service's reason, when none is.
- A person's birth is known from the birth date (ID number, birth certificate) even when no birth event was recorded:
  the rules read it as a birth event on that day, so a newborn's services are due at the window without one.
- An expired material whose renewal was never filed is overdue, not "not due": renewing it needs no confirmation.
  Every other passed deadline (a newborn's registration at 15, school entry at 9) is a reason to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from profiles.catalog import model
from profiles.models import LifeEvent
from profiles.rules import DueItem, Snapshot, _evaluate, birthday, due_items

KNOWN_BIRTH = "birth-date"  # the evid of the birth read off the birth date


@dataclass(frozen=True)
class NotDue:
    """Why a service is not due for the subject today. `why` is one of:
    deceased, applied, done_material, done_event, valid_until, long_term, not_on_file, too_young, retirement_age,
    past_age, retirement_past, newborn_past, event_past, no_event, window_ahead, first_year, no_rule."""

    why: str
    service: str  # whose rule says so: the service itself, or a bundle's member
    on: date | None = None  # the date that decides it (valid until, due on, filed on, died on, established on)
    since: date | None = None  # when it opens, or the event it follows
    material: str | None = None  # a material kind
    event: str | None = None  # an event kind
    age: int | None = None  # the person's age today, in completed years
    at_age: int | None = None  # the age the rule is about


def age_on(born: date, day: date) -> int:
    """Completed years on `day` (the rules' birthday convention: 29 February -> 1 March)."""
    years = day.year - born.year
    return years - 1 if birthday(born, years) > day else years


def with_known_birth(snapshot: Snapshot) -> Snapshot:
    """The snapshot with the person's birth as an event on their birth date, when none was recorded."""
    person = snapshot.person
    if person is None or any(e.kind == "birth" for e in snapshot.events):
        return snapshot
    born = LifeEvent(evid=KNOWN_BIRTH, subject_id=person.pid, kind="birth", occurred_on=person.birth_date, details={})
    return replace(snapshot, events=(*snapshot.events, born))


def due_now(snapshot: Snapshot, catalog: model.Catalog, as_of: date) -> dict[str, DueItem]:
    """Service code -> its due item, for the services due today (bundles through their members)."""
    items = due_items(with_known_birth(snapshot), catalog, as_of, within=catalog.max_offset())
    due: dict[str, DueItem] = {}
    for item in items:
        if item.opens_on <= as_of:
            due.setdefault(item.service, item)
    bundles = [s for s in catalog.services.values() if s.bundle and s.audience == snapshot.audience]
    grown = True
    while grown:  # a bundle of bundles too
        grown = False
        for bundle in bundles:
            member = next((due[c] for c in bundle.bundle if c in due), None)
            if bundle.code not in due and member is not None:
                due[bundle.code], grown = member, True
    return due


def why_not_due(snapshot: Snapshot, catalog: model.Catalog, code: str, as_of: date,
                due: dict[str, DueItem] | None = None) -> NotDue | None:
    """None when `code` is due today (or overdue and still owed: an expired material); else why not."""
    service = catalog.services[code]
    due = due_now(snapshot, catalog, as_of) if due is None else due
    if code in due:
        return None
    person = snapshot.person
    if person is not None and person.deceased_on is not None:
        return NotDue("deceased", code, on=person.deceased_on)
    if service.audience != snapshot.audience:
        return NotDue("no_rule", code)
    if service.bundle:
        reasons = [why_not_due(snapshot, catalog, c, as_of, due) for c in service.bundle]
        return None if any(r is None for r in reasons) else reasons[0]
    s = with_known_birth(snapshot)
    reasons = [_why_trigger(service, t, s, as_of, catalog.max_offset()) for t in service.triggers
               if not isinstance(t, model.ProcessingTrigger)]
    if not reasons:
        return NotDue("no_rule", code)
    return None if any(r is None for r in reasons) else reasons[0]


def _why_trigger(service: model.Service, t, s: Snapshot, as_of: date, horizon: int) -> NotDue | None:
    items = sorted(_evaluate(service, t, s, as_of), key=lambda i: i.due_on)
    if not items:
        return _nothing_on_file(service, t, s, as_of)
    reasons = [_why_item(service, t, item, s, as_of, horizon) for item in items]
    return None if any(r is None for r in reasons) else reasons[-1]  # the latest is the one that counts


def _why_item(service: model.Service, t, item: DueItem, s: Snapshot, as_of: date, horizon: int) -> NotDue | None:
    settled = _settled_by(service, t, item, s)
    if settled is not None:
        return settled
    code, age = service.code, age_on(s.person.birth_date, as_of) if s.person else None
    if item.opens_on > as_of or item.due_on > as_of + timedelta(days=horizon):  # not open yet
        if isinstance(t, model.ExpiryTrigger):
            return NotDue("valid_until", code, on=item.due_on, since=item.opens_on, material=t.material)
        if isinstance(t, model.AgeTrigger):
            if t.schedule:
                return NotDue("retirement_age", code, on=item.due_on, since=item.opens_on, age=age)
            return NotDue("too_young", code, on=item.due_on, since=item.opens_on, age=age, at_age=t.age)
        return NotDue("window_ahead", code, on=item.due_on, since=item.opens_on)
    if item.due_on >= as_of:
        return None  # open and not yet past: the evaluator lists it
    if isinstance(t, model.ExpiryTrigger):
        return None  # expired and not renewed: overdue, and renewing it is what is owed
    if isinstance(t, model.AgeTrigger):
        if t.schedule:
            return NotDue("retirement_past", code, on=item.due_on, age=age)
        return NotDue("past_age", code, on=item.due_on, age=age, at_age=t.age)
    if isinstance(t, model.AfterEventTrigger):
        if t.event == "birth" and s.person is not None:
            return NotDue("newborn_past", code, on=item.due_on, since=item.opens_on, age=age, event="birth")
        return NotDue("event_past", code, on=item.due_on, since=item.opens_on, event=t.event)
    return NotDue("window_ahead", code, on=item.due_on, since=item.opens_on)


def _settled_by(service: model.Service, t, item: DueItem, s: Snapshot) -> NotDue | None:
    """What settled the item, as profiles.rules._settled decides it: an application since the matter opened, the
    year's done event inside the window, or the trigger's `satisfied_by` material or event."""
    code = service.code
    filed = [a.submitted_on for a in s.applications if a.service == code and a.submitted_on is not None
             and a.submitted_on >= item.opens_on]
    if filed:
        return NotDue("applied", code, on=max(filed))
    if isinstance(t, model.YearlyTrigger) and t.done_event:
        done = [e for e in s.events if e.kind == t.done_event and item.opens_on <= e.occurred_on <= item.due_on]
        return NotDue("done_event", code, on=max(e.occurred_on for e in done), event=t.done_event) if done else None
    by = getattr(t, "satisfied_by", None)
    if by is None:
        return None
    if by.event:
        done = [e.occurred_on for e in s.events if e.kind == by.event]
        return NotDue("done_event", code, on=max(done), event=by.event) if done else None
    since = item.opens_on if isinstance(t, model.AfterEventTrigger) else date.min
    held = [m.issued_on for m in s.materials if m.kind == by.material and not m.superseded and m.issued_on >= since]
    return NotDue("done_material", code, on=max(held), material=by.material) if held else None


def _nothing_on_file(service: model.Service, t, s: Snapshot, as_of: date) -> NotDue:
    """The trigger found nothing to go on: no material of the kind, a long-term one, no event, too new a business."""
    code = service.code
    if isinstance(t, model.ExpiryTrigger):
        current = [m for m in s.materials if m.kind == t.material and not m.superseded]
        return NotDue("long_term" if current else "not_on_file", code, material=t.material)
    if isinstance(t, model.AfterEventTrigger):
        return NotDue("no_event", code, event=t.event)
    if isinstance(t, model.YearlyTrigger) and s.entity is not None:
        return NotDue("first_year", code, on=s.entity.established_on)
    return NotDue("no_rule", code)
