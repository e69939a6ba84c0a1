"""The run command's supervisor: `python -m web.stack` starts Neo4j, Redis, workers and gunicorn, and stops them all.

With nothing configured it runs every server locally under `var/`; with NEO4J_URI or REDIS_URL set it uses those and
starts no server of its own. A child that dies is restarted with back-off (so /healthz shows the gap, then recovers);
Ctrl-C or SIGTERM stops the children in reverse order and leaves no process behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from graph.driver import build_driver
from graph.local import LocalNeo4j
from graph.processes import PrerequisiteMissing, ServerFailed, spawn, terminate
from graph.schema import migrate
from notifier.local import LocalRedis
from notifier.logs import process_settings
from notifier.worker import worker_name
from profiles.config import PROJECT_ROOT, Settings

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


def child_environment(settings: Settings) -> dict[str, str]:
    environ = dict(os.environ)
    metrics_dir = settings.var_dir / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)  # stale files from dead workers would skew the counters
    metrics_dir.mkdir(parents=True)
    environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    environ["PYTHONUNBUFFERED"] = "1"
    return environ


def build_children(settings: Settings, environ: dict[str, str]) -> list[Child]:
    children: list[Child] = []
    if settings.local_neo4j:
        neo4j = LocalNeo4j(home=settings.var_dir / "neo4j", port=_port(settings.neo4j_uri),
                           dist_dir=settings.neo4j_dist_dir, heap=settings.local_neo4j_heap,
                           pagecache=settings.local_neo4j_pagecache, environ=environ)
        children.append(Child("neo4j", neo4j.start, neo4j.stop,
                              lambda: neo4j.process is not None and neo4j.process.poll() is None))
    if settings.local_redis:
        rds = LocalRedis(directory=settings.var_dir / "redis", port=_port(settings.redis_url), environ=environ)
        children.append(Child("redis", rds.start, rds.stop,
                              lambda: rds.process is not None and rds.process.poll() is None))
    children.append(Child("migrate", lambda: _migrate(settings), lambda: None, lambda: True))
    if settings.env == "development":
        children.append(Child("demo data", lambda: demo_logins(settings), lambda: None, lambda: True))
    if settings.local_sms_sandbox:  # development: SMS stays on this machine; inspect it at /sandbox/messages
        sandbox = Command([sys.executable, "-m", "notifier.sandbox", "--host", "127.0.0.1",
                           "--port", str(settings.sandbox_port), "--account-sid", settings.twilio_account_sid,
                           "--auth-token", settings.twilio_auth_token], environ)
        children.append(Child("sms sandbox", sandbox.start, sandbox.stop, sandbox.alive))
    if settings.local_mail_sink:
        sink = Command([sys.executable, "-m", "notifier.mailsink", "--port", str(settings.smtp_port),
                        "--dir", str(settings.var_dir / "mail")], environ)
        children.append(Child("mail sink", sink.start, sink.stop, sink.alive))
    for slot in range(1, settings.workers + 1):  # each its own child: restarted alone, SIGKILLed if we die
        worker = Command([sys.executable, "-m", "notifier.worker", "--slot", str(slot)], environ,
                         death_signal=signal.SIGKILL)
        children.append(Child(f"worker-{slot}", worker.start, worker.stop, worker.alive, pid=worker.pid))
    cron = Command([sys.executable, "-m", "notifier.cron"], environ, death_signal=signal.SIGKILL)
    children.append(Child("scheduler", cron.start, cron.stop, cron.alive))
    web = Command([sys.executable, "-m", "gunicorn", "--workers", str(settings.web_workers),
                   "--bind", f"{settings.web_host}:{settings.web_port}", "--graceful-timeout", "5",
                   "--access-logfile", "-", "--logger-class", "web.access_log.AccessLog",  # query values masked
                   # the default control socket lives in $HOME: two stacks on one machine would fight over it
                   "--control-socket", str(settings.var_dir / "gunicorn.ctl"), "wsgi:app"], environ)
    children.append(Child("web", web.start, web.stop, web.alive))
    return children


def _port(url: str) -> int:
    from urllib.parse import urlsplit

    return urlsplit(url).port or 0


def _migrate(settings: Settings) -> None:
    from graph.audit import upgrade_legacy
    from profiles.audit import AuditKeys, ChainBroken, NoAuditKey

    driver = build_driver(settings)
    try:
        applied = migrate(driver, settings.neo4j_database)
        log.info("schema migrated", applied=applied or "none (up to date)")
        try:
            done = upgrade_legacy(driver, settings.neo4j_database,
                                  AuditKeys(settings.audit_keys, settings.active_audit_key))
        except ChainBroken as exc:
            # The stack still starts: `audit verify` needs the servers up to investigate. Meanwhile every read that
            # must be recorded is refused (an unsigned head is not built on), so nothing goes unlogged.
            bad = exc.verdict.record
            log.error("access log NOT upgraded: its legacy chain is already broken (see `flask --app wsgi audit "
                      "upgrade`)", reason=exc.verdict.reason, seq=bad.seq if bad else None)
        except NoAuditKey as exc:
            log.warning("access log not upgraded", reason=str(exc))
        else:
            if not done.nothing_to_do:
                log.info("access log upgraded to keyed signing", resigned=done.resigned, key=settings.active_audit_key)
    finally:
        driver.close()


DEMO_PERSONS = 1000
DEMO_DEPARTMENT = "禅城区行政服务中心"
DEMO_OFFICERS = (("window1", "李窗口", "officer"), ("lead1", "王主管", "supervisor"))


def demo_logins(settings: Settings) -> str:
    """On first start in development: seed a small population and an officer key; the logins are kept in
    var/demo-logins.txt (mode 0600) and printed at every start."""
    path = settings.var_dir / "demo-logins.txt"
    if path.exists() and "officer login" in path.read_text():
        return path.read_text()
    from notifier.services import build
    from web.cli_data import seed_demo

    services = build(settings)
    try:
        if path.exists():  # seeded before the console existed: keep the data, add the officers
            lines = path.read_text().rstrip("\n").split("\n")
        else:
            demo = seed_demo(services, DEMO_PERSONS, seed=2024)
            key = services.api_keys.create("demo-officer", "officer")
            lines = ["Demo data (development only; citizens and businesses sign in with a code shown in the SMS "
                     "sandbox):"]
            lines += [f"  citizen   {c['name']}  ID {c['id_number']}  pid {c['pid']}" for c in demo["citizens"]]
            if demo["business"]:
                b = demo["business"]
                lines.append(f"  business  {b['name']}  USCC {b['uscc']}  eid {b['eid']}")
            lines.append(f"  officer API key  {key}")
        for username, name, role in DEMO_OFFICERS:
            password = secrets.token_urlsafe(12)
            services.officers.create(username, name, role, DEMO_DEPARTMENT, password)
            lines.append(f"  officer login  {username} / {password}  ({role})")
    finally:
        services.close()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    log.info("demo data seeded", persons=DEMO_PERSONS)
    return path.read_text()


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


def main() -> int:
    settings = process_settings()
    began = time.monotonic()
    environ = child_environment(settings)
    supervisor = Supervisor(build_children(settings, environ))
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    status = 0
    try:
        supervisor.start_all()
        base = f"http://{settings.web_host}:{settings.web_port}"
        if not supervisor.stopping and not wait_for_health(f"{base}/healthz", 60):
            log.error("the web app did not report healthy within 60 s")
        if not supervisor.stopping:
            print(banner(settings, base, time.monotonic() - began, worker_names(supervisor.children)), flush=True)
            status = supervisor.watch()
    except (PrerequisiteMissing, ServerFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        status = 1
    finally:
        supervisor.stop_all()
    return status


def worker_names(children: list[Child]) -> list[str]:
    return [worker_name(int(c.name.removeprefix("worker-")), c.pid() or 0) for c in children
            if c.name.startswith("worker-")]


def banner(settings: Settings, base: str, seconds: float, workers: list[str]) -> str:
    lines = [
        "",
        f"Lifecycle service is up ({seconds:.1f} s):",
        f"  web      {base}/",
        f"  health   {base}/healthz",
        f"  metrics  {base}/metrics",
        f"  neo4j    {settings.neo4j_uri}" + (f"  (data in {settings.var_dir / 'neo4j'})" * settings.local_neo4j),
        f"  redis    {settings.redis_url}" + (f"  (data in {settings.var_dir / 'redis'})" * settings.local_redis),
        *([f"  sms      {settings.twilio_api_base_url}/sandbox/messages  (the local SMS sandbox: nothing leaves "
           "this machine)"] if settings.local_sms_sandbox else []),
        *([f"  mail     {settings.var_dir / 'mail'}  (the local mail sink on port {settings.smtp_port})"]
          if settings.local_mail_sink else []),
        f"  workers  {', '.join(workers)}  (RQ names; each restarted on its own, under a new name)",
        "  cron     one scheduler (a second `python -m notifier.cron` elsewhere stands by: a lease in Redis)",
        f"  daily scan at {settings.daily_scan_at} {settings.tz}; start one now: "
        ".venv/bin/flask --app wsgi notify scan",
        *([(settings.var_dir / "demo-logins.txt").read_text().rstrip()]
          if (settings.var_dir / "demo-logins.txt").exists() else []),
        "Press Ctrl-C to stop everything.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
