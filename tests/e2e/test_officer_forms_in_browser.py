"""The officer window's forms in a real browser (issue 18): a search missing its purpose keeps the typed ID number and
its error summary's links move focus to the field; the recording form shows only the chosen kind's fields; a death
needs a confirming step; and every window page — find a record, a profile with its relationship picture, recording,
一表通, opening a linked record, revealing a number, registering a newborn — passes the page check (width, clipping,
axe-core) at 390 px and 1280 px, photographed in English and, for two of them, in Chinese."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, officer_signed_in, open_record, screenshot
from tests.e2e.test_pages_in_browser import local_today, newborn_family, to_english
from tests.integration.pages_helpers import make_officer, make_person
from tests.integration.test_pages_officer_picture import PURPOSE, family

VIEWPORTS = ((PHONE_VIEWPORT, "phone"), (DESKTOP_VIEWPORT, "desktop"))


def desk(site, chromium, viewport=DESKTOP_VIEWPORT, english=True):
    """An officer signed in (the sign-in page in Chinese, then English unless told otherwise), on "Find a record"."""
    page = officer_signed_in(chromium, site, "window1", viewport)
    if english:
        to_english(page)
    return page.context, page


def focused_id(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.className")


def test_a_search_missing_its_purpose_keeps_the_number_and_the_summary_leads_to_the_field(site, chromium):
    person = make_person(site.services, name="陈小明")
    make_officer(site.services, "window1", name="李窗口")
    for viewport, name in VIEWPORTS:
        context, page = desk(site, chromium, viewport)
        page.locator("#f-number").fill(person.id_number)
        page.get_by_role("button", name="Open the record").click()
        page.wait_for_load_state()
        assert page.locator("#f-number").input_value() == person.id_number  # not wiped
        summary = page.locator(".error-summary")
        assert summary.is_visible() and focused_id(page) == "error-summary"
        assert "Purpose of this look" in summary.inner_text() and person.name not in page.content()
        screenshot(page, f"officer-search-error-{name}.en")
        summary.get_by_role("link").first.click()
        assert focused_id(page) == "f-purpose"
        # a purpose picked from the list is enough
        page.get_by_label("Checking materials for a service").check()
        page.get_by_role("button", name="Open the record").click()
        page.wait_for_url(re.compile(rf"/officer/persons/{person.pid}$"))
        context.close()


def test_the_recording_form_shows_only_the_chosen_kinds_fields_and_a_death_needs_confirming(site, chromium):
    svc = site.services
    person = make_person(svc, name="黄大山", born=local_today(svc).replace(year=1950))
    make_officer(svc, "window1", name="李窗口")
    for viewport, name in VIEWPORTS:
        context, page = desk(site, chromium, viewport)
        open_record(page, person.id_number, PURPOSE, f"/officer/persons/{person.pid}")
        page.goto(f"{site.base}/officer/persons/{person.pid}/record")
        events = page.locator("#e-kind")
        assert not page.locator("#e-address").is_visible() and not page.locator("#e-spouse_pid").is_visible()
        events.select_option("household_move")
        assert page.locator("#e-address").is_visible() and not page.locator("#e-spouse_pid").is_visible()
        events.select_option("marriage")
        assert page.locator("#e-spouse_pid").is_visible() and not page.locator("#e-address").is_visible()
        page.locator("#m-kind").select_option("hukou")
        assert page.locator("fieldset[data-for-kinds=hukou]").is_visible()
        assert page.locator("fieldset.details:visible").count() == 1
        screenshot(page, f"officer-record-{name}.en")
        context.close()

    context, page = desk(site, chromium, PHONE_VIEWPORT)
    open_record(page, person.id_number, PURPOSE, f"/officer/persons/{person.pid}")
    page.goto(f"{site.base}/officer/persons/{person.pid}/record")
    on = local_today(svc) - timedelta(days=1)
    page.locator("#e-kind").select_option("death")
    page.locator("#e-occurred_on").fill(on.isoformat())
    assert page.locator("#e-place").is_visible()
    page.locator("#e-place").fill("佛山市第一人民医院")
    page.get_by_role("button", name="Record the event").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Confirm a death"
    assert f"黄大山 died on {on.isoformat()}" in page.content()
    assert svc.subjects.get_person(person.pid).deceased_on is None  # nothing written yet
    screenshot(page, "officer-confirm-death-phone.en")
    page.get_by_role("button", name="Go back and change it").click()
    page.wait_for_load_state()
    assert page.locator("#e-kind").input_value() == "death"
    assert page.locator("#e-place").input_value() == "佛山市第一人民医院"
    page.get_by_role("button", name="Record the event").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Record the death").click()
    page.wait_for_url(re.compile(rf"/officer/persons/{person.pid}$"))
    assert svc.subjects.get_person(person.pid).deceased_on == on
    context.close()


def test_every_window_page_passes_the_page_check_on_a_phone_and_a_desktop(site, chromium):
    svc = site.services
    father, _mother, children, _company = family(svc)
    _dad, mum, baby = newborn_family(svc, local_today(svc))
    make_officer(svc, "window1", name="李窗口")
    for viewport, name in VIEWPORTS:
        for english in (True, False):
            context, page = desk(site, chromium, viewport, english=english)
            lang = "en" if english else "zh-CN"
            if english:
                screenshot(page, f"officer-home-{name}.en")
            open_record(page, father.id_number, PURPOSE, f"/officer/persons/{father.pid}")
            assert page.locator("#relations").count() == 1
            frame = page.locator("figure.scroll-frame")
            assert frame.get_attribute("tabindex") == "0" and frame.get_attribute("role") == "region"
            screenshot(page, f"officer-profile-{name}.{lang}")  # zh-CN and en
            if english:
                page.goto(f"{site.base}/officer/persons/{father.pid}/reveal")
                screenshot(page, f"officer-reveal-{name}.en")
                page.goto(f"{site.base}/officer/persons/{children[0].pid}/open?from=Person:{father.pid}")
                screenshot(page, f"officer-open-{name}.en")
                page.goto(f"{site.base}/officer/persons/{father.pid}/newborn")
                screenshot(page, f"officer-newborn-{name}.en")
                page.goto(f"{site.base}/officer/persons/{father.pid}/record")
                screenshot(page, f"officer-window-{name}.en")
            page.goto(f"{site.base}/officer")
            open_record(page, baby.id_number, PURPOSE, f"/officer/persons/{baby.pid}")
            page.goto(f"{site.base}/officer/persons/{baby.pid}/prefill")
            screenshot(page, f"officer-prefill-{name}.{lang}")  # zh-CN and en
            if name == "phone":  # the checklist is stacked cards, the state first
                card = page.locator("#h-checklist ~ table.cards tbody tr").first
                assert card.evaluate("r => getComputedStyle(r).display") == "flex"
            context.close()
    assert mum  # the mother is on file: the newborn's family
