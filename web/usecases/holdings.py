"""Recording a material (证照/材料) or a life event for a subject, from the API or at the window: the same checks and
the same write whoever records it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from profiles.events import SubjectState, check_event
from profiles.materials import check_material
from profiles.models import Actor, LifeEvent, Material
from web.usecases.subjects import SubjectRef


def event_kinds(services, label: str) -> tuple[str, ...]:
    """The event kinds a person (`Person`) or an entity (`Entity`) can have, from the catalog (events.yaml)."""
    return services.catalog.event_kinds("person" if label == "Person" else "entity")


def record_material(services, actor: Actor, subject: SubjectRef, kind: str, number: str, issued_on: date,
                    expires_on: date | None, issuer: str, provenance: str, fields: dict, on: date) -> Material:
    """A new material on file (an older one of the same kind becomes superseded); `MaterialRejected` names the field
    when the catalog's rules for the kind refuse it (holder, dates). `provenance`: issued by the authority's system,
    verified against the original at a window, or declared by the holder."""
    check_material(services.catalog.materials, subject.kind, kind, issued_on, expires_on, on)
    material = Material(mid=str(uuid.uuid4()), holder_id=subject.id, kind=kind, number=number.upper(),
                        issued_on=issued_on, expires_on=expires_on, issuer=issuer, provenance=provenance,
                        fields=dict(fields))
    return services.holdings.add_material(subject.label, material)


def record_event(services, actor: Actor, subject: SubjectRef, kind: str, occurred_on: date, details: dict,
                 on: date, now: datetime | None = None) -> LifeEvent:
    """A life event of the subject (a birth, a marriage; a founding, an annual report) and its effect on the profile
    (profiles/catalog/events.yaml; graph.effects): a death ends what is owed by or sent to the person, a closure
    closes the business, a hiring makes the employee EMPLOYED_BY it. Refused naming the field (`Rejected`, nothing
    written) for a kind the subject cannot have, a date in the future, before the birth or founding or after the
    death or closure, a second death or closure, or details that are not what the kind declares."""
    kinds = services.catalog.events
    event = LifeEvent(evid=str(uuid.uuid4()), subject_id=subject.id, kind=kind, occurred_on=occurred_on,
                      details=dict(details))

    def check(state):
        check_event(kinds, state, kind, occurred_on, event.details, on)

    if kind not in kinds:  # refused before the subject is looked up, as before: the kind is named
        check_event(kinds, _NO_STATE[subject.label], kind, occurred_on, event.details, on)
    return services.effects.record(subject.label, event, kinds[kind], check, actor, now or services.now()).event


_NO_STATE = {label: SubjectState(kind, date.min, None) for label, kind in (("Person", "person"), ("Entity", "entity"))}
