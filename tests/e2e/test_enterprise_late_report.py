"""In a real browser: a business whose annual report is overdue signs in with its credit code and the code sent to
its legal representative, reads on its page what a missed report means, files it late (补报) from there through the
prefilled review form, and sees the one application it filed with its number; the page then shows the report
filed."""

from __future__ import annotations

import re
import uuid
from datetime import date

from profiles.models import LifeEvent
from tests.e2e.browser import DESKTOP_VIEWPORT, screenshot
from tests.e2e.test_pages_in_browser import local_today, sign_in
from tests.integration.pages_helpers import make_entity, make_person

REP_PHONE = "+8613812340115"
ANNUAL = "enterprise_annual_report"


def overdue_business(svc, today: date):
    """A company whose newest overdue report is `year`: after 30 June, this year's window closed without last
    year's report; before, last year's window closed without the report before it (this year's is filed)."""
    rep = make_person(svc, phone=REP_PHONE, name="黄老板")
    company = make_entity(svc, name="佛山市禅城区逾期年报示例有限公司", legal_rep=rep,
                          established=date(today.year - 6, 3, 1))
    if today > date(today.year, 6, 30):
        year, filed = today.year - 1, date(today.year - 1, 4, 1)  # the report before it was on time
    else:
        year, filed = today.year - 2, date(today.year, 1, 1)  # this year's window: this year's report is filed
    svc.holdings.add_event("Entity", LifeEvent(str(uuid.uuid4()), company.eid, "annual_report", filed, {}))
    return rep, company, year


def test_a_business_files_its_overdue_annual_report_from_its_page(site, chromium):
    svc = site.services
    today = local_today(svc)
    rep, company, year = overdue_business(svc, today)
    context = chromium.new_context(viewport=DESKTOP_VIEWPORT, locale="zh-CN")
    page = context.new_page()
    sign_in(page, site, "/biz/login", "uscc", company.uscc, REP_PHONE)
    page.wait_for_url(re.compile(r"/biz$"))

    overdue = page.locator("#overdue")
    assert overdue.get_attribute("data-year") == str(year)
    said = page.locator("#annual-report").inner_text()
    assert f"{year}年度报告应于" in said and "至今尚未报送" in said
    assert "经营异常名录" in said and "仍可补报" in said and "申请移出经营异常名录" in said
    assert rep.id_number not in page.content() and rep.phone not in page.content()
    screenshot(page, "enterprise-late-report.zh-CN")

    page.get_by_role("link", name=f"立即补报{year}年度报告").click()
    page.wait_for_url(re.compile(rf"/biz/apply/{ANNUAL}$"))
    assert page.locator("#late-filing").get_attribute("data-year") == str(year)
    report_year = page.locator("#f-report_year")
    assert report_year.input_value() == str(year) and report_year.get_attribute("readonly") is not None
    page.get_by_label("通信地址").fill("佛山市禅城区季华五路1号")
    page.get_by_label("电子邮箱").fill("huang@example.com")
    page.get_by_label(re.compile("本人确认")).check()
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/biz/applications/[^/]+$"))

    [filed] = [a for a in svc.portal.applications_of("Entity", company.eid) if a["service"] == ANNUAL]
    assert filed["status"] == "submitted" and filed["number"]
    assert page.locator("#application-number").inner_text() == filed["number"]
    assert svc.applications.get(filed["aid"]).fields["report_year"] == str(year)

    page.goto(site.base + "/biz")
    assert page.locator("#overdue").count() == 0
    state = page.locator("#annual-report").get_attribute("data-state")
    assert state == ("filed_late" if year == today.year - 1 else "filed")
    assert page.locator(f'#applications tr[data-aid="{filed["aid"]}"]').count() == 1
    context.close()
