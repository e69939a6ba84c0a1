"""In a real browser: the guides of the ID card renewal and of a business service (the annual report), without
signing in, in Chinese and English, at 1280 px and 390 px — nothing wider than the screen or clipped, no serious or
critical axe-core finding, under the site's Content-Security-Policy (all checked by `screenshot`)."""

from __future__ import annotations

from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, screenshot
from tests.e2e.test_pages_in_browser import to_english

GUIDES = {"id_card_renewal": ("居民身份证有效期满换领", "Resident ID card renewal on expiry", "20元", "20 yuan"),
          "enterprise_annual_report": ("企业年度报告公示", None, "免费", "Free")}


def test_two_guides_pass_the_page_checks_on_a_phone_and_a_desktop_in_both_languages(site, chromium):
    for viewport, size in ((PHONE_VIEWPORT, "phone"), (DESKTOP_VIEWPORT, "desktop")):
        context = chromium.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        for code, (zh_name, _en_name, zh_fee, _en_fee) in GUIDES.items():
            page.goto(f"{site.base}/services/{code}")
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            assert page.locator("h1").inner_text() == zh_name
            assert zh_fee in page.locator(".guide-fee").inner_text()
            screenshot(page, f"guide-{code}-zh-{size}")
        to_english(page)
        for code, (_zh_name, en_name, _zh_fee, en_fee) in GUIDES.items():
            page.goto(f"{site.base}/services/{code}")
            if en_name:
                assert page.locator("h1").inner_text() == en_name
            assert en_fee in page.locator(".guide-fee").inner_text()
            assert "working day" in page.locator(".guide-time").inner_text()
            screenshot(page, f"guide-{code}-en-{size}")
        context.close()
