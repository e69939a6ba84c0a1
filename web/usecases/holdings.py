"""Recording a material (证照/材料) or a life event for a subject, from the API or at the window: the same checks and
the same write whoever records it."""

from __future__ import annotations

import uuid
from datetime import date

from profiles.errors import Rejected
from profiles.materials import check_material
from profiles.models import ENTITY_EVENTS, PERSON_EVENTS, Actor, LifeEvent, Material
from web.usecases.subjects import SubjectRef

EVENTS = {"Person": PERSON_EVENTS, "Entity": ENTITY_EVENTS}


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
                 on: date) -> LifeEvent:
    """A life event of the subject (a birth, a marriage; a founding, an annual report), refused naming the field for
    a kind the subject cannot have or a date in the future."""
    if kind not in EVENTS[subject.label]:
        raise Rejected("kind", f"unknown event kind for a {subject.kind}; one of {', '.join(EVENTS[subject.label])}")
    if occurred_on > on:
        raise Rejected("occurred_on", "the date is in the future")
    event = LifeEvent(evid=str(uuid.uuid4()), subject_id=subject.id, kind=kind, occurred_on=occurred_on,
                      details=dict(details))
    return services.holdings.add_event(subject.label, event)
