"""The recorded read (全程留痕): an officer's or a department system's look at a subject's data, written to the access
log the subject reads before anything is shown; and a refused attempt to reach what is not the visitor's."""

from __future__ import annotations

from profiles.models import AccessRecord, Actor
from web.usecases.subjects import SubjectRef


def read_subject(services, actor: Actor, subject: SubjectRef, purpose: str, what: str) -> AccessRecord:
    """Record the read (who, whose, why, what) — no record, no answer: call it before the data is returned."""
    return services.access_log.record(actor, subject.label, subject.id, purpose, what)


def record_refusal(services, actor: Actor, path: str, reason: str) -> None:
    """An attempt to reach someone else's page, form or record, kept for the administrators."""
    services.portal.refuse(actor, path, reason)
