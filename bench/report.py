"""The benchmark report: medians and spreads of the runs, ratios against the same-run baselines, the goals, as JSON
and as the Markdown that docs/BENCHMARKS.md quotes."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path


def spread(values: list[float], digits: int = 1) -> dict:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "runs": len(values)}


def machine() -> dict:
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        info = []
    cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr.splitlines()
    return {
        "when": datetime.now().isoformat(timespec="seconds"), "host": platform.node(), "cpu": cpu,
        "cpus": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "os": platform.platform(), "python": platform.python_version(), "java": java[0] if java else "",
        "versions": {name: _version(name) for name in ("neo4j", "flask", "rq", "redis", "twilio", "gunicorn",
                                                        "marshmallow")} | {"neo4j_server": "5.26 (embedded)"},
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def goal(value: float | None, limit: float, at_least: bool) -> str:
    if value is None:
        return "not measured"
    return "met" if (value >= limit if at_least else value <= limit) else "not met"


def markdown(r: dict) -> str:
    m, d = r["machine"], r["district"]
    lines = [
        f"Machine: {m['cpus']} × {m['cpu']}, {m['memory_gib']} GiB, {m['os']}; Python {m['python']}, "
        f"{m['java']}; {m['when']}.",
        f"District: N = {d['persons']:,} persons, {d['rows'].get('entities', 0):,} businesses, "
        f"{d['rows'].get('materials', 0):,} materials, {d['rows'].get('relations', 0):,} relations, "
        f"{d['rows'].get('events', 0):,} life events (seed {d['seed']}, generated for {d['today']}).",
        f"Settings: {r['settings']}.",
        "",
        "| # | figure | median | spread (min–max) | runs |",
        "|---|---|---|---|---|",
    ]
    for n, (name, fig, unit) in enumerate(r["figures"], start=1):
        lines.append(f"| {n} | {name} | {fig['median']:,} {unit} | {fig['min']:,}–{fig['max']:,} | {fig['runs']} |")
    lines += ["", "| goal | measured | target | |", "|---|---|---|---|"]
    for name, value, target, verdict in r["goals"]:
        lines.append(f"| {name} | {value} | {target} | {verdict} |")
    return "\n".join(lines) + "\n"
