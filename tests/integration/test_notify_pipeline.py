"""The notification pipeline with real Neo4j, Redis, the SMS sandbox and SMTP, jobs run in this process on a fixed
clock: exactly once per offset and channel, suppression, quiet hours, the daily cap, escalation, opt-out, cards."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from neo4j.exceptions import ServiceUnavailable
from rq.registry import ScheduledJobRegistry

from graph.audit import AccessLog
from graph.processes import free_port
from graph.scan import scan_due
from notifier import due_counts
from notifier.delivery import deliver
from notifier.sandbox import Sandbox
from notifier.scan import daily_scan, start_scan
from notifier.sweep import sweep
from profiles.notices import Preferences
from tests.integration.notify_helpers import (
    SID,
    TOKEN,
    ZONE,
    at,
    material,
    messages_per_notice,
    notices,
    notify_services,
    person,
    run_jobs,
)

DAY = date(2026, 3, 2)  # a Monday


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox("127.0.0.1", 0, SID, TOKEN, callback_delay_ms=0).start()
    yield box
    box.stop()


class Inbox:
    """An aiosmtpd handler keeping every message it is handed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def svc(live_environ, sandbox, smtp):
    sandbox.clear()
    sandbox.configure({"fail_rate": 0.0, "latency_ms": 0})
    smtp[1].messages.clear()
    services = notify_services(live_environ, sandbox.url, SMTP_PORT=str(smtp[0].port), NOTIFY_DAILY_CAP="3")
    yield services
    services.close()


def scan(services, day: date, hour: int = 10) -> str:
    scan_id = start_scan(services, day, at=at(day, hour))
    run_jobs(services)
    return scan_id


def test_an_id_card_expiring_in_30_days_gets_one_sms_once_then_nothing_after_renewal(svc, sandbox):
    citizen = person(svc, phone="+8613800138001")
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    scan_id = scan(svc, DAY)
    assert svc.scans.get(scan_id).state == "done"
    sms = notices(svc, channel="sms")
    assert [(n["service"], n["offset_days"], n["status"]) for n in sms] == [("id_card_renewal", 30, "sent")]
    received = sandbox.messages(to="+8613800138001")
    assert len(received) == 1
    assert f"{svc.settings.public_url}/n/{sms[0]['nid']}" in received[0]["body"]
    assert "2026年4月1日" in received[0]["body"]
    assert [n["status"] for n in notices(svc, channel="inbox")] == ["delivered"]
    draft = svc.applications.get(_draft_of(svc, sms[0]["nid"]))  # the link leads to the prefilled draft
    assert (draft.service, draft.status, draft.subject_id) == ("id_card_renewal", "draft", citizen.pid)

    scan(svc, DAY)  # the same day again: the notices exist, nothing is sent twice
    assert messages_per_notice(sandbox) == {sms[0]["nid"]: 1}
    assert len(notices(svc)) == 2

    material(svc, citizen.pid, "id_card", DAY + timedelta(days=3652 + 20), issued_on=DAY + timedelta(days=10))
    scan(svc, DAY + timedelta(days=23))  # the 7-day offset: the new card settles it
    assert len(sandbox.messages()) == 1 and len(notices(svc)) == 2


def test_each_message_sent_is_in_the_recipients_access_log_as_the_reminder_services_use_of_their_contact(
        svc, sandbox, smtp):
    citizen = person(svc, phone="+8613800138002", email="zhang@example.cn")
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    scan(svc, DAY)  # 30 days before: the SMS
    reads = svc.access_log.for_subject(citizen.pid)
    assert [(r.actor, r.role, r.purpose, r.what) for r in reads] == [
        ("reminder delivery", "system", "proactive notification",
         "used the phone number to send a message about id_card_renewal")]
    scan(svc, DAY)  # nothing sent again, nothing recorded again
    assert len(svc.access_log.for_subject(citizen.pid)) == 1
    scan(svc, DAY + timedelta(days=23))  # 7 days before, still unread: another SMS and the e-mail as well
    assert (len(sandbox.messages(to="+8613800138002")), len(smtp[1].messages)) == (2, 1)
    assert sorted(r.what for r in svc.access_log.for_subject(citizen.pid)) == [  # one record per message sent
        "used the e-mail address to send a message about id_card_renewal",
        "used the phone number to send a message about id_card_renewal",
        "used the phone number to send a message about id_card_renewal"]
    assert svc.access_log.verify().verdict.intact  # signed into the person's chain like an officer's read


