"""The notification API and operator commands: preferences, scans and their progress, notices, failed jobs."""

from __future__ import annotations

from datetime import date, timedelta

from rq import SimpleWorker
from rq.registry import FailedJobRegistry

from notifier.services import install
from tests.integration.api_helpers import id_number, keys

CARD = {"kind": "id_card", "number": "440604198605171234", "issuer": "佛山市公安局禅城分局", "provenance": "issued",
        "fields": {}}


def test_preferences_round_trip_and_reading_them_is_recorded(app, client):
    auth = keys(app)
    pid = client.post("/api/v1/persons", json={"id_number": id_number(), "name": "张三", "phone": "+8613800138000"},
                      headers=auth["system"]).get_json()["pid"]
    officer = {**auth["officer"], "X-Purpose": "窗口核对通知设置"}
    assert client.get(f"/api/v1/persons/{pid}/preferences", headers=officer).get_json() == {
        "channels": ["sms", "email"], "language": "zh-CN", "quiet_hours": None, "sms_opted_out": False}
    put = client.put(f"/api/v1/persons/{pid}/preferences", headers=auth["system"],
                     json={"channels": ["email"], "language": "en", "quiet_hours": "21:30-07:45"})
    assert put.status_code == 200
    assert client.get(f"/api/v1/persons/{pid}/preferences", headers=officer).get_json() == {
        "channels": ["email"], "language": "en", "quiet_hours": "21:30-07:45", "sms_opted_out": False}
    log = client.get(f"/api/v1/persons/{pid}/access-log", headers=officer).get_json()
    assert [e["what"] for e in log].count("notification preferences") == 2


def test_a_scan_started_over_the_api_reports_its_progress(app, client):
    auth = keys(app)
    services = app.extensions["lifecycle"]
    today = date.today()
    pid = client.post("/api/v1/persons", json={"id_number": id_number(), "name": "张三"},
                      headers=auth["system"]).get_json()["pid"]  # no phone: the inbox only
    card = {**CARD, "issued_on": (today - timedelta(days=3000)).isoformat(),
            "expires_on": (today + timedelta(days=30)).isoformat()}
    assert client.post(f"/api/v1/persons/{pid}/materials", json=card, headers=auth["system"]).status_code == 201
    started = client.post("/api/v1/scans", json={"as_of": today.isoformat()}, headers=auth["admin"])
    assert started.status_code == 202
    scan_id = started.get_json()["scan_id"]
    queued = client.get(f"/api/v1/scans/{scan_id}", headers=auth["admin"]).get_json()
    assert (queued["state"], queued["partitions"], queued["partitions_done"]) == (
        "queued", services.settings.scan_partitions + 1, 0)

    install(services)
    SimpleWorker(list(services.queues.values()), connection=services.redis).work(burst=True)
    done = client.get(f"/api/v1/scans/{scan_id}", headers=auth["admin"]).get_json()
    assert done["state"] == "done" and done["started_at"] and done["finished_at"]
    assert done["due_found"] >= 1 and done["notices_created"] >= 1 and done["pending"] == 0
    assert done["sent"] == done["notices_created"]  # inbox notices are delivered at once
    notices = client.get(f"/api/v1/persons/{pid}/notices",
                         headers={**auth["officer"], "X-Purpose": "核对提醒"}).get_json()
    renewal = next(n for n in notices if n["service"] == "id_card_renewal")
    assert (renewal["channel"], renewal["status"], renewal["offset_days"]) == ("inbox", "delivered", 30)
    assert renewal["history"][0].startswith("pending@") and renewal["history"][-1].startswith("delivered@")

    assert renewal["read_at"] is None
    read = client.post(f"/api/v1/notices/{renewal['nid']}/read", headers=auth["system"])
    assert read.status_code == 200 and read.get_json()["read_at"] and read.get_json()["history"][-1].startswith("read@")
    again = client.post(f"/api/v1/notices/{renewal['nid']}/read", headers=auth["system"]).get_json()
    assert again["read_at"] == read.get_json()["read_at"] and len(again["history"]) == len(read.get_json()["history"])
    assert client.post(f"/api/v1/notices/{renewal['nid']}/read", headers=auth["officer"]).status_code == 403
    assert client.post("/api/v1/notices/nope/read", headers=auth["system"]).status_code == 404


def explode():
    raise RuntimeError("this job always fails")


def test_failed_jobs_are_listed_and_requeued_from_the_cli(app):
    services = app.extensions["lifecycle"]
    job = services.queues["default"].enqueue(explode)
    SimpleWorker([services.queues["default"]], connection=services.redis).work(burst=True)
    registry = FailedJobRegistry(queue=services.queues["default"])
    assert job.id in registry.get_job_ids()
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["jobs", "failed"])
    assert listed.exit_code == 0 and job.id in listed.output and "this job always fails" in listed.output
    unknown = runner.invoke(args=["jobs", "requeue", "no-such-job"])
    assert unknown.exit_code != 0 and "no-such-job" in unknown.output
    requeued = runner.invoke(args=["jobs", "requeue", job.id])
    assert requeued.exit_code == 0 and "re-queued 1 job(s)" in requeued.output
    assert job.id not in registry.get_job_ids() and job.id in services.queues["default"].get_job_ids()
