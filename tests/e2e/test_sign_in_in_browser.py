"""Sign-in that does not strand people (issue 18), in a real browser over real HTTP: the 429 page says how long to
wait and leads back, the code page says the tries left and offers a new code after a countdown, a reminder's link
leads through sign-in to its prefilled application, the session warns before it ends, a form posted after it ended
comes back after signing in, signing out is confirmed, and the English header fits a phone in two rows. Every page
is photographed at 390 and 1280 px (the main ones in zh-CN and English) through `screenshot`'s checks."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from notifier.scan import start_scan
from notifier.services import install
from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, screenshot, served
from tests.e2e.test_pages_in_browser import hukou, sign_in, to_english
from tests.integration.notify_helpers import NID_IN_LINK, at, material, run_jobs
from tests.integration.pages_helpers import make_person
from web.pages import sessions

PHONE = "+8613812348101"


def both_widths(page, name: str) -> None:
    """Photograph (and check) the page as it is at a phone's width and a desktop's."""
    for label, viewport in (("390", PHONE_VIEWPORT), ("1280", DESKTOP_VIEWPORT)):
        page.set_viewport_size(viewport)
        screenshot(page, f"{name}.{label}")


def to_chinese(page) -> None:
    page.get_by_role("link", name="中文").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"


@pytest.fixture
def limited_site(live_environ, clean):
    """The site with a strict limit per address: the second code request within five minutes is refused."""
    with served(live_environ, LOGIN_LIMIT_ADDRESS="1 per 5 minutes") as limited:
        yield limited


def test_the_429_page_says_how_long_to_wait_and_the_link_leads_back(limited_site, chromium):
    me = make_person(limited_site.services, phone=PHONE)
    page = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN").new_page()
    for _attempt in range(2):
        page.goto(limited_site.base + "/login")
        page.get_by_label("居民身份证号码").fill(me.id_number)
        page.get_by_role("button", name="获取验证码").click()
        page.wait_for_load_state()
    assert page.locator("h1").inner_text().strip() and re.search(r"请在[45]分钟后再试", page.content())
    both_widths(page, "too-many-attempts.zh-CN")
    to_english(page)  # the switch leads back to the sign-in page, where asking again is refused again
    page.get_by_label("Resident ID number").fill(me.id_number)
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_load_state()
    assert re.search(r"Try again in [45] minutes\.", page.inner_text("main"))
    both_widths(page, "too-many-attempts.en")
    page.get_by_role("link", name="Back to sign-in").click()
    page.wait_for_url(re.compile(r"/login$"))
    assert page.get_by_label("Resident ID number").is_visible()


def test_the_code_page_says_the_tries_left_and_offers_a_new_code_after_a_countdown(site, chromium):
    site.app.config["LOGIN_RESEND_AFTER_S"] = 4
    me = make_person(site.services, phone=PHONE)
    page = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN").new_page()
    page.goto(site.base + "/login")
    to_english(page)
    page.get_by_label("Resident ID number").fill(me.id_number)
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_url(re.compile(r"/login/code$"))
    resend = page.get_by_role("button", name="Send a new code")
    assert resend.is_disabled() and "You can ask for a new code in" in page.inner_text(".resend")
    both_widths(page, "sign-in-code.en")
    right = site.code_for(PHONE)
    page.get_by_label("Six-digit code").fill(f"{(int(right) + 1) % 10**6:06d}")
    page.get_by_role("button", name=re.compile("^Sign in$")).click()
    page.wait_for_load_state()
    assert "Tries left: 4." in page.inner_text(".error-summary")
    both_widths(page, "sign-in-code-wrong.en")

    page.set_viewport_size(PHONE_VIEWPORT)
    expect(resend).to_be_enabled(timeout=15000)  # the countdown ran out
    assert "You can ask for a new one now" in page.inner_text(".resend")
    resend.click()
    page.wait_for_url(re.compile(r"/login/code$"))
    assert "A new code is on its way" in page.inner_text("main")
    to_chinese(page)
    assert "重新获取验证码" in page.inner_text(".resend")
    both_widths(page, "sign-in-code.zh-CN")
    page.get_by_label("6位验证码").fill(site.code_for(PHONE))
    page.get_by_role("button", name=re.compile("^登录$")).click()
    page.wait_for_url(re.compile(r"/me$"))


def test_a_reminder_link_leads_through_sign_in_to_its_prefilled_application(site, chromium):
    svc = site.services
    me = make_person(svc, phone=PHONE)
    yesterday = datetime.now(svc.settings.zone).date() - timedelta(days=1)  # the scan ran yesterday morning
    material(svc, me.pid, "id_card", yesterday + timedelta(days=30))
    hukou(svc, me.pid)
    install(svc)
    start_scan(svc, yesterday, at=at(yesterday, 10))
    run_jobs(svc)
    nids = [m.group(1) for msg in site.sandbox.messages(to=PHONE) if (m := NID_IN_LINK.search(msg["body"]))]
    (nid,) = [n for n in nids if svc.notices.get(n).service == "id_card_renewal"]

    for locale, viewport, name in (("zh-CN", PHONE_VIEWPORT, "zh-CN"), ("en-GB", DESKTOP_VIEWPORT, "en")):
        page = chromium.new_context(viewport=viewport, locale=locale).new_page()
        page.goto(f"{site.base}/n/{nid}")
        page.wait_for_url(re.compile(r"/login\?next=/n/"))
        waiting = page.locator(".waiting")
        assert waiting.is_visible() and "身份证" not in waiting.inner_text()  # says it waits, not what it is
        both_widths(page, f"sign-in-from-reminder.{name}")
        page.context.close()

    page = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN").new_page()
    page.goto(f"{site.base}/n/{nid}")
    page.get_by_label("居民身份证号码").fill(me.id_number)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url(re.compile(r"/login/code$"))
    page.get_by_label("6位验证码").fill(site.code_for(PHONE))
    page.get_by_role("button", name=re.compile("^登录$")).click()
    page.wait_for_url(re.compile(rf"/me/p/{me.pid}/applications/"))
    (draft,) = [a for a in svc.portal.applications_of("Person", me.pid) if a["service"] == "id_card_renewal"]
    assert page.url.endswith(f"/applications/{draft['aid']}") and page.locator("#f-address").is_visible()


def test_the_session_warns_before_it_ends_and_staying_signed_in_extends_it(site, chromium):
    site.app.config["SESSION_WARN_BEFORE_S"] = 1797  # the warning comes a few seconds after the page opens
    me = make_person(site.services, phone=PHONE)
    page = chromium.new_context(viewport=PHONE_VIEWPORT, locale="en-GB").new_page()
    sign_in(page, site, "/login", "id_number", me.id_number, PHONE)
    page.wait_for_url(re.compile(r"/me$"))
    warning = page.locator("#session-warning")
    warning.wait_for(state="visible")
    assert warning.get_attribute("role") == "alert"
    assert re.search(r"Your session ends in 30 minutes\.", warning.inner_text())
    screenshot(page, "session-warning.en.390")
    key = sessions._PREFIX + "*"
    site.services.redis.expire(next(iter(site.services.redis.keys(key))), 500)
    with page.expect_response(re.compile(r"/session/extend$")) as extended:
        warning.get_by_role("button", name="Stay signed in").click()
    assert extended.value.ok and extended.value.json()["seconds_left"] > 1000  # the clock restarted
    assert site.services.redis.ttl(next(iter(site.services.redis.keys(key)))) > 1000


def test_a_form_posted_after_the_session_ended_comes_back_after_signing_in(site, chromium):
    me = make_person(site.services, phone=PHONE)
    page = chromium.new_context(viewport=PHONE_VIEWPORT, locale="en-GB").new_page()
    sign_in(page, site, "/login", "id_number", me.id_number, PHONE)
    page.wait_for_url(re.compile(r"/me$"))
    page.goto(site.base + "/me/preferences")
    site.services.redis.delete(*site.services.redis.keys(sessions._PREFIX + "*"))  # the session idled out
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/login\?next=/me/preferences$"))
    assert "Your session had ended, so what you sent was not saved" in page.inner_text("main")
    both_widths(page, "session-ended.en")
    page.set_viewport_size(PHONE_VIEWPORT)
    page.get_by_label("Resident ID number").fill(me.id_number)
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_url(re.compile(r"/login/code$"))
    page.get_by_label("Six-digit code").fill(site.code_for(PHONE))
    page.get_by_role("button", name=re.compile("^Sign in$")).click()
    page.wait_for_url(re.compile(r"/me/preferences$"))  # back on the form's page


def test_signing_out_is_confirmed_and_the_english_header_fits_a_phone_in_two_rows(site, chromium):
    me = make_person(site.services, phone=PHONE, name="Ouyang Xiaoming")
    page = chromium.new_context(viewport=PHONE_VIEWPORT, locale="en-GB").new_page()
    sign_in(page, site, "/login", "id_number", me.id_number, PHONE)
    page.wait_for_url(re.compile(r"/me$"))
    # Rows of the header: its pieces (brand, language links, name, "Sign out") by their boxes, a new row for each
    # piece that starts below every earlier row's bottom.
    rows = page.evaluate("""() => {
      const boxes = [...document.querySelectorAll('.brand, .lang > *, .who, .signout button')]
        .map(el => el.getBoundingClientRect()).filter(r => r.height > 0).sort((a, b) => a.top - b.top);
      let rows = 0, bottom = -Infinity;
      for (const r of boxes) { if (r.top >= bottom - 1) { rows += 1; } bottom = Math.max(bottom, r.bottom); }
      return rows;
    }""")
    assert rows <= 2, f"the header takes {rows} rows"
    screenshot(page, "header-signed-in.en.390")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login$"))
    assert "You have signed out." in page.inner_text("main")
    assert page.get_by_label("Resident ID number").is_visible()
    both_widths(page, "signed-out.en")
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/static/favicon.svg")
    assert page.request.get(site.base + "/favicon.ico").ok  # redirected to the SVG
