"""The scheduler: `python -m notifier.cron` enqueues the daily scan at DAILY_SCAN_AT in LIFECYCLE_TZ and the sweeper
every few minutes, with RQ's CronScheduler — once, however many of these processes run (a standby on another machine
takes over within a lease of the active one's death).

RQ's CronScheduler elects no leader: two of them enqueue every job twice. So each one enqueues only while it holds a
lease in Redis (SET NX PX, renewed well within its length). The one that takes the lease carries on from the last
enqueue any scheduler recorded in RQ's job history, so a takeover neither repeats today's scan nor skips it.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from contextlib import suppress
from datetime import UTC, datetime

import structlog
from redis import Redis
from redis.exceptions import LockError
from redis.lock import Lock
from rq.cron import CronJob, CronScheduler

from notifier.logs import process_settings
from notifier.scan import daily_scan
from notifier.services import build
from notifier.sweep import sweep

log = structlog.get_logger("cron")

SWEEP_EVERY_S = 300
LEASE_KEY = "cron:lease"  # holds the active scheduler's name
LEASE_S = 30.0  # a dead holder's jobs wait at most this long (plus one renewal period) for the standby


class LeasedCronScheduler(CronScheduler):
    """RQ's CronScheduler that enqueues only while it holds the lease; without it, it polls for the lease."""

    def __init__(self, connection: Redis, name: str, lease_s: float = LEASE_S):
        super().__init__(connection=connection, name=name)
        self.lease = Lock(connection, LEASE_KEY, timeout=lease_s, blocking=False, thread_local=False)
        self.renew_every = lease_s / 3
        self.leading = False

    def enqueue_jobs(self) -> list[CronJob]:
        if not self.lead():
            return []
        return super().enqueue_jobs()

    def calculate_sleep_interval(self) -> float:
        if not self.leading:  # its own timers mean nothing until it leads: it would wake at once, forever
            return self.renew_every
        return min(super().calculate_sleep_interval(), self.renew_every)

    def register_death(self, pipeline=None) -> None:
        if self.leading:  # a clean stop hands over at once instead of after the lease runs out
            self.leading = False
            with suppress(LockError):
                self.lease.release()
        super().register_death(pipeline)

    def lead(self) -> bool:
        """Renew the lease, or take it if it is free; True while this scheduler is the one that enqueues."""
        if self.leading:
            try:
                self.lease.reacquire()
                return True
            except LockError:
                self.leading = False
                log.warning("cron lease lost; another scheduler enqueues now", scheduler=self.name)
        if self.lease.acquire(token=self.name):
            self.leading = True
            self.resume()
            log.info("cron lease taken; this scheduler enqueues", scheduler=self.name,
                     next={j.name: j.next_enqueue_time.isoformat() for j in self.get_jobs() if j.next_enqueue_time})
        return self.leading

    def resume(self) -> None:
        """Time each job from its last enqueue by whichever scheduler made it (RQ keeps them per job, scored by
        enqueue time): a job already enqueued this period waits for the next; one missed while nobody led (the
        holder died just before 06:00) is enqueued now, once."""
        for job in self.get_jobs():
            newest = self.connection.zrange(job.job_history_key, -1, -1, withscores=True)
            if newest:
                job.set_enqueue_time(datetime.fromtimestamp(newest[0][1], UTC))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifier.cron", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lease", type=float, default=LEASE_S, help="seconds a dead scheduler's lease lasts")
    parser.add_argument("--sweep-every", type=int, default=SWEEP_EVERY_S, help="seconds between sweeps")
    args = parser.parse_args(argv)
    settings = process_settings()
    os.environ["TZ"] = settings.tz  # RQ's cron fields are local time: make local time the service's zone
    time.tzset()
    services = build(settings, for_worker=True)
    hour, minute = settings.daily_scan_at.split(":")
    # host and pid: two machines may run the same pid, and RQ refuses a second scheduler of one name
    cron = LeasedCronScheduler(services.redis, f"lifecycle-cron-{socket.gethostname()}-{os.getpid()}", args.lease)
    cron.register(daily_scan, queue_name="scan", cron=f"{int(minute)} {int(hour)} * * *")
    cron.register(sweep, queue_name="default", interval=args.sweep_every)
    try:
        cron.start()
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
