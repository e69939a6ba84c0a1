"""Free text on the pages (issue 14, item 9): an officer's purpose or reason, what the window records, and the
declared values citizens and businesses type are refused with an invisible or control character, the field named in
the visitor's language (422), and nothing is written or logged."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta

from profiles.models import Material
from tests.integration.api_helpers import snapshot
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import (
    make_entity,
    make_officer,
    make_person,
    post,
    sign_in_business,
    sign_in_citizen,
    sign_in_officer,
)

PURPOSE = "办理新生儿出生一件事"
DISGUISED = "核查\u202e改篡"  # shows as 核查篡改 … reversed: the probe's purpose


def officer(app, svc):
    make_officer(svc, username="window1")
    client = app.test_client()
    assert sign_in_officer(client, "window1").status_code == 303
    return client


def error_of(page: str, error_id: str) -> str:
    found = re.search(rf'id="{error_id}"[^>]*>(.*?)</p>', page, re.S)
    assert found, f"no #{error_id} on the page"
    return found.group(1)


def whats(svc, sid: str) -> list[str]:
    return [r.what for r in svc.access_log.for_subject(sid)]


def test_a_purpose_with_a_bidi_override_is_refused_on_the_search_and_nothing_is_looked_up(app, svc):
    person = make_person(svc)
    client = officer(app, svc)
    before = snapshot(svc.driver, svc.settings.neo4j_database)
    for purpose, code in ((DISGUISED, "U+202E"), ("窗口\u200b受理", "U+200B"), ("核查\u2028", "U+2028"),
                          ("核查\x00", "U+0000")):
        answer = post(client, "/officer/search", {"number": person.id_number, "purpose": purpose})
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422, purpose
        assert f"含有不可见的控制字符（{code}）" in error_of(page, "e-purpose")
        assert person.name not in page
    assert snapshot(svc.driver, svc.settings.neo4j_database) == before  # no access record, nothing written
    assert client.get(f"/officer/persons/{person.pid}").status_code == 403  # no purpose was kept either
    client.get("/lang/en?next=/officer")
    english = post(client, "/officer/search", {"number": person.id_number, "purpose": DISGUISED})
    assert "contains an invisible control character (U+202E)" in error_of(english.get_data(as_text=True),
                                                                           "e-purpose")


def test_a_purpose_opening_a_linked_record_and_a_reveal_reason_are_checked_alike(app, svc):
    person = make_person(svc, phone="+8613712340001")
    company = make_entity(svc, legal_rep=person)
    client = officer(app, svc)
    assert post(client, "/officer/search", {"number": person.id_number, "purpose": PURPOSE}).status_code == 303
    logged = whats(svc, person.pid)
    opened = post(client, f"/officer/entities/{company.eid}/open", {"purpose": DISGUISED})
    assert opened.status_code == 422 and "U+202E" in error_of(opened.get_data(as_text=True), "e-purpose")
    assert whats(svc, company.eid) == []
    assert client.get(f"/officer/entities/{company.eid}").status_code == 403
    revealed = post(client, f"/officer/persons/{person.pid}/reveal", {"what": "id_number", "reason": "遗失\u2066"})
    page = revealed.get_data(as_text=True)
    assert revealed.status_code == 422 and "U+2066" in error_of(page, "e-reason") and person.id_number not in page
    assert whats(svc, person.pid) == logged


def test_the_window_refuses_a_nul_in_the_issuer_and_bidi_in_details_and_writes_nothing(app, svc):
    today = datetime.now(svc.settings.zone).date()
    baby = make_person(svc, name="陈小宝", born=today - timedelta(days=3))
    client = officer(app, svc)
    post(client, "/officer/search", {"number": baby.id_number, "purpose": PURPOSE})
    good = {"kind": "birth_certificate", "number": "Q440999888", "issued_on": baby.birth_date.isoformat(),
            "expires_on": "", "issuer": "佛山市妇幼保健院",
            "detail.birth_certificate.place_of_birth": "佛山市妇幼保健院"}
    before = snapshot(svc.driver, svc.settings.neo4j_database)
    for change, field, code in (({"issuer": "佛山市\x00妇幼保健院"}, "issuer", "U+0000"),
                                ({"issuer": "佛山市妇幼保健院\u202e"}, "issuer", "U+202E"),
                                ({"detail.birth_certificate.place_of_birth": "医院\u200d"},
                                 "detail.birth_certificate.place_of_birth", "U+200D")):
        answer = post(client, f"/officer/persons/{baby.pid}/materials", {**good, **change})
        assert answer.status_code == 422, change
        assert code in error_of(answer.get_data(as_text=True), f"m-e-{field}"), change
    for note, code in (("窗口登记\u202e", "U+202E"), ("a\u2029b", "U+2029")):
        answer = post(client, f"/officer/persons/{baby.pid}/events",
                      {"kind": "birth", "occurred_on": baby.birth_date.isoformat(), "note": note})
        assert answer.status_code == 422 and code in error_of(answer.get_data(as_text=True), "e-e-note")
    assert snapshot(svc.driver, svc.settings.neo4j_database) == before
    assert post(client, f"/officer/persons/{baby.pid}/materials",
                {**good, "issuer": "Cafe\u0301 妇幼保健院"}).status_code == 303
    (m,) = svc.holdings.materials("Person", baby.pid)
    assert m.issuer == "Café 妇幼保健院"  # kept NFC


def as_browser_sends(page: str, **typed: str) -> dict[str, str]:
    """The form's text inputs with what the page put in them (a browser posts them all), then what was typed."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) not in ("csrf_token", "confirm"):
            values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return {**values, **typed}


