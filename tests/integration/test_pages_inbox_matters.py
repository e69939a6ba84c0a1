"""The citizen's inbox follows the matter (issue 15): one card per matter with its state now, the SMS and inbox
deliveries as details inside it, a reminder whose matter is filed no longer offering the prefilled form, and one
whose draft another application settled saying so."""

from __future__ import annotations

import re
from datetime import timedelta

from notifier.scan import start_scan
from notifier.services import install
from profiles.models import Actor
from tests.integration.notify_helpers import at, material, run_jobs
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_person, post
from tests.integration.test_pages_citizen import local_today, section, signed_in
from web.usecases.applications import decide, file_application
from web.usecases.subjects import SubjectRef

PHONE = "+8613712346001"
OFFICER = Actor("李窗口 · 禅城区行政服务中心 (window1)", "officer")


def cards(page: str) -> list[str]:
    """Each card of the inbox, with the deliveries listed inside it."""
    return ['<li class="card notice' + part for part in section(page, "inbox").split('<li class="card notice')[1:]]


def test_one_card_per_matter_following_its_state(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    today = local_today(svc)
    material(svc, me.pid, "id_card", today + timedelta(days=30))
    install(svc)
    # A reminder by inbox and by SMS, with its prefilled draft, sent yesterday at 10:00: outside quiet hours and before
    # the decision below whatever the time of day the test runs (the card takes its words from its newest notice).
    start_scan(svc, today, at=at(today - timedelta(days=1), 10))
    run_jobs(svc)
    client = signed_in(app, sandbox, me, PHONE)

    page = client.get("/me").get_data(as_text=True)
    renewal = [c for c in cards(page) if "居民身份证有效期满换领" in c]
    assert len(renewal) == 1  # the inbox notice and the SMS copy are one card
    assert "关于此事的消息：2条" in renewal[0] and "打开预填的申请" in renewal[0]

    [draft] = [a for a in svc.portal.applications_of("Person", me.pid) if a["service"] == "id_card_renewal"]
    filed = file_application(svc, OFFICER, SubjectRef.of("person", me.pid), "id_card_renewal", {"reason": "到期"},
                             [], today)
    assert filed.aid == draft["aid"]  # the window's filing became the reminder's draft
    decide(svc, OFFICER, filed.aid, "needs_correction", "请补交照片", today)
    run_jobs(svc)  # the decision's notices

    page = client.get("/me").get_data(as_text=True)
    renewal = [c for c in cards(page) if "居民身份证有效期满换领" in c]
    assert len(renewal) == 1  # still one card: the matter, now returned for correction
    card = renewal[0]
    assert "退回补正" in card and "请补交照片" in card and "打开预填的申请" not in card
    assert f"/me/p/{me.pid}/applications/{filed.aid}" in card
    assert "关于此事的消息：4条" in card  # reminder and decision, each by inbox and SMS

    unread = re.findall(r'name="also" value="([^"]+)"', card)
    first = re.search(r'action="/me/notices/([^/]+)/read"', card).group(1)
    assert post(client, f"/me/notices/{first}/read", {"also": unread, "next": "/me"}).status_code == 303
    renewal_inbox = [n for n in svc.notices.for_recipient("Person", me.pid)
                     if n.channel == "inbox" and n.service == "id_card_renewal"]
    assert len(renewal_inbox) == 2 and all(n.read_at is not None for n in renewal_inbox)  # the card, read at once


def test_a_reminder_whose_draft_another_application_settled_says_so(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    today = local_today(svc)
    material(svc, me.pid, "id_card", today + timedelta(days=30))
    install(svc)
    start_scan(svc, today, at=at(today, 10))
    run_jobs(svc)
    [draft] = [a for a in svc.portal.applications_of("Person", me.pid) if a["service"] == "id_card_renewal"]
    svc.driver.execute_query("MATCH (a:Application {aid: $aid}) SET a.status = 'settled'", aid=draft["aid"])
    client = signed_in(app, sandbox, me, PHONE)
    [card] = [c for c in cards(client.get("/me").get_data(as_text=True)) if "居民身份证有效期满换领" in c]
    assert "无需办理：已由另一份申请办理" in card
    assert "打开预填的申请" not in card and f"/applications/{draft['aid']}" not in card
