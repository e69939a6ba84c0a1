"""`python -m bench`: a synthetic district loaded and measured, each figure against a baseline of the same run.

    .venv/bin/python -m bench                          # the full district: 1 100 000 persons (by hand; ~1 h 40 min)
    .venv/bin/python -m bench --persons 3000 --quick   # the CI smoke run: every benchmark, small

Steps: generate the district (cached in var/bench/), start Neo4j, Redis, the SMS sandbox; load the district through the
import command part by part against a bare UNWIND CREATE into a second Neo4j (1); after the first tenth and again at
the end, the daily scan for a quiet day with the same due items (2, scaling); the daily scan for today against the naive
scan (2); gunicorn under 16 wrk connections: prefill against its bare read, and two pages (4, 5); the worker delivering
the cohort's notices against a bare RQ loop and bare twilio sends, then with one and two workers at 0 and 200 ms
provider latency against workers × DELIVERY_IN_FLIGHT ÷ latency (3); the peak memory of each process (6).
Writes `--out`/district.json and district.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from bench import delivery, district, load, report, say, scan, web_load
from bench.profile import Profiler, write_summary
from bench.stack import BenchStack, Sizes
from profiles.config import PROJECT_ROOT

STARTED = time.perf_counter()


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of every figure (at least 3)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--delivery-notices", type=int, default=50_000,
                        help="notices the delivery benchmark sends (an inbox notice and an SMS per cohort person)")
    parser.add_argument("--baseline-jobs", type=int, default=5000,
                        help="jobs of the bare RQ no-op loop per delivery run (bare twilio sends: at most 2 000)")
    parser.add_argument("--web-seconds", type=float, default=20.0, help="length of each wrk run")
    parser.add_argument("--web-sample", type=int, default=2000, help="persons signed in and asked for")
    parser.add_argument("--naive-runs", type=int, default=None, help="runs of the naive scan (default: --runs)")
    parser.add_argument("--quick", action="store_true", help="short web runs and a small cohort (the CI smoke run)")
    parser.add_argument("--heap", default=None, help="Neo4j heap (default: 512m, 2g from 200 000 persons)")
    parser.add_argument("--pagecache", default=None, help="Neo4j page cache (default: 256m, 6g from 200 000)")
    parser.add_argument("--profile", action="store_true",
                        help="sample the import command, gunicorn and the worker with py-spy, phase by phase; writes "
                             "--out/profiles/profiles.md (the figures of a profiled run are not the record)")
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / "var" / "bench", help="district files and servers")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "bench" / "report")
    args = parser.parse_args(argv)
    if args.runs < 3:
        parser.error("--runs: at least 3 runs, so every figure has a median and a spread")
    if args.quick:
        args.web_seconds = min(args.web_seconds, 3.0)
        args.delivery_notices = min(args.delivery_notices, 400)
        args.baseline_jobs = min(args.baseline_jobs, 1000)
        args.web_sample = min(args.web_sample, 200)
    big = args.persons >= 200_000
    args.heap = args.heap or ("2g" if big else "512m")
    args.pagecache = args.pagecache or ("6g" if big else "256m")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    today = date.today()
    parts, meta = district.generate(args.data / f"district-{args.persons}-{args.seed}-{today}", args.persons,
                                    args.seed, today, parts_after_first=args.runs)
    say(f"district: {meta['rows']} in {len(parts)} parts (generated in {meta['generate_seconds']} s)")
    sizes = Sizes(heap=args.heap, pagecache=args.pagecache)
    root = args.data / "run"
    shutil.rmtree(root, ignore_errors=True)
    stack = BenchStack(root, sizes, profiler=Profiler(args.out / "profiles") if args.profile else None).start()
    say("Neo4j, Redis and the SMS sandbox are up")
    cohort_persons = args.delivery_notices // 2
    results: dict = {"load": [], "bare": [], "events": [], "scan_tenth": [], "scan_full": [], "today_tenth": [],
                     "today": [], "naive": []}
    try:
        # 1. load, part by part, interleaved with the baseline; 2. the scaling scan after the first tenth
        with load.Bare(root, sizes.heap, sizes.pagecache) as bare:
            for part in parts:
                results["load"].append(load.import_part(stack, part))
                results["bare"].append(bare.load(part))
                results["events"].append(load.write_events(stack, part))
                say(f"part {part.number}: import {results['load'][-1]['per_second']:.0f} rows/s, bare "
                    f"{results['bare'][-1]['per_second']:.0f} rows/s")
                if part.number == 0:
                    scan.write_cohort(stack, cohort_persons)
                    stack.services.driver.execute_query("CALL db.awaitIndexes(600)")
                    warm_up(stack, today)
                    for _ in range(args.runs):
                        results["scan_tenth"].append(scan.timed_scan(stack, scan.COHORT_DAY))
                        results["today_tenth"].append(scan.timed_scan(stack, today))
        # 2. the daily scan of the whole district, against the naive scan
        warm_up(stack, today)
        for n in range(args.runs):
            results["scan_full"].append(scan.timed_scan(stack, scan.COHORT_DAY))
            results["today"].append(scan.timed_scan(stack, today))
            if n < (args.naive_runs or args.runs):
                results["naive"].append(scan.naive_scan(stack, today))
            say(f"scan run {n + 1}: today {results['today'][-1]['seconds']:.1f} s "
                f"({results['today'][-1]['due_items']} due items); naive "
                f"{results['naive'][-1]['seconds'] if results['naive'] else 0:.1f} s")
        agree = all(r["keys"] == results["today"][0]["keys"] for r in results["naive"])
        # 4, 5. prefill and pages under load
        base = stack.start_web()
        say("gunicorn is up; signing in the web sample")
        results["web"] = web_load.run(stack, base, runs=args.runs, seconds=args.web_seconds,
                                      sample=args.web_sample)
        stack.stop_role("web")
        # 3. delivery: one worker, then two, each at 0 ms and 200 ms provider latency
        say("delivery")
        results["delivery"] = delivery.run(stack, cohort_persons, args.runs, args.baseline_jobs)
        stack.record_peaks()
    finally:
        stack.stop()
    r = summarise(args, meta, sizes, results, agree, stack.peaks)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "district.json").write_text(json.dumps(r, indent=2, ensure_ascii=False))
    (args.out / "district.md").write_text(report.markdown(r))
    print(report.markdown(r))
    print(f"written: {args.out / 'district.json'}, {args.out / 'district.md'}")
    if stack.profiler:
        print(f"profiles: {write_summary(stack.profiler.directory)}")
    return 0


def warm_up(stack: BenchStack, today: date) -> None:
    """One untimed pass of each scan: the figures are for a warm page cache (the first pass reads from disk)."""
    scan.timed_scan(stack, scan.COHORT_DAY)
    scan.timed_scan(stack, today)


def summarise(args, meta: dict, sizes: Sizes, res: dict, agree: bool, peaks: dict) -> dict:
    sp, med = report.spread, statistics.median
    load_rate = [x["per_second"] for x in res["load"]]
    bare_rate = [x["per_second"] for x in res["bare"]]
    whole = {k: sum(x["rows"] for x in res[src]) / sum(x["seconds"] for x in res[src])
             for k, src in (("import", "load"), ("bare", "bare"))}
    today = [x["seconds"] for x in res["today"]]
    naive = [x["seconds"] for x in res["naive"]]
    tenth = [x["seconds"] for x in res["scan_tenth"]]
    full = [x["seconds"] for x in res["scan_full"]]
    dl = res["delivery"]
    notices = [x["notices_per_s"] for x in dl["delivery"]]
    web = res["web"]
    mib = {role: round(kib / 1024) for role, kib in peaks.items()}
    ratio = lambda a, b: [x / y for x, y in zip(a, b, strict=True)]  # noqa: E731 - per run, same-run baseline
    figures = [
        ("load: rows/s through the import command", sp(load_rate, 0), "rows/s"),
        ("load baseline: bare UNWIND CREATE rows/s", sp(bare_rate, 0), "rows/s"),
        ("load ratio import ÷ bare (per part)", sp(ratio(load_rate, bare_rate), 2), "×"),
        ("load ratio, whole district: all rows ÷ all seconds, import ÷ bare",
         {"median": round(whole["import"] / whole["bare"], 2), "min": round(whole["import"] / whole["bare"], 2),
          "max": round(whole["import"] / whole["bare"], 2), "runs": len(load_rate)}, "×"),
        (f"daily scan, whole district, today ({res['today'][0]['due_items']:,} due items, "
         f"{res['today'][0]['owed_today']:,} owed a reminder today)", sp(today, 2), "s"),
        (f"naive scan: every subject's snapshot through the evaluator ({res['naive'][0]['subjects']:,} subjects)",
         sp(naive, 2), "s"),
        ("scan speed-up: naive ÷ scan (median)", sp([med(naive) / t for t in today], 1), "×"),
        (f"scan at N/10, {scan.COHORT_DAY} ({res['scan_tenth'][0]['due_items']:,} due items)", sp(tenth, 3), "s"),
        (f"scan at N, {scan.COHORT_DAY} ({res['scan_full'][0]['due_items']:,} due items)", sp(full, 3), "s"),
        ("scan ratio N ÷ N/10, same due items", sp([f / med(tenth) for f in full], 2), "×"),
        (f"delivery: notices/s scan → provider acceptance ({dl['delivery'][0]['notices']:,} notices)",
         sp(notices, 0), "notices/s"),
        ("delivery baseline: bare RQ no-op jobs/s", sp(dl["rq_noop_jobs_per_s"], 0), "jobs/s"),
        ("delivery baseline: bare twilio client sends/s", sp(dl["bare_twilio_sends_per_s"], 0), "sends/s"),
        ("delivery ratio: notices/s ÷ no-op jobs/s", sp(ratio(notices, dl["rq_noop_jobs_per_s"]), 2), "×"),
        ("delivery ratio: notices/s ÷ bare sends/s", sp(ratio(notices, dl["bare_twilio_sends_per_s"]), 2), "×"),
        *delivery.latency_figures(dl["latency"]),
        *web_figures(web),
    ]
    one_slow = med([r["1w_200ms"]["sends_per_s"] for r in dl["latency"]])
    two_slow = med([r["2w_200ms"]["sends_per_s"] for r in dl["latency"]])
    prefill_p99, bare_p99 = web["prefill"]["p99_ms"]["median"], web["bare_read"]["p99_ms"]["median"]
    page_p99 = max(web["personal_page"]["p99_ms"]["median"], web["officer_profile"]["p99_ms"]["median"])
    load_ratio = whole["import"] / whole["bare"]
    scan_ratio = med(full) / med(tenth)
    goals = [
        ("load ÷ bare baseline, whole district", f"{load_ratio:.2f}", "≥ 0.5", report.goal(load_ratio, 0.5, True)),
        ("daily scan, whole district", f"{med(today):.1f} s", "≤ 30 s", report.goal(med(today), 30, False)),
        ("scan speed-up over naive", f"{med(naive) / med(today):.1f}×", "≥ 20×",
         report.goal(med(naive) / med(today), 20, True)),
        ("scan N ÷ N/10, same due items", f"{scan_ratio:.2f}×", "≤ 1.5×", report.goal(scan_ratio, 1.5, False)),
        ("delivery", f"{med(notices):.0f} notices/s", "≥ 1 000/s", report.goal(med(notices), 1000, True)),
        ("delivery at 200 ms provider latency, one worker", f"{one_slow:.0f} SMS/s", "≥ 250/s",
         report.goal(one_slow, 250, True)),
        ("delivery at 200 ms, two workers ÷ one", f"{two_slow / one_slow:.2f}×", "≥ 1.8×",
         report.goal(two_slow / one_slow, 1.8, True)),
        ("prefill p99", f"{prefill_p99:.1f} ms", "≤ 50 ms", report.goal(prefill_p99, 50, False)),
        ("prefill p99 ÷ bare read p99", f"{prefill_p99 / bare_p99:.1f}×", "≤ 3×",
         report.goal(prefill_p99 / bare_p99, 3, False)),
        ("page p99 (worse of the two)", f"{page_p99:.1f} ms", "≤ 150 ms", report.goal(page_p99, 150, False)),
        ("web worker peak RSS", f"{mib.get('web', 0)} MiB", "≤ 200 MiB", report.goal(mib.get("web"), 200, False)),
        ("RQ worker peak RSS", f"{mib.get('worker', 0)} MiB", "≤ 300 MiB", report.goal(mib.get("worker"), 300, False)),
    ]
    return {
        "machine": report.machine(), "command": "python -m bench " + " ".join(sys.argv[1:]),
        "district": meta,
        "settings": sizes.as_dict() | {"delivery_notices": args.delivery_notices,
                                       "baseline_jobs": args.baseline_jobs, "web_seconds": args.web_seconds,
                                       "web_sample": args.web_sample, "runs": args.runs,
                                       "profiled": args.profile},
        "figures": figures, "goals": goals, "peak_rss_mib": mib,
        "scan_agrees_with_naive": agree, "import_rejected": sum(x["rejected"] for x in res["load"]),
        "raw": {k: v for k, v in res.items() if k not in ("today", "naive", "scan_tenth", "scan_full", "today_tenth")}
        | {k: [{f: x[f] for f in x if f != "keys"} for x in res[k]]
           for k in ("today", "naive", "scan_tenth", "scan_full", "today_tenth")},
        "elapsed_s": round(time.perf_counter() - STARTED, 1),
    }


def web_figures(web: dict) -> list[tuple[str, dict, str]]:
    runs = len(web["prefill"]["runs"])
    out = []
    for key, name in (("prefill", "prefill POST /api/v1/prefill"), ("bare_read", "bare Cypher read of the same data"),
                      ("personal_page", "personal page /me"), ("officer_profile", "officer profile page")):
        for p in ("p50", "p95", "p99"):
            if f"{p}_ms" in web[key]:
                out.append((f"{name}: {p} latency, 16 clients", {**web[key][f"{p}_ms"], "runs": runs}, "ms"))
    out.append(("prefill p99 ÷ bare read p99", {**report.spread(
        [a["p99_ms"] / b["p99_ms"] for a, b in zip(web["prefill"]["runs"], web["bare_read"]["runs"], strict=False)], 2),
        "runs": runs}, "×"))
    return out


if __name__ == "__main__":
    sys.exit(main())
