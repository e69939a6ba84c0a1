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
import sys
import time
from pathlib import Path

import structlog

from graph.driver import build_driver
from graph.local import LocalNeo4j
from graph.processes import PrerequisiteMissing, ServerFailed
from graph.schema import migrate
from notifier.local import LocalRedis
from notifier.logs import process_settings
from notifier.worker import worker_name
from profiles.config import Settings
from web.supervisor import Child, Command, Supervisor, wait_for_health

log = structlog.get_logger("stack")


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
        children.append(neo4j_child(settings, environ))
    if settings.local_redis:
        rds = LocalRedis(directory=settings.var_dir / "redis", port=_port(settings.redis_url), environ=environ)
        children.append(Child("redis", rds.start, rds.stop,
                              lambda: rds.process is not None and rds.process.poll() is None))
    children += service_children(settings, environ, settings.workers)
    web = Command(gunicorn_argv(settings, settings.web_host, settings.web_port, settings.var_dir / "gunicorn.ctl"),
                  environ)
    children.append(Child("web", web.start, web.stop, web.alive))
    return children


def neo4j_child(settings: Settings, environ: dict[str, str]) -> Child:
    neo4j = LocalNeo4j(home=settings.var_dir / "neo4j", port=_port(settings.neo4j_uri),
                       dist_dir=settings.neo4j_dist_dir, heap=settings.local_neo4j_heap,
                       pagecache=settings.local_neo4j_pagecache, environ=environ)
    return Child("neo4j", neo4j.start, neo4j.stop, lambda: neo4j.process is not None and neo4j.process.poll() is None)


def service_children(settings: Settings, environ: dict[str, str], workers: int) -> list[Child]:
    """Once the servers are up: the migrations, demo data, the local SMS sandbox and mail sink, `workers` RQ workers
    and the one scheduler (the run command and the loopback cluster start the same)."""
    children = [Child("migrate", lambda: migrate_graph(settings), lambda: None, lambda: True)]
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
    for slot in range(1, workers + 1):  # each its own child: restarted alone, SIGKILLed if we die
        # RQ's scheduler (enqueue_at jobs: retries, quiet hours) in the first worker only: started together, several
        # would race for its per-queue locks in different orders and could split the queues between them
        only = [] if slot == 1 else ["--no-scheduler"]
        worker = Command([sys.executable, "-m", "notifier.worker", "--slot", str(slot), *only], environ,
                         death_signal=signal.SIGKILL)
        children.append(Child(f"worker-{slot}", worker.start, worker.stop, worker.alive, pid=worker.pid))
    cron = Command([sys.executable, "-m", "notifier.cron"], environ, death_signal=signal.SIGKILL)
    children.append(Child("scheduler", cron.start, cron.stop, cron.alive))
    return children


def gunicorn_argv(settings: Settings, host: str, port: int, control_socket: Path) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--workers", str(settings.web_workers), "--bind", f"{host}:{port}",
            "--graceful-timeout", "5",
            # X-Forwarded-* is ProxyFix's to believe (PROXY_HOPS), not gunicorn's (it trusts them from 127.0.0.1)
            "--forwarded-allow-ips", "",
            "--access-logfile", "-", "--logger-class", "web.access_log.AccessLog",  # query values masked
            # the default control socket lives in $HOME: two stacks on one machine would fight over it
            "--control-socket", str(control_socket), "wsgi:app"]


def _port(url: str) -> int:
    from urllib.parse import urlsplit

    return urlsplit(url).port or 0


def migrate_graph(settings: Settings) -> None:
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
            # The stack still starts: `audit verify` needs the servers up to investigate. The old chain stays as it
            # is (unsealed, never built on); reads of a subject whose own chain is broken are refused, so nothing
            # goes unlogged.
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