def errors_on(page: str) -> set[str]:
    return set(re.findall(r'<p class="error" id="e-(\w+)"', page))


def test_a_citizens_declared_value_with_a_bidi_override_is_refused_naming_the_field(app, svc, sandbox):
    phone = "+8613712340101"
    me = make_person(svc, phone=phone)
    today = datetime.now(svc.settings.zone).date()
    svc.holdings.add_material("Person", Material("m-card", me.pid, "id_card", "ID00001111", date(2016, 1, 1),
                                                 today + timedelta(days=30), "佛山市公安局禅城分局", "issued"))
    client = app.test_client()
    assert sign_in_citizen(client, sandbox, me.id_number, phone).status_code == 303
    path = f"/me/p/{me.pid}/apply/id_card_renewal"
    form = client.get(path).get_data(as_text=True)
    refused = post(client, path, as_browser_sends(form, address="广东省佛山市\u202e号1路庙祖", confirm="yes"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and errors_on(page) == {"address"}
    assert "含有不可见的控制字符（U+202E）" in error_of(page, "e-address")
    assert svc.portal.applications_of("Person", me.pid) == []
    filed = post(client, path, as_browser_sends(form, address="广东省佛山市祖庙路1号", confirm="yes"))
    assert filed.status_code == 303  # the same form with the character taken out goes through


def test_a_businesss_declared_value_with_a_zero_width_space_is_refused_naming_the_field(app, svc, sandbox):
    rep_phone = "+8613712345678"
    rep = make_person(svc, phone=rep_phone, name="陈大文")
    entity = make_entity(svc, legal_rep=rep)
    today = datetime.now(svc.settings.zone).date()
    svc.holdings.add_material("Entity", Material("m-permit", entity.eid, "food_business_permit", "JY14406040012345",
                                                 today - timedelta(days=5 * 365 - 60), today + timedelta(days=60),
                                                 "佛山市禅城区市场监督管理局", "issued",
                                                 {"premises": "禅城区季华五路1号"}))
    client = app.test_client()
    assert sign_in_business(client, sandbox, entity.uscc, rep_phone).status_code == 303
    path = "/biz/apply/food_business_permit_renewal"
    form = client.get(path).get_data(as_text=True)
    refused = post(client, path, as_browser_sends(form, conditions_changed="否\u200b", confirm="yes"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and errors_on(page) == {"conditions_changed"}
    assert "U+200B" in error_of(page, "e-conditions_changed")
    assert svc.portal.applications_of("Entity", entity.eid) == []
    assert post(client, path, as_browser_sends(form, conditions_changed="否", confirm="yes")).status_code == 303
