"""Redis behind Sentinel on loopback — a master, a replica and three sentinels, with passwords — and the master
SIGKILLed: in the middle of a real worker's delivery of 2 000 notices (each delivered exactly once, reconciled against
the SMS sandbox), and during page traffic (503 at most while no master is known, then pages, sessions and the rate
limiter work on the new master, without a restart)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

import notifier.scan
from graph.processes import free_port
from notifier import redis_client
from notifier.local_sentinel import SentinelGroup, wait_failover
from notifier.sandbox import Sandbox
from notifier.scan import start_scan
from notifier.sweep import sweep
from profiles.config import Settings
from tests.conftest import make_environ
from tests.integration.notify_helpers import SID, TOKEN, notices, run_jobs
from tests.integration.pages_helpers import OFFICER_PASSWORD, make_officer, pages_app, post, sign_in_officer
from tests.integration.test_notify_faults import (
    fault_env,
    population,
    reconcile,
    services,
    today_of,
    wait_for,
    worker_environ,
    workers,
)
from web.errors import error_body

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox("127.0.0.1", 0, SID, TOKEN, callback_delay_ms=20).start()
    yield box
    box.stop()


@pytest.fixture
def group(tmp_path) -> Iterator[SentinelGroup]:
    """A fresh group per test: each one kills its master."""
    redis_group = SentinelGroup(tmp_path / "redis", [free_port(), free_port()], [free_port() for _ in range(3)],
                                password="data-pass", sentinel_password="sentinel-pass")
    redis_group.start()
    try:
        yield redis_group
    finally:
        redis_group.stop()


def kill_master(group: SentinelGroup) -> tuple[int, int]:
    """SIGKILL the master; returns its port and the port of the master the sentinels then elect."""
    old = group.master_port()
    group.node(old).kill()
    return old, wait_failover(group.sentinels, old)


def test_a_command_blocked_on_the_dead_master_is_answered_by_the_new_one(group):
    """What an idle worker does all day — BLMOVE on the queue — in flight when the master dies: its retries ask the
    sentinels again (redis-py alone would retry the dead address until its retries ran out) and it takes the job
    pushed to the new master."""
    client = redis_client.client(Settings.from_env(make_environ(**group.settings_environ())), for_worker=True)
    outcome: dict[str, object] = {}

    def wait_for_job() -> None:
        try:
            outcome["moved"] = client.blmove("queue", "taken", 0)
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    try:
        assert client.ping()
        waiting = threading.Thread(target=wait_for_job, daemon=True)
        waiting.start()
        wait_for(lambda: client.client_list(_type="normal") and any(
            c["cmd"] == "blmove" for c in client.client_list(_type="normal")), 10, "the BLMOVE to block")
        _, new = kill_master(group)
        with group.node(new).client() as direct:
            direct.lpush("queue", "job-1")
            waiting.join(45)
            assert outcome == {"moved": b"job-1"}, outcome
            assert direct.lrange("taken", 0, -1) == [b"job-1"]
    finally:
        client.close()


def test_a_worker_goes_on_through_a_failover_and_every_notice_is_delivered_once(live_environ, sandbox, group,
                                                                                   tmp_path, monkeypatch):
    """The master dies while a `python -m notifier.worker` (REDIS_SENTINELS only) sends 1 000 SMS and 1 000 inbox
    notices in batches of 100: the worker waits for the new master and finishes the queue without a restart; what the
    failover lost is found by the sweeper; the sandbox holds exactly one SMS per notice."""
    sandbox.clear()
    sandbox.configure({"fail_rate": 0.0, "latency_ms": 0, "callback_delay_ms": 20})
    env = {"SCAN_PARTITIONS": "1", "DELIVERY_BATCH": "100", "STUCK_AFTER": "60", **group.settings_environ()}
    with services(live_environ, sandbox, **env) as svc:
        assert svc.redis.connection_pool.service_name == "lifecycle"  # through the sentinels, not REDIS_URL
        today = today_of(svc)
        people = population(svc, 1000, today)
        monkeypatch.setattr(notifier.scan, "CREATE_BATCH", 1000)
        start_scan(svc, today)
        run_jobs(svc, queues=("scan",))
        assert svc.queues["deliver"].count == 20

        with workers(worker_environ(live_environ, sandbox.url, **fault_env(**env)), tmp_path) as (worker,):
            wait_for(lambda: sandbox.stats()["accepted"] >= 300 or worker.poll() is not None, 60,
                     "the worker to send 300 SMS")
            assert worker.poll() is None, "the worker finished before the master could be killed"
            at_kill = sandbox.stats()["accepted"]
            old, new = kill_master(group)
            wait_for(lambda: worker.poll() is not None, 120, "the burst worker to drain the queue")
            log = (tmp_path / "worker-0.log").read_text()
            assert worker.returncode == 0, log[-3000:]
        assert sandbox.stats()["accepted"] > at_kill, "the worker sent nothing after the failover"
        # RQ's ways of leaving its work loop on a Redis error: neither happened
        assert "Redis connection timeout" not in log and "unhandled exception" not in log, log[-3000:]

        # Writes the old master took but had not yet replicated are gone: the sweeper finds what that left behind.
        open_before = len(notices(svc, status="sending")) + len(notices(svc, status="pending"))
        swept = sweep((datetime.now(svc.settings.zone) + timedelta(seconds=61)).isoformat())
        run_jobs(svc)
        summary = reconcile(svc, sandbox, people, today)
        assert summary["sms"] == 1000 and summary["inbox"] == 1000
        print(f"\nfailover: master {old} killed at {at_kill} SMS accepted, {new} elected; worker finished alone; "
              f"{open_before} notices open after it, sweeper {swept}; {summary}")


def test_pages_answer_503_at_most_during_a_failover_then_sessions_and_limits_live_on_the_new_master(
        live_environ, sandbox, group):
    """An officer signed in before the kill loads a page again and again: no answer but 200 or the 503 error shape,
    and 200 again once the sentinels name the new master, with the same session. A new sign-in is kept on the new
    master, and the sign-in limit counts there (429 after its allowance)."""
    sandbox.clear()
    app = pages_app(live_environ, sandbox.url, **group.settings_environ(), LOGIN_LIMIT_ACCOUNT="3 per minute")
    try:
        make_officer(app.extensions["lifecycle"], "window1")
        before = app.test_client()
        assert sign_in_officer(before, "window1").status_code == 303
        assert before.get("/officer").status_code == 200

        statuses: list[tuple[float, int]] = []
        elected = threading.Event()
        killed_at = time.monotonic()

        def failover() -> None:
            kill_master(group)
            elected.set()

        killer = threading.Thread(target=failover)
        killer.start()
        try:
            while not (elected.is_set() and statuses and statuses[-1][1] == 200):
                response = before.get("/officer")
                statuses.append((time.monotonic() - killed_at, response.status_code))
                if response.status_code == 503:
                    body = response.get_json()
                    assert body == error_body(503, body["message"], {"redis": ["unavailable"]}), body
                assert time.monotonic() - killed_at < 60, f"no 200 within 60 s of the kill: {statuses[-5:]}"
        finally:
            killer.join(60)
        assert {code for _, code in statuses} <= {200, 503}, statuses
        new_master = group.node(group.master_port())

        after = app.test_client()
        assert sign_in_officer(after, "window1").status_code == 303
        assert after.get("/officer").status_code == 200
        with new_master.client() as direct:
            assert len(direct.keys("pages:session:*")) == 2  # the session from before the kill, and the new one
            for _ in range(3):
                assert sign_in_officer(after, "ghost", "wrong " + OFFICER_PASSWORD).status_code == 422
            assert post(after, "/officer/login", {"username": "ghost", "password": "x"}).status_code == 429
            assert any(b"ghost" in key for key in direct.keys("LIMITS:*")), direct.keys("LIMITS:*")
        unavailable_for = [t for t, code in statuses if code == 503]
        print(f"\npages: {len(statuses)} requests after the kill, {len(unavailable_for)} answered 503"
              + (f" (from {unavailable_for[0]:.1f} s to {unavailable_for[-1]:.1f} s)" if unavailable_for else "")
              + f", 200 again at {statuses[-1][0]:.1f} s")
    finally:
        app.extensions["lifecycle"].close()


def test_a_worker_on_sentinel_stops_cleanly_on_sigterm(live_environ, sandbox, group, tmp_path):
    """SIGTERM cuts the idle worker's blocking pop mid-read. redis-py's Sentinel connection kept the unread reply on a
    pooled connection, and RQ's last pipeline (register_death) then read it as its own: a traceback and exit status 1
    at every `make cluster` stop. Our connection drops itself on an interrupted read instead."""
    import signal
    import subprocess
    import sys

    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen([sys.executable, "-m", "notifier.worker", "--no-scheduler"],
                                  env=worker_environ(live_environ, sandbox.url, **group.settings_environ()),
                                  stdout=out, stderr=subprocess.STDOUT)
        try:
            with group.node(group.master_port()).client() as direct:
                wait_for(lambda: any(c["cmd"] in ("blmove", "blpop") for c in direct.client_list(_type="normal")),
                         90, "the worker to wait on its queues")
            worker.send_signal(signal.SIGTERM)
            status = worker.wait(30)
        finally:
            if worker.poll() is None:
                worker.kill()
    text = log.read_text()
    assert status == 0 and "Traceback" not in text, text[-3000:]
