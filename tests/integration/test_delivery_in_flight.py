"""Delivery bound by the provider: many SMS in flight per worker, and the provider's limits (SMS_MAX_CONCURRENCY,
SMS_RATE_LIMIT) held across worker processes, measured on what the real SMS sandbox received; exactly once still.

Concurrency is read from the sandbox's own record: it stores a message when the request arrives and answers
`latency_ms` later, so the messages that arrived less than `latency_ms` before another were still open when it came.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.registry import FinishedJobRegistry, ScheduledJobRegistry

from notifier.sandbox import Sandbox
from notifier.scan import start_scan
from notifier.services import QUEUE_NAMES
from tests.integration.notify_helpers import SID, TOKEN, notices
from tests.integration.test_notify_faults import (
    fault_env,
    population,
    reconcile,
    services,
    today_of,
    wait_for,
    worker_environ,
    workers,
)


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox("127.0.0.1", 0, SID, TOKEN, callback_delay_ms=20).start()
    yield box
    box.stop()


@pytest.fixture(autouse=True)
def _fresh_sandbox(sandbox):
    sandbox.clear()
    sandbox.configure({"fail_rate": 0.0, "fail_codes": [500, 20429], "latency_ms": 0})


def arrivals(sandbox: Sandbox) -> list[datetime]:
    return sorted(datetime.fromisoformat(m["created_at"]) for m in sandbox.messages())


def most_open_at_once(sandbox: Sandbox, latency_s: float) -> int:
    """The most requests the sandbox held at one moment (each held `latency_s` from its arrival; a request held a
    little longer, for the answer's writing, is not counted: the figure can only be low, never high)."""
    times, first, peak = arrivals(sandbox), 0, 0
    for i, t in enumerate(times):
        while (t - times[first]).total_seconds() >= latency_s:
            first += 1
        peak = max(peak, i - first + 1)
    return peak


def most_in_one_second(sandbox: Sandbox) -> int:
    """The most messages that arrived within any one second (a window starting at each arrival)."""
    times = arrivals(sandbox)
    return max(sum(1 for u in times[i:] if (u - t).total_seconds() < 1.0) for i, t in enumerate(times))


def run_two_workers(live_environ, sandbox, tmp_path, env: dict, people_of) -> tuple:
    with services(live_environ, sandbox, **env) as svc:
        today = today_of(svc)
        people = people_of(svc, today)
        start_scan(svc, today)
        with workers(worker_environ(live_environ, sandbox.url, **fault_env(**env)), tmp_path, count=2) as procs:
            wait_for(lambda: all(p.poll() is not None for p in procs), 120, "both burst workers to finish")
            assert [p.returncode for p in procs] == [0, 0], (tmp_path / "worker-0.log").read_text()[-3000:]
        summary = reconcile(svc, sandbox, people, today)
        registry = FinishedJobRegistry(queue=svc.queues["deliver"])
        jobs = Job.fetch_many(registry.get_job_ids(), connection=svc.redis)
        senders = {j.worker_name for j in jobs if j and (j.return_value() or {}).get("sent_sms")}
        return summary, senders


def test_one_worker_keeps_many_more_sms_in_flight_than_it_has_send_threads(live_environ, sandbox):
    """At 1 s provider latency, one delivery job of 100 SMS has up to DELIVERY_IN_FLIGHT (32 here) requests open at
    the sandbox at once; with the 8 send threads of before it could never pass 8."""
    sandbox.configure({"latency_ms": 1000})
    env = {"SCAN_PARTITIONS": "1", "DELIVERY_BATCH": "500", "DELIVERY_IN_FLIGHT": "32", "DELIVERY_THREADS": "8"}
    with services(live_environ, sandbox, **env) as svc:
        today = today_of(svc)
        people = population(svc, 100, today)
        start_scan(svc, today)
        SimpleWorker([svc.queues[q] for q in QUEUE_NAMES], connection=svc.redis).work(burst=True,
                                                                                    logging_level="WARNING")
        reconcile(svc, sandbox, people, today)
        peak = most_open_at_once(sandbox, 1.0)
        assert svc.settings.delivery_threads < peak <= svc.settings.delivery_in_flight, peak


def test_sms_max_concurrency_caps_the_requests_open_at_the_provider_across_two_workers(live_environ, sandbox,
                                                                                      tmp_path):
    """Two worker processes, 64 in flight each, SMS_MAX_CONCURRENCY=5: the sandbox never holds more than 5 requests,
    both workers sent, and every SMS went exactly once."""
    sandbox.configure({"latency_ms": 300})
    env = {"SMS_MAX_CONCURRENCY": "5", "DELIVERY_BATCH": "20", "SCAN_PARTITIONS": "2"}
    summary, senders = run_two_workers(live_environ, sandbox, tmp_path, env,
                                       lambda svc, today: population(svc, 80, today))
    assert summary["messages"] == 80
    assert len(senders) == 2, senders
    assert most_open_at_once(sandbox, 0.3) <= 5


def test_sms_rate_limit_spreads_the_sends_of_two_workers(live_environ, sandbox, tmp_path):
    """SMS_RATE_LIMIT=10 shared by two workers: no one-second window holds more than 10 arrivals, give or take one
    for the moments between the Redis reservation and the request's arrival; without it, the 40 go in well under a
    second."""
    env = {"SMS_RATE_LIMIT": "10", "DELIVERY_BATCH": "10", "SCAN_PARTITIONS": "2"}
    summary, senders = run_two_workers(live_environ, sandbox, tmp_path, env,
                                       lambda svc, today: population(svc, 40, today))
    assert summary["messages"] == 40 and len(senders) == 2, senders
    assert most_in_one_second(sandbox) <= 11


def test_refusals_under_the_limits_are_retried_until_each_sms_went_exactly_once(live_environ, sandbox):
    """30 % of sends refused (500, 20429) at 100 ms latency, with both limits on: every refusal backs off and is
    retried through RQ's scheduler, and the reconciliation finds one SMS per notice."""
    sandbox.configure({"fail_rate": 0.3, "fail_codes": [500, 20429], "latency_ms": 100})
    env = {"RETRY_BASE": "0.05", "RETRY_MAX": "10", "SMS_MAX_CONCURRENCY": "8", "SMS_RATE_LIMIT": "200"}
    with services(live_environ, sandbox, **env) as svc:
        today = today_of(svc)
        people = population(svc, 120, today)
        start_scan(svc, today)
        queues = [svc.queues[q] for q in QUEUE_NAMES]
        deadline = time.monotonic() + 90
        while True:
            SimpleWorker(queues, connection=svc.redis).work(burst=True, with_scheduler=True, logging_level="WARNING")
            open_ = notices(svc, status="pending") + notices(svc, status="sending")
            idle = all(q.count == 0 and ScheduledJobRegistry(queue=q).count == 0 for q in queues)
            if not open_ or idle or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert not open_, f"{len(open_)} notices still open, e.g. {open_[0]['history']}"
        reconcile(svc, sandbox, people, today)
        rejected = sandbox.stats()["rejected"]
        assert rejected.get("500", 0) + rejected.get("20429", 0) >= 0.15 * len(people), rejected
        retried = Counter(h.rsplit(": ", 1)[-1] for n in notices(svc, channel="sms") for h in n["history"]
                          if h.startswith("pending@") and ":retry " in h)
        assert retried == Counter({"20500": rejected.get("500", 0), "20429": rejected.get("20429", 0)}), retried
        assert most_open_at_once(sandbox, 0.1) <= 8
        # Each request that reached the provider used a phone number, and is in that person's access log once;
        # a send our own limits held back never reached it, and is in no log.
        [row] = svc.driver.execute_query("MATCH (r:AccessRecord {actor: 'reminder delivery'}) RETURN count(r) AS n",
                                         database_=svc.settings.neo4j_database)[0]
        assert row["n"] == len(sandbox.messages()) + sum(rejected.values())
