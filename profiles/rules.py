"""The due-rule evaluator: given one subject's snapshot, the catalog and a date, what is due, when to remind, and why.

Pure: no I/O. The graph scan must find the same items for the same data (tests compare them). An item is listed when
its due date falls in [as_of, as_of + within] and nothing has satisfied it yet: a newer material (only current,
unsuperseded materials are looked at), the event or material named by the trigger's `satisfied_by` (or, where it says
`id_number_attached`, an ID number attached since the matter opened to a person put on file without one), or an
application for the service submitted since the matter opened.

Conventions, each a decision:
- Age: a person reaches N years on the anniversary of their birth; someone born on 29 February reaches it on 1 March
  in common years (they have not completed the year until 28 February is over).
- School entry (`reached_by`): due in the first year whose cut-off date the child reaches the age by; a child who turns
  6 on 31 August is due that year, on 1 September the next.
- Retirement (`schedule`): the step for the person's sex; a woman's category (cadre 55 / worker 50) is not on file, so
  the earliest date not yet passed is used and the reason says so — reminding early is harmless, never is not.
- Recipients: a minor's reminders go to their living guardians; an entity's to its legal representatives, or to the
  entity's own inbox when none is on file.
- Yearly windows: due on the window's last day of the current window year; an entity is due only from the year after
  it was established (企业信息公示暂行条例 第八条); done when the `done_event` happened inside that year's window.
- Life events' effects: nothing is owed by a deceased person. A closed entity (注销) owes only what follows from
  events on or after its closure (its `after_event` items anchored there: the deregistrations). A trigger with
  `unless: employed` leaves out a person employed by an entity that is not closed (the residents' medical insurance:
  国发〔2016〕3号). An `after_kin_event` (the after-death bundle) is due to each living adult (18 on the day of the
  event) whose spouse, parent or child it happened to, as the trigger's `kin` lists: one item per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from profiles.catalog import model
from profiles.models import Entity, LifeEvent, Material, Person


@dataclass(frozen=True)
class Applied:
    """An application on file, enough to tell whether it settles a due item."""

    service: str
    submitted_on: date | None  # None: a draft, which settles nothing


@dataclass(frozen=True)
class KinEvent:
    """An event of a relative, as the subject sees it: `relation` is what the relative is to the subject."""

    relative: str  # pid
    relation: str  # spouse / parent / child (profiles.catalog.model.KIN)
    event: LifeEvent


@dataclass(frozen=True)
class Snapshot:
    """Everything the rules look at for one subject (a person or an entity)."""

    person: Person | None = None
    entity: Entity | None = None
    materials: tuple[Material, ...] = ()
    events: tuple[LifeEvent, ...] = ()
    guardians: tuple[str, ...] = ()  # pids of parents / guardians (for minors' items)
    legal_reps: tuple[str, ...] = ()  # pids of an entity's legal representatives
    applications: tuple[Applied, ...] = ()
    employers: tuple[str, ...] = ()  # eids of the entities (not closed) the person is EMPLOYED_BY
    kin_events: tuple[KinEvent, ...] = ()  # deaths of the person's spouse, parents and children

    @property
    def subject_id(self) -> str:
        return self.person.pid if self.person else self.entity.eid  # type: ignore[union-attr]

    @property
    def audience(self) -> str:
        return "person" if self.person else "entity"


@dataclass(frozen=True)
class Reason:
    rule: str  # service@version:trigger kind
    source: str  # material:<mid> / event:<evid> / birth_date / year:<YYYY>
    detail: str
    parameter: str | None = None  # the dated parameter applied (schedule id), if any


@dataclass(frozen=True)
class DueItem:
    service: str
    subject_id: str
    due_on: date
    notify_on: tuple[date, ...]
    recipients: tuple[str, ...]
    reason: Reason
    opens_on: date = field(compare=False, default=date.min)


def due_items(snapshot: Snapshot, catalog: model.Catalog, as_of: date, within: int = 365) -> list[DueItem]:
    if snapshot.person is not None and snapshot.person.deceased_on is not None:
        return []
    closed_on = snapshot.entity.closed_on if snapshot.entity is not None else None
    items = []
    for service in catalog.services.values():
        if service.audience != snapshot.audience:
            continue
        for trigger in service.triggers:
            if getattr(trigger, "unless", None) == "employed" and snapshot.employers:
                continue
            if closed_on is not None and not isinstance(trigger, model.AfterEventTrigger):
                continue
            for item in _evaluate(service, trigger, snapshot, as_of):
                if closed_on is not None and item.opens_on < closed_on:
                    continue  # owed by the business before it closed: ended with it
                if as_of <= item.due_on <= as_of + timedelta(days=within) and not _settled(service, trigger, item,
                                                                                           snapshot):
                    items.append(item)
    return sorted(items, key=lambda i: (i.due_on, i.service))


def birthday(born: date, years: int) -> date:
    """The day a person born on `born` completes `years` years (29 February -> 1 March in common years)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def add_months(day: date, months: int) -> date:
    """Calendar months later; the last day of the month when the day does not exist (31 Jan + 1 month = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def retirement_months(step: model.AgeStep, born: date) -> int:
    first = step.first_birth
    if (born.year, born.month) < (first.year, first.month):
        return step.base_age_months
    k = (born.year - first.year) * 12 + born.month - first.month
    return min(step.base_age_months + 1 + k // step.step_every_months, step.max_age_months)


def _evaluate(service: model.Service, t, s: Snapshot, as_of: date) -> list[DueItem]:
    rule = f"{service.code}@v{service.version}:{t.kind}"
    if isinstance(t, model.ExpiryTrigger):
        return [_item(service, s, m.expires_on, t.offsets, recipients(s, "self", as_of),
                      Reason(rule, f"material:{m.mid}", f"{m.kind} expires on {m.expires_on}"),
                      m.expires_on - timedelta(days=t.window_days))
                for m in s.materials if m.kind == t.material and not m.superseded and m.expires_on is not None]
    if isinstance(t, model.AgeTrigger) and s.person is not None:
        return _age(service, t, s, rule, as_of)
    if isinstance(t, model.YearlyTrigger):
        year = as_of.year if as_of <= t.window_to.in_year(as_of.year) else as_of.year + 1
        if s.entity is not None and s.entity.established_on.year >= year:
            return []
        opens, due = t.window_from.in_year(year), t.window_to.in_year(year)
        return [_item(service, s, due, t.offsets, recipients(s, "self", as_of),
                      Reason(rule, f"year:{year}", f"window {opens} to {due}"), opens)]
    if isinstance(t, model.AfterKinEventTrigger) and s.person is not None:
        return _after_kin(service, t, s, rule, as_of)
    if isinstance(t, model.AfterEventTrigger):
        out = []
        for e in s.events:
            if e.kind == t.event:
                due = e.occurred_on + timedelta(days=t.within_days) if t.within_days else \
                    add_months(e.occurred_on, t.within_months or 0)
                out.append(_item(service, s, due, t.offsets, recipients(s, "self", as_of),
                                 Reason(rule, f"event:{e.evid}", f"{e.kind} on {e.occurred_on}"), e.occurred_on))
        return out
    return []


def _after_kin(service: model.Service, t: model.AfterKinEventTrigger, s: Snapshot, rule: str, as_of: date
               ) -> list[DueItem]:
    person = s.person
    assert person is not None
    out, seen = [], set()
    for k in sorted(s.kin_events, key=lambda k: (k.event.evid, t.kin.index(k.relation) if k.relation in t.kin else 9)):
        e = k.event
        adult = birthday(person.birth_date, 18) <= e.occurred_on
        if e.kind != t.event or k.relation not in t.kin or e.evid in seen or not adult:
            continue
        seen.add(e.evid)
        due = e.occurred_on + timedelta(days=t.within_days) if t.within_days else \
            add_months(e.occurred_on, t.within_months or 0)
        out.append(_item(service, s, due, t.offsets, (s.subject_id,),
                         Reason(rule, f"event:{e.evid}",
                                f"{e.kind} of the {k.relation} {k.relative} on {e.occurred_on}"),
                         e.occurred_on))
    return out


def _age(service: model.Service, t: model.AgeTrigger, s: Snapshot, rule: str, as_of: date) -> list[DueItem]:
    person = s.person
    assert person is not None
    parameter, note = None, ""
    if t.schedule:
        steps = [st for st in t.schedule if st.sex in (person.sex, "any")]
        if not steps:
            return []
        # Several steps for one sex (women: cadre 55 / worker 50) and the category is not on file: the earliest
        # date not yet passed, so a woman past 50 is still reminded before 55.
        dated = sorted((_retirement_day(st, person.birth_date), st.id) for st in steps)
        due, step_id = next(((d, i) for d, i in dated if d >= as_of), dated[-1])
        step = next(st for st in steps if st.id == step_id)
        if len(steps) > 1:
            note = " (category not on file: the earliest date not yet passed)"
        years, rest = divmod(retirement_months(step, person.birth_date), 12)
        parameter = step.id
        detail = f"statutory retirement age {years} years {rest} months{note}"
    else:
        due = birthday(person.birth_date, t.age or 0)
        detail = f"turns {t.age} on {due}"
        if t.reached_by is not None:
            cutoff = t.reached_by.in_year(due.year)
            due = cutoff if due <= cutoff else t.reached_by.in_year(due.year + 1)
            detail = f"{t.age} years old by {due}"
    item = _item(service, s, due, t.offsets, recipients(s, t.notify, as_of),
                 Reason(rule, "birth_date", detail, parameter),
                 due - timedelta(days=max(t.offsets)))
    if t.notify_from is not None:  # no reminder before the season opens (school entry: spring)
        opens = t.notify_from.in_year(due.year)
        item = DueItem(item.service, item.subject_id, item.due_on, tuple(d for d in item.notify_on if d >= opens),
                       item.recipients, item.reason, opens)
    return [item]


def _retirement_day(step: model.AgeStep, born: date) -> date:
    years, rest = divmod(retirement_months(step, born), 12)
    return add_months(birthday(born, years), rest)


def _item(service, s: Snapshot, due: date, offsets, recipients, reason: Reason, opens: date) -> DueItem:
    return DueItem(service.code, s.subject_id, due, tuple(due - timedelta(days=o) for o in offsets), recipients,
                   reason, opens)


def recipients(s: Snapshot, notify: str, as_of: date) -> tuple[str, ...]:
    """Entities: their legal representatives (else the entity's own inbox). Persons: themselves, or their living
    guardians when the rule says so or the person is a minor (under 18) on `as_of`."""
    if s.entity is not None:
        return tuple(sorted(s.legal_reps)) or (s.subject_id,)
    minor = s.person is not None and birthday(s.person.birth_date, 18) > as_of
    if (notify == "guardians" or minor) and s.guardians:
        return tuple(sorted(s.guardians))
    return (s.subject_id,)


def _settled(service: model.Service, trigger, item: DueItem, s: Snapshot) -> bool:
    if any(a.service == service.code and a.submitted_on is not None and a.submitted_on >= item.opens_on
           for a in s.applications):
        return True
    if isinstance(trigger, model.YearlyTrigger) and trigger.done_event:
        return any(e.kind == trigger.done_event and item.opens_on <= e.occurred_on <= item.due_on for e in s.events)
    by = getattr(trigger, "satisfied_by", None)
    if by is None:
        return False
    since = item.opens_on if isinstance(trigger, model.AfterEventTrigger) else date.min
    attached = s.person.id_attached_on if s.person is not None else None
    if by.id_number_attached and attached is not None and attached >= since:
        return True
    if by.event:
        return any(e.kind == by.event for e in s.events)
    return any(m.kind == by.material and not m.superseded and m.issued_on >= since for m in s.materials)
