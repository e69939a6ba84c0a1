"""Schedulers run once however many processes could run them, and a standby takes over from a SIGKILLed one: two
`python -m notifier.cron` processes (the lease in Redis), and two workers sharing RQ's scheduler for enqueue_at jobs
(RQ's own per-queue locks), each with real processes on the session's Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import redis
from rq import Queue
from rq.cron import get_cron_job_history_key
from rq.job import Job, JobStatus
from rq.scheduler import RQScheduler

from notifier import jobs
from notifier.cron import LEASE_KEY
from notifier.services import QUEUE_NAMES
from notifier.worker import worker_name
from profiles.config import PROJECT_ROOT
from tests.waiting import wait_until

DAILY = get_cron_job_history_key("notifier.scan.daily_scan")
SWEEPS = get_cron_job_history_key("notifier.sweep.sweep")


@contextmanager
def processes(argvs: list[list[str]], environ: dict, logs: Path) -> Iterator[list[subprocess.Popen]]:
    procs, files = [], []
    try:
        for i, argv in enumerate(argvs):
            files.append((logs / f"{argv[1]}-{i}.log").open("wb"))
            procs.append(subprocess.Popen([sys.executable, *argv], cwd=PROJECT_ROOT, env=environ, stdout=files[-1],
                                          stderr=subprocess.STDOUT))
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for f in files:
            f.close()


def enqueued_at(connection: redis.Redis, key: str) -> list[float]:
    return [score for _, score in connection.zrange(key, 0, -1, withscores=True)]


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return None


def test_two_cron_schedulers_enqueue_each_job_once_and_the_standby_takes_over(live_environ, tmp_path):
    """Both register the daily scan and a sweep every second; yesterday's scan is the last one recorded, so today's
    is owed. One daily scan is enqueued (by the one holding the lease), and one sweep a second, never two at once.
    The holder is SIGKILLed: the standby takes the lease once it runs out, sweeps go on at the same pace, and today's
    scan is not enqueued again."""
    connection = redis.Redis.from_url(live_environ["REDIS_URL"])
    connection.zadd(DAILY, {"yesterday": time.time() - 25 * 3600})
    argv = ["-m", "notifier.cron", "--lease", "3", "--sweep-every", "1"]
    with processes([argv, argv], live_environ, tmp_path) as procs:
        holder = wait_until(lambda: connection.get(LEASE_KEY), 30, "a scheduler to take the lease").decode()
        wait_until(lambda: len(enqueued_at(connection, SWEEPS)) >= 4, 30, "four sweeps")
        active = next(p for p in procs if holder.endswith(f"-{p.pid}"))
        standby = next(p for p in procs if p is not active)
        assert standby.poll() is None

        os.kill(active.pid, signal.SIGKILL)
        active.wait(10)
        killed_at = time.time()
        assert connection.get(LEASE_KEY).decode() == holder  # it stays the dead one's until it runs out
        new_holder = wait_until(lambda: (h := connection.get(LEASE_KEY)) and h.decode() != holder and h.decode(),
                                30, "the standby to take the lease")
        assert new_holder.endswith(f"-{standby.pid}")
        wait_until(lambda: sum(t > killed_at for t in enqueued_at(connection, SWEEPS)) >= 3, 30,
                   "three sweeps by the standby")
        assert standby.poll() is None

    daily = enqueued_at(connection, DAILY)
    assert len(daily) == 2, f"{len(daily) - 1} daily scans enqueued for today"  # yesterday's and today's
    assert Queue("scan", connection=connection).count == 1
    sweeps = enqueued_at(connection, SWEEPS)
    gaps = [b - a for a, b in pairwise(sweeps)]
    # Two schedulers without the lease enqueue two sweeps a second (a gap of 0.5 s or less each second); one
    # scheduler's sweeps are a second apart, less the few milliseconds between its clock reading and the enqueue.
    assert min(gaps) > 0.75, f"two sweeps enqueued {min(gaps):.3f} s apart: two schedulers enqueued at once"
    takeover = next(t for t in sweeps if t > killed_at) - killed_at
    print(f"\ncron: {len(sweeps)} sweeps, gaps {min(gaps):.2f}..{max(gaps):.2f} s, first sweep by the standby "
          f"{takeover:.1f} s after the kill (lease 3 s)")


def test_a_scheduled_job_still_runs_when_the_worker_holding_rqs_scheduler_is_killed(live_environ, tmp_path):
    """Two workers with RQ's scheduler: one holds every queue's scheduler lock and forks the scheduler, the other
    stands by. The holder is SIGKILLed: its scheduler dies with it, and a job scheduled with enqueue_at waits until
    the dead scheduler's locks expire (RQ's TTL, refreshed every second) and the other worker takes them over."""
    connection = redis.Redis.from_url(live_environ["REDIS_URL"])
    locks = [RQScheduler.get_locking_key(q) for q in QUEUE_NAMES]
    with processes([["-m", "notifier.worker", "--slot", str(n)] for n in (1, 2)], live_environ, tmp_path) as procs:
        owners = wait_until(lambda: all(v := connection.mget(locks)) and {o.decode() for o in v}, 60,
                            "RQ's scheduler to take its locks")
        assert len(owners) == 1, f"the queues' scheduler locks are held by {owners}"
        [owner] = owners
        scheduler = wait_until(lambda: connection.exists(f"rq:scheduler:{owner}") and RQScheduler.fetch(
            owner, connection), 10, "the scheduler to register")
        holder = next(p for p in procs if parent_of(scheduler.pid) == p.pid)
        survivor = next(p for p in procs if p is not holder)
        assert not [p for p in Path("/proc").iterdir() if p.name.isdigit() and parent_of(int(p.name)) == survivor.pid
                    and b"notifier.worker" in (p / "cmdline").read_bytes()], "the standby runs a scheduler too"

        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        killed = time.monotonic()
        wait_until(lambda: not Path(f"/proc/{scheduler.pid}").exists() or parent_of(scheduler.pid) is None, 10,
                   "the dead worker's scheduler to exit")
        ttl = connection.ttl(locks[0])
        assert 0 < ttl <= 61, ttl  # RQ's lock: its scheduler's interval (1 s) + 60 s

        job = Queue("deliver", connection=connection).enqueue_at(datetime.now(UTC) + timedelta(seconds=1),
                                                                 jobs.probe)
        wait_until(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 150,
                   "the scheduled job to run after the takeover")
        waited = time.monotonic() - killed
        assert {o.decode() for o in connection.mget(locks)} != {owner}
        assert Job.fetch(job.id, connection=connection).worker_name == worker_name(2 if survivor is procs[1] else 1,
                                                                                    survivor.pid)
        print(f"\nRQ scheduler: lock TTL {ttl} s left at the kill; the scheduled job ran {waited:.0f} s after it")
