"""One matter, one application, in a real browser (issue 15): an officer files a citizen's ID card renewal at the
window; the citizen's page shows it filed (no draft left to submit), and the citizen's own attempt to file it again
is refused and shown the open application; the officer returns it for correction, the citizen is told, corrects it and
resubmits; the officer approves, and the citizen is told. One application throughout."""

from __future__ import annotations

import re
from datetime import timedelta

from notifier.scan import start_scan
from notifier.services import install
from tests.e2e.browser import PHONE_VIEWPORT, officer_signed_in, open_record, screenshot
from tests.e2e.test_pages_in_browser import hukou, local_today, sign_in
from tests.integration.notify_helpers import at, material, run_jobs
from tests.integration.pages_helpers import make_officer, make_person

PHONE = "+8613812340201"
SERVICE = "id_card_renewal"


def fill_empty_text_inputs(form, value: str) -> None:
    """What the applicant types into the declared fields the file could not fill."""
    for field in form.locator("input[type=text]").all():
        if field.is_editable() and not field.input_value():
            field.fill(value)


def applications_of_the_matter(svc, pid: str) -> list[dict]:
    return [a for a in svc.portal.applications_of("Person", pid)
            if a["service"] == SERVICE and a["status"] not in ("draft", "settled")]


def test_the_window_files_the_citizen_sees_it_filed_it_is_corrected_and_approved_once(site, chromium):
    svc = site.services
    today = local_today(svc)
    me = make_person(svc, phone=PHONE, name="周敏")
    material(svc, me.pid, "id_card", today + timedelta(days=30))
    hukou(svc, me.pid)
    install(svc)
    # The reminder and its prefilled draft, sent yesterday at 10:00: before the decisions below whatever the hour the
    # test runs (an inbox card takes its words from its newest notice).
    start_scan(svc, today, at=at(today - timedelta(days=1), 10))
    run_jobs(svc)
    make_officer(svc, "lead1", name="王主管", role="supervisor")

    # The window files the renewal for the citizen standing there.
    desk = officer_signed_in(chromium, site, "lead1")
    open_record(desk, me.id_number, "窗口受理身份证换领", f"/officer/persons/{me.pid}")
    desk.goto(f"{site.base}/officer/persons/{me.pid}/prefill?services={SERVICE}")
    filing = desk.locator("form").filter(has=desk.get_by_role("button", name=re.compile("受理|File")))
    fill_empty_text_inputs(filing, "有效期满换领")
    filing.get_by_role("button", name=re.compile("受理|File")).click()
    desk.wait_for_load_state()
    [filed] = applications_of_the_matter(svc, me.pid)
    assert filed["number"] and filed["number"] in desk.content()  # the receipt (受理回执) names it
    screenshot(desk, "officer-receipt.zh-CN")

    # The citizen's page shows it filed; filing again is refused and leads to the open application.
    phone = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN").new_page()
    sign_in(phone, site, "/login", "id_number", me.id_number, PHONE)
    phone.wait_for_url(re.compile(r"/me$"))
    assert filed["number"] in phone.content()
    assert phone.locator(f"a[href$='/applications/{filed['aid']}']").count() >= 1
    phone.goto(f"{site.base}/me/p/{me.pid}/apply/{SERVICE}")
    fill_empty_text_inputs(phone.locator("form.card, form").last, "有效期满换领")
    phone.locator("#f-confirm").check()
    phone.locator("form").last.get_by_role("button", name=re.compile("提交|Submit")).click()
    phone.wait_for_url(re.compile(rf"/me/p/{me.pid}/applications/{filed['aid']}$"))
    assert "不能重复申请" in phone.content()
    assert len(applications_of_the_matter(svc, me.pid)) == 1

    # The officer returns it for correction; the citizen is told, corrects it and resubmits.
    desk.goto(f"{site.base}/officer/applications/{filed['aid']}/decision")
    returning = desk.locator("form").filter(has=desk.locator("input[name=outcome][value=needs_correction]"))
    returning.locator("textarea").fill("照片不符合要求，请补交近期正面免冠照片")
    returning.get_by_role("button").click()
    desk.wait_for_load_state()
    run_jobs(svc)  # the decision's notices
    phone.goto(f"{site.base}/me")
    assert "退回补正" in phone.content() and "照片不符合要求" in phone.content()
    phone.goto(f"{site.base}/me/p/{me.pid}/applications/{filed['aid']}")
    assert "照片不符合要求" in phone.content()
    screenshot(phone, "citizen-correction.zh-CN")
    correction = phone.locator("form").filter(has=phone.locator("#f-confirm"))
    fill_empty_text_inputs(correction, "已补交照片")
    correction.locator("#f-confirm").check()
    correction.get_by_role("button", name=re.compile("重新提交|Resubmit")).click()
    phone.wait_for_load_state()
    assert svc.applications.get(filed["aid"]).status == "submitted"

    # The officer approves; the citizen is told.
    desk.goto(f"{site.base}/officer/applications/{filed['aid']}/decision")
    approving = desk.locator("form").filter(has=desk.locator("input[name=outcome][value=approved]"))
    approving.get_by_role("button").click()
    desk.wait_for_load_state()
    run_jobs(svc)
    phone.goto(f"{site.base}/me")
    assert "办理结果：已准予" in phone.content()
    history = [(t.before, t.after) for t in svc.applications.history(filed["aid"])]
    assert history == [("draft", "submitted"), ("submitted", "needs_correction"),
                       ("needs_correction", "submitted"), ("submitted", "approved")]
    assert [a["aid"] for a in applications_of_the_matter(svc, me.pid)] == [filed["aid"]]  # one throughout
    sms = [m["body"] for m in site.sandbox.messages(to=PHONE)]
    assert any("照片" in body or "补正" in body for body in sms) and len(sms) >= 3  # code, reminder, decisions
