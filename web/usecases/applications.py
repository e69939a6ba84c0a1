"""Filing an application and moving it through its life: one matter, one application, from every channel."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from notifier import outcomes
from profiles import matters
from profiles.applications import decide_by
from profiles.errors import Rejected
from profiles.models import Actor, Application
from web.usecases.subjects import SubjectRef


def file_application(services, actor: Actor, subject: SubjectRef, code: str, fields: dict, reuse: Iterable[str],
                     on: date, draft: str | None = None) -> Application:
    """File `code` for `subject`: refused (`matters.MatterOpen`, naming it) while one is open for the same matter;
    the scan's draft for the matter becomes the application. `reuse` names materials on file instead of handing
    them in again."""
    service = services.catalog.services.get(code)
    if service is None:
        raise Rejected("service", f"unknown service code {code!r}")
    if service.audience != subject.kind:
        raise Rejected("service", f"{service.code} is a service for a {service.audience}")
    app = Application(aid=str(uuid.uuid4()), subject_label=subject.label, subject_id=subject.id, service=code,
                      status="submitted", created_on=on, submitted_on=on, time_limit_days=service.time_limit_days,
                      decide_by=decide_by(on, service.time_limit_days), fields=dict(fields),
                      reused=tuple(dict.fromkeys(reuse)))
    return services.applications.file(app, actor, draft=draft)


def withdraw(services, actor: Actor, aid: str, reason: str) -> Application:
    """The applicant (or an officer for them) takes an open application back; the matter is open again."""
    return services.applications.move(aid, actor, lambda app: matters.withdraw(app, reason), note=reason)


def decide(services, actor: Actor, aid: str, outcome: str, note: str, on: date) -> Application:
    """Approve, reject, or return for correction (the note says what to correct); once per submission. The
    applicant is told by inbox and their chosen channel (notifier.outcomes)."""
    decided = services.applications.move(aid, actor, lambda app: matters.decide(app, outcome, note, on), note=note)
    outcomes.after_decision(services, aid)  # after the commit: the decision stands whatever the telling does
    return decided


def resubmit(services, actor: Actor, aid: str, fields: dict, on: date) -> Application:
    """The applicant's corrected application, filed again; its statutory limit starts again today."""
    return services.applications.move(aid, actor, lambda app: matters.resubmit(app, dict(fields), on))
