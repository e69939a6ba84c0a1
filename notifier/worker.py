"""The worker's entry point: `python -m notifier.worker` — the same builder as the web app, RQ with its scheduler."""

from __future__ import annotations

import argparse
import os
import socket
import sys

from rq import SimpleWorker

from notifier.logs import process_settings
from notifier.services import QUEUE_NAMES, build, install


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifier.worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="drain the queues and exit")
    parser.add_argument("--no-scheduler", action="store_true", help="do not run RQ's scheduler in this worker")
    parser.add_argument("--queues", nargs="+", default=list(QUEUE_NAMES), choices=QUEUE_NAMES)
    args = parser.parse_args(argv)
    settings = process_settings()
    services = build(settings, for_worker=True)
    install(services)
    # SimpleWorker runs jobs in this process: the Neo4j driver's pool survives between jobs (a fork would not share
    # it safely), and it is several times faster per job here. Jobs are small batches, so one slow job is bounded.
    worker = SimpleWorker(
        [services.queues[name] for name in args.queues],
        connection=services.redis,
        name=f"lifecycle-{socket.gethostname()}-{os.getpid()}",
    )
    try:
        worker.work(burst=args.burst, with_scheduler=not args.no_scheduler, logging_level="INFO")
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