def test_access_records_that_fail_to_be_written_are_queued_and_written_once_and_nothing_is_sent_twice(
        svc, sandbox, monkeypatch):
    citizen = person(svc, phone="+8613800138004")
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    real, calls = AccessLog.record_many, []

    def first_fails(self, *args):
        calls.append(args)
        if len(calls) == 1:
            raise ServiceUnavailable("Neo4j went away")
        return real(self, *args)

    monkeypatch.setattr(AccessLog, "record_many", first_fails)
    scan(svc, DAY)  # the job queued by the failed write runs in the same drain of the queues
    assert len(calls) == 2 and messages_per_notice(sandbox) == {notices(svc, channel="sms")[0]["nid"]: 1}
    assert [r.what for r in svc.access_log.for_subject(citizen.pid)] == [
        "used the phone number to send a message about id_card_renewal"]


def test_the_daily_job_scans_once_a_day_then_counts_the_dashboards_due_items_after_the_reminders(svc, sandbox):
    citizen = person(svc, phone="+8613800138009")
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    scan_id = f"daily-{DAY.isoformat()}"
    assert daily_scan(at(DAY, 9)) == daily_scan(at(DAY, 10)) == scan_id  # a second scheduler starts nothing
    assert len(svc.queues["scan"].get_jobs()) == svc.settings.scan_partitions + 1
    assert [j.id for j in svc.queues["default"].get_jobs()] == [f"due-counts-{DAY.isoformat()}"]  # once, last queue
    assert due_counts.counted(svc, DAY) is None
    run_jobs(svc)
    assert svc.scans.get(scan_id).state == "done" and len(sandbox.messages(to="+8613800138009")) == 1
    assert due_counts.counted(svc, DAY)["id_card_renewal"] == 1


def _draft_of(svc, nid: str) -> str:
    records = svc.driver.execute_query("MATCH (:Notice {nid: $nid})-[:ABOUT]->(a:Application) RETURN a.aid AS aid",
                                       nid=nid, database_=svc.settings.neo4j_database)[0]
    return records[0]["aid"]


def test_a_matter_settled_between_scan_and_delivery_is_skipped_not_sent(svc, sandbox):
    citizen = person(svc)
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    start_scan(svc, DAY, at=at(DAY))
    run_jobs(svc, queues=("scan",))  # notices created, delivery still queued
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=3700), issued_on=DAY)
    run_jobs(svc)
    assert {n["channel"]: n["status"] for n in notices(svc)} == {"inbox": "skipped", "sms": "skipped"}
    assert sandbox.messages() == []
    assert "no longer due" in notices(svc, channel="sms")[0]["history"][-1]


def test_quiet_hours_defer_sms_to_their_end_but_not_the_inbox(svc, sandbox):
    citizen = person(svc)
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    scan(svc, DAY, hour=23)
    sms = notices(svc, channel="sms")[0]
    assert sms["status"] == "pending" and sandbox.messages() == []
    morning = datetime(2026, 3, 3, 8, 0, tzinfo=ZONE)
    assert sms["not_before"].to_native() == morning
    assert "quiet hours" in sms["history"][-1]
    scheduled = ScheduledJobRegistry(queue=svc.queues["deliver"])
    assert [svc.queues["deliver"].fetch_job(j).args[0] for j in scheduled.get_job_ids()] == [[sms["nid"]]]
    assert scheduled.get_scheduled_time(scheduled.get_job_ids()[0]) == morning
    assert notices(svc, channel="inbox")[0]["status"] == "delivered"

    deliver([sms["nid"]], at=at(date(2026, 3, 3), 7, 59))  # a minute early: still quiet
    assert notices(svc, channel="sms")[0]["status"] == "pending" and sandbox.messages() == []
    deliver([sms["nid"]], at=at(date(2026, 3, 3), 8, 0))
    assert notices(svc, channel="sms")[0]["status"] == "sent" and len(sandbox.messages()) == 1


