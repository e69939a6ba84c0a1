"""The applicant told of a decision, with real Neo4j, Redis and the SMS sandbox, jobs run in this process: the note on
the inbox and in the SMS, the link to the application, once per decision and channel, a second decision after a
resubmission, a minor's guardians, an entity's legal representative, consent, quiet hours and a lost telling."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from notifier.delivery import inbox_text
from notifier.outcomes import catch_up, tell_applicant
from notifier.services import install
from notifier.sweep import sweep
from profiles import matters
from profiles.errors import Conflict
from profiles.models import Actor, Relation
from profiles.notices import Preferences
from tests.integration.notify_helpers import ZONE, at, messages_per_notice, notices, notify_services, run_jobs
from tests.integration.pages_fixtures import pages_sandbox  # noqa: F401  (the module's SMS sandbox)
from tests.integration.pages_helpers import make_entity, make_person, pages_app, sign_in_citizen
from web.usecases.applications import decide, file_application, resubmit
from web.usecases.subjects import SubjectRef

OFFICER = Actor("李窗口 · 禅城区行政服务中心 (window1)", "officer")
NOTE = "照片不合格，请补交近期免冠照片"
PHONE, MUM, DAD, REP = "+8613712340201", "+8613712340202", "+8613712340203", "+8613712340204"


@pytest.fixture
def app(live_environ, sandbox, clean):
    """The site and its services; quiet hours off, because `decide` tells the applicant on the real clock."""
    sandbox.clear()
    app = pages_app(live_environ, sandbox.url, QUIET_HOURS="00:00-00:00")
    install(app.extensions["lifecycle"])  # the delivery jobs run in this process with the same services
    yield app
    app.extensions["lifecycle"].close()


@pytest.fixture
def svc(app):
    return app.extensions["lifecycle"]


def today(svc) -> date:
    return datetime.now(svc.settings.zone).date()


def file(svc, subject: SubjectRef, code: str = "id_card_renewal") -> str:
    actor = Actor(f"citizen {subject.id}", "citizen")
    return file_application(svc, actor, subject, code, {"reason": "有效期满"}, [], today(svc)).aid


def told(svc, **where) -> list[tuple[str, str, str, int]]:
    """(recipient, channel, kind, decision's place) of every decision notice, in a stable order."""
    return sorted((n["to"], n["channel"], n["kind"], n["transition_seq"]) for n in notices(svc, **where)
                  if n["kind"].startswith("decision_"))


def test_a_return_for_correction_reaches_the_inbox_and_the_phone_with_the_note_and_the_link(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    aid = file(svc, SubjectRef.of("person", me.pid))
    decide(svc, OFFICER, aid, "needs_correction", NOTE, today(svc))
    run_jobs(svc)

    assert told(svc) == [(me.pid, "inbox", "decision_needs_correction", 1),
                         (me.pid, "sms", "decision_needs_correction", 1)]
    (inbox,) = notices(svc, channel="inbox")
    assert inbox["status"] == "delivered"
    shown = inbox_text(svc, svc.notices.get(inbox["nid"]))
    assert NOTE in shown.text and "需要补正" in shown.subject and "重新提交" in shown.text
    (sms,) = notices(svc, channel="sms")
    (body,) = [m["body"] for m in sandbox.messages(to=PHONE)]
    assert sms["status"] == "sent" and body.endswith(f"{svc.settings.public_url}/n/{sms['nid']}")
    assert NOTE in body and "需要补正" in body and "！" not in body

    # The link signs in, marks the notice read and leads to the application, now to be corrected.
    client = app.test_client()
    assert client.get(f"/n/{sms['nid']}").headers["Location"] == f"/login?next=/n/{sms['nid']}"
    sign_in_citizen(client, sandbox, me.id_number, PHONE, next_path=f"/n/{sms['nid']}")
    opened = client.get(f"/n/{sms['nid']}")
    assert opened.status_code == 303 and opened.headers["Location"] == f"/me/p/{me.pid}/applications/{aid}"
    assert svc.notices.get(sms["nid"]).read_at is not None


def test_a_decision_told_again_and_its_jobs_run_twice_send_one_notice_per_channel(svc, sandbox):
    me = make_person(svc, phone=PHONE)
    aid = file(svc, SubjectRef.of("person", me.pid))
    decide(svc, OFFICER, aid, "needs_correction", NOTE, today(svc))
    with pytest.raises(Conflict):  # a second decision on the same submission is refused, and tells nobody
        decide(svc, OFFICER, aid, "needs_correction", NOTE, today(svc))
    first = tell_applicant(svc, aid)  # the catch-up or a retry telling it again
    for job in svc.queues["deliver"].get_jobs():  # every delivery job twice over
        svc.queues["deliver"].enqueue(job.func, *job.args)
    run_jobs(svc)
    assert tell_applicant(svc, aid) == first and catch_up(svc) == 0
    run_jobs(svc)
    assert len(told(svc)) == 2
    assert list(messages_per_notice(sandbox).values()) == [1]


def test_after_a_resubmission_an_approval_is_told_as_a_second_decision(svc, sandbox):
    me = make_person(svc, phone=PHONE)
    aid = file(svc, SubjectRef.of("person", me.pid))
    decide(svc, OFFICER, aid, "needs_correction", NOTE, today(svc))
    run_jobs(svc)
    resubmit(svc, Actor(f"citizen {me.pid}", "citizen"), aid, {"reason": "有效期满", "photo": "新照片"}, today(svc))
    decide(svc, OFFICER, aid, "approved", "请于5个工作日后到禅城区行政服务中心领取", today(svc))
    run_jobs(svc)

    assert sorted(m[2:] for m in told(svc)) == [("decision_approved", 3), ("decision_approved", 3),
                                                ("decision_needs_correction", 1), ("decision_needs_correction", 1)]
    bodies = [m["body"] for m in sandbox.messages(to=PHONE)]
    assert len(bodies) == 2 and sum(1 for b in bodies if "已审批通过" in b and "领取" in b) == 1
    assert len(messages_per_notice(sandbox)) == 2


def test_a_minors_rejection_is_told_to_each_guardian_with_the_reason(svc, sandbox):
    mum, dad = make_person(svc, phone=MUM, name="李芳"), make_person(svc, phone=DAD, name="王强")
    child = make_person(svc, born=today(svc).replace(year=today(svc).year - 10, day=1), name="王小宝")
    for parent in (mum, dad):
        svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    aid = file(svc, SubjectRef.of("person", child.pid), "passport_renewal")
    decide(svc, OFFICER, aid, "rejected", "护照尚在有效期内且不足换发条件", today(svc))
    run_jobs(svc)

    assert {(r, c) for r, c, _, _ in told(svc)} == {(mum.pid, "inbox"), (mum.pid, "sms"), (dad.pid, "inbox"),
                                                   (dad.pid, "sms")}
    for phone in (MUM, DAD):
        (body,) = [m["body"] for m in sandbox.messages(to=phone)]
        assert "小宝" in body and "王小宝" not in body and "未予批准" in body and "不足换发条件" in body
    assert not [n for n in notices(svc) if n["to"] == child.pid]


def test_an_entitys_decision_is_told_to_its_legal_representative(svc, sandbox):
    rep = make_person(svc, phone=REP, name="赵经理")
    business = make_entity(svc, name="禅城示例餐饮有限公司", legal_rep=rep)
    aid = file(svc, SubjectRef.of("entity", business.eid), "enterprise_annual_report")
    decide(svc, OFFICER, aid, "approved", "年报已公示", today(svc))
    run_jobs(svc)

    assert [(r, c) for r, c, _, _ in told(svc)] == [(rep.pid, "inbox"), (rep.pid, "sms")]
    (body,) = [m["body"] for m in sandbox.messages(to=REP)]
    assert "禅城示例餐饮有限公司" in body and "已审批通过" in body


def test_a_person_without_sms_consent_is_told_on_the_inbox_only(svc, sandbox):
    me = make_person(svc, phone=PHONE)
    svc.preferences.set(me.pid, Preferences(channels=()), datetime.now(ZONE))
    aid = file(svc, SubjectRef.of("person", me.pid))
    decide(svc, OFFICER, aid, "rejected", "不符合换领条件", today(svc))
    run_jobs(svc)
    assert [c for _, c, _, _ in told(svc)] == ["inbox"]
    assert sandbox.messages() == []


def test_a_decision_whose_telling_was_lost_is_told_by_the_catch_up_once(svc, sandbox):
    me = make_person(svc, phone=PHONE)
    aid = file(svc, SubjectRef.of("person", me.pid))
    on = today(svc)  # decided as `decide` does, but the process "died" before telling anyone
    svc.applications.move(aid, OFFICER, lambda a: matters.decide(a, "needs_correction", NOTE, on), note=NOTE)
    assert told(svc) == []
    assert catch_up(svc) == 1 and catch_up(svc) == 0
    run_jobs(svc)
    assert [c for _, c, _, _ in told(svc)] == ["inbox", "sms"]
    assert len(sandbox.messages(to=PHONE)) == 1


def test_a_telling_whose_queue_was_lost_is_sent_by_the_sweeper(svc, sandbox):
    me = make_person(svc, phone=PHONE)
    aid = file(svc, SubjectRef.of("person", me.pid))
    decide(svc, OFFICER, aid, "approved", "准予换领", today(svc))
    svc.redis.flushdb()  # every delivery job is gone; the notices wait in the graph
    assert {n["status"] for n in notices(svc)} == {"pending"}
    later = (datetime.now(ZONE) + timedelta(seconds=svc.settings.stuck_after_s + 60)).isoformat()
    assert sweep(later)["requeued"] == 2
    run_jobs(svc)
    assert {n["channel"]: n["status"] for n in notices(svc)} == {"inbox": "delivered", "sms": "sent"}
    assert len(sandbox.messages(to=PHONE)) == 1


def test_a_decision_told_in_quiet_hours_reaches_the_inbox_now_and_the_phone_in_the_morning(live_environ, sandbox,
                                                                                         clean):
    sandbox.clear()
    svc = notify_services(live_environ, sandbox.url)  # the default quiet hours, 22:00-08:00
    try:
        me = make_person(svc, phone=PHONE)
        aid = file(svc, SubjectRef.of("person", me.pid))
        svc.applications.move(aid, OFFICER, lambda a: matters.decide(a, "rejected", "不符合条件", a.created_on))
        evening = date(2026, 3, 2)
        tell_applicant(svc, aid, at=at(evening, 23))
        run_jobs(svc)
        by_channel = {n["channel"]: n for n in notices(svc)}
        assert by_channel["inbox"]["status"] == "delivered" and by_channel["sms"]["status"] == "pending"
        assert by_channel["sms"]["not_before"].to_native() == datetime(2026, 3, 3, 8, 0, tzinfo=ZONE)
        assert sandbox.messages() == []
    finally:
        svc.close()
