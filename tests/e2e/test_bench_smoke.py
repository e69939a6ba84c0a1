"""The benchmarks never rot: `python -m bench` runs every benchmark on a small district and its report holds up."""

from __future__ import annotations

import json
import subprocess
import sys

from profiles.config import PROJECT_ROOT


def test_every_benchmark_runs_on_a_small_district_and_reports_medians_ratios_and_goals(tmp_path):
    out = tmp_path / "report"
    argv = [sys.executable, "-m", "bench", "--persons", "3000", "--quick", "--profile", "--data", str(tmp_path),
            "--out", str(out)]
    done = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-4000:]
    r = json.loads((out / "district.json").read_text())

    assert r["district"]["persons"] == 3000 and r["district"]["rows"]["materials"] > 3000
    assert r["import_rejected"] == 0  # the generated district is valid input for the import command
    assert len(r["raw"]["load"]) == len(r["raw"]["bare"]) >= 3
    assert r["scan_agrees_with_naive"] is True  # the scan finds exactly what the evaluator finds subject by subject
    tenth, full = r["raw"]["scan_tenth"], r["raw"]["scan_full"]
    assert {x["due_items"] for x in tenth} == {x["due_items"] for x in full} == {200}  # the cohort, at N/10 and N
    assert [d["notices"] for d in r["raw"]["delivery"]["delivery"]] == [400, 400, 400]  # inbox + SMS per person
    for name in ("prefill", "bare_read", "personal_page", "officer_profile"):
        assert all(run["requests"] > 0 and run["p99_ms"] > 0 for run in r["raw"]["web"][name]["runs"]), name
    assert {"web", "worker", "neo4j"} <= set(r["peak_rss_mib"]) and min(r["peak_rss_mib"].values()) > 0
    for name, figure, _unit in r["figures"]:
        assert figure["runs"] >= 3 and figure["min"] <= figure["median"] <= figure["max"], name
    assert len(r["goals"]) == 10 and all(g[3] in ("met", "not met") for g in r["goals"])
    assert "| goal |" in (out / "district.md").read_text()

    profiles = (out / "profiles" / "profiles.md").read_text()  # py-spy sampled every phase that runs our code
    for phase in ("import-persons", "import-entities", "import-materials", "import-relations", "web-prefill",
                  "web-personal_page", "web-officer_profile", "delivery-worker"):
        assert f"## {phase}\n" in profiles, phase
    prefill = profiles.split("## web-prefill\n")[1].split("\n## ")[0]
    assert "| neo4j |" in prefill and "graph/snapshots.py" in prefill  # prefill reads its snapshots on the driver
