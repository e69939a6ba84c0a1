"""Many workers, some of them killed: four `python -m notifier.worker` processes share the scan and the delivery of
2 000 SMS reminders from a provider answering in 50–100 ms; two of them are SIGKILLed at random moments (seeded) in the
middle of a delivery batch and are not restarted. The two left and the sweeper finish the work, and the notices
reconcile with what the SMS sandbox received: every one sent, each exactly once.

It tests the contract, not the send path: how many sends a worker keeps in flight is the delivery's business.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from rq import SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry

from notifier.sandbox import Sandbox
from notifier.scan import start_scan
from notifier.services import QUEUE_NAMES, Services
from notifier.sweep import sweep
from notifier.worker import worker_name
from profiles.config import PROJECT_ROOT
from tests.integration.notify_helpers import SID, TOKEN, notices
from tests.integration.test_notify_faults import fault_env, population, reconcile, services, today_of, worker_environ
from tests.waiting import wait_until

SEED = 1717
PERSONS = 2000
STUCK_AFTER_S = 2


@pytest.fixture
def sandbox():
    box = Sandbox("127.0.0.1", 0, SID, TOKEN, latency_ms=75, callback_delay_ms=20).start()
    yield box
    box.stop()


@contextmanager
def workers(environ: dict, logs: Path, count: int) -> Iterator[list[subprocess.Popen]]:
    """Long-running workers with RQ's scheduler, as the run command starts them; killed at the end if still up."""
    procs, files = [], []
    try:
        for slot in range(1, count + 1):
            files.append((logs / f"worker-{slot}.log").open("wb"))
            procs.append(subprocess.Popen([sys.executable, "-m", "notifier.worker", "--slot", str(slot)],
                                          cwd=PROJECT_ROOT, env=environ, stdout=files[-1], stderr=subprocess.STDOUT))
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        for f in files:
            f.close()


def name_of(procs: list[subprocess.Popen], proc: subprocess.Popen) -> str:
    return worker_name(procs.index(proc) + 1, proc.pid)


def running(connection: redis.Redis, name: str) -> Job | None:
    """The job the named worker is executing, as RQ records it."""
    worker = SimpleWorker.find_by_key(SimpleWorker.redis_worker_namespace_prefix + name, connection=connection)
    executions = worker.get_current_executions(refresh=True) if worker else []
    return Job.fetch(executions[0].job_id, connection=connection) if executions else None


def quiet(svc: Services, names: list[str], hold: float = 1.0) -> bool:
    """No job waiting and none running on a live worker, for `hold` seconds on end."""
    until = time.monotonic() + hold
    while time.monotonic() < until:
        if any(svc.queues[q].count for q in QUEUE_NAMES) or any(running(svc.redis, n) for n in names):
            return False
        time.sleep(0.1)
    return True


def jobs_per_worker(svc: Services, queue: str) -> Counter:
    """Which worker took each job of a queue, whatever became of it (done, killed with it, failed)."""
    q = svc.queues[queue]
    ids = {i for registry in (FinishedJobRegistry, StartedJobRegistry, FailedJobRegistry)
           for i in registry(queue=q).get_job_ids(cleanup=False)}
    return Counter(job.worker_name for job in Job.fetch_many(sorted(ids), connection=svc.redis) if job)


def test_four_workers_two_killed_mid_delivery_send_every_sms_exactly_once(live_environ, sandbox, tmp_path):
    rng = random.Random(SEED)
    env = {"SCAN_PARTITIONS": "4", "STUCK_AFTER": str(STUCK_AFTER_S)}
    with services(live_environ, sandbox, **env) as svc:
        today = today_of(svc)
        people = population(svc, PERSONS, today)
        environ = worker_environ(live_environ, sandbox.url, **fault_env(**env))
        with workers(environ, tmp_path, 4) as procs:
            names = [name_of(procs, p) for p in procs]
            wait_until(lambda: {w.name for w in SimpleWorker.all(connection=svc.redis)} >= set(names), 60,
                       "four workers to register")
            start_scan(svc, today)
            # The kills come once the sandbox has taken a random number of SMS, each to a worker in the middle of a
            # delivery batch (with the scan's jobs all taken: a killed partition would be the next scan's business).
            killed, kills = [], []
            for threshold in sorted(rng.sample(range(200, PERSONS // 2), 2)):
                wait_until(lambda t=threshold: sandbox.stats()["accepted"] >= t, 120, f"{threshold} SMS accepted")

                def delivering() -> list[subprocess.Popen]:
                    if svc.queues["scan"].count:
                        return []
                    return [p for p in procs if p not in killed and (job := running(svc.redis, name_of(procs, p)))
                            and job.origin == "deliver"]

                victim = rng.choice(wait_until(delivering, 60, "a worker in the middle of a delivery batch", 0.01))
                os.kill(victim.pid, signal.SIGKILL)
                assert victim.wait(10) == -signal.SIGKILL
                killed.append(victim)
                kills.append((name_of(procs, victim), sandbox.stats()["accepted"]))
            survivors = [p for p in procs if p not in killed]
            alive = [name_of(procs, p) for p in survivors]

            wait_until(lambda: quiet(svc, alive), 90, "the two workers left to finish what is queued")
            stuck = {status: len(notices(svc, status=status)) for status in ("pending", "sending")}
            assert sum(stuck.values()) > 0, "no kill interrupted a delivery"
            sandbox.configure({"latency_ms": 0})  # it was there to make the kills land mid-send
            sweeps = []
            while notices(svc, status="pending") + notices(svc, status="sending"):
                assert len(sweeps) < 5, f"still open after {len(sweeps)} sweeps: {sweeps}"
                later = datetime.now(svc.settings.zone) + timedelta(seconds=STUCK_AFTER_S + 1)
                sweeps.append(sweep(later.isoformat()))  # what the cron's sweep does, once the notices are stale
                wait_until(lambda: quiet(svc, alive), 60, "the sweeper's deliveries")
            assert all(p.poll() is None for p in survivors)

        summary = reconcile(svc, sandbox, people, today)
        assert summary["sms"] == PERSONS
        per_worker = {queue: jobs_per_worker(svc, queue) for queue in ("scan", "deliver")}
        assert set(per_worker["deliver"]) == set(names), per_worker  # every worker took delivery batches ...
        assert len(set(per_worker["scan"]) & set(names)) >= 2, per_worker  # ... and the scan's partitions spread
        found = sum(s["reconciled_sent"] for s in sweeps)
        print(f"\nworker kill: {PERSONS} owed; killed {kills} (worker, SMS accepted "
              f"then); open after the kills {stuck}; sweeps {sweeps}; {found} found at the provider; jobs "
              f"per worker {({q: dict(c) for q, c in per_worker.items()})}; {summary}")