def test_a_person_chooses_their_own_quiet_hours(svc, sandbox):
    citizen = person(svc)
    svc.preferences.set(citizen.pid, Preferences(quiet_hours="09:00-18:00"), datetime.now(ZONE))
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    scan(svc, DAY, hour=10)
    assert notices(svc, channel="sms")[0]["not_before"].to_native() == datetime(2026, 3, 2, 18, 0, tzinfo=ZONE)
    scan(svc, DAY, hour=23)  # outside their window, inside the default one: theirs counts
    assert notices(svc, channel="sms")[0]["status"] == "sent"


def test_the_daily_cap_holds_the_rest_until_the_next_morning(svc, sandbox, live_environ, smtp):
    capped = notify_services(live_environ, sandbox.url, SMTP_PORT=str(smtp[0].port), NOTIFY_DAILY_CAP="2")
    try:
        citizen = person(capped)
        for kind in ("id_card", "passport", "driving_licence"):  # three matters owed a reminder today
            material(capped, citizen.pid, kind, DAY + timedelta(days=30))
        scan(capped, DAY)
        sms = notices(capped, channel="sms")
        assert sorted(n["status"] for n in sms) == ["pending", "sent", "sent"]
        held = next(n for n in sms if n["status"] == "pending")
        assert held["not_before"].to_native() == datetime(2026, 3, 3, 8, 0, tzinfo=ZONE)
        assert "daily cap" in held["history"][-1]
        assert len(sandbox.messages()) == 2
        scan(capped, DAY, hour=15)  # still the same day: the cap still holds
        assert len(sandbox.messages()) == 2
        deliver([held["nid"]], at=at(date(2026, 3, 3), 8, 0))
        assert len(sandbox.messages()) == 3 and messages_per_notice(sandbox).most_common(1)[0][1] == 1
    finally:
        capped.close()


def test_an_unread_reminder_escalates_to_the_next_channel_at_the_next_offset(svc, sandbox, smtp):
    reader = person(svc, phone="+8613800138002", email="reader@example.cn")
    ignorer = person(svc, phone="+8613800138003", email="ignorer@example.cn")
    for p in (reader, ignorer):
        material(svc, p.pid, "id_card", DAY + timedelta(days=90))
    scan(svc, DAY)  # 90 days before: inbox + the first push channel (SMS) only
    assert sorted((n["to"], n["channel"]) for n in notices(svc, offset_days=90)) == sorted(
        [(reader.pid, "inbox"), (reader.pid, "sms"), (ignorer.pid, "inbox"), (ignorer.pid, "sms")])
    inbox_of_reader = next(n for n in notices(svc, offset_days=90, channel="inbox") if n["to"] == reader.pid)
    assert svc.notices.mark_read(inbox_of_reader["nid"], datetime.now(ZONE))

    scan(svc, DAY + timedelta(days=60))  # 30 days before
    at30 = {(n["to"], n["channel"]) for n in notices(svc, offset_days=30)}
    assert at30 == {(reader.pid, "inbox"), (reader.pid, "sms"),
                    (ignorer.pid, "inbox"), (ignorer.pid, "sms"), (ignorer.pid, "email")}
    assert [e.rcpt_tos for e in smtp[1].messages] == [["ignorer@example.cn"]]
    mail = email.message_from_bytes(smtp[1].messages[0].content, policy=email.policy.default)
    nid = next(n["nid"] for n in notices(svc, offset_days=30, channel="email"))
    assert mail["Message-ID"] == f"<{nid}@lifecycle>"
    assert f"/n/{nid}" in mail.get_body(("plain",)).get_content()
    assert f"/n/{nid}" in mail.get_body(("html",)).get_content()


