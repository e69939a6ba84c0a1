"""Keeping a set of child processes running (the run command's and the loopback cluster's): a Child says how to start,
stop and probe one; Command runs a plain process; Supervisor starts them in order, restarts one that dies with back-off,
and stops them all in reverse order."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from graph.processes import ServerFailed, spawn, terminate
from profiles.config import PROJECT_ROOT

log = structlog.get_logger("stack")

MAX_RESTARTS = 5  # within RESTART_WINDOW_S; past that the stack gives up rather than flap forever
RESTART_WINDOW_S = 120.0


@dataclass
class Child:
    """Something the supervisor keeps running: a name, how to start it, stop it, and tell whether it lives."""

    name: str
    start: Callable[[], object]
    stop: Callable[[], None]
    alive: Callable[[], bool]
    restarts: list[float] = field(default_factory=list)
    pid: Callable[[], int | None] = lambda: None


class Command:
    """A plain child process (worker, gunicorn) whose output goes to our terminal."""

    def __init__(self, argv: list[str], environ: dict[str, str], death_signal: int = signal.SIGTERM):
        self.argv, self.environ, self.death_signal = argv, environ, death_signal
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = spawn(self.argv, None, self.environ, cwd=PROJECT_ROOT, death_signal=self.death_signal)

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process, 20.0)
            self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None



def wait_for_health(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


class Supervisor:
    def __init__(self, children: list[Child]):
        self.children = children
        self.stopping = False

    def request_stop(self, signum: int, _frame: object) -> None:
        if not self.stopping:
            log.info("stopping", signal=signal.Signals(signum).name)
        self.stopping = True

    def start_all(self) -> None:
        for child in self.children:
            if self.stopping:
                return
            started = time.monotonic()
            child.start()
            log.info("started", child=child.name, seconds=round(time.monotonic() - started, 1))

    def watch(self) -> int:
        """Restart children that die, until asked to stop; returns the exit status for the run command."""
        while not self.stopping:
            for child in self.children:
                if self.stopping or child.alive():
                    continue
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW_S] + [now]
                if len(child.restarts) > MAX_RESTARTS:
                    log.error("giving up: it keeps dying", child=child.name, restarts=MAX_RESTARTS)
                    return 1
                delay = min(2 ** (len(child.restarts) - 1), 30)
                log.warning("child died; restarting", child=child.name, after_seconds=delay)
                self._sleep(delay)
                if not self.stopping:
                    try:
                        child.start()
                    except (ServerFailed, OSError) as exc:
                        log.error("restart failed", child=child.name, error=str(exc))
            self._sleep(0.5)
        return 0

    def stop_all(self) -> None:
        for child in reversed(self.children):
            try:
                child.stop()
            except Exception as exc:  # keep stopping the others whatever one of them does
                log.error("stop failed", child=child.name, error=str(exc))
        log.info("all stopped")

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.1)


