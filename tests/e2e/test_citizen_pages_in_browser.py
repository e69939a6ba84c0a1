"""The citizen's pages in a real browser, as a parent with a spouse and two children would use them on a phone and a
desktop, in Chinese and English: plain words (no rule ids or codes), what to bring apart from what is on file, each
relative once with all roles, the children's due items on the parent's page, stacked cards, forms that say what is
wrong at the top and keep what was typed. Every photographed page passes the width, clipping and axe-core checks."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

from profiles.models import Actor, Material, Relation
from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, screenshot
from tests.e2e.test_pages_in_browser import school_age_birth_date, sign_in
from tests.integration.notify_helpers import material
from tests.integration.pages_helpers import make_person
from web.usecases.applications import decide

PHONE = "+8613812340181"
SPOUSE_PHONE = "+8613812340182"
CODES = re.compile(r"@v\d|:expiry|:yearly|:age|id_card_renewal|driving_licence|resident_medical_insurance|"
                   r"primary_school_entry|social_security_card|\bhukou\b|\bid_card\b")


def local_today(svc) -> date:
    return datetime.now(svc.settings.zone).date()


def family(svc, today: date):
    """陈大文 with his wife 林小红 and their children 陈小宝 (school age) and 陈小妹; he is also 陈小宝's guardian."""
    me = make_person(svc, phone=PHONE, name="陈大文", born=date(1986, 4, 2), seq=101)  # odd: a man (男)
    spouse = make_person(svc, phone=SPOUSE_PHONE, name="林小红", born=date(1988, 7, 15), seq=102)
    older = make_person(svc, name="陈小宝", born=school_age_birth_date(today))
    younger = make_person(svc, name="陈小妹", born=today - timedelta(days=800))
    svc.subjects.relate(Relation(me.pid, spouse.pid, "SPOUSE_OF"))
    for parent in (me, spouse):
        for child in (older, younger):
            svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    svc.subjects.relate(Relation(me.pid, older.pid, "GUARDIAN_OF"))
    material(svc, me.pid, "id_card", today + timedelta(days=60))
    material(svc, me.pid, "driving_licence", today + timedelta(days=40))
    svc.holdings.add_material("Person", Material(
        str(uuid.uuid4()), me.pid, "hukou", "H12345678", date(2010, 5, 1), None, "佛山市公安局禅城分局", "issued",
        {"address": "广东省佛山市禅城区祖庙路1号"}))
    return me, spouse, older, younger


def both_widths(page, name: str) -> None:
    """The page as it is now, photographed (and checked) on a phone and on a desktop."""
    for width, viewport in (("390", PHONE_VIEWPORT), ("1280", DESKTOP_VIEWPORT)):
        page.set_viewport_size(viewport)
        screenshot(page, f"{name}.{width}")


def no_codes(page) -> None:
    text = page.locator("main").inner_text()
    assert not CODES.search(text), CODES.search(text).group(0)


def fill_missing(page) -> None:
    """Type something into every editable field left empty, as a person completing the form would."""
    for box in page.locator("form.review-form input[type=text]:not([readonly])").all():
        if not box.input_value():
            box.fill("广东省佛山市禅城区岭南大道2号")


