"""The officers' desk in a real browser (issue 18), at 390 px and 1280 px, in Chinese and English, each page through
`screenshot` (width, clipping, axe-core): the queue as stacked cards with the applicants' names once a purpose is
stated, the decision page with its error summary, and the supervisors' dashboard over a week of notices including a
failed SMS, whose count leads to its list after a stated purpose."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from graph.notices import NoticeRow
from profiles.applications import decide_by
from profiles.models import Actor, Application
from profiles.privacy import mask_id_number
from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, officer_signed_in, screenshot
from tests.e2e.test_pages_in_browser import local_today, to_english
from tests.integration.pages_helpers import make_officer, make_person

PURPOSE = "核查未送达的提醒"


def week_of_notices(svc, today):
    """A week of reminders on every channel, and one SMS the provider refused (21211) two days ago."""
    people = [make_person(svc, seq=400 + n, name=name) for n, name in enumerate(("陈大文", "林小红", "黄志强"))]
    now = datetime.now(UTC)
    rows = []
    for back in range(7):
        for n, channel in enumerate(("inbox", "sms", "email")[: 1 + back % 3]):
            person = people[(back + n) % 3]
            nid = str(uuid.uuid4())
            rows.append((now - timedelta(days=back), NoticeRow(nid, nid, "reminder", channel, "Person", person.pid,
                                                               "Person", person.pid, "id_card_renewal",
                                                               today + timedelta(days=30), 30, None, None)))
    for at, row in rows:
        svc.notices.create([row], "scan-week", at)
    svc.notices.move([{"nid": row.nid, "from": ["pending"], "to": "delivered"} for _at, row in rows],
                     datetime.now(UTC))
    failed = str(uuid.uuid4())
    svc.notices.create([NoticeRow(failed, failed, "reminder", "sms", "Person", people[2].pid, "Person",
                                  people[2].pid, "id_card_renewal", today + timedelta(days=30), 30, None, None)],
                       "scan-week", now - timedelta(days=2))
    svc.notices.move([{"nid": failed, "from": ["pending"], "to": "failed", "error_code": "21211"}], now)
    for person in people[:2]:
        limit = svc.catalog.services["id_card_renewal"].time_limit_days
        svc.applications.file(Application(str(uuid.uuid4()), "Person", person.pid, "id_card_renewal", "submitted",
                                          today - timedelta(days=1), today - timedelta(days=1), limit,
                                          decide_by(today - timedelta(days=1), limit), {"reason": "有效期满"}, ()),
                              Actor("市民网上申请", "citizen"))
    return people


def signed_in_desk(chromium, site, viewport, english: bool):
    page = officer_signed_in(chromium, site, "boss", viewport)
    if english:
        to_english(page)
    return page


def test_queue_decision_and_dashboard_with_a_failed_delivery_at_both_widths_in_both_languages(site, chromium):
    svc = site.services
    today = local_today(svc)
    people = week_of_notices(svc, today)
    make_officer(svc, "boss", role="supervisor", name="张督办")
    for viewport, width in ((PHONE_VIEWPORT, 390), (DESKTOP_VIEWPORT, 1280)):
        for lang in ("zh-CN", "en"):
            english = lang == "en"
            page = signed_in_desk(chromium, site, viewport, english)
            tag = f"{lang}.{width}"

            # The queue: masked numbers until a purpose is stated for the names, then names; cards on a phone.
            page.goto(site.base + "/officer/queue")
            if page.locator("#f-purpose").count():  # the first visit of this session asks for the purpose
                screenshot(page, f"desk-queue-purpose.{tag}")
                page.locator("#f-purpose").fill(PURPOSE)
                page.get_by_role("button", name=re.compile("显示申请人姓名|Show the applicants' names")).click()
                page.wait_for_load_state()
            queue = page.locator("#queue")
            assert queue.get_by_text(people[0].name).count() == 1
            assert mask_id_number(people[0].id_number) in queue.inner_text()
            assert ("Submitted" if english else "已提交") in queue.locator("td.status").first.inner_text()
            if width == 390:  # stacked: the status comes first in each card
                first = queue.locator("tbody tr").first
                status_top = first.locator("td.status").bounding_box()["y"]
                assert status_top < first.locator("th").bounding_box()["y"]
            screenshot(page, f"desk-queue.{tag}")

            # The decision page: a rejection without its reason shows the error summary at the top.
            page.locator("#queue tbody tr").first.get_by_role("link").click()
            page.locator("#f-purpose").fill("审批居民身份证换领申请")
            page.get_by_role("button", name=re.compile("打开|Open")).click()
            page.wait_for_load_state()
            page.goto(site.base + "/officer/queue")
            page.locator("#queue tbody tr").first.get_by_role("link", name=re.compile("审批|Decide")).click()
            page.wait_for_load_state()
            page.locator(".decision-rejected button").click()
            page.wait_for_load_state()
            summary = page.locator(".error-summary")
            assert summary.is_visible()
            assert page.evaluate("document.activeElement.classList.contains('error-summary')")
            screenshot(page, f"desk-decision-error.{tag}")
            summary.get_by_role("link").click()
            assert page.evaluate("document.activeElement.id") == "f-note-rejected"

            # The dashboard: the failed SMS with the provider's reason; its count opens the list after a purpose.
            page.goto(site.base + "/officer/dashboard?days=7")
            failed = page.locator("#t-failed")
            reason = "not a valid phone number (code 21211)" if english else "不是有效的电话号码（代码 21211）"
            assert reason in failed.inner_text()
            assert (today - timedelta(days=2)).isoformat() in failed.inner_text()
            assert page.locator("#by-channel rect").count() >= 7
            screenshot(page, f"desk-dashboard.{tag}")
            failed.get_by_role("link").first.click()
            page.wait_for_load_state()
            if page.locator("#f-purpose").count():
                screenshot(page, f"desk-list-purpose.{tag}")
                page.locator("#f-purpose").fill(PURPOSE)
                page.get_by_role("button", name=re.compile("查看名单|Show the list")).click()
                page.wait_for_load_state()
            listed = page.locator("#notice-list")
            assert listed.locator("tbody tr").count() == 1 and people[2].name in listed.inner_text()
            assert reason in listed.inner_text()
            screenshot(page, f"desk-failed-list.{tag}")
            page.context.close()
    assert any(r.purpose == PURPOSE for r in svc.access_log.for_subject(people[2].pid))