def test_an_opt_out_from_the_carrier_stops_sms_and_falls_back_to_the_inbox(svc, sandbox):
    citizen = person(svc, phone="+15005550004")  # the sandbox answers 21610: unsubscribed
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=90))
    scan(svc, DAY)
    sms = notices(svc, channel="sms")[0]
    assert (sms["status"], sms["error_code"]) == ("failed", "21610")
    assert notices(svc, channel="inbox")[0]["status"] == "delivered"
    assert svc.preferences.get(citizen.pid).sms_opted_out
    scan(svc, DAY + timedelta(days=60))  # next offset: no SMS notice at all, the inbox still gets it
    assert {n["channel"] for n in notices(svc, offset_days=30)} == {"inbox"}
    svc.preferences.set(citizen.pid, Preferences(channels=("sms",)), datetime.now(ZONE))  # they opt in again
    assert not svc.preferences.get(citizen.pid).sms_opted_out


@pytest.mark.parametrize(("phone", "code"), [("+15005550001", "21211"), ("+15005550009", "21614")])
def test_permanent_errors_fail_the_sms_with_the_code(svc, sandbox, phone, code):
    citizen = person(svc, phone=phone)
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    scan(svc, DAY)
    sms = notices(svc, channel="sms")[0]
    assert (sms["status"], sms["error_code"], sms["attempts"]) == ("failed", code, 1)
    assert not svc.preferences.get(citizen.pid).sms_opted_out


def test_retryable_errors_back_off_then_fail_after_the_last_attempt(svc, sandbox):
    citizen = person(svc, phone="+15005550500")  # always 500
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    scan(svc, DAY)
    sms = notices(svc, channel="sms")[0]
    assert sms["status"] == "pending" and sms["attempts"] == 1 and "retry 1: 20500" in sms["history"][-1]
    first_wait = sms["not_before"].to_native() - datetime.fromisoformat(at(DAY))
    assert first_wait == timedelta(seconds=0.05)
    clock = datetime.fromisoformat(at(DAY))
    for _ in range(2, svc.settings.retry_max + 1):
        clock += timedelta(hours=1)
        deliver([sms["nid"]], at=clock.isoformat())
    final = notices(svc, channel="sms")[0]
    assert (final["status"], final["attempts"]) == ("failed", svc.settings.retry_max)
    assert final["error_code"] == "retries_exhausted:20500"


def test_a_minors_reminder_goes_to_each_guardian(svc, sandbox):
    from profiles.models import Relation

    child = person(svc, born=DAY - timedelta(days=6 * 365 - 100), phone=None, name="李小宝")
    mum, dad = person(svc, phone="+8613800138004"), person(svc, phone="+8613800138005")
    for parent in (mum, dad):
        svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    material(svc, child.pid, "passport", DAY + timedelta(days=30))
    scan(svc, DAY)
    assert sorted(n["to"] for n in notices(svc, channel="sms", service="passport_renewal")) == sorted(
        [mum.pid, dad.pid])
    body = next(m["body"] for m in sandbox.messages(to="+8613800138004") if "护照" in m["body"])
    assert "小宝" in body and "李小宝" not in body  # the given name only


