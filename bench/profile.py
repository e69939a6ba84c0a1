"""Sampling profiles of the benchmarked processes (`python -m bench --profile`): py-spy attached to the import
command, the gunicorn workers and the RQ worker phase by phase, and a summary of where each phase's CPU goes.

py-spy samples the target from outside (ptrace), 100 times a second, pausing it for a few microseconds per sample;
the baselines are not profiled, so profiling can only make our side of a ratio look worse. Only samples of a thread
on the CPU are kept (no `--idle`; py-spy's idle test misses a thread blocked inside a C call with the GIL released,
so samples whose innermost frame is a known blocking read, WAITING, are left out as well), so a phase's samples ÷
(rate × seconds) is the share of the wall clock its Python processes were busy; the rest is waiting (for Neo4j,
Redis, the network or work).

The summary attributes every sample to the library the innermost project frame was calling at that moment (or to
that project function itself when the sample is in its own code): "neo4j 31 %" means 31 % of the samples were
inside the Neo4j driver (packing, unpacking, socket calls), called from the project code named beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

RATE = 100  # samples per second per process
# Leaf frames where a thread is blocked, not computing: py-spy's idle test misses these (the GIL is released inside a
# C call), so they are counted as waiting, apart from the CPU shares. (function, file) as py-spy names them.
WAITING = {
    ("_wait_for_io", "neo4j/_async_compat/network/_bolt_socket.py"),  # a Bolt read: Neo4j is working on the query
    ("_worker", "concurrent/futures/thread.py"),  # an idle pool thread in queue.get
    ("readinto", "socket.py"),  # an HTTP answer not there yet (the SMS provider)
    ("do_poll", "urllib3/util/wait.py"),
    ("_read_from_socket", "redis/_parsers/socket.py"),  # a Redis answer
    ("wait_for_signals", "gunicorn/arbiter.py"),  # gunicorn's master between signals
    ("wait", "threading.py"),
}
PROJECT = ("profiles/", "graph/", "notifier/", "web/", "bench/", "wsgi.py")
SHOWN = 12


def py_spy() -> str:
    """The py-spy binary of this virtualenv (requirements.txt installs it), else the one on PATH."""
    local = Path(sys.executable).with_name("py-spy")
    found = str(local) if local.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install -r requirements.txt")
    return found


class Profiler:
    """One raw py-spy file per phase and run (`NAME-K.txt`), and the seconds each was sampled (`NAME-K.json`)."""

    def __init__(self, directory: Path, rate: int = RATE):
        self.directory, self.rate, self.binary = directory, rate, py_spy()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._runs: Counter[str] = Counter()

    def _record(self, name: str) -> tuple[Path, list[str]]:
        self._runs[name] += 1
        path = self.directory / f"{name}-{self._runs[name]}.txt"
        return path, [self.binary, "record", "--rate", str(self.rate), "--format", "raw", "--subprocesses",
                      "--output", str(path)]

    def _done(self, path: Path, seconds: float) -> None:
        path.with_suffix(".json").write_text(json.dumps({"seconds": seconds, "rate": self.rate}))

    def run(self, name: str, argv: Sequence[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        """Run argv to the end with py-spy attached (from its first moments: the interpreter's start is cheap)."""
        path, record = self._record(name)
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        spy = subprocess.Popen([*record, "--pid", str(proc.pid)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        out, err = proc.communicate()
        try:
            spy.wait(timeout=60)  # it stops by itself when the process exits, and writes its file
        except subprocess.TimeoutExpired:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        self._done(path, time.monotonic() - started)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)

    @contextmanager
    def attached(self, name: str, pid: int) -> Iterator[None]:
        """Sample process `pid` and its children while the block runs."""
        path, record = self._record(name)
        spy = subprocess.Popen([*record, "--pid", str(pid)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # py-spy attaches before the measured work starts
        started = time.monotonic()
        try:
            yield
        finally:
            seconds = time.monotonic() - started
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                spy.kill()
            self._done(path, seconds)


# --- reading the samples ---------------------------------------------------------------------------------------------
def frames(line: str) -> tuple[list[str], int] | None:
    """A raw (collapsed) line: 'f (path:line);g (path:line) COUNT', root first; None for a line that is not one (a
    frame name with a line break in it splits its sample over two lines, and py-spy may add its own messages)."""
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not stack or not count.isdigit():
        return None
    return stack.split(";"), int(count)


def where(frame: str) -> tuple[str, str]:
    """(function, file) of 'function (file:line)'."""
    function, _, rest = frame.partition(" (")
    return function, rest.rpartition(":")[0]


def is_project(path: str) -> bool:
    return path.startswith(PROJECT)


def library(path: str) -> str:
    """What a file belongs to: its top-level package or stdlib module ('neo4j', 'json', 'socket', ...)."""
    if path.startswith("<frozen importlib"):
        return "importing modules (start-up)"
    head = path.split("/", 1)[0]
    return head.removesuffix(".py") if head else "(no Python file: native code)"


def attribute(stack: list[str]) -> tuple[str, str]:
    """(area, caller): the library the innermost project frame called, or 'project code' when the sample is in a
    project function's own lines; the caller is that project function."""
    for depth in range(len(stack) - 1, -1, -1):
        function, path = where(stack[depth])
        if is_project(path):
            caller = f"{path}:{function}"
            if depth == len(stack) - 1:
                return "project code", caller
            return library(where(stack[depth + 1])[1]), caller
    return library(where(stack[-1])[1]), "(no project frame)"


def waiting(stack: list[str]) -> bool:
    return where(stack[-1]) in WAITING


def summarise_phase(paths: list[Path]) -> dict:
    samples, waits, seconds, rate = 0, 0, 0.0, RATE
    areas: Counter[str] = Counter()
    callers: dict[str, Counter[str]] = defaultdict(Counter)
    inclusive: Counter[str] = Counter()
    for path in paths:
        meta = path.with_suffix(".json")
        if meta.exists():
            info = json.loads(meta.read_text())
            seconds, rate = seconds + info["seconds"], info["rate"]
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            sample = frames(line)
            if sample is None:
                continue
            stack, count = sample
            if waiting(stack):
                waits += count
                continue
            samples += count
            area, caller = attribute(stack)
            areas[area] += count
            callers[area][caller] += count
            for name in {f"{where(f)[1]}:{where(f)[0]}" for f in stack if is_project(where(f)[1])}:
                inclusive[name] += count
    return {"samples": samples, "waiting": waits, "seconds": round(seconds, 1), "rate": rate,
            "busy": round(samples / (rate * seconds), 2) if seconds else None,
            "areas": [(a, n, callers[a].most_common(2)) for a, n in areas.most_common(SHOWN)],
            "inclusive": inclusive.most_common(SHOWN)}


def phases(directory: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(directory.glob("*.txt")):
        found[path.stem.rpartition("-")[0]].append(path)
    return dict(found)


def markdown(directory: Path) -> str:
    out = ["# Where the CPU goes: py-spy profiles of a benchmark run", "",
           f"Raw samples (collapsed stacks, root first; flamegraph.pl and speedscope read them): `{directory}`.", "",
           "Busy: samples ÷ (rate × seconds sampled), summed over the phase's processes (gunicorn: both workers; "
           "above 1.0 means more than one process on the CPU). Area: the library the innermost project frame was "
           "calling (or 'project code': its own lines), with the two project functions that called it most.", ""]
    for name, paths in phases(directory).items():
        s = summarise_phase(paths)
        if not s["samples"]:
            continue
        out += [f"## {name}", "", f"{s['samples']:,} samples on the CPU over {s['seconds']} s in {len(paths)} run(s) "
                f"at {s['rate']}/s: busy {s['busy']} ({s['waiting']:,} more samples were blocked in a read or a "
                "queue: left out).", "", "| area | share | called from |", "|---|---|---|"]
        out += [f"| {area} | {n / s['samples']:.0%} | {', '.join(f'{c} ({k / n:.0%})' for c, k in top)} |"
                for area, n, top in s["areas"]]
        out += ["", "| project function (with what it calls) | share |", "|---|---|"]
        out += [f"| {function} | {n / s['samples']:.0%} |" for function, n in s["inclusive"]]
        out.append("")
    return "\n".join(out)


def write_summary(directory: Path) -> Path:
    path = directory / "profiles.md"
    path.write_text(markdown(directory), encoding="utf-8")
    return path


if __name__ == "__main__":  # summarise an existing directory again: python -m bench.profile DIR
    print(write_summary(Path(sys.argv[1] if len(sys.argv) > 1 else os.getcwd())).read_text(encoding="utf-8"))
