"""The paper the applicant signs and the admin page in a real browser (issue 18): the 一表通 print view and the receipt
with the applicant's numbers in full, the header and a QR code (an SVG the CSP lets through, with its text
alternative and the URL under it), at 1280 and 390 px in Chinese and English; the admin page with keys, officer
accounts and refused attempts at both widths and languages, and a refused account form with its error summary."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, screenshot
from tests.e2e.test_matter_in_browser import fill_empty_text_inputs
from tests.e2e.test_pages_in_browser import hukou, local_today, to_english
from tests.integration.notify_helpers import material
from tests.integration.pages_helpers import OFFICER_PASSWORD, make_officer, make_person

PURPOSE = "办理身份证换领"


def officer_signs_in(page, site, username: str) -> None:
    page.goto(site.base + "/officer/login")
    page.get_by_label(re.compile("用户名|User name")).fill(username)
    page.get_by_label(re.compile("^(密码|Password)")).fill(OFFICER_PASSWORD)
    page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
    page.wait_for_url(re.compile(r"/officer$"))


def check_qr(page, url_part: str) -> None:
    qr = page.locator("svg.qr-code")
    assert qr.count() >= 1 and qr.first.is_visible()
    assert qr.first.get_attribute("role") == "img" and qr.first.get_attribute("aria-label")
    assert qr.first.get_attribute("style") is None
    assert url_part in page.locator(".qr-url").first.inner_text()
    box = qr.first.bounding_box()
    assert box and box["width"] >= 100 and box["height"] >= 100  # big enough for a phone's camera


def both_widths(page, name: str) -> None:
    page.set_viewport_size(DESKTOP_VIEWPORT)
    screenshot(page, f"{name}")
    page.set_viewport_size(PHONE_VIEWPORT)
    screenshot(page, f"{name}.phone")
    page.set_viewport_size(DESKTOP_VIEWPORT)


def test_the_print_view_and_the_receipt_carry_the_full_numbers_a_header_and_a_qr_code(site, chromium):
    svc = site.services
    today = local_today(svc)
    person = make_person(svc, name="周敏", phone="+8613712340021")
    material(svc, person.pid, "id_card", today + timedelta(days=30))
    hukou(svc, person.pid)
    make_officer(svc, "window1", name="李窗口")

    page = chromium.new_context(viewport=DESKTOP_VIEWPORT, locale="zh-CN").new_page()
    officer_signs_in(page, site, "window1")
    page.locator("#f-number").fill(person.id_number)
    page.locator("#f-purpose").fill(PURPOSE)
    page.get_by_role("button", name=re.compile("打开|Open")).click()
    page.wait_for_url(re.compile(rf"/officer/persons/{person.pid}$"))

    form = f"{site.base}/officer/persons/{person.pid}/prefill?services=id_card_renewal"
    page.goto(form)
    assert person.id_number not in page.content()  # the screen view stays masked
    page.goto(form + "&print=1")
    text = page.locator("main").inner_text()
    assert person.id_number in text and person.phone in text and "李窗口" in text and "window1" in text
    check_qr(page, f"/me/p/{person.pid}")
    both_widths(page, "paper-form.zh-CN")

    page.goto(form)
    filing = page.locator("form").filter(has=page.get_by_role("button", name="受理并打印回执"))
    fill_empty_text_inputs(filing, "禅城区祖庙路1号")
    filing.get_by_role("button", name="受理并打印回执").click()
    page.wait_for_url(re.compile(r"/officer/applications/[^/]+/receipt"))
    [filed] = svc.portal.applications_of("Person", person.pid)
    text = page.locator("main").inner_text()
    assert filed["number"] in text and person.id_number in text and person.phone in text
    check_qr(page, f"/me/p/{person.pid}/applications/{filed['aid']}")
    both_widths(page, "paper-receipt.zh-CN")
    receipt = page.url

    page.goto(site.base + "/officer")
    to_english(page)
    page.goto(receipt)
    assert "Receipt of application" in page.content()
    both_widths(page, "paper-receipt.en")
    page.goto(form + "&print=1")
    assert filed["number"] in page.locator("main").inner_text()  # printed after filing: the number in the header
    check_qr(page, f"/me/p/{person.pid}/applications/{filed['aid']}")
    both_widths(page, "paper-form.en")
    printed = [w for w, _p in [(r.what, r.purpose) for r in svc.access_log.for_subject(person.pid)]
               if w.startswith("printed")]
    assert len(printed) == 4  # each printing a reveal: form, receipt, receipt again, form again


def test_the_admin_page_lists_keys_accounts_and_refusals_and_a_bad_account_form_says_what_to_fix(site, chromium):
    svc = site.services
    svc.api_keys.create("民政局婚姻登记系统", "system")
    make_officer(svc, "admin1", role="admin", name="赵管理")
    make_officer(svc, "window1", name="李窗口")
    person = make_person(svc, name="陈小明")

    nosy = chromium.new_context(viewport=DESKTOP_VIEWPORT, locale="zh-CN").new_page()
    officer_signs_in(nosy, site, "window1")
    nosy.goto(f"{site.base}/officer/persons/{person.pid}")  # no purpose stated: refused and recorded
    nosy.goto(f"{site.base}/officer/admin")  # not an administrator: refused and recorded
    nosy.context.close()

    page = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN").new_page()
    officer_signs_in(page, site, "admin1")
    page.get_by_role("link", name="系统管理").click()
    page.wait_for_url(re.compile(r"/officer/admin$"))
    refusals = page.locator("section[aria-labelledby=h-refusals]").inner_text()
    assert "未说明查阅用途" in refusals and "无权使用此页面" in refusals and "李窗口" in refusals

    # A weak password: the summary names it, the typed values stay, nothing is created.
    page.locator("#f-username").fill("window9")
    page.locator("#f-officer_name").fill("王小窗")
    page.locator("#f-password").fill("short")
    page.get_by_role("button", name="新建账号").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.is_visible() and summary.locator("a").get_attribute("href") == "#f-password"
    assert page.locator("#f-username").input_value() == "window9"
    assert page.locator("#f-officer_name").input_value() == "王小窗"
    assert [o.username for o in svc.officers.all()] == ["admin1", "window1"]
    screenshot(page, "admin-refused.zh-CN.phone")
    summary.locator("a").click()
    assert page.evaluate("document.activeElement.id") == "f-password"
    page.locator("#f-password").fill("A-good-long-password-9")
    page.get_by_role("button", name="新建账号").click()
    page.wait_for_url(re.compile(r"/officer/admin#h-officers$"))
    assert svc.officers.get("window9").name == "王小窗"

    # Disable window1 from its card; the admin page at both widths, in both languages.
    page.locator("form[action='/officer/admin/officers/window1/active'] button").click()
    page.wait_for_load_state()
    assert not svc.officers.get("window1").active
    page.goto(site.base + "/officer/admin")
    both_widths(page, "admin.zh-CN")
    to_english(page)
    assert "Officer accounts" in page.content() and "Refused attempts" in page.content()
    both_widths(page, "admin.en")
