"""The servers a benchmark runs against: its own Neo4j, Redis, SMS sandbox, worker and gunicorn, under one folder.

Nothing from var/ is touched and nothing outlives the benchmark: every child is tied to this process. Peak memory is
read from the kernel (`VmHWM` in /proc/PID/status: the high-water mark of resident memory), so no sampling can miss it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from bench.profile import Profiler
from graph.local import LocalNeo4j
from graph.processes import free_port, port_is_open, spawn, terminate
from graph.schema import migrate
from notifier.local import LocalRedis
from notifier.logs import configure_logging
from notifier.services import Services, build
from profiles.config import PROJECT_ROOT, Settings

SID, TOKEN, FROM = "AC" + "b" * 32, "bench-token", "+8610690000"


@dataclass
class Sizes:
    """Memory settings, stated in every report."""

    heap: str = "512m"
    pagecache: str = "256m"
    web_workers: int = 2
    worker_processes: int = 1

    def as_dict(self) -> dict:
        return {"neo4j_heap": self.heap, "neo4j_pagecache": self.pagecache, "web_workers": self.web_workers,
                "worker_processes": self.worker_processes}


@dataclass
class BenchStack:
    root: Path
    sizes: Sizes = field(default_factory=Sizes)
    neo4j: LocalNeo4j | None = None
    redis: LocalRedis | None = None
    sandbox_port: int = 0
    web_port: int = 0
    environ: dict[str, str] = field(default_factory=dict)
    services: Services | None = None
    procs: dict[str, list] = field(default_factory=dict)  # role -> Popen list (web, worker, sandbox)
    peaks: dict[str, int] = field(default_factory=dict)  # role -> the largest VmHWM seen, in KiB
    profiler: Profiler | None = None  # python -m bench --profile

    def start(self) -> BenchStack:
        self.root.mkdir(parents=True, exist_ok=True)
        self.neo4j = LocalNeo4j(home=self.root / "neo4j", port=free_port(), dist_dir=Settings().neo4j_dist_dir,
                                heap=self.sizes.heap, pagecache=self.sizes.pagecache)
        self.redis = LocalRedis(directory=self.root / "redis", port=free_port(), persistent=False)
        self.sandbox_port, self.web_port = free_port(), free_port()
        self.neo4j.start(timeout=300)
        self.redis.start()
        self.environ = environment(self.neo4j.uri, self.redis.url, self.sandbox_port, self.web_port,
                                   self.root / "var")
        self.spawn("sandbox", [sys.executable, "-m", "notifier.sandbox", "--port", str(self.sandbox_port),
                               "--account-sid", SID, "--auth-token", TOKEN])
        settings = Settings.from_env(self.environ)
        configure_logging(settings, logging.WARNING)  # this process's own log lines would drown the progress
        self.services = build(settings, for_worker=True)
        migrate(self.services.driver, self.services.settings.neo4j_database)
        wait_for_port(self.sandbox_port, "the SMS sandbox")
        return self

    def spawn(self, role: str, argv: list[str], **extra_env: str):
        environ = {**self.environ, **extra_env}
        proc = spawn(argv, self.root / f"{role}.log", environ, cwd=PROJECT_ROOT,
                     death_signal=signal.SIGKILL if role == "worker" else signal.SIGTERM)
        self.procs.setdefault(role, []).append(proc)
        return proc

    def run_command(self, name: str, argv: list[str]) -> subprocess.CompletedProcess:
        """Run one of the project's commands to the end, in the project directory with the stack's environment
        (output captured as text); under py-spy when profiling, as phase `name`."""
        if self.profiler:
            return self.profiler.run(name, argv, cwd=PROJECT_ROOT, env=self.environ)
        return subprocess.run(argv, cwd=PROJECT_ROOT, env=self.environ, capture_output=True, text=True, check=False)

    def profiled(self, name: str, role: str) -> AbstractContextManager:
        """While the block runs, sample the role's processes (gunicorn: the master and its workers) as phase `name`;
        nothing when not profiling."""
        if not self.profiler:
            return nullcontext()
        spies = ExitStack()
        for proc in self.procs[role]:
            spies.enter_context(self.profiler.attached(name, proc.pid))
        return spies

    def start_workers(self, n: int | None = None) -> None:
        for _ in range(n or self.sizes.worker_processes):
            self.spawn("worker", [sys.executable, "-m", "notifier.worker"])
        time.sleep(2)

    def start_web(self) -> str:
        """gunicorn as the run command starts it (sync workers); returns its base URL once /healthz answers."""
        self.spawn("web", [sys.executable, "-m", "gunicorn", "--workers", str(self.sizes.web_workers), "--bind",
                           f"127.0.0.1:{self.web_port}", "--control-socket", str(self.root / "gunicorn.ctl"),
                           "wsgi:app"])
        base = f"http://127.0.0.1:{self.web_port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                    if r.status == 200:
                        return base
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /healthz within 60 s (see {self.root / 'web.log'})")

    def stop_role(self, role: str) -> None:
        self.record_peaks()
        for proc in self.procs.pop(role, []):
            terminate(proc, 20)

    # --- memory ---------------------------------------------------------------------------------------------------
    def record_peaks(self) -> None:
        """Remember the high-water mark of every process we started (web: each gunicorn worker, not the master)."""
        roles = {role: [p.pid for p in procs] for role, procs in self.procs.items()}
        roles["web"] = [c for p in roles.get("web", []) for c in children(p)]
        if self.neo4j and self.neo4j.process:
            roles["neo4j"] = [self.neo4j.process.pid]
        for role, pids in roles.items():
            for pid in pids:
                self.peaks[role] = max(self.peaks.get(role, 0), peak_rss_kib(pid))

    def sandbox_stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.sandbox_port}/sandbox/stats", timeout=10) as r:
            return json.load(r)

    def sandbox_messages(self) -> list[dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.sandbox_port}/sandbox/messages", timeout=60) as r:
            return json.load(r)

    def configure_sandbox(self, **config) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.sandbox_port}/sandbox/config", method="PUT",
                                         data=json.dumps(config).encode(), headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).close()

    def clear_sandbox(self) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.sandbox_port}/sandbox/messages", method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()

    def stop(self) -> None:
        self.record_peaks()
        for role in ("web", "worker", "sandbox"):
            for proc in self.procs.pop(role, []):
                terminate(proc, 20)
        if self.services:
            self.services.close()
        if self.redis:
            self.redis.stop()
        if self.neo4j:
            self.neo4j.stop(timeout=120)


def environment(neo4j_uri: str, redis_url: str, sandbox_port: int, web_port: int, var: Path) -> dict[str, str]:
    """A test-mode environment with fixed keys, everything local; quiet hours off so delivery is not held back."""
    return {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "PYTHONPATH": str(PROJECT_ROOT),
        "LIFECYCLE_ENV": "test", "LIFECYCLE_VAR": str(var), "NEO4J_URI": neo4j_uri, "REDIS_URL": redis_url,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}", "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": FROM, "QUIET_HOURS": "00:00-00:00",
        "PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "SECRET_KEY": "bench-" + "x" * 40, "LIFECYCLE_DATA_KEYS": "b1:" + base64.b64encode(b"k" * 32).decode(),
        "LIFECYCLE_INDEX_KEY": base64.b64encode(b"i" * 32).decode(), "LOG_JSON": "false",
        "LIFECYCLE_AUDIT_KEYS": "a1:" + base64.b64encode(b"a" * 32).decode(),
        "PYTHONUNBUFFERED": "1",
        # the delivery knobs, when the caller sets them (to measure a batch size or an in-flight count)
        **{k: os.environ[k] for k in ("DELIVERY_BATCH", "DELIVERY_IN_FLIGHT") if os.environ.get(k)},
    }


def wait_for_port(port: int, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not port_is_open("127.0.0.1", port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not listen on port {port} within {timeout:.0f} s")
        time.sleep(0.1)


def peak_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
