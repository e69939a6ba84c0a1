"""The enterprise pages in plain words (issue 18): why an item is due from catalog names, a yearly window without a
year inside "every year", what to bring apart from what is on file, plurals that agree, and forms that answer a
mistake with a summary at the top naming each field and keep what was typed."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, timedelta

from profiles.models import LifeEvent
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_person, post
from tests.integration.test_pages_enterprise import (
    ANNUAL,
    FOOD,
    LICENCE_NO,
    PERMIT_NO,
    as_browser_sends,
    business,
    local_today,
    material,
    row,
    section,
    signed_in,
)

SOCIAL = "employee_social_insurance_registration"


def restaurant(svc):
    """A food business permit expiring in 60 days (its renewal is open) and a business licence expired 3 days ago."""
    on = local_today(svc)
    rep, entity = business(svc)
    permit = material(svc, entity.eid, "food_business_permit", PERMIT_NO, on + timedelta(days=60),
                      on + timedelta(days=60) - timedelta(days=5 * 365))
    licence = material(svc, entity.eid, "business_licence", LICENCE_NO, on - timedelta(days=3), date(on.year - 6, 3, 1))
    return rep, entity, permit, licence


def summary_links(page: str) -> list[tuple[str, str]]:
    found = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert found, "no error summary"
    return [(href, html.unescape(re.sub(r"<[^>]+>", "", text)).strip())
            for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', found.group(0), re.S)]


def test_why_an_item_is_due_is_said_in_words_and_every_year_has_no_year(app, svc, sandbox):
    _rep, entity, permit, _licence = restaurant(svc)
    client = signed_in(app, sandbox, entity)
    page = client.get("/biz").get_data(as_text=True)
    coming = section(page, "coming-up")
    annual, food = row(coming, "data-service", ANNUAL), row(coming, "data-service", FOOD)
    assert "每年1月1日至6月30日" in annual and "每年1月1日至6月30日" in section(page, "annual-report")
    assert re.search(rf"食品经营许可证将于\s*{permit.expires_on.isoformat()}\s*到期", food)
    assert not re.search(r"每年\s*\d{4}", page)
    client.get("/lang/en")
    english = client.get("/biz").get_data(as_text=True)
    assert "every year from 1 January to 30 June" in row(section(english, "coming-up"), "data-service", ANNUAL)
    assert not re.search(r"every year\D{0,6}\d{4}", english)
    for code in ("@v1", ":yearly", ":expiry"):
        assert code not in page and code not in english


def test_what_to_bring_is_one_list_and_what_is_on_file_another(app, svc, sandbox):
    _rep, entity, _permit, licence = restaurant(svc)
    client = signed_in(app, sandbox, entity)
    page = client.get(f"/biz/apply/{FOOD}").get_data(as_text=True)
    bring = re.search(r'<ul class="biz-materials" id="bring".*?</ul>', page, re.S).group(0)
    on_file = re.search(r'<ul class="biz-materials" id="on-file".*?</ul>', page, re.S).group(0)
    assert 'data-kind="business_licence" data-state="expiring_before_decision"' in bring
    assert f"已于{licence.expires_on.isoformat()}过期" in bring and "无需携带" not in bring
    assert 'data-kind="food_business_permit" data-state="reusable"' in on_file and "营业执照" not in on_file


def test_plurals_agree_in_english(app, svc, sandbox):
    _rep, entity, _permit, _licence = restaurant(svc)
    client = signed_in(app, sandbox, entity)
    client.get("/lang/en")
    annual = client.get(f"/biz/apply/{ANNUAL}").get_data(as_text=True)  # due, or overdue and filed late
    assert "Decided within 1 working day, by" in annual and "1 working days" not in annual
    assert "Decided within 10 working days, by" in client.get(f"/biz/apply/{FOOD}").get_data(as_text=True)


def test_a_mistake_is_summed_up_at_the_top_naming_the_field_and_what_was_typed_is_kept(app, svc, sandbox):
    _rep, entity, _permit, _licence = restaurant(svc)
    client = signed_in(app, sandbox, entity)
    form = client.get(f"/biz/apply/{FOOD}").get_data(as_text=True)
    answer = post(client, f"/biz/apply/{FOOD}", as_browser_sends(form, conditions_changed="", phone="13900001111",
                                                                 legal_rep_name="陈大文"))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    links = summary_links(page)
    assert ("#f-conditions_changed", "请填写“经营条件是否发生变化”") in links
    assert ("#f-confirm", "提交前请勾选下方的确认框") in links
    assert re.search(r'id="f-phone" name="phone" type="text" value="13900001111"', page)  # a new value typed: kept
    assert page.index('class="error-summary"') < page.index("<h1")

    answer = post(client, f"/biz/apply/{FOOD}", as_browser_sends(form, conditions_changed="否\x07", confirm="yes"))
    page = answer.get_data(as_text=True)
    assert [href for href, _text in summary_links(page)] == ["#f-conditions_changed"]
    assert re.search(r'id="f-confirm"[^>]*checked', page)  # the tick is kept too


def test_withdrawing_without_a_reason_is_summed_up_at_the_top(app, svc, sandbox):
    _rep, entity, _permit, _licence = restaurant(svc)
    client = signed_in(app, sandbox, entity)
    form = client.get(f"/biz/apply/{FOOD}").get_data(as_text=True)
    sent = post(client, f"/biz/apply/{FOOD}", as_browser_sends(form, conditions_changed="否", confirm="yes"))
    aid = sent.headers["Location"].rsplit("/", 1)[1]
    answer = post(client, f"/biz/applications/{aid}/withdraw", {"reason": " ", "confirm": "yes"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert summary_links(page) == [("#f-reason", "请填写撤回申请的原因")]
    assert re.search(r'id="f-confirm"[^>]*checked', page)
    assert svc.applications.get(aid).status == "submitted"


def test_an_item_that_follows_an_event_names_the_event(app, svc, sandbox):
    _rep, entity, _permit, _licence = restaurant(svc)
    employee = make_person(svc, name="李职工", born=date(1995, 4, 1))
    hired = local_today(svc) - timedelta(days=5)
    svc.holdings.add_event("Entity", LifeEvent(str(uuid.uuid4()), entity.eid, "hiring", hired,
                                               {"employee_pid": employee.pid}))
    client = signed_in(app, sandbox, entity)
    said = row(section(client.get("/biz").get_data(as_text=True), "coming-up"), "data-service", SOCIAL)
    assert f"因{hired.isoformat()}的招用职工而办理" in said and "event:" not in said
    client.get("/lang/en")
    said = row(section(client.get("/biz").get_data(as_text=True), "coming-up"), "data-service", SOCIAL)
    assert f"Follows an event: Hiring an employee on {hired.isoformat()}" in said
