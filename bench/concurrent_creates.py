"""Reproduce the rare stall of concurrent creates: the suite's test of twenty concurrent creates of one ID number
(tests/integration/test_privacy_at_rest.py), repeated N times in one pytest session while busy loops load every core.

    .venv/bin/python -m bench.concurrent_creates --repeat 100 [--checkout DIR] [--out FILE]

Prints, and writes as JSON Lines, each iteration's time and outcome; an iteration of 20 s or more counts as a stall
(a healthy one takes well under 5 s on the 2-core machine even with the cores loaded). `--checkout` runs another
checkout's code (e.g. a `git worktree` of an older commit) with this project's virtualenv, to compare before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from profiles.config import PROJECT_ROOT

STALL_S = 20.0
WRAPPER = '''"""Written by bench/concurrent_creates.py for one run, then removed."""
import json, os, time
import pytest
from tests.integration.test_privacy_at_rest import auth, test_twenty_concurrent_creates_of_one_id_number as once  # noqa


@pytest.mark.timeout(900)
@pytest.mark.parametrize("n", range(int(os.environ["STALL_REPEAT"])))
def test_repeat(n, app, auth, driver, settings):
    started, outcome = time.monotonic(), "ok"
    try:
        once(app, auth, driver, settings)
    except AssertionError as exc:
        outcome = "failed: " + " ".join(str(exc).split())[:300]
    with open(os.environ["STALL_OUT"], "a") as f:
        f.write(json.dumps({"n": n, "seconds": round(time.monotonic() - started, 2), "outcome": outcome}) + "\\n")
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.concurrent_creates", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--checkout", type=Path, default=PROJECT_ROOT, help="the code to run (default: this one)")
    parser.add_argument("--load", type=int, default=os.cpu_count() or 2, help="busy loops to run alongside")
    parser.add_argument("--out", type=Path, default=None, help="JSON Lines of every iteration")
    args = parser.parse_args(argv)
    checkout = args.checkout.resolve()
    out = args.out or Path(tempfile.mkstemp(prefix="concurrent-creates-", suffix=".jsonl")[1])
    out.write_text("")
    wrapper = checkout / "tests" / "integration" / "test_zz_concurrent_creates_repeated.py"
    wrapper.write_text(WRAPPER)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(wrapper)], cwd=checkout,
                       env={**os.environ, "STALL_REPEAT": str(args.repeat), "STALL_OUT": str(out)}, check=False)
    finally:
        for p in busy:
            p.kill()
        wrapper.unlink(missing_ok=True)
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    times = [r["seconds"] for r in rows]
    stalls = [r for r in rows if r["seconds"] >= STALL_S]
    failed = [r for r in rows if r["outcome"] != "ok"]
    print(f"{checkout}: {len(rows)} iterations with {args.load} busy loops; median {statistics.median(times):.2f} s, "
          f"max {max(times):.1f} s; stalls (>= {STALL_S:.0f} s): {len(stalls)}; failed: {len(failed)}; rows in {out}")
    for r in failed:
        print(f"  iteration {r['n']}: {r['outcome']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