def test_a_parent_reads_plain_words_on_a_phone_and_a_desktop_and_the_forms_help(site, chromium):
    svc = site.services
    today = local_today(svc)
    me, _spouse, older, _younger = family(svc, today)
    zh_context = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN")
    en_context = chromium.new_context(viewport=PHONE_VIEWPORT, locale="en")
    zh, en = zh_context.new_page(), en_context.new_page()
    for page in (zh, en):
        sign_in(page, site, "/login", "id_number", me.id_number, PHONE)
        page.wait_for_url(re.compile(r"/me$"))
    assert en.locator("html").get_attribute("lang") == "en"

    # --- the home page: plain words, the two lists, the family, the children's items -------------------------------
    zh.reload()
    no_codes(zh)
    yearly = zh.locator('.due-item[data-service="resident_medical_insurance_contribution"]:not([data-for])')
    assert yearly.count() == 1
    assert "每年9月1日至12月31日" in yearly.inner_text() and f"{today.year}年12月31日" in yearly.inner_text()
    assert not re.search(r"每年\s*\d{4}", zh.locator("main").inner_text())  # no year inside "every year"
    renewal = zh.locator('.due-item[data-service="driving_licence_renewal"]')
    assert "已存档，无需携带" in renewal.locator(".on-file").inner_text()
    assert "居民身份证" in renewal.locator(".on-file").inner_text()
    for item in zh.locator(".due-item ul.bring li").all_inner_texts():  # nothing to bring says it need not be
        assert "无需携带" not in item and "已存档" not in item
    relatives = zh.locator("ul.family li").all_inner_texts()
    assert len([r for r in relatives if "陈小宝" in r]) == 1
    (child_line,) = [r for r in relatives if "陈小宝" in r]
    assert "子女" in child_line and "被监护人" in child_line
    school = zh.locator(f'.due-item[data-service="primary_school_entry"][data-for="{older.pid}"]')
    assert school.count() == 1 and "为陈小宝办理" in school.inner_text()
    assert zh.locator('.due-item[data-for]:not(:has(.for-ward))').count() == 0  # every ward's item names the ward
    assert f"/me/p/{older.pid}/" in school.get_by_role("link").first.get_attribute("href")
    assert zh.locator("table.cards.materials").count() == 1 and zh.locator(".table-scroll").count() == 0
    both_widths(zh, "citizen-home.zh-CN")

    en.reload()
    no_codes(en)
    yearly_en = en.locator('.due-item[data-service="resident_medical_insurance_contribution"]:not([data-for])') \
        .inner_text()
    assert "Every year from 1 September to 31 December" in yearly_en and f"31 December {today.year}" in yearly_en
    assert "For 陈小宝:" in en.locator('.due-item[data-service="primary_school_entry"]').inner_text()
    assert "Already on file — no need to bring:" in en.locator(
        '.due-item[data-service="driving_licence_renewal"] .on-file').inner_text()
    (child_en,) = [r for r in en.locator("ul.family li").all_inner_texts() if "陈小宝" in r]
    assert "Child, under your guardianship" in child_en
    both_widths(en, "citizen-home.en")

    # --- the review of a prefilled form: the promise in the right plural, errors at the top ---------------------------
    apply_path = f"{site.base}/me/p/{me.pid}/apply/driving_licence_renewal"
    en.goto(apply_path)
    lead = en.locator("p.lead").inner_text()
    assert "1 working day;" in lead and "working days" not in lead
    no_codes(en)
    both_widths(en, "citizen-review.en")

    zh.goto(apply_path)
    assert "1个工作日" in zh.locator("p.lead").inner_text()
    typed = zh.locator("form.review-form input[type=text]:not([readonly])").first
    typed.fill("")
    typed_name = typed.get_attribute("name")
    zh.get_by_role("button", name=re.compile("提交")).click()  # not confirmed, a field emptied
    summary = zh.locator(".error-summary")
    assert summary.count() == 1 and zh.evaluate("document.activeElement.classList.contains('error-summary')")
    links = summary.get_by_role("link")
    hrefs = [a.get_attribute("href") for a in links.all()]
    assert {"#f-confirm", f"#f-{typed_name}"} <= set(hrefs)
    assert all(zh.locator(href).count() == 1 for href in hrefs)  # each link leads to its field
    assert "请填写：" in summary.inner_text() and "请确认以上信息真实无误" in summary.inner_text()
    links.last.click()
    assert zh.evaluate("document.activeElement.id") == hrefs[-1][1:]  # the link moved focus to its field
    no_codes(zh)
    both_widths(zh, "citizen-review-errors.zh-CN")
    fill_missing(zh)
    zh.get_by_label(re.compile("确认")).check()
    zh.get_by_role("button", name=re.compile("提交")).click()
    zh.wait_for_url(re.compile(r"/me$"))
    (licence,) = [a for a in svc.portal.applications_of("Person", me.pid) if a["service"] == "driving_licence_renewal"]

    # --- an application returned for correction: the filed values as the form showed them ---------------------------
    zh.goto(f"{site.base}/me/p/{me.pid}/apply/id_card_renewal")
    fill_missing(zh)
    zh.get_by_label(re.compile("确认")).check()
    zh.get_by_role("button", name=re.compile("提交")).click()
    zh.wait_for_url(re.compile(r"/me$"))
    (card,) = [a for a in svc.portal.applications_of("Person", me.pid) if a["service"] == "id_card_renewal"]
    decide(svc, Actor("test officer", "officer"), card["aid"], "needs_correction", "请补充户口簿首页", today)
    filed_path = f"{site.base}/me/p/{me.pid}/applications/{card['aid']}"
    zh.goto(filed_path)
    values = zh.locator("table.filed-values td").all_inner_texts()
    assert "男" in values and "M" not in values and "F" not in values  # the sex as the form said it
    assert zh.locator("#correction").count() == 1
    zh.get_by_role("button", name=re.compile("重新提交")).click()  # not confirmed
    assert zh.locator(".error-summary").count() == 1
    both_widths(zh, "citizen-filed-returned.zh-CN")
    en.goto(filed_path)
    assert "Male" in en.locator("table.filed-values td").all_inner_texts()
    no_codes(en)
    both_widths(en, "citizen-filed-returned.en")
    en.goto(f"{site.base}/me")
    assert en.locator("table.cards.applications tbody tr").count() == 2
    both_widths(en, "citizen-home-applications.en")

    # --- withdrawing: the reason asked, the typed words kept ----------------------------------------------------------
    withdraw_path = f"{site.base}/me/p/{me.pid}/applications/{licence['aid']}/withdraw"
    zh.goto(withdraw_path)
    zh.get_by_role("button", name=re.compile("撤回申请")).click()  # no reason, not confirmed
    assert zh.locator(".error-summary a").all_inner_texts() == ["请说明撤回申请的原因", "请确认您要撤回这份申请"]
    both_widths(zh, "citizen-withdraw-errors.zh-CN")
    zh.locator("#f-reason").fill("已在其他窗口办理")
    zh.get_by_role("button", name=re.compile("撤回申请")).click()  # still not confirmed
    assert zh.locator("#f-reason").input_value() == "已在其他窗口办理"
    assert [a.get_attribute("href") for a in zh.locator(".error-summary a").all()] == ["#f-confirm"]
    en.goto(withdraw_path)
    both_widths(en, "citizen-withdraw.en")

    # --- reminder settings: the error named, the typed value kept -----------------------------------------------------
    zh.goto(f"{site.base}/me/preferences")
    zh.locator("#f-quiet_hours").fill("22-8")
    zh.get_by_role("button", name=re.compile("保存")).click()
    assert zh.locator(".error-summary a").get_attribute("href") == "#f-quiet_hours"
    assert zh.locator("#f-quiet_hours").input_value() == "22-8"
    both_widths(zh, "citizen-preferences-errors.zh-CN")
    en.goto(f"{site.base}/me/preferences")
    both_widths(en, "citizen-preferences.en")
    zh_context.close()
    en_context.close()
