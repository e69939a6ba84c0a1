"""Due items per service over the next DUE_HORIZON days, the supervisors' dashboard figure: counted by a job once a
day and kept in Redis, never by a page request.

The count walks the whole district (every yearly trigger concerns every resident or every business, so it is as big
as the population: minutes at a million persons), which no page may wait for. The daily scan asks for it after its
own jobs; the dashboard asks for it when the day's count is missing, and shows it once the job has run. Asking twice
on one day enqueues one job.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import structlog

from graph.scan import scan_due
from notifier.services import Services, current

log = structlog.get_logger(__name__)

DUE_HORIZON = 90
KEPT_S = 2 * 86_400  # a day's count is read that day; kept one more in case the next day's is late
ASKED_S = 3_600  # one job per day and hour at most, however many supervisors look
JOB_TIMEOUT_S = 3_600  # the whole district: minutes, not RQ's default 3


def key(on: date) -> str:
    return f"officer:dashboard:due:{on.isoformat()}"


def counted(services: Services, on: date) -> dict[str, int] | None:
    """The day's counts per service code, or None while they are not counted yet."""
    raw = services.redis.get(key(on))
    return None if raw is None else json.loads(raw)


def ask(services: Services, on: date) -> bool:
    """Enqueue the day's count unless it is counted or already asked for; True when this call enqueued it.

    On the `default` queue, the last a worker drains: reminders go out before the dashboard is counted."""
    if services.redis.exists(key(on)) or not services.redis.set(key(on) + ":asked", "1", nx=True, ex=ASKED_S):
        return False
    services.queues["default"].enqueue(count_due, on.isoformat(), job_id=f"due-counts-{on.isoformat()}",
                                       job_timeout=JOB_TIMEOUT_S, description=f"due counts {on.isoformat()}")
    return True


def count_due(on: str) -> int:
    """The job: count, store, return the number of due items."""
    services = current()
    day = date.fromisoformat(on)
    counts = Counter(item.service for item in scan_due(services.driver, services.settings.neo4j_database,
                                                       services.catalog, day, DUE_HORIZON))
    services.redis.set(key(day), json.dumps(counts), ex=KEPT_S)
    log.info("due items counted", on=on, due_items=sum(counts.values()), services=len(counts))
    return sum(counts.values())
