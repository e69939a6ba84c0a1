"""The catalog as loaded: service items (事项), their scenarios, form fields and due-rule triggers (docs/CATALOG.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from profiles.materials import MaterialKind

if TYPE_CHECKING:
    from profiles.catalog.guide import Guide


@dataclass(frozen=True)
class Text:
    zh: str
    en: str


@dataclass(frozen=True)
class MonthDay:
    month: int
    day: int

    def in_year(self, year: int) -> date:
        """29 February means 28 February in a common year."""
        if (self.month, self.day) == (2, 29) and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            return date(year, 2, 28)
        return date(year, self.month, self.day)


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class RequiredMaterial:
    kind: str
    valid_on_decision: bool


@dataclass(frozen=True)
class Scenario:
    code: str
    name: Text
    materials: tuple[RequiredMaterial, ...]


@dataclass(frozen=True)
class FormField:
    name: str
    label: Text
    source: str | None


@dataclass(frozen=True)
class SatisfiedBy:
    """What ends the matter besides an application: holding a material of a kind, or an event having happened; and,
    with `id_number_attached`, a person put on file without an ID number having been given one since the matter
    opened (the number is assigned at household registration). Any one of them settles it."""

    material: str | None = None
    event: str | None = None
    id_number_attached: bool = False


@dataclass(frozen=True)
class ExpiryTrigger:
    material: str
    window_days: int
    offsets: tuple[int, ...]
    kind: str = "expiry"
    unless: str | None = None  # a state of the subject that exempts it (UNLESS)


@dataclass(frozen=True)
class AgeStep:
    """A dated parameter: the pensionable age for those born from `first_birth`, rising gradually to a ceiling."""

    id: str
    sex: str
    category: str | None
    effective_from: date
    base_age_months: int
    first_birth: date  # first day of the first birth month affected
    step_every_months: int
    max_age_months: int


@dataclass(frozen=True)
class AgeTrigger:
    age: int | None
    schedule: tuple[AgeStep, ...]
    reached_by: MonthDay | None
    notify_from: MonthDay | None
    notify: str
    offsets: tuple[int, ...]
    satisfied_by: SatisfiedBy | None = None
    kind: str = "age"
    unless: str | None = None


@dataclass(frozen=True)
class YearlyTrigger:
    window_from: MonthDay
    window_to: MonthDay
    done_event: str | None
    offsets: tuple[int, ...]
    kind: str = "yearly"
    unless: str | None = None


@dataclass(frozen=True)
class AfterEventTrigger:
    event: str
    within_days: int | None
    within_months: int | None
    offsets: tuple[int, ...]
    satisfied_by: SatisfiedBy | None = None
    kind: str = "after_event"
    unless: str | None = None


@dataclass(frozen=True)
class AfterKinEventTrigger:
    """Due to a living relative after an event of a person (a death: the next of kin). `kin`: what the person the
    event happened to is to the subject (spouse, parent, child)."""

    event: str
    kin: tuple[str, ...]
    within_days: int | None
    within_months: int | None
    offsets: tuple[int, ...]
    kind: str = "after_kin_event"
    unless: str | None = None


@dataclass(frozen=True)
class ProcessingTrigger:
    yellow_at: float
    kind: str = "processing"


Trigger = ExpiryTrigger | AgeTrigger | YearlyTrigger | AfterEventTrigger | AfterKinEventTrigger | ProcessingTrigger

UNLESS = ("employed",)  # states that exempt a subject from a trigger: employed = EMPLOYED_BY an entity not closed
KIN = ("spouse", "parent", "child")  # after_kin_event: the relative is the subject's spouse / parent / child
EFFECTS = ("none", "deceased", "closed", "employed", "spouse", "spouse_ended", "address")
DETAIL_TYPES = ("string", "integer", "date", "person")


@dataclass(frozen=True)
class EventDetail:
    name: str
    type: str  # DETAIL_TYPES; person: the pid of a person on file
    required: bool


@dataclass(frozen=True)
class EventKind:
    """A kind of life event (events.yaml): its subject kind, what it carries and its effect on the profile."""

    code: str
    subject: str  # person | entity
    name: Text
    effect: str  # EFFECTS
    once: bool
    details: tuple[EventDetail, ...]
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Service:
    code: str
    version: int
    name: Text
    department: Text
    audience: str
    time_limit_days: int
    sources: tuple[Source, ...]
    scenarios: tuple[Scenario, ...]
    fields: tuple[FormField, ...]
    triggers: tuple[Trigger, ...]
    bundle: tuple[str, ...]
    stage: str | None = None  # a stage key of its audience's lifecycle (stages.yaml)
    nature: str = "deadline"  # deadline (a duty with a date) | offer (a benefit one may claim)
    guide: Guide | None = None  # how to do it (guide.py); every catalog file has one, hand-built test services need not


@dataclass(frozen=True)
class Catalog:
    materials: dict[str, MaterialKind]
    services: dict[str, Service]
    events: dict[str, EventKind] = field(default_factory=dict)
    lifecycles: dict[str, Lifecycle] = field(default_factory=dict)  # audience -> its stages (stages.yaml)

    def event_kinds(self, subject: str) -> tuple[str, ...]:
        """The event kinds a person or an entity can have, in catalog order."""
        return tuple(code for code, e in self.events.items() if e.subject == subject)

    def max_offset(self) -> int:
        """The scan's horizon: an item is owed a reminder at most this many days before it is due."""
        return max((max(t.offsets) for s in self.services.values() for t in s.triggers if getattr(t, "offsets", None)),
                   default=0)


NATURES = ("deadline", "offer")


@dataclass(frozen=True)
class Stage:
    """One stage of a lifecycle (国办发〔2025〕24号): `key` in the YAML, the document's own name in `name.zh`."""

    key: str
    name: Text


@dataclass(frozen=True)
class Lifecycle:
    """The stages of one audience's lifecycle, in order (a person from 出生 to 身后, a business from 开办 to 注销)."""

    audience: str
    name: Text
    stages: tuple[Stage, ...]
    sources: tuple[Source, ...] = ()

    def find(self, said: str) -> Stage | None:
        """The stage a service names, by key (`after_death`) or by the document's name (`身后`)."""
        return next((s for s in self.stages if said in (s.key, s.name.zh)), None)


def coverage(catalog: Catalog) -> dict[str, list[tuple[Stage, list[Service]]]]:
    """Audience -> each stage of its lifecycle, in order, with the services that carry it (an empty list: a gap)."""
    out = {}
    for audience, life in catalog.lifecycles.items():
        out[audience] = [(st, sorted((s for s in catalog.services.values()
                                      if s.audience == audience and s.stage == st.key), key=lambda s: s.code))
                         for st in life.stages]
    return out
