"""The benchmarks never rot: `python -m bench` runs every benchmark on a small district and its report holds up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from profiles.config import PROJECT_ROOT

# About 3 min alone on a 2-core machine; a slower machine once went past 5 min. The run gets its own bound, below the
# test's, so that a slow run fails with its own progress lines rather than with pytest-timeout's thread dump.
RUN_LIMIT_S = 900


@pytest.mark.timeout(RUN_LIMIT_S + 60)
def test_every_benchmark_runs_on_a_small_district_and_reports_medians_ratios_and_goals(tmp_path):
    out, log = tmp_path / "report", tmp_path / "bench.log"
    argv = [sys.executable, "-m", "bench", "--persons", "3000", "--quick", "--profile", "--data", str(tmp_path),
            "--out", str(out)]
    with log.open("w") as sink:
        try:
            done = subprocess.run(argv, cwd=PROJECT_ROOT, stdout=sink, stderr=subprocess.STDOUT, timeout=RUN_LIMIT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the smoke run took over {RUN_LIMIT_S} s; it had got this far:\n{progress(log)}")
    assert done.returncode == 0, log.read_text()[-4000:]
    r = json.loads((out / "district.json").read_text())

    assert r["district"]["persons"] == 3000 and r["district"]["rows"]["materials"] > 3000
    assert r["import_rejected"] == 0  # the generated district is valid input for the import command
    assert len(r["raw"]["load"]) == len(r["raw"]["bare"]) >= 3
    assert r["scan_agrees_with_naive"] is True  # the scan finds exactly what the evaluator finds subject by subject
    tenth, full = r["raw"]["scan_tenth"], r["raw"]["scan_full"]
    assert {x["due_items"] for x in tenth} == {x["due_items"] for x in full} == {200}  # the cohort, at N/10 and N
    assert [d["notices"] for d in r["raw"]["delivery"]["delivery"]] == [400, 400, 400]  # inbox + SMS per person
    for rows in r["raw"]["delivery"]["latency"]:  # one and two workers, the provider at 0 and at 200 ms
        assert set(rows) == {"1w_0ms", "1w_200ms", "2w_0ms", "2w_200ms"}
        assert {row["sms"] for row in rows.values()} == {200}
        assert rows["2w_200ms"]["ideal"] == 2 * rows["1w_200ms"]["ideal"] and rows["1w_200ms"]["of_ideal"] > 0
    for name in ("prefill", "bare_read", "personal_page", "officer_profile"):
        assert all(run["requests"] > 0 and run["p99_ms"] > 0 for run in r["raw"]["web"][name]["runs"]), name
    assert {"web", "worker", "neo4j"} <= set(r["peak_rss_mib"]) and min(r["peak_rss_mib"].values()) > 0
    for name, figure, _unit in r["figures"]:
        assert figure["runs"] >= 3 and figure["min"] <= figure["median"] <= figure["max"], name
    assert len(r["goals"]) == 12 and all(g[3] in ("met", "not met") for g in r["goals"])
    assert "| goal |" in (out / "district.md").read_text()

    profiles = (out / "profiles" / "profiles.md").read_text()  # py-spy sampled every phase that runs our code
    for phase in ("import-persons", "import-entities", "import-materials", "import-relations", "web-prefill",
                  "web-personal_page", "web-officer_profile", "delivery-worker", "delivery-worker-200ms"):
        assert f"## {phase}\n" in profiles, phase
    prefill = profiles.split("## web-prefill\n")[1].split("\n## ")[0]
    assert "| neo4j |" in prefill and "graph/snapshots.py" in prefill  # prefill reads its snapshots on the driver


def progress(log) -> str:
    """The bench's stamped progress lines (`[m:ss] ...`), then its last ten lines of output."""
    lines = log.read_text(errors="replace").replace("\r", "\n").splitlines()
    return "\n".join([line for line in lines if line.startswith("[")] + ["...", *lines[-10:]])
