"""A matter (a subject, a service and its due period) and its application's life, pure.

One open application per subject and service, whatever the channel (API, citizen or enterprise page, window): a second
filing is refused naming the first. A filing adopts the draft the daily scan prepared for the matter (the reminder's
link then leads to the filed application), and any other draft of the same service is settled by it. The application
moves submitted -> (needs_correction -> resubmitted) -> approved | rejected, or is withdrawn by the applicant, which
opens the matter again. The graph loads an application or a matter under a write lock, asks these functions what the
move makes of it, and writes the answer with a `Transition` record.

Time limits: a resubmission after a return for correction starts the statutory limit again, as 行政许可法 第三十二条
counts the limit from the day the complete materials are received (the working days are profiles.applications').
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from profiles.applications import decide_by
from profiles.errors import Conflict, Rejected
from profiles.models import Application

OPEN = ("submitted", "needs_correction")  # awaiting the department, or the applicant's correction
OUTCOMES = ("approved", "rejected", "needs_correction")
# What does not settle a due item: nothing filed yet (a draft, or one a filing settled), or a filing that came to
# nothing. Everything else (open or approved) means the matter is being, or was, handled.
NOT_SETTLING = ("draft", "settled", "rejected", "withdrawn")


class MatterOpen(Conflict):
    """A second filing while an application for the same subject and service is open; `aid` names the open one."""

    def __init__(self, aid: str):
        super().__init__("service", f"an application for this service is already open: {aid}")
        self.aid = aid


@dataclass(frozen=True)
class Matter:
    """What a filing needs to know of its subject and service: the open application, if any, and the drafts."""

    open_aid: str | None = None
    drafts: tuple[str, ...] = ()  # newest first

    def file(self, app: Application, draft: str | None = None) -> Application:
        """`app` as it is filed: refused while another is open; adopting the named draft, else the newest."""
        if self.open_aid is not None:
            raise MatterOpen(self.open_aid)
        if draft is not None and draft not in self.drafts:
            raise Rejected("draft", "not an open draft of this subject for this service")
        adopted = draft or (self.drafts[0] if self.drafts else None)
        return replace(app, aid=adopted or app.aid, status="submitted")

    def settled_by_filing(self, filed: Application) -> tuple[str, ...]:
        """The drafts a filing settles besides the one it became."""
        return tuple(d for d in self.drafts if d != filed.aid)


def decide(app: Application, outcome: str, note: str, on: date) -> Application:
    if outcome not in OUTCOMES:
        raise Rejected("outcome", f"one of {', '.join(OUTCOMES)}")
    if app.status != "submitted":
        raise Conflict("outcome", f"the application is already {app.status}")
    return replace(app, status=outcome, decided_on=on, note=note)


def withdraw(app: Application, reason: str) -> Application:
    """The applicant takes an open application back; the matter is open again."""
    if app.status not in OPEN:
        raise Conflict("status", f"the application is already {app.status}")
    return replace(app, status="withdrawn", note=reason)


def resubmit(app: Application, fields: dict, on: date) -> Application:
    """The corrected application, filed again: a new decision date counted from today."""
    if app.status != "needs_correction":
        raise Conflict("status", f"the application is {app.status}, not returned for correction")
    return replace(app, status="submitted", fields=fields, submitted_on=on, decided_on=None, note=None,
                   decide_by=decide_by(on, app.time_limit_days))


def application_number(on: date, seq: int) -> str:
    """受理编号: the filing day and its sequence number that day, e.g. 20261202-00017."""
    return f"{on:%Y%m%d}-{seq:05d}"
