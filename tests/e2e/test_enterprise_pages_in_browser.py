"""The enterprise pages in a real browser at a phone's and a desktop's width, in Chinese and English: the business's
page, a prefilled application, the submitted view and the withdraw page each fit the screen (tables become stacked
cards on a phone) and pass axe-core (`screenshot`); they speak in plain words (catalog names, "every year from 1
January to 30 June", right plurals, never a rule id or a code), keep what to bring apart from what is on file, and
their forms answer a mistake with a summary at the top that leads to the field, keeping what was typed."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from profiles.models import Material
from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, screenshot
from tests.e2e.test_pages_in_browser import local_today, sign_in
from tests.integration.pages_helpers import make_entity, make_person

REP_PHONE = "+8613812340121"
ANNUAL = "enterprise_annual_report"
FOOD = "food_business_permit_renewal"
VIEWS = (("phone", PHONE_VIEWPORT), ("desktop", DESKTOP_VIEWPORT))
LANGS = (("zh-CN", "zh_CN"), ("en", "en"))
# What a business must never read on its pages: rule ids, service codes, material kinds, status codes.
CODES = re.compile(r"@v\d|:yearly|:expiry|enterprise_annual_report|food_business_permit|business_licence|"
                   r"needs_correction|limited_company|\bcompany\b|\bdraft\b")


def licence(svc, eid: str, kind: str, number: str, issued: date, expires: date | None) -> Material:
    return svc.holdings.add_material("Entity", Material(str(uuid.uuid4()), eid, kind, number, issued, expires,
                                                       "佛山市禅城区市场监督管理局", "issued",
                                                       {"premises": "禅城区季华五路1号"}))


def restaurant(svc, today: date):
    """A restaurant with its legal representative, a food business permit expiring in 60 days (its renewal is due
    and open) and a business licence that expired three days ago (on file, but to be brought anew); no annual
    report on file, so the yearly report is due or overdue whatever the day."""
    rep = make_person(svc, phone=REP_PHONE, name="黄老板")
    company = make_entity(svc, name="佛山市禅城区好味道餐饮有限公司", legal_rep=rep,
                          established=date(today.year - 6, 3, 1))
    permit = licence(svc, company.eid, "food_business_permit", "JY14406040012345", today - timedelta(days=5 * 365 - 60),
                     today + timedelta(days=60))
    business = licence(svc, company.eid, "business_licence", "91440604MA4W00001X", date(today.year - 6, 3, 1),
                       today - timedelta(days=3))
    return rep, company, permit, business


def visible_text(page) -> str:
    return page.inner_text("body")


def photograph_everywhere(page, site, path: str, name: str, check=None) -> None:
    """The page at both widths in both languages, each through `screenshot` (width, clipping, axe, CSP)."""
    for lang, code in LANGS:
        page.goto(f"{site.base}/lang/{code}?next={path}")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == lang
        for view, size in VIEWS:
            page.set_viewport_size(size)
            text = visible_text(page)
            assert not CODES.search(text), f"{name} {lang}: a code on the page: {CODES.search(text).group(0)!r}"
            if check is not None:
                check(page, lang)
            screenshot(page, f"enterprise-{name}.{view}.{lang}")
    page.goto(f"{site.base}/lang/zh_CN?next={path}")


def test_the_business_pages_speak_plainly_fit_a_phone_and_help_with_mistakes(site, chromium):
    svc = site.services
    today = local_today(svc)
    rep, company, permit, business = restaurant(svc, today)
    context = chromium.new_context(viewport=DESKTOP_VIEWPORT, locale="zh-CN")
    page = context.new_page()
    sign_in(page, site, "/biz/login", "uscc", company.uscc, REP_PHONE)
    page.wait_for_url(re.compile(r"/biz$"))

    def home_said(page, lang):
        annual = page.locator(f'#coming-up tr[data-service="{ANNUAL}"]').inner_text()
        food = page.locator(f'#coming-up tr[data-service="{FOOD}"]').inner_text()
        window = page.locator("#report-window").inner_text()
        if lang == "zh-CN":
            assert "每年1月1日至6月30日" in annual and "每年1月1日至6月30日" in window
            assert "食品经营许可证将于" in food and permit.expires_on.isoformat() in food
        else:
            assert "every year from 1 January to 30 June" in annual and "every year from 1 January to 30 June" in window
            assert "Food business permit expires on" in food
        assert not re.search(r"(每年|every year)\D{0,6}\d{4}", annual + window)  # no year inside "every year"
        status = page.locator(f'#licences tr[data-mid="{permit.mid}"] td.status')
        assert status.locator(".badge.expiring").count() == 1
        assert page.locator(f'#licences tr[data-mid="{business.mid}"] td.status .badge.expired').count() == 1
        if page.viewport_size["width"] < 600:  # stacked cards: the status comes first in its card
            card = page.locator(f'#licences tr[data-mid="{permit.mid}"]')
            assert status.bounding_box()["y"] <= card.locator("th").bounding_box()["y"]
        assert rep.id_number not in page.content() and rep.phone not in page.content()

    photograph_everywhere(page, site, "/biz", "home", home_said)

    # the prefilled renewal: what to bring apart from what is on file; a mistake answered at the top, typed kept
    def form_said(page, lang):
        bring, on_file = page.locator("#bring").inner_text(), page.locator("#on-file").inner_text()
        assert page.locator('#bring li[data-kind="business_licence"]').count() == 1
        assert page.locator('#on-file li[data-kind="food_business_permit"]').count() == 1
        if lang == "zh-CN":
            assert "营业执照" in bring and "食品经营许可证" in on_file and "无需携带" not in bring
        else:
            assert "Business licence" in bring and "Food business permit" in on_file
            assert "not" not in bring.replace("Not on file", "")  # never "need not bring" among what to bring
            assert "10 working days" in page.locator(".lead").inner_text()

    photograph_everywhere(page, site, f"/biz/apply/{FOOD}", "application", form_said)
    page.set_viewport_size(PHONE_VIEWPORT)
    page.goto(f"{site.base}/biz/apply/{FOOD}")
    page.get_by_label("经营条件是否发生变化").fill("否")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_load_state("load")
    summary = page.locator(".error-summary")
    assert summary.count() == 1  # and forms.js has focused it, so a screen reader reads it first
    page.wait_for_function("document.activeElement && document.activeElement.classList.contains('error-summary')")
    link = summary.get_by_role("link")
    assert link.count() == 1 and link.get_attribute("href") == "#f-confirm" and "勾选" in link.inner_text()
    assert page.get_by_label("经营条件是否发生变化").input_value() == "否"  # what was typed is kept
    screenshot(page, "enterprise-application-errors.phone.zh-CN")
    link.click()
    assert page.evaluate("document.activeElement.id") == "f-confirm"
    page.get_by_label(re.compile("本人确认")).check()
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/biz/applications/[^/#]+$"))
    aid = page.url.rsplit("/", 1)[1]
    assert svc.applications.get(aid).status == "submitted"

    def submitted_said(page, lang):
        fields = page.locator("#submitted-fields").inner_text()
        assert "否" in fields and "JY************45" in fields and company.name in fields

    photograph_everywhere(page, site, f"/biz/applications/{aid}", "submitted", submitted_said)

    # the annual report's form, in English: one working day, in the singular
    page.goto(f"{site.base}/lang/en?next=/biz/apply/{ANNUAL}")
    lead = page.locator(".lead").inner_text()
    assert "within 1 working day," in lead and "1 working days" not in lead
    page.goto(f"{site.base}/lang/zh_CN?next=/biz")

    # withdrawing: an empty reason is answered at the top and leads to the box; the tick is kept
    photograph_everywhere(page, site, f"/biz/applications/{aid}/withdraw", "withdraw")
    page.goto(f"{site.base}/biz/applications/{aid}/withdraw")
    page.get_by_label("是的，撤回这份申请").check()
    page.get_by_role("button", name="撤回申请").click()
    page.wait_for_load_state("load")
    summary = page.locator(".error-summary")
    assert summary.get_by_role("link").get_attribute("href") == "#f-reason"
    assert "撤回申请的原因" in summary.inner_text()
    assert page.get_by_label("是的，撤回这份申请").is_checked()
    screenshot(page, "enterprise-withdraw-errors.phone.zh-CN")
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "f-reason"
    assert svc.applications.get(aid).status == "submitted"
    context.close()
