"""Delivery benchmark: notices per second from the scan to acceptance by the SMS sandbox, with the run command's worker
setup, against a bare RQ no-op job loop and a bare loop of `twilio` client sends to the same sandbox, in the same run;
and SMS per second with the sandbox answering at once and after `LATENCIES` ms (a real provider's API time), with one
and with two worker processes, against the ideal: workers × DELIVERY_IN_FLIGHT ÷ latency.

The notices come from the scan cohort (`bench.scan.cohort`): on `COHORT_DAY` each cohort person is owed one reminder
by inbox and one by SMS, and nobody else in the district is owed anything, so a run is exactly `2 × cohort` notices.
Each run clears the previous run's notices and drafts, starts a scan (`start_scan`, as `POST /api/v1/scans` does)
and times until the sandbox has accepted one SMS per cohort person. SMS/s is the SMS over the span the provider saw
them arrive (its first message's `created_at` to its last), so the scan that precedes the first send is not in it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from rq import Queue

from bench import report, say
from bench.noop import noop
from bench.profile import Profiler, write_summary
from bench.scan import COHORT_DAY, write_cohort
from bench.stack import FROM, SID, TOKEN, BenchStack
from notifier.scan import start_scan
from notifier.sms import SmsClient
from profiles.config import PROJECT_ROOT

AT = f"{COHORT_DAY.isoformat()}T10:00:00+08:00"
LATENCIES = (0, 200)  # ms the sandbox waits before each answer
WORKERS = (1, 2)
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
            arrived = sorted(datetime.fromisoformat(m["created_at"]) for m in stack.sandbox_messages())
            span = (arrived[-1] - arrived[0]).total_seconds() if len(arrived) > 1 else took
            return {"seconds": took, "notices": notices, "notices_per_s": notices / took,
                    "sms_per_s": sms_owed / took, "scan_seconds": scanned, "sms": len(arrived),
                    "send_seconds": span, "sends_per_s": (len(arrived) - 1) / span if span else 0.0}
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
    """`runs` interleaved rounds of (no-op loop, bare sends, then delivery for each worker count and latency)."""
    out: dict[str, list] = {"delivery": [], "rq_noop_jobs_per_s": [], "bare_twilio_sends_per_s": [],
                            "latency": []}
    in_flight = stack.services.settings.delivery_in_flight
    for n in range(runs):
        stack.configure_sandbox(latency_ms=0)
        out["rq_noop_jobs_per_s"].append(run_noop(stack, baseline_jobs))
        out["bare_twilio_sends_per_s"].append(run_twilio(stack, min(baseline_jobs, 2000)))
        rows = {}
        for workers in WORKERS:
            stack.start_workers(workers)
            for latency in LATENCIES:
                stack.configure_sandbox(latency_ms=latency)
                phase = "delivery-worker" + (f"-{latency}ms" if latency else "") + (f"-{workers}w" if workers > 1
                                                                                    else "")
                with stack.profiled(phase, "worker"):
                    d = run_delivery(stack, cohort_persons, timeout=max(600, cohort_persons / 5))
                ideal = workers * in_flight / (latency / 1000) if latency else None
                rows[f"{workers}w_{latency}ms"] = d | {"workers": workers, "latency_ms": latency, "ideal": ideal,
                                                       "of_ideal": d["sends_per_s"] / ideal if ideal else None}
                say(f"delivery run {n + 1}, {workers} worker(s), {latency} ms: {d['sends_per_s']:.0f} SMS/s "
                    f"({d['sms']} over {d['send_seconds']:.1f} s)" + (f", {d['sends_per_s'] / ideal:.2f} of the "
                                                                       f"ideal {ideal:.0f}/s" if ideal else "")
                    + f"; {d['notices_per_s']:.0f} notices/s from the scan's start")
            stack.stop_role("worker")
        out["delivery"].append(rows["1w_0ms"])
        out["latency"].append(rows)
        d = rows["1w_0ms"]
        say(f"delivery run {n + 1}: {d['notices_per_s']:.0f} notices/s ({d['notices']} in {d['seconds']:.1f} s, "
            f"scan {d['scan_seconds'] or 0:.1f} s); RQ no-op {out['rq_noop_jobs_per_s'][-1]:.0f} jobs/s; "
            f"bare twilio {out['bare_twilio_sends_per_s'][-1]:.0f} sends/s")
    stack.configure_sandbox(latency_ms=0)
    stack.clear_sandbox()
    return out


def latency_figures(rounds: list[dict]) -> list[tuple[str, dict, str]]:
    """SMS/s as the provider received them, per worker count and provider latency, and against the ideal."""
    out = []
    for key, row in rounds[0].items():
        name = f"delivery, {row['workers']} worker(s), provider latency {row['latency_ms']} ms"
        out.append((f"{name}: SMS/s ({row['sms']:,} SMS)", report.spread([r[key]["sends_per_s"] for r in rounds], 0),
                    "SMS/s"))
        if row["ideal"]:
            out.append((f"{name}: ÷ ideal {row['ideal']:,.0f} SMS/s (workers × in flight ÷ latency)",
                        report.spread([r[key]["of_ideal"] for r in rounds], 2), "×"))
    out.append(("delivery at 200 ms: two workers ÷ one", report.spread(
        [r["2w_200ms"]["sends_per_s"] / r["1w_200ms"]["sends_per_s"] for r in rounds], 2), "×"))
    return out


def main(argv: list[str] | None = None) -> int:
    """Delivery alone, on an empty graph but for the cohort: `python -m bench.delivery --notices 4000`."""
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=main.__doc__)
    parser.add_argument("--notices", type=int, default=4000, help="an inbox notice and an SMS per cohort person")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--profile", type=Path, default=None, help="sample the workers with py-spy into this folder")
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / "var" / "bench" / "delivery")
    args = parser.parse_args(argv)
    shutil.rmtree(args.data, ignore_errors=True)
    stack = BenchStack(args.data, profiler=Profiler(args.profile) if args.profile else None).start()
    try:
        write_cohort(stack, args.notices // 2)
        stack.services.driver.execute_query("CALL db.awaitIndexes(600)")
        out = run(stack, args.notices // 2, args.runs, baseline_jobs=500)
    finally:
        stack.stop()
    for name, figure, unit in latency_figures(out["latency"]):
        print(f"{name}: {figure['median']:,} {unit} ({figure['min']:,}–{figure['max']:,})")
    if args.profile:
        print(f"profiles: {write_summary(args.profile)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
