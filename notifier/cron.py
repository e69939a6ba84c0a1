"""The scheduler: `python -m notifier.cron` enqueues the daily scan at DAILY_SCAN_AT in LIFECYCLE_TZ and the sweeper
every few minutes, with RQ's CronScheduler (one process; a second one would only repeat idempotent work)."""

from __future__ import annotations

import os
import sys
import time

from rq.cron import CronScheduler

from notifier.logs import process_settings
from notifier.scan import daily_scan
from notifier.services import build
from notifier.sweep import sweep

SWEEP_EVERY_S = 300


def main() -> int:
    settings = process_settings()
    os.environ["TZ"] = settings.tz  # RQ's cron fields are local time: make local time the service's zone
    time.tzset()
    services = build(settings, for_worker=True)
    hour, minute = settings.daily_scan_at.split(":")
    cron = CronScheduler(connection=services.redis, name=f"lifecycle-cron-{os.getpid()}")
    cron.register(daily_scan, queue_name="scan", cron=f"{int(minute)} {int(hour)} * * *")
    cron.register(sweep, queue_name="default", interval=SWEEP_EVERY_S)
    try:
        cron.start()
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
