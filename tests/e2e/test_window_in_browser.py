"""一表通 at the window in a real browser (issue 15): the officer opens a newborn's form and finds the birth bundle,
due now, ticked; adds primary school entry, which warns that the child is far too young; chooses the mother as the
one at the window, whose data then fills every applicant field; files the household registration and the school
entry in one go — refused until the warned one is confirmed, then both on one receipt."""

from __future__ import annotations

import re

from tests.e2e.browser import officer_signed_in, open_record, screenshot
from tests.e2e.test_matter_in_browser import fill_empty_text_inputs
from tests.e2e.test_pages_in_browser import local_today, newborn_family
from tests.integration.pages_helpers import make_officer


def test_due_services_are_ticked_a_not_due_one_warns_the_mother_fills_the_form_and_one_receipt_lists_both(
        site, chromium):
    svc = site.services
    father, mother, baby = newborn_family(svc, local_today(svc))
    make_officer(svc, "window1", name="李窗口")

    desk = officer_signed_in(chromium, site)
    open_record(desk, baby.id_number, "办理新生儿出生一件事", f"/officer/persons/{baby.pid}")

    # Opened without a choice: what is due now is ticked, and the form is filled in for it.
    desk.goto(f"{site.base}/officer/persons/{baby.pid}/prefill")
    assert desk.locator("#s-birth_bundle").is_checked()
    assert not desk.locator("#s-primary_school_entry").is_checked()
    assert desk.locator("#p-guardian_name").count() == 1

    # The officer adds school entry (not due) and chooses the mother as the one at the window.
    desk.locator("#s-primary_school_entry").check()
    desk.locator(f"#a-{mother.pid}").check()
    desk.get_by_role("button", name="生成表单").click()
    desk.wait_for_load_state()
    reason = desk.locator("#w-primary_school_entry")
    assert reason.is_visible() and "6 岁" in reason.inner_text()
    assert desk.locator("#w-newborn_hukou_registration").count() == 0  # due: no warning
    assert desk.locator(f"#a-{mother.pid}").is_checked()
    assert desk.locator("#p-guardian_name").input_value() == mother.name
    assert father.name not in desk.locator("#p-guardian_name").input_value()
    screenshot(desk, "window-one-form.zh-CN")

    # Two services in one go: refused until the one not due is confirmed, nothing filed meanwhile.
    filing = desk.locator("form").filter(has=desk.get_by_role("button", name="受理并打印回执"))
    for ticked in filing.locator("input[name=service]").all():
        ticked.uncheck()
    filing.locator("#f-service-newborn_hukou_registration").check()
    filing.locator("#f-service-primary_school_entry").check()
    fill_empty_text_inputs(filing, "禅城区祖庙路1号")
    filing.get_by_role("button", name="受理并打印回执").click()
    desk.wait_for_load_state()
    assert desk.locator("#e-confirm-primary_school_entry").is_visible()
    assert svc.portal.applications_of("Person", baby.pid) == []
    filing = desk.locator("form").filter(has=desk.get_by_role("button", name="受理并打印回执"))
    filing.locator("#f-confirm-primary_school_entry").check()
    filing.get_by_role("button", name="受理并打印回执").click()
    desk.wait_for_url(re.compile(r"/officer/applications/[^/]+/receipt"))

    rows = svc.portal.applications_of("Person", baby.pid)
    assert sorted(r["service"] for r in rows) == ["newborn_hukou_registration", "primary_school_entry"]
    receipt = desk.content()
    assert "受理回执" in receipt and all(r["number"] and r["number"] in receipt for r in rows)
    for row in rows:
        fields = svc.applications.get(row["aid"]).fields
        assert fields["guardian_name"] == mother.name and fields["guardian_id_number"] == mother.id_number
