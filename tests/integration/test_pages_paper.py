"""The paper the applicant signs (issue 18), with real Neo4j and Redis: the 一表通 print view and the receipt show the
applicant's own numbers in full, under a header (centre, window, officer, application number, date) and a QR code to
the application's page; each printing is a reveal in the person's access log, which the person reads; the screen
view stays masked."""

from __future__ import annotations

import re

from profiles.privacy import mask_id_number, mask_phone
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_entity, make_person, post, sign_in_citizen
from tests.integration.test_pages_officer import PURPOSE, TODAY, officer, search, whats
from tests.integration.test_pages_window import adult, typed

PRINTED_FORM = "printed the application form with the full ID number and phone number"
PRINTED_RECEIPT = "printed the receipt with the full ID number and phone number"
SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.S)


def qr_of(page: str) -> list[str]:
    return [svg for svg in SVG.findall(page) if 'class="qr-code"' in svg]


def test_the_print_view_shows_the_applicants_own_numbers_in_full_and_records_it_as_a_reveal(app, svc, sandbox):
    person = adult(svc)
    client = officer(app, svc)
    search(client, person.id_number)
    path = f"/officer/persons/{person.pid}/prefill?services=id_card_renewal"
    screen = client.get(path).get_data(as_text=True)
    assert person.id_number not in screen and person.phone not in screen  # the screen view stays masked
    assert PRINTED_FORM not in [w for w, _p in whats(svc, person.pid)]

    printed = client.get(path + "&print=1")
    text = printed.get_data(as_text=True)
    assert printed.status_code == 200
    assert person.id_number in text and person.phone in text
    assert "禅城区行政服务中心" in text and "window1" in text and "李工作" in text  # centre, window, officer
    assert TODAY.isoformat() in text and "受理时生成" in text  # the date; no number before filing
    [svg] = qr_of(text)
    assert "style" not in svg and 'role="img"' in svg and "aria-label=" in svg
    assert f"/me/p/{person.pid}</span>" in text  # the URL printed under the code: the person's own page
    assert (PRINTED_FORM, PURPOSE) in whats(svc, person.pid)

    citizen = app.test_client()
    assert sign_in_citizen(citizen, sandbox, person.id_number, person.phone).status_code == 303
    log = citizen.get(f"/me/p/{person.pid}/access-log").get_data(as_text=True)
    assert "打印了含您完整身份证号码和手机号码的申请表" in log


def test_the_receipt_shows_the_numbers_in_full_with_a_qr_code_to_each_application(app, svc):
    person = adult(svc)
    client = officer(app, svc)
    search(client, person.id_number)
    page = client.get(f"/officer/persons/{person.pid}/prefill?services=id_card_renewal").get_data(as_text=True)
    filed = post(client, f"/officer/persons/{person.pid}/apply",
                 {**typed(page), "selected": "id_card_renewal", "service": "id_card_renewal"})
    assert filed.status_code == 303, filed.get_data(as_text=True)
    [app_row] = svc.portal.applications_of("Person", person.pid)
    receipt = client.get(filed.headers["Location"]).get_data(as_text=True)
    assert person.id_number in receipt and person.phone in receipt and app_row["number"] in receipt
    assert mask_id_number(person.id_number) not in receipt and mask_phone(person.phone) not in receipt
    [svg] = qr_of(receipt)
    assert "style" not in svg
    assert f"/me/p/{person.pid}/applications/{app_row['aid']}</span>" in receipt
    assert (PRINTED_RECEIPT, PURPOSE) in whats(svc, person.pid)

    again = client.get(f"/officer/persons/{person.pid}/prefill?services=id_card_renewal&print=1")
    text = again.get_data(as_text=True)  # the form printed after filing names the application and leads to it
    assert app_row["number"] in text and f"/me/p/{person.pid}/applications/{app_row['aid']}</span>" in text


def test_a_business_paper_has_its_code_and_a_qr_code_but_reveals_nothing(app, svc):
    rep = make_person(svc, name="何老板", phone="+8613712340099")
    entity = make_entity(svc, legal_rep=rep)
    client = officer(app, svc)
    search(client, entity.uscc)
    text = client.get(f"/officer/entities/{entity.eid}/prefill?services=enterprise_annual_report&print=1")
    page = text.get_data(as_text=True)
    assert text.status_code == 200 and len(qr_of(page)) == 1 and "/biz</span>" in page
    assert not [w for w, _p in whats(svc, entity.eid) if w.startswith("printed")]  # a public code is no reveal


def test_printing_needs_the_stated_purpose(app, svc):
    person = adult(svc)
    client = officer(app, svc)
    answer = client.get(f"/officer/persons/{person.pid}/prefill?services=id_card_renewal&print=1")
    assert answer.status_code == 403 and person.id_number not in answer.get_data(as_text=True)
    assert whats(svc, person.pid) == []