def test_yellow_and_red_cards_reach_the_department_once(svc):
    from profiles.applications import decide_by
    from profiles.models import Actor, Application
    from web.usecases.applications import decide

    citizen = person(svc)
    submitted = DAY - timedelta(days=60)
    limit = svc.catalog.services["id_card_renewal"].time_limit_days
    app = svc.applications.file(Application(
        aid="app-1", subject_label="Person", subject_id=citizen.pid, service="id_card_renewal", status="submitted",
        created_on=submitted, submitted_on=submitted, time_limit_days=limit, decide_by=decide_by(submitted, limit),
        fields={}, reused=()), Actor("test", "system"))
    assert app.decide_by < DAY  # overdue: red
    scan(svc, DAY)
    scan(svc, DAY + timedelta(days=1))
    cards = notices(svc, kind="red_card")
    assert [(n["to"], n["status"], n["channel"]) for n in cards] == [
        (svc.catalog.services["id_card_renewal"].department.zh, "delivered", "inbox")]
    decide(svc, Actor("test officer", "officer"), "app-1", "approved", "ok", DAY)
    assert notices(svc, kind="yellow_card") == []


def test_the_sweeper_sends_what_a_lost_queue_left_pending(svc, sandbox):
    citizen = person(svc)
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    start_scan(svc, DAY, at=at(DAY))
    run_jobs(svc, queues=("scan",))
    svc.redis.flushdb()  # every delivery job is gone
    assert sweep(at(DAY, 10, 5))["requeued"] == 0  # not stale yet (STUCK_AFTER 600 s)
    assert sweep(at(DAY, 10, 30))["requeued"] == 2
    run_jobs(svc)
    assert {n["channel"]: n["status"] for n in notices(svc)} == {"inbox": "delivered", "sms": "sent"}
    assert len(sandbox.messages()) == 1


def test_the_scan_covers_what_the_evaluator_owes(svc):
    """Every due item with a reminder owed today has its inbox notice, on a generated population."""
    from profiles.demo import generate
    from profiles.notices import owed_offset

    svc.bulk.write_population(generate(300, seed=5, today=DAY))
    scan(svc, DAY, hour=23)  # quiet hours: only inboxes go now, SMS waits
    items = list(scan_due(svc.driver, svc.settings.neo4j_database, svc.catalog, DAY, svc.catalog.max_offset()))
    owed = {(r, i.subject_id, i.service, i.due_on) for i in items
            if owed_offset(i.due_on, i.notify_on, DAY) is not None for r in i.recipients}
    inbox = {(n["to"], n["subject_id"], n["service"], n["due_on"].to_native())
             for n in notices(svc, channel="inbox", kind="reminder")}
    assert owed and inbox == owed


def test_a_person_who_chose_english_gets_english(svc, sandbox):
    citizen = person(svc, phone="+8613800138009")
    svc.preferences.set(citizen.pid, Preferences(language="en"), datetime.now(ZONE))
    material(svc, citizen.pid, "id_card", DAY + timedelta(days=30))
    scan(svc, DAY)
    body = sandbox.messages(to="+8613800138009")[0]["body"]
    assert "1 Apr 2026" in body and "Resident ID card" in body and "年" not in body


def test_a_yearly_reminder_is_made_on_its_dates_and_a_week_after_not_every_day(svc):
    """The yearly contribution concerns every resident: the daily scan makes its reminder on each reminder date (and
    catches up for YEARLY_CATCH_UP days), instead of walking every person on every other day of the season."""
    from notifier.scan import YEARLY_CATCH_UP
    from profiles.rules import due_items

    citizen = person(svc, phone=None)
    service = "resident_medical_insurance_contribution"
    autumn = date(2026, 9, 1)
    item = next(i for i in due_items(svc.snapshots.load("Person", citizen.pid), svc.catalog, autumn, 183)
                if i.service == service)
    first, second = item.notify_on[0], item.notify_on[1]

    def reminders() -> list[int]:
        return sorted(n["offset_days"] for n in notices(svc, channel="inbox") if n["service"] == service)

    scan(svc, first + timedelta(days=YEARLY_CATCH_UP + 1))  # a week and a day late: nothing owed anew today
    assert reminders() == []
    scan(svc, first + timedelta(days=YEARLY_CATCH_UP))  # the last day a missed reminder date is caught up
    assert reminders() == [(item.due_on - first).days]
    scan(svc, second)
    assert reminders() == [(item.due_on - second).days, (item.due_on - first).days]
