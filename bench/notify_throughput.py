"""Delivery throughput: notices per second from the scan to acceptance by the SMS sandbox, with the run command's
worker setup, against two baselines measured in the same run on the same machine: a bare RQ no-op job loop and a
bare loop of `twilio` client sends to the same sandbox.

    .venv/bin/python -m bench.notify_throughput --notices 10000 --runs 3

Starts its own Neo4j, Redis, SMS sandbox and worker under a temporary directory (nothing from var/ is touched),
writes N persons each with an ID card expiring in 30 days (so each is owed one SMS and one inbox notice today),
then per run: clears the notices, starts a scan, and times until the sandbox has accepted N messages.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

from rq import Queue

from bench.noop import noop
from graph import bulk
from graph.local import LocalNeo4j
from graph.processes import free_port, spawn
from graph.schema import migrate
from notifier.local import LocalRedis
from notifier.scan import start_scan
from notifier.services import build
from notifier.sms import SmsClient
from profiles.config import PROJECT_ROOT, Settings
from profiles.identifiers import resident_id_check_digit
from profiles.models import Material, Person

SID, TOKEN = "AC" + "b" * 32, "bench-token"


def environment(neo4j: LocalNeo4j, rds: LocalRedis, sandbox_port: int, var: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "PYTHONPATH": str(PROJECT_ROOT),
        "LIFECYCLE_ENV": "test", "LIFECYCLE_VAR": str(var), "NEO4J_URI": neo4j.uri, "REDIS_URL": rds.url,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}", "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": "+8610690000", "QUIET_HOURS": "00:00-00:00",
        "PUBLIC_URL": "http://127.0.0.1:9",  # no web app here: status callbacks are refused, as they may be
        "SECRET_KEY": "bench-" + "x" * 40, "LIFECYCLE_DATA_KEYS": "b1:" + base64.b64encode(b"k" * 32).decode(),
        "LIFECYCLE_INDEX_KEY": base64.b64encode(b"i" * 32).decode(), "LOG_JSON": "false",
    }


def population(n: int, as_of: date) -> tuple[list[Person], list[Material]]:
    persons, cards = [], []
    for i in range(n):
        born = date(1960, 1, 1) + timedelta(days=i % 15000)
        first17 = f"440604{born:%Y%m%d}{i % 1000:03d}"
        pid = str(uuid.uuid4())
        persons.append(Person(pid, first17 + resident_id_check_digit(first17), "测试", born, "M" if i % 2 else "F",
                              "440604", phone=f"+86139{i:08d}"))
        expires = as_of + timedelta(days=30)
        cards.append(Material(str(uuid.uuid4()), pid, "id_card", f"C{i:09d}", expires - timedelta(days=7305),
                              expires, "佛山市公安局禅城分局", "issued", {}))
    return persons, cards


def sandbox_stat(port: int, key: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox/stats", timeout=10) as r:
        return json.load(r)[key]


def run_delivery(services, sandbox_port: int, n: int, as_of: date, timeout: float) -> dict:
    with services.driver.session(database=services.settings.neo4j_database) as session:
        for label in ("Notice", "Scan", "Application"):  # the previous run's, in committed slices
            session.run(f"MATCH (x:{label}) CALL (x) {{ DETACH DELETE x }} IN TRANSACTIONS OF 5000 ROWS").consume()
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{sandbox_port}/sandbox/messages",
                                                  method="DELETE"), timeout=10).close()
    started = time.perf_counter()
    scan_id = start_scan(services, as_of)
    scanned = None
    while time.perf_counter() - started < timeout:
        if scanned is None and services.scans.get(scan_id).state == "done":
            scanned = time.perf_counter() - started
        if sandbox_stat(sandbox_port, "accepted") >= n:
            took = time.perf_counter() - started
            return {"seconds": took, "per_second": n / took, "scan_seconds": scanned}
        time.sleep(0.05)
    raise SystemExit(f"the sandbox accepted only {sandbox_stat(sandbox_port, 'accepted')} of {n} in {timeout} s")


def run_noop(services, jobs: int) -> float:
    """Bare RQ: enqueue `jobs` no-op jobs and drain them with one SimpleWorker in a fresh process."""
    queue = Queue("bench-noop", connection=services.redis)
    queue.enqueue_many([Queue.prepare_data(noop) for _ in range(jobs)])
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from redis import Redis; from rq import Queue, SimpleWorker;"
                    f"c = Redis.from_url({services.settings.redis_url!r});"
                    "SimpleWorker([Queue('bench-noop', connection=c)], connection=c).work(burst=True, "
                    "logging_level='WARNING')"], check=True, cwd=PROJECT_ROOT)
    return jobs / (time.perf_counter() - started)


def run_twilio(sandbox_port: int, sends: int) -> float:
    client = SmsClient(SID, TOKEN, "+8610690000", base_url=f"http://127.0.0.1:{sandbox_port}")
    started = time.perf_counter()
    for i in range(sends):
        client.send(f"+86137{i:08d}", "【禅城区政务服务】基线测试短信 https://example.invalid/n/0")
    return sends / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.notify_throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notices", type=int, default=10_000, help="persons owed one SMS each")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-jobs", type=int, default=5_000)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    as_of = date.today()
    with tempfile.TemporaryDirectory(prefix="lifecycle-bench-") as tmp:
        root = Path(tmp)
        neo4j = LocalNeo4j(home=root / "neo4j", port=free_port(), dist_dir=Settings().neo4j_dist_dir,
                           heap="512m", pagecache="256m")
        rds = LocalRedis(directory=root / "redis", port=free_port(), persistent=False)
        sandbox_port = free_port()
        neo4j.start()
        rds.start()
        environ = environment(neo4j, rds, sandbox_port, root / "var")
        quiet = root / "processes.log"  # tied to this process: nothing outlives the benchmark
        procs = [spawn([sys.executable, "-m", "notifier.sandbox", "--port", str(sandbox_port), "--account-sid", SID,
                        "--auth-token", TOKEN], quiet, environ, cwd=PROJECT_ROOT)]
        services = build(Settings.from_env(environ), for_worker=True)
        try:
            migrate(services.driver, services.settings.neo4j_database)
            persons, cards = population(args.notices, as_of)
            t = time.perf_counter()
            bulk.write_persons(services, persons)
            bulk.write_materials(services, cards)
            print(f"loaded {len(persons)} persons with cards in {time.perf_counter() - t:.1f} s", flush=True)
            procs.append(spawn([sys.executable, "-m", "notifier.worker"], quiet, environ, cwd=PROJECT_ROOT,
                               death_signal=signal.SIGKILL))
            time.sleep(2)
            results = {"delivery": [], "noop": [], "twilio": []}
            for run in range(args.runs):
                results["noop"].append(run_noop(services, args.baseline_jobs))
                results["twilio"].append(run_twilio(sandbox_port, min(args.baseline_jobs, 2000)))
                results["delivery"].append(run_delivery(services, sandbox_port, args.notices, as_of, 1800))
                d = results["delivery"][-1]
                print(f"run {run + 1}: delivery {d['per_second']:.0f} notices/s ({d['seconds']:.1f} s, scan "
                      f"{d['scan_seconds'] or 0:.1f} s); RQ no-op {results['noop'][-1]:.0f} jobs/s; "
                      f"bare twilio {results['twilio'][-1]:.0f} sends/s", flush=True)
            report = summary(results, args)
            print(json.dumps(report, indent=2, ensure_ascii=False))
            if args.out:
                args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=30)
            services.close()
            rds.stop()
            neo4j.stop()
    return 0


def summary(results: dict, args) -> dict:
    per_s = [d["per_second"] for d in results["delivery"]]
    med = statistics.median
    return {
        "when": datetime.now().isoformat(timespec="seconds"), "machine": platform.node(),
        "cpus": os.cpu_count(), "python": platform.python_version(), "notices": args.notices, "runs": args.runs,
        "delivery_notices_per_s": {"median": round(med(per_s)), "min": round(min(per_s)), "max": round(max(per_s))},
        "scan_seconds_median": round(med(d["scan_seconds"] or 0 for d in results["delivery"]), 2),
        "rq_noop_jobs_per_s": {"median": round(med(results["noop"])), "min": round(min(results["noop"])),
                               "max": round(max(results["noop"]))},
        "bare_twilio_sends_per_s": {"median": round(med(results["twilio"]))},
        "delivery_vs_noop_jobs": round(med(per_s) / med(results["noop"]), 2),
        "delivery_vs_bare_twilio": round(med(per_s) / med(results["twilio"]), 2),
    }


if __name__ == "__main__":
    sys.exit(main())
