"""End to end over real HTTP, with the real worker process, the SMS sandbox process, Neo4j and Redis: an ID card
expiring in 30 days gets one SMS with a link to its prefilled renewal; a second scan sends nothing; a new card
stops the 7-day reminder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from graph.processes import free_port
from profiles.config import PROJECT_ROOT, Settings
from tests.conftest import make_environ
from tests.integration.api_helpers import id_number
from tests.waiting import wait_until
from web import create_app

SID, TOKEN = "AC" + "7" * 32, "e2e-sandbox-token"
PHONE = "+8613912345678"


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict | list]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    for name, value in (headers or {}).items():
        request.add_header(name, value.encode().decode("latin-1"))
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.fixture
def deployment(live_environ, tmp_path):
    sandbox_port, web_port = free_port(), free_port()
    environ = make_environ(**{**live_environ, "TWILIO_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
                              "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": "+8610690000",
                              "PUBLIC_URL": f"http://127.0.0.1:{web_port}", "QUIET_HOURS": "00:00-00:00"})
    environ = {**environ, "PYTHONPATH": str(PROJECT_ROOT), "HOME": os.environ.get("HOME", "/root")}
    logs = open(tmp_path / "processes.log", "ab")  # noqa: SIM115
    sandbox = subprocess.Popen([sys.executable, "-m", "notifier.sandbox", "--host", "127.0.0.1", "--port",
                                str(sandbox_port), "--account-sid", SID, "--auth-token", TOKEN],
                               cwd=PROJECT_ROOT, env=environ, stdout=logs, stderr=subprocess.STDOUT)
    worker = subprocess.Popen([sys.executable, "-m", "notifier.worker"], cwd=PROJECT_ROOT, env=environ,
                              stdout=logs, stderr=subprocess.STDOUT)
    app = create_app(Settings.from_env(environ))
    server = make_server("127.0.0.1", web_port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        wait_until(lambda: call("GET", f"http://127.0.0.1:{sandbox_port}/sandbox/health")[0] == 200
                   if _listening(sandbox_port) else False, 30, "the sandbox")
        yield {"base": f"http://127.0.0.1:{web_port}", "sandbox": f"http://127.0.0.1:{sandbox_port}", "app": app,
               "log": tmp_path / "processes.log"}
    finally:
        server.shutdown()
        for process in (worker, sandbox):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        app.extensions["lifecycle"].close()
        logs.close()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_an_expiring_id_card_gets_exactly_one_sms_with_a_prefilled_renewal(deployment):
    base, sandbox, app = deployment["base"], deployment["sandbox"], deployment["app"]
    keys = {role: {"Authorization": f"Bearer {app.extensions['lifecycle'].api_keys.create(role, role)}"}
            for role in ("system", "officer", "admin")}
    officer = {**keys["officer"], "X-Purpose": "e2e check of a reminder"}
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    expires = today + timedelta(days=30)

    status, citizen = call("POST", f"{base}/api/v1/persons",
                           {"id_number": id_number(born=date(1986, 5, 17)),
                            "name": "王小明", "phone": PHONE}, keys["system"])
    assert status == 201, citizen
    pid = citizen["pid"]
    card = {"kind": "id_card", "number": "440604198605171234",
            "issued_on": (expires - timedelta(days=7305)).isoformat(), "expires_on": expires.isoformat(),
            "issuer": "佛山市公安局禅城分局", "provenance": "issued",
            "fields": {"address": "广东省佛山市禅城区祖庙路1号"}}
    assert call("POST", f"{base}/api/v1/persons/{pid}/materials", card, keys["system"])[0] == 201
    paid = {"kind": "medical_insurance_paid", "occurred_on": today.isoformat(), "details": {"year": today.year}}
    assert call("POST", f"{base}/api/v1/persons/{pid}/events", paid, keys["system"])[0] == 201  # only the card due

    def scan(as_of) -> dict:
        status, body = call("POST", f"{base}/api/v1/scans", {"as_of": as_of.isoformat()}, keys["admin"])
        assert status == 202, body
        url = f"{base}/api/v1/scans/{body['scan_id']}"
        return wait_until(lambda: (r := call("GET", url, headers=keys["admin"])[1])["state"] == "done"
                          and r["pending"] == 0 and r, 60, "the scan and its deliveries")

    first = scan(today)
    # the inbox notice and one SMS, both out (an inbox notice counts as sent when it is in the inbox)
    assert (first["notices_created"], first["sent"], first["failed"]) == (2, 2, 0)
    received = call("GET", f"{sandbox}/sandbox/messages?to={PHONE.replace('+', '%2B')}")[1]
    assert len(received) == 1
    link = re.search(r"(http://\S+/n/([0-9a-f]+))", received[0]["body"])
    assert link and link.group(1).startswith(base)
    assert f"{expires.month}月{expires.day}日" in received[0]["body"]

    notices = call("GET", f"{base}/api/v1/persons/{pid}/notices", headers=officer)[1]
    sms = next(n for n in notices if n["channel"] == "sms")
    assert (sms["nid"], sms["offset_days"], sms["service"]) == (link.group(2), 30, "id_card_renewal")
    wait_until(lambda: next(n for n in call("GET", f"{base}/api/v1/persons/{pid}/notices", headers=officer)[1]
                            if n["channel"] == "sms")["status"] == "delivered", 30, "the signed delivery callback")

    status, draft = call("GET", f"{base}/api/v1/applications/{sms['aid']}", headers=officer)
    assert status == 200 and (draft["status"], draft["service"]) == ("draft", "id_card_renewal")
    form = {f["name"]: f for f in draft["form"]["fields"]}
    assert form["applicant_name"]["value"] == "王小明" and form["applicant_name"]["provenance"] == "issued"
    assert form["id_card_expires_on"]["value"] == expires.isoformat() and form["id_card_expires_on"]["locked"]
    assert form["applicant_id_number"]["value"]  # masked on screen by the pages; the API gives officers the form
    assert any(m["kind"] == "id_card" for m in draft["form"]["materials"])

    second = scan(today)  # the same day again: nothing new, nothing sent
    assert second["notices_created"] == 0
    assert len(call("GET", f"{sandbox}/sandbox/messages")[1]) == 1

    renewed = {**card, "number": "440604198001019999", "issued_on": today.isoformat(),
               "expires_on": (today + timedelta(days=7305)).isoformat()}
    assert call("POST", f"{base}/api/v1/persons/{pid}/materials", renewed, keys["system"])[0] == 201
    week_before = scan(expires - timedelta(days=7))
    assert (week_before["due_found"], week_before["notices_created"]) == (0, 0)
    assert len(call("GET", f"{sandbox}/sandbox/messages")[1]) == 1
