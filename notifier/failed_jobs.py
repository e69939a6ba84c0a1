"""Failed jobs: listing them per queue and putting them back, over RQ's FailedJobRegistry (the CLI only prints)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rq.job import Job
from rq.registry import FailedJobRegistry

from notifier.services import Services


@dataclass(frozen=True)
class FailedJob:
    queue: str
    id: str
    func_name: str
    ended_at: datetime | None
    last_error: str  # the traceback's last line: enough to decide on a requeue without reading it all


def failed(services: Services) -> list[FailedJob]:
    """Every failed job of every queue, queue by queue (a job expired from Redis meanwhile is left out)."""
    found = []
    for name, queue in services.queues.items():
        registry = FailedJobRegistry(queue=queue)
        for job in Job.fetch_many(registry.get_job_ids(), connection=services.redis):
            if job is None:
                continue
            result = job.latest_result()
            trace = ((result.exc_string if result else "") or "").strip()
            found.append(FailedJob(name, job.id, job.func_name, job.ended_at,
                                   trace.splitlines()[-1] if trace else "?"))
    return found


def requeue(services: Services, job_ids: Iterable[str] = (), everything: bool = False) -> list[str]:
    """Put the given failed jobs (or all of them) back on their queues; returns the ids re-queued, so the caller can
    name the ones that were not failed jobs."""
    wanted = set(job_ids)
    requeued = []
    for queue in services.queues.values():
        registry = FailedJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            if everything or job_id in wanted:
                registry.requeue(job_id)
                requeued.append(job_id)
    return requeued
