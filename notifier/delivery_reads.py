"""What delivery writes in a person's access log: each message handed to the provider is their phone number or
e-mail address used, one signed record per message (web.pages.access_words says it in words). The records are written
after the notices have moved, so a failed write can never send anything twice; it is queued to be written again."""

from __future__ import annotations

import structlog

from notifier.services import Services, current
from profiles.models import REMINDER_DELIVERY
from profiles.notices import Notice

log = structlog.get_logger(__name__)

DELIVERY = REMINDER_DELIVERY  # how the access log names delivery
DELIVERY_PURPOSE = "proactive notification"
_CONTACT = {"sms": "phone number", "email": "e-mail address"}


def reads_for(notices: list[Notice]) -> list[tuple[str, str, str]]:
    return [(n.recipient_id, DELIVERY_PURPOSE, f"used the {_CONTACT[n.channel]} to send a message about {n.service}")
            for n in notices if n.channel in _CONTACT]


def record_uses(reads: list[tuple[str, str, str]] | list[list[str]]) -> int:
    """The job that writes them again (RQ retries it; once out of tries it waits in the failed jobs for the
    operator). One transaction: the records are written whole or not at all."""
    written = current().access_log.record_many(DELIVERY, "Person", [tuple(r) for r in reads])
    return len(written)


def record_or_queue(services: Services, notices: list[Notice], retry) -> None:
    reads = reads_for(notices)
    if not reads:
        return
    try:
        services.access_log.record_many(DELIVERY, "Person", reads)
    except Exception as error:  # whatever it was, the records must not be lost
        log.warning("access records queued to be written again", records=len(reads), error=type(error).__name__)
        services.queues["deliver"].enqueue(record_uses, [list(r) for r in reads], retry=retry)
