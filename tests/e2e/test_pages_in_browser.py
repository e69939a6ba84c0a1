"""The pages in a real browser (Debian's Chromium through Playwright) over real HTTP, with Neo4j, Redis and the SMS
sandbox: a citizen, a parent, a business and an officer walk through what the issue promises. Full-page
screenshots of the personal, enterprise and officer prefill pages, in zh-CN and English, are saved as artifacts."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from notifier.scan import start_scan
from notifier.services import install
from profiles.models import LifeEvent, Material, Relation
from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, officer_signed_in, screenshot
from tests.integration.notify_helpers import NID_IN_LINK, at, material, run_jobs
from tests.integration.pages_helpers import make_entity, make_officer, make_person

PHONE = "+8613812340101"
PARENT_PHONE = "+8613812340102"
REP_PHONE = "+8613812340103"


def local_today(services) -> date:
    from datetime import datetime

    return datetime.now(services.settings.zone).date()


def hukou(services, pid: str, address: str = "广东省佛山市禅城区祖庙路1号") -> Material:
    m = Material(str(uuid.uuid4()), pid, "hukou", f"H{uuid.uuid4().int % 10**8:08d}", date(2010, 5, 1), None,
                 "佛山市公安局禅城分局", "issued", {"address": address})
    return services.holdings.add_material("Person", m)


def sign_in(page, site, path: str, field: str, value: str, phone: str) -> None:
    """Type the identifier, take the code the sandbox received, type it: as a person on a phone would."""
    page.goto(site.base + path)
    page.get_by_label(re.compile("居民身份证号码|统一社会信用代码|Resident ID number|Unified social credit code")) \
        .fill(value)
    page.get_by_role("button", name=re.compile("获取验证码|Send me a code")).click()
    page.wait_for_url(re.compile(r"/login/code$"))
    page.get_by_label(re.compile("6位验证码|Six-digit code")).fill(site.code_for(phone))
    page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()


def to_english(page) -> None:
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"


def test_a_citizen_signs_in_sees_the_reminder_submits_the_prefilled_renewal_and_it_goes(site, chromium):
    svc = site.services
    me = make_person(svc, phone=PHONE, name="陈小明")
    today = local_today(svc)
    material(svc, me.pid, "id_card", today + timedelta(days=30))
    hukou(svc, me.pid)
    install(svc)  # the daily scan's jobs, run in this process on the real Redis queue
    start_scan(svc, today, at=at(today, 10))
    run_jobs(svc)
    assert any(NID_IN_LINK.search(m["body"]) for m in site.sandbox.messages(to=PHONE))  # the reminder SMS

    context = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN")
    page = context.new_page()
    sign_in(page, site, "/login", "id_number", me.id_number, PHONE)
    page.wait_for_url(re.compile(r"/me$"))
    due = page.locator('.due-item[data-service="id_card_renewal"]')
    assert due.count() == 1 and "居民身份证" in due.inner_text()
    inbox = page.locator(".notice.unread")
    assert inbox.count() >= 1 and any("居民身份证有效期满换领" in card for card in inbox.all_inner_texts())
    assert "id_card_renewal" not in page.locator("main").inner_text()  # the service's name, never its code
    assert me.id_number not in page.content()  # masked everywhere
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
    screenshot(page, "personal-page.zh-CN")

    due.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/me/p/[^/]+/applications/"))
    address = page.locator("#f-address")
    assert address.get_attribute("readonly") is not None  # issued by the household register: locked
    page.get_by_label(re.compile("确认|confirm", re.I)).check()
    page.get_by_role("button", name=re.compile("提交|Submit")).click()
    page.wait_for_url(re.compile(r"/me$"))
    assert page.locator('.due-item[data-service="id_card_renewal"]').count() == 0  # the reminder has gone
    assert page.locator('[data-status="submitted"]').count() == 1

    to_english(page)
    assert "Coming up" in page.content()
    screenshot(page, "personal-page.en")
    context.close()


def school_age_birth_date(today: date) -> date:
    entry_year = today.year if today <= date(today.year, 8, 31) else today.year + 1
    return date(entry_year - 6, 3, 15)


def sign_in_by_keyboard(page, site, id_number: str, phone: str) -> None:
    """Only the keyboard: the skip link, Tab to the field, type, Enter; then the code field, type, Enter."""
    page.goto(site.base + "/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-id_number"
    page.keyboard.type(id_number)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/login/code(#main)?$"))  # the skip link's fragment rides along
    if page.evaluate("document.activeElement.id") == "main":  # the fragment focused the content, not the field
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-code"
    page.keyboard.type(site.code_for(phone))
    page.keyboard.press("Enter")


def test_a_parent_signs_in_by_keyboard_and_sees_the_childs_school_entry(site, chromium):
    svc = site.services
    parent = make_person(svc, phone=PARENT_PHONE, name="陈大文")
    child = make_person(svc, born=school_age_birth_date(local_today(svc)), name="陈小宝")
    svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    context = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN")
    page = context.new_page()
    sign_in_by_keyboard(page, site, parent.id_number, PARENT_PHONE)
    page.wait_for_url(re.compile(r"/me(#main)?$"))
    page.locator("#family ~ *").get_by_role("link", name=re.compile("陈小宝")).first.click()
    page.wait_for_url(re.compile(rf"/me/p/{child.pid}$"))
    school = page.locator('.due-item[data-service="primary_school_entry"]')
    assert school.count() == 1 and "小学" in school.inner_text()
    context.close()


def test_a_business_signs_in_and_sees_its_annual_report_due(site, chromium):
    svc = site.services
    today = local_today(svc)
    rep = make_person(svc, phone=REP_PHONE, name="黄老板")
    company = make_entity(svc, legal_rep=rep, established=date(today.year - 5, 3, 1))
    if today > date(today.year, 6, 30):  # last year's report is filed: the next one falls due next June
        svc.holdings.add_event("Entity", LifeEvent(str(uuid.uuid4()), company.eid, "annual_report",
                                                   date(today.year, 5, 20), {"year": today.year - 1}))
    context = chromium.new_context(viewport=DESKTOP_VIEWPORT, locale="zh-CN")
    page = context.new_page()
    sign_in(page, site, "/biz/login", "uscc", company.uscc, REP_PHONE)
    page.wait_for_url(re.compile(r"/biz$"))
    report = page.locator('tr[data-service="enterprise_annual_report"]')
    assert report.count() == 1
    due_by = date(today.year if today <= date(today.year, 6, 30) else today.year + 1, 6, 30)
    assert due_by.isoformat() in report.inner_text()
    assert rep.id_number not in page.content() and rep.phone not in page.content()
    screenshot(page, "enterprise-page.zh-CN")
    to_english(page)
    assert "Annual report" in page.content()
    screenshot(page, "enterprise-page.en")
    context.close()


def newborn_family(svc, today: date):
    father = make_person(svc, name="陈大文", born=date(1988, 4, 2), phone=PARENT_PHONE)
    mother = make_person(svc, name="林小红", born=date(1990, 7, 15))
    baby = make_person(svc, name="陈小宝", born=today - timedelta(days=10))
    for parent in (father, mother):
        svc.subjects.relate(Relation(parent.pid, baby.pid, "PARENT_OF"))
        material(svc, parent.pid, "id_card", today + timedelta(days=3000))
        hukou(svc, parent.pid)
    certificate = Material(str(uuid.uuid4()), baby.pid, "birth_certificate", "Q440123456", baby.birth_date, None,
                           "佛山市第一人民医院", "verified",
                           {"place_of_birth": "佛山市第一人民医院", "father": "陈大文", "mother": "林小红"})
    svc.holdings.add_material("Person", certificate)
    return father, mother, baby


def test_an_officer_prefills_the_birth_bundle_and_the_parent_sees_the_look(site, chromium):
    svc = site.services
    father, _mother, baby = newborn_family(svc, local_today(svc))
    make_officer(svc, "window1", name="李窗口")
    purpose = "办理新生儿出生一件事"

    page = officer_signed_in(chromium, site)
    context = page.context
    page.locator("#f-number").fill(baby.id_number)
    page.get_by_role("button", name=re.compile("打开|Open")).click()  # no purpose yet: refused, nothing shown
    assert page.locator("#e-purpose").count() == 1 and "陈小宝" not in page.content()
    page.locator("#f-number").fill(baby.id_number)
    page.locator("#f-purpose").fill(purpose)
    page.get_by_role("button", name=re.compile("打开|Open")).click()
    page.wait_for_url(re.compile(rf"/officer/persons/{baby.pid}$"))
    assert "陈小宝" in page.content() and baby.id_number not in page.content()
    assert page.locator("svg").count() >= 1  # the relationship picture

    page.goto(f"{site.base}/officer/persons/{baby.pid}/prefill?services=birth_bundle")
    assert page.locator(".badge.issued, .badge.verified").count() >= 1  # provenance shown per field
    assert "出生医学证明" in page.content()  # the checklist names the birth certificate on file
    screenshot(page, "officer-prefill.zh-CN")
    to_english(page)
    screenshot(page, "officer-prefill.en")
    context.close()

    citizen = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN")
    page = citizen.new_page()
    sign_in(page, site, "/login", "id_number", father.id_number, PARENT_PHONE)
    page.wait_for_url(re.compile(r"/me$"))
    page.goto(f"{site.base}/me/p/{baby.pid}/access-log")  # a parent reads their newborn's log
    rows = page.locator("table.access-log tbody tr")
    assert rows.count() >= 1
    assert any("李窗口" in row and purpose in row for row in rows.all_inner_texts())
    citizen.close()
