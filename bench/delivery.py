"""Delivery benchmark: notices per second from the scan to acceptance by the SMS sandbox, with the run command's worker
setup, against a bare RQ no-op job loop and a bare loop of `twilio` client sends to the same sandbox, in the same run.

The notices come from the scan cohort (`bench.scan.cohort`): on `COHORT_DAY` each cohort person is owed one reminder
by inbox and one by SMS, and nobody else in the district is owed anything, so a run is exactly `2 × cohort` notices.
Each run clears the previous run's notices and drafts, starts a scan (`start_scan`, as `POST /api/v1/scans` does)
and times until the sandbox has accepted one SMS per cohort person.
"""

from __future__ import annotations

import subprocess
import sys
import time

from rq import Queue

from bench import say
from bench.noop import noop
from bench.scan import COHORT_DAY
from bench.stack import FROM, SID, TOKEN, BenchStack
from notifier.scan import start_scan
from notifier.sms import SmsClient
from profiles.config import PROJECT_ROOT

AT = f"{COHORT_DAY.isoformat()}T10:00:00+08:00"
SMS_TEXT = "【禅城区政务服务】基线测试短信 https://example.invalid/n/0"


def clear_notices(stack: BenchStack) -> None:
    with stack.services.driver.session(database=stack.services.settings.neo4j_database) as session:
        for label in ("Notice", "Scan", "Application"):  # the previous run's, in committed slices
            session.run(f"MATCH (x:{label}) CALL (x) {{ DETACH DELETE x }} IN TRANSACTIONS OF 5000 ROWS").consume()
    stack.clear_sandbox()


def run_delivery(stack: BenchStack, sms_owed: int, timeout: float) -> dict:
    clear_notices(stack)
    services = stack.services
    started = time.perf_counter()
    scan_id = start_scan(services, COHORT_DAY, at=AT)  # the jobs' clock: delivery re-checks what is owed "now"
    scanned = None
    while time.perf_counter() - started < timeout:
        if scanned is None and services.scans.get(scan_id).state == "done":
            scanned = time.perf_counter() - started
        if stack.sandbox_stats()["accepted"] >= sms_owed:
            took = time.perf_counter() - started
            notices = services.driver.execute_query("MATCH (n:Notice) RETURN count(n) AS c",
                                                    database_=services.settings.neo4j_database)[0][0]["c"]
            stack.record_peaks()
            return {"seconds": took, "notices": notices, "notices_per_s": notices / took,
                    "sms_per_s": sms_owed / took, "scan_seconds": scanned}
        time.sleep(0.05)
    raise SystemExit(f"the sandbox accepted only {stack.sandbox_stats()['accepted']} of {sms_owed} in {timeout} s")


def run_noop(stack: BenchStack, jobs: int) -> float:
    """Bare RQ: enqueue `jobs` no-op jobs and drain them with one SimpleWorker in a fresh process."""
    queue = Queue("bench-noop", connection=stack.services.redis)
    queue.enqueue_many([Queue.prepare_data(noop) for _ in range(jobs)])
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from redis import Redis; from rq import Queue, SimpleWorker;"
                    f"c = Redis.from_url({stack.services.settings.redis_url!r});"
                    "SimpleWorker([Queue('bench-noop', connection=c)], connection=c).work(burst=True, "
                    "logging_level='WARNING')"], check=True, cwd=PROJECT_ROOT)
    return jobs / (time.perf_counter() - started)


def run_twilio(stack: BenchStack, sends: int) -> float:
    client = SmsClient(SID, TOKEN, FROM, base_url=f"http://127.0.0.1:{stack.sandbox_port}")
    started = time.perf_counter()
    for i in range(sends):
        client.send(f"+86137{i:08d}", SMS_TEXT)
    return sends / (time.perf_counter() - started)


def run(stack: BenchStack, cohort_persons: int, runs: int, baseline_jobs: int = 5000) -> dict:
    """`runs` interleaved rounds of (no-op loop, bare sends, delivery); the worker(s) must be running."""
    out: dict[str, list] = {"delivery": [], "rq_noop_jobs_per_s": [], "bare_twilio_sends_per_s": []}
    for n in range(runs):
        out["rq_noop_jobs_per_s"].append(run_noop(stack, baseline_jobs))
        out["bare_twilio_sends_per_s"].append(run_twilio(stack, min(baseline_jobs, 2000)))
        with stack.profiled("delivery-worker", "worker"):
            out["delivery"].append(run_delivery(stack, cohort_persons, timeout=max(600, cohort_persons / 5)))
        d = out["delivery"][-1]
        say(f"delivery run {n + 1}: {d['notices_per_s']:.0f} notices/s ({d['notices']} in {d['seconds']:.1f} s, "
            f"scan {d['scan_seconds'] or 0:.1f} s); RQ no-op {out['rq_noop_jobs_per_s'][-1]:.0f} jobs/s; "
            f"bare twilio {out['bare_twilio_sends_per_s'][-1]:.0f} sends/s")
    stack.clear_sandbox()
    return out
