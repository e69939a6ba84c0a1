"""The worker's entry point: `python -m notifier.worker` — the same builder as the web app, RQ with its scheduler."""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable

from rq import SimpleWorker

from notifier.logs import process_settings
from notifier.services import QUEUE_NAMES, build, install

# RQ's scheduler for enqueue_at jobs (retries, quiet hours) runs in one worker at a time: the first to take its
# per-queue locks (61 s TTL, refreshed every second). When that worker dies, another one takes the locks at its next
# maintenance pass after they expire; RQ's defaults (maintenance every 10 min, an idle worker blocked for 405 s)
# would leave scheduled jobs waiting up to about 18 min; these bound it to about 1.5 min.
MAINTENANCE_EVERY_S = 15
IDLE_TTL_S = 30  # an idle worker wakes every IDLE_TTL_S - 15 s (RQ: BLPOP timeout) to do its maintenance

_PR_SET_PDEATHSIG = 1


def _dies_with(worker_pid: int) -> Callable[[], None]:
    """RQ forks its scheduler from the worker; a SIGKILLed worker would leave it running, holding the scheduler
    locks and outliving the run command. The kernel kills it with its parent instead."""
    def tie() -> None:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != worker_pid:  # the worker died between fork and prctl
            os._exit(1)
    return tie


def worker_name(slot: int | None, pid: int) -> str:
    """The worker's name in RQ: new on every start, as RQ refuses a name whose last holder, SIGKILLed, has not yet
    timed out; the slot says which of the run command's WORKERS it is."""
    host = socket.gethostname()
    return f"lifecycle-{host}-{pid}" if slot is None else f"lifecycle-{host}-w{slot}-{pid}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifier.worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="drain the queues and exit")
    parser.add_argument("--no-scheduler", action="store_true", help="do not run RQ's scheduler in this worker")
    parser.add_argument("--queues", nargs="+", default=list(QUEUE_NAMES), choices=QUEUE_NAMES)
    parser.add_argument("--slot", type=int, help="which of the run command's WORKERS this is (shown in its name)")
    args = parser.parse_args(argv)
    settings = process_settings()
    services = build(settings, for_worker=True)
    install(services)
    if sys.platform.startswith("linux"):
        os.register_at_fork(after_in_child=_dies_with(os.getpid()))
    # SimpleWorker runs jobs in this process: the Neo4j driver's pool survives between jobs (a fork would not share
    # it safely), and it is several times faster per job here. Jobs are small batches, so one slow job is bounded.
    worker = SimpleWorker(
        [services.queues[name] for name in args.queues],
        connection=services.redis,
        name=worker_name(args.slot, os.getpid()),
        maintenance_interval=MAINTENANCE_EVERY_S,
        worker_ttl=IDLE_TTL_S,
    )
    try:
        worker.work(burst=args.burst, with_scheduler=not args.no_scheduler, logging_level="INFO")
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
