""""Who looked at my data" in a real browser: an officer's search, profile and revealed phone number (minutes apart,
one purpose) are one line saying what was done in plain words; another officer's purpose typed in English is shown
as typed and labelled on the Chinese page (and a Chinese one on the English page); a department system's reads are
a line of their own. For a person and for a business, in zh-CN and English, at 390 px (stacked cards, no sideways
scrolling) and 1280 px, each photographed through `screenshot` (width, clipping, axe-core)."""

from __future__ import annotations

import re

from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, officer_signed_in, open_record, screenshot
from tests.e2e.test_pages_in_browser import sign_in, to_english
from tests.integration.pages_helpers import make_entity, make_officer, make_person

PHONE = "+8613812340111"
REP_PHONE = "+8613812340112"
TYPED_ZH = "办理身份证换领"
TYPED_EN = "Checking the address for a school place"
SYSTEM = "人社局社保待遇系统"


def officer_looks(chromium, site, username: str, number: str, purpose: str, kind: str, sid: str,
                  reveal_phone: bool = False) -> None:
    """Sign in at the window, open the record with a typed purpose, and reveal the phone number if asked."""
    page = officer_signed_in(chromium, site, username)
    context = page.context
    open_record(page, number, purpose, f"/officer/{kind}/{sid}")
    if reveal_phone:
        page.goto(f"{site.base}/officer/persons/{sid}/reveal")
        page.locator("#f-what").select_option("phone")
        page.locator("#f-reason").fill("核对联系电话")
        page.get_by_role("button", name="查看", exact=True).click()
        assert PHONE in page.content()
    context.close()


def system_reads(site, kind: str, sid: str, *reads: str) -> None:
    """A department's system reads the record through the REST API with its key, as its nightly job does."""
    token = site.services.api_keys.create(SYSTEM, "system")
    client = site.app.test_client()
    for read in reads:
        answer = client.get(f"/api/v1/{kind}/{sid}/{read}",
                            headers={"Authorization": f"Bearer {token}", "X-Purpose": "待遇资格年度核对"})
        assert answer.status_code == 200, answer.get_data(as_text=True)


def lines(page) -> list[str]:
    return page.locator("table.access-log tbody tr").all_inner_texts()


def photographed(page, name: str) -> None:
    """At 390 px the log is stacked cards (no header row shown, nothing wider than the screen), then at 1280 px."""
    page.set_viewport_size(PHONE_VIEWPORT)
    assert page.locator("table.access-log thead").is_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"{name}.phone")
    page.set_viewport_size(DESKTOP_VIEWPORT)
    assert page.locator("table.access-log thead").is_visible()
    screenshot(page, name)


def test_a_persons_log_has_one_line_per_officers_visit_and_one_for_the_system(site, chromium):
    svc = site.services
    me = make_person(svc, phone=PHONE, name="陈小明")
    make_officer(svc, "window1", name="李窗口", department="禅城区行政服务中心")
    make_officer(svc, "window2", name="王窗口", department="禅城区教育局窗口")
    officer_looks(chromium, site, "window1", me.id_number, TYPED_ZH, "persons", me.pid, reveal_phone=True)
    system_reads(site, "persons", me.pid, "materials", "due")
    officer_looks(chromium, site, "window2", me.id_number, TYPED_EN, "persons", me.pid)
    assert len(svc.access_log.for_subject(me.pid)) == 7  # search, profile, reveal; 2 system reads; search, profile

    context = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN")
    page = context.new_page()
    sign_in(page, site, "/login", "id_number", me.id_number, PHONE)
    page.wait_for_url(re.compile(r"/me$"))
    page.goto(f"{site.base}/me/p/{me.pid}/access-log")
    wang, system, li = lines(page)  # newest first
    assert "王窗口" in wang and "禅城区教育局窗口" in wang and "以英文填写：" in wang and TYPED_EN in wang
    assert "通过检索找到了您的档案，查看了您的档案" in wang and "window2" not in page.content()
    assert SYSTEM in system and "部门业务系统" in system and "读取了您的证照材料，查看了您即将要办的事项" in system
    assert "李窗口" in li and TYPED_ZH in li and "以中文填写" not in li
    assert "通过检索找到了您的档案，查看了您的档案，查看了您的完整手机号码（理由：核对联系电话）" in li
    assert re.search(r"\d{2}:\d{2}(–\d{2}:\d{2})?", li)  # one time, or from–to when the minutes differ
    assert PHONE not in page.content() and me.id_number not in page.content()
    photographed(page, "access-log.zh-CN")

    to_english(page)
    wang, system, li = lines(page)
    assert "typed in English" not in wang and TYPED_EN in wang
    assert "Found your record in a search, looked at your profile, saw your full phone number (reason: 核对联系电话)" \
        in li
    assert "typed in Chinese:" in li and page.locator("bdi[lang=zh-CN]", has_text=TYPED_ZH).count() == 1
    assert "a department's system" in system and "Read your materials, checked what is coming up for you" in system
    photographed(page, "access-log.en")
    context.close()


def test_a_business_log_has_one_line_per_officers_visit_and_one_for_the_system(site, chromium):
    svc = site.services
    rep = make_person(svc, phone=REP_PHONE, name="周法人")
    company = make_entity(svc, name="佛山市禅城区示例贸易有限公司", legal_rep=rep)
    make_officer(svc, "window1", name="李窗口", department="禅城区市场监管所")
    make_officer(svc, "window2", name="王窗口", department="禅城区税务所")
    officer_looks(chromium, site, "window1", company.uscc, "食品经营许可延续受理", "entities", company.eid)
    system_reads(site, "entities", company.eid, "materials", "due")
    officer_looks(chromium, site, "window2", company.uscc, "Checking the annual report", "entities", company.eid)

    context = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN")
    page = context.new_page()
    sign_in(page, site, "/biz/login", "uscc", company.uscc, REP_PHONE)
    page.wait_for_url(re.compile(r"/biz$"))
    page.goto(f"{site.base}/biz/access-log")
    wang, system, li = lines(page)
    assert "王窗口" in wang and "禅城区税务所" in wang and "以英文填写：" in wang
    assert SYSTEM in system and "读取了您的证照材料" in system
    assert "李窗口" in li and "禅城区市场监管所" in li and "通过检索找到了您的档案，查看了您的档案" in li
    photographed(page, "enterprise-access-log.zh-CN")

    to_english(page)
    wang, system, li = lines(page)
    assert "Checking the annual report" in wang and "typed in English" not in wang
    assert "typed in Chinese:" in li and "Found your record in a search, looked at your profile" in li
    photographed(page, "enterprise-access-log.en")
    context.close()
