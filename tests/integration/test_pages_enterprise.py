"""The enterprise page with real Neo4j, Redis and the SMS sandbox: a business signs in and sees its register entry,
licences with expiry badges, its annual report and what is coming up; it reviews and submits a prefilled
application; it reads its reminders; and it never reaches another business's data (404, the attempt recorded)."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from datetime import date, datetime, timedelta

import pytest

from graph.notices import NoticeRow
from profiles.catalog import model
from profiles.models import LifeEvent, Material, Relation
from profiles.notices import dedupe_key
from profiles.privacy import mask_phone
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import (
    make_entity,
    make_person,
    post,
    sign_in_business,
    sign_in_citizen,
)

REP_PHONE, OTHER_PHONE = "+8613712345678", "+8613712340099"
ANNUAL, FOOD = "enterprise_annual_report", "food_business_permit_renewal"
PERMIT_NO, LICENCE_NO = "JY14406040012345", "914406047788990011"


def local_today(svc) -> date:
    return datetime.now(svc.settings.zone).date()


def business(svc, *, phone: str = REP_PHONE, name: str = "佛山市禅城区示例餐饮有限公司",
             established: date | None = None, rep_name: str = "陈大文"):
    rep = make_person(svc, phone=phone, name=rep_name)
    entity = make_entity(svc, name=name, established=established or date(local_today(svc).year - 6, 3, 1),
                         legal_rep=rep)
    return rep, entity


def material(svc, eid: str, kind: str, number: str, expires_on: date | None, issued_on: date) -> Material:
    return svc.holdings.add_material("Entity", Material(
        str(uuid.uuid4()), eid, kind, number, issued_on, expires_on, "佛山市禅城区市场监督管理局", "issued",
        {"premises": "禅城区季华五路1号"}))


def remind(svc, entity, rep, service: str, due_on: date, offset: int, channels=("inbox", "sms")) -> tuple[str, list]:
    """What the daily scan writes for a due item: its prefilled draft and one notice per channel to the rep."""
    draft_key = hashlib.sha256(f"test-draft|{entity.eid}|{service}|{due_on}".encode()).hexdigest()
    draft_aid = str(uuid.UUID(draft_key[:32]))
    rows = [NoticeRow(dedupe_key=dedupe_key(rep.pid, entity.eid, service, due_on, offset, channel),
                      nid=uuid.uuid4().hex[:18], kind="reminder", channel=channel, recipient_label="Person",
                      recipient_id=rep.pid, subject_label="Entity", subject_id=entity.eid, service=service,
                      due_on=due_on, offset_days=offset, draft_key=draft_key, draft_aid=draft_aid,
                      time_limit_days=svc.catalog.services[service].time_limit_days) for channel in channels]
    created = svc.notices.create(rows, "test-scan", datetime.now(svc.settings.zone))
    return draft_aid, [nid for nid, _, _ in created]


def signed_in(app, sandbox, entity, phone: str = REP_PHONE):
    client = app.test_client()
    assert sign_in_business(client, sandbox, entity.uscc, phone).status_code == 303
    return client


def section(page: str, anchor: str) -> str:
    found = re.search(rf'<section[^>]*id="{anchor}".*?</section>', page, re.S)
    assert found, f"no section #{anchor}"
    return found.group(0)


def row(page: str, attr: str, value: str) -> str | None:
    found = re.search(rf'<tr[^>]*{attr}="{value}".*?</tr>', page, re.S)
    return found.group(0) if found else None


def as_browser_sends(page: str, **typed: str) -> dict[str, str]:
    """The review form's inputs with what the page put in them (a browser posts them all), then what was typed."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) not in ("csrf_token", "confirm"):
            values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return {**values, **typed}


def food_permit_business(svc):
    """A restaurant whose food business permit expires in 60 days: its renewal is due and open now."""
    on = local_today(svc)
    rep, entity = business(svc)
    permit = material(svc, entity.eid, "food_business_permit", PERMIT_NO, on + timedelta(days=60),
                      on + timedelta(days=60) - timedelta(days=5 * 365))
    licence = material(svc, entity.eid, "business_licence", LICENCE_NO, None, date(on.year - 6, 3, 1))
    return rep, entity, permit, licence


# --- the page ---------------------------------------------------------------------------------------------------
def test_the_business_sees_its_register_entry_and_the_people_linked_to_it_without_their_id_numbers(app, svc, sandbox):
    rep, entity = business(svc)
    holder = make_person(svc, name="王股东", born=date(1970, 1, 2))
    svc.subjects.relate(Relation(holder.pid, entity.eid, "SHAREHOLDER_OF"))
    client = app.test_client()
    assert client.get("/biz").headers["Location"].startswith("/biz/login")
    client = signed_in(app, sandbox, entity)
    page = client.get("/biz").get_data(as_text=True)
    assert f'<h1>{entity.name}</h1>' in page and page.count("<h1") == 1
    assert f'<dd id="uscc">{entity.uscc}</dd>' in page  # the credit code is public: shown in full
    assert entity.established_on.isoformat() in page
    people = section(page, "people")
    assert "陈大文" in people and "王股东" in people
    for secret in (rep.id_number, holder.id_number, REP_PHONE, REP_PHONE[3:]):
        assert secret not in page
    assert "年度报告" in page and "企业关联人员" in page  # zh-CN first
    client.get("/lang/en")
    english = client.get("/biz").get_data(as_text=True)
    assert "Annual report" in english and "People linked to the business" in english and "年度报告" not in english


def test_licences_show_expiry_badges_masked_numbers_and_their_source(app, svc, sandbox):
    on = local_today(svc)
    _rep, entity = business(svc)
    old = material(svc, entity.eid, "food_business_permit", "JY1440604OLD0001", on + timedelta(days=40),
                   on - timedelta(days=5 * 365 - 40))
    permit = material(svc, entity.eid, "food_business_permit", PERMIT_NO, on + timedelta(days=45),
                      on - timedelta(days=5 * 365 - 45))
    licence = material(svc, entity.eid, "business_licence", LICENCE_NO, on - timedelta(days=3), date(on.year - 6, 3, 1))
    page = signed_in(app, sandbox, entity).get("/biz").get_data(as_text=True)
    licences = section(page, "licences")
    assert 'class="badge expiring"' in row(licences, "data-mid", permit.mid)
    assert 'class="badge expired"' in row(licences, "data-mid", licence.mid)
    assert 'class="badge issued"' in row(licences, "data-mid", permit.mid)
    assert (on + timedelta(days=45)).isoformat() in row(licences, "data-mid", permit.mid)
    assert row(licences, "data-mid", old.mid) is None and 'class="badge superseded"' in licences  # under "earlier"
    assert "JY************45" in licences
    for number in (PERMIT_NO, LICENCE_NO, "JY1440604OLD0001"):
        assert number not in page


def test_the_annual_report_is_due_in_its_window_and_filed_once_the_register_has_it(app, svc, sandbox):
    on = local_today(svc)
    window = next(t for t in svc.catalog.services[ANNUAL].triggers if isinstance(t, model.YearlyTrigger))
    opens, closes = window.window_from.in_year(on.year), window.window_to.in_year(on.year)
    _rep, entity = business(svc, established=date(on.year - 4, 5, 20))
    client = signed_in(app, sandbox, entity)
    page = client.get("/biz").get_data(as_text=True)
    report, coming = section(page, "annual-report"), section(page, "coming-up")
    annual = row(coming, "data-service", ANNUAL)
    if opens <= on <= closes:  # the window is open and nothing is filed: due, with the days left
        assert 'data-state="due"' in report and closes.isoformat() in report
        assert f"{(closes - on).days}" in report and str(on.year - 1) in report
        assert "/biz/apply/" + ANNUAL in annual
    else:  # this year's window has closed unfiled (or is still ahead): the next window is announced
        assert 'data-state="missed"' in report or 'data-state="waiting"' in report
        following = window.window_from.in_year(on.year + 1) if on > closes else opens
        assert following.isoformat() in report + annual and "/biz/apply/" not in annual
    if on < opens:
        return  # nothing can have been filed in a window that has not opened
    svc.holdings.add_event("Entity", LifeEvent(str(uuid.uuid4()), entity.eid, "annual_report", opens,
                                               {"year": on.year - 1}))
    page = client.get("/biz").get_data(as_text=True)
    report = section(page, "annual-report")
    assert 'data-state="filed"' in report and opens.isoformat() in report
    assert window.window_from.in_year(on.year + 1).isoformat() in report
    if on <= closes:  # filed: this year's item is settled and leaves "coming up"
        assert row(section(page, "coming-up"), "data-service", ANNUAL) is None


def test_a_business_established_this_year_is_told_when_its_first_report_is_due(app, svc, sandbox):
    on = local_today(svc)
    _rep, entity = business(svc, established=date(on.year, 1, 1))
    report = section(signed_in(app, sandbox, entity).get("/biz").get_data(as_text=True), "annual-report")
    window = next(t for t in svc.catalog.services[ANNUAL].triggers if isinstance(t, model.YearlyTrigger))
    assert 'data-state="first"' in report and window.window_to.in_year(on.year + 1).isoformat() in report


# --- applying -------------------------------------------------------------------------------------------------
def test_the_business_reviews_and_submits_the_prefilled_draft_and_the_item_leaves_coming_up(app, svc, sandbox):
    rep, entity, permit, licence = food_permit_business(svc)
    due = permit.expires_on
    aid, _nids = remind(svc, entity, rep, FOOD, due, 60)
    client = signed_in(app, sandbox, entity)
    home = client.get("/biz").get_data(as_text=True)
    assert f"/biz/applications/{aid}" in row(section(home, "coming-up"), "data-service", FOOD)

    review = client.get(f"/biz/applications/{aid}")
    page = review.get_data(as_text=True)
    assert review.status_code == 200
    assert re.search(rf'id="f-entity_name" type="text" value="{entity.name}" readonly', page)  # issued: locked
    assert 'id="f-legal_rep_id_number" type="text" value="440604**********' in page
    assert re.search(r'id="f-food_business_permit_number" type="text" value="JY\*+45" readonly', page)
    assert 'name="conditions_changed"' in page and 'name="entity_name"' not in page  # declared: editable
    assert mask_phone(REP_PHONE) in page  # the phone on file, masked, kept when the box stays empty
    for secret in (rep.id_number, REP_PHONE, REP_PHONE[3:], PERMIT_NO, LICENCE_NO):
        assert secret not in page
    assert 'data-kind="food_business_permit" data-state="reusable"' in page
    assert 'data-kind="business_licence" data-state="reusable"' in page
    assert 'type="checkbox"' in page and 'for="f-confirm"' in page

    assert as_browser_sends(page)["legal_rep_name"] == "陈大文"  # declared (no ID card on file): editable
    unconfirmed = post(client, f"/biz/applications/{aid}", as_browser_sends(page, conditions_changed="否"))
    assert unconfirmed.status_code == 422 and 'id="e-confirm"' in unconfirmed.get_data(as_text=True)
    assert svc.applications.get(aid).status == "draft"

    sent = post(client, f"/biz/applications/{aid}", as_browser_sends(page, conditions_changed="否", phone="",
                                                                      confirm="yes", entity_name="篡改的名称"))
    assert sent.status_code == 303 and sent.headers["Location"] == f"/biz/applications/{aid}"
    filed = svc.applications.get(aid)
    assert filed.status == "submitted" and filed.submitted_on == local_today(svc)
    assert filed.fields["entity_name"] == entity.name  # a locked value is taken from the file, whatever was posted
    assert filed.fields["phone"] == REP_PHONE and filed.fields["conditions_changed"] == "否"
    assert set(filed.reused) == {permit.mid, licence.mid}
    summary = client.get(f"/biz/applications/{aid}").get_data(as_text=True)
    assert 'id="application-status"' in summary and filed.decide_by.isoformat() in summary
    assert REP_PHONE not in summary and rep.id_number not in summary and mask_phone(REP_PHONE) in summary

    home = client.get("/biz").get_data(as_text=True)
    assert row(section(home, "coming-up"), "data-service", FOOD) is None
    assert row(section(home, "applications"), "data-aid", aid) is not None
    again = post(client, f"/biz/applications/{aid}", as_browser_sends(page, conditions_changed="是", confirm="yes"))
    assert again.status_code == 303 and svc.applications.get(aid).fields["conditions_changed"] == "否"


def test_a_due_item_without_a_draft_is_applied_for_from_the_catalog_form(app, svc, sandbox):
    _rep, entity, _permit, _licence = food_permit_business(svc)
    client = signed_in(app, sandbox, entity)
    assert f"/biz/apply/{FOOD}" in row(section(client.get("/biz").get_data(as_text=True), "coming-up"),
                                       "data-service", FOOD)
    form = client.get(f"/biz/apply/{FOOD}")
    assert form.status_code == 200
    sent = post(client, f"/biz/apply/{FOOD}", as_browser_sends(form.get_data(as_text=True), conditions_changed="否",
                                                                confirm="yes"))
    assert sent.status_code == 303
    aid = sent.headers["Location"].rsplit("/", 1)[1]
    filed = svc.applications.get(aid)
    assert (filed.subject_id, filed.service, filed.status) == (entity.eid, FOOD, "submitted")
    assert row(section(client.get("/biz").get_data(as_text=True), "coming-up"), "data-service", FOOD) is None


def test_bad_input_on_the_application_form_is_422_naming_the_field_and_nothing_is_written(app, svc, sandbox):
    rep, entity, permit, _licence = food_permit_business(svc)
    aid, _ = remind(svc, entity, rep, FOOD, permit.expires_on, 60)
    client = signed_in(app, sandbox, entity)
    form = client.get(f"/biz/applications/{aid}").get_data(as_text=True)
    for bad, field in (({"conditions_changed": "否" * 201}, "conditions_changed"),
                       ({"conditions_changed": "否\x07"}, "conditions_changed"),
                       ({"conditions_changed": "   "}, "conditions_changed"),
                       ({"conditions_changed": "否", "legal_rep_name": ""}, "legal_rep_name"),
                       ({"conditions_changed": "否", "phone": "1" * 300}, "phone")):
        answer = post(client, f"/biz/applications/{aid}", as_browser_sends(form, **bad, confirm="yes"))
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422, bad
        assert f'id="e-{field}"' in page and re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', page, re.S)
        assert svc.applications.get(aid).status == "draft"
    direct = post(client, f"/biz/apply/{FOOD}", as_browser_sends(form, conditions_changed="", confirm="yes"))
    assert direct.status_code == 422 and 'id="e-conditions_changed"' in direct.get_data(as_text=True)
    assert [a["status"] for a in svc.portal.applications_of("Entity", entity.eid)] == ["draft"]


def test_only_business_services_can_be_applied_for_and_only_when_their_window_is_open(app, svc, sandbox):
    on = local_today(svc)
    _rep, entity = business(svc)
    material(svc, entity.eid, "food_business_permit", PERMIT_NO, on + timedelta(days=400), on - timedelta(days=1000))
    client = signed_in(app, sandbox, entity)
    before = len(svc.portal.refusals())
    assert client.get("/biz/apply/id_card_renewal").status_code == 404  # a citizens' service
    assert client.get("/biz/apply/no_such_service").status_code == 404
    assert len(svc.portal.refusals()) == before + 2
    assert client.get(f"/biz/apply/{FOOD}").status_code == 200  # not due: explained, no form
    refused = post(client, f"/biz/apply/{FOOD}", {"conditions_changed": "否", "confirm": "yes"})
    assert refused.status_code == 409 and svc.portal.applications_of("Entity", entity.eid) == []


# --- notices --------------------------------------------------------------------------------------------------
def test_notices_about_the_business_are_listed_marked_read_and_lead_to_the_draft(app, svc, sandbox):
    rep, entity, permit, _licence = food_permit_business(svc)
    aid, (inbox, sms) = remind(svc, entity, rep, FOOD, permit.expires_on, 60)
    own = svc.notices.create([NoticeRow(  # a reminder to the legal rep about himself is not the business's
        dedupe_key=dedupe_key(rep.pid, rep.pid, "passport_renewal", permit.expires_on, 90, "inbox"),
        nid=uuid.uuid4().hex[:18], kind="reminder", channel="inbox", recipient_label="Person", recipient_id=rep.pid,
        subject_label="Person", subject_id=rep.pid, service="passport_renewal", due_on=permit.expires_on,
        offset_days=90, draft_key=None, draft_aid=None)], "test-scan", datetime.now(svc.settings.zone))[0][0]
    client = signed_in(app, sandbox, entity)
    notices = section(client.get("/biz").get_data(as_text=True), "notices")
    assert 'class="unread"' in row(notices, "data-nid", inbox) and row(notices, "data-nid", sms)
    assert "陈大文" in row(notices, "data-nid", inbox) and row(notices, "data-nid", own) is None

    marked = post(client, f"/biz/notices/{inbox}/read")
    assert marked.status_code == 303 and svc.notices.get(inbox).read_at is not None
    assert 'class="unread"' not in row(section(client.get("/biz").get_data(as_text=True), "notices"),
                                       "data-nid", inbox)

    landing = client.get(f"/biz/notices/{sms}")
    assert landing.status_code == 303 and landing.headers["Location"] == f"/biz/applications/{aid}"
    assert svc.notices.get(sms).read_at is not None
    assert client.get(f"/biz/notices/{own}").status_code == 404  # about a person, not this business


# --- isolation --------------------------------------------------------------------------------------------------
def test_a_business_cannot_reach_another_business_s_data_by_changing_ids(app, svc, sandbox):
    _rep_a, a, permit_a, _ = food_permit_business(svc)
    rep_b, b = business(svc, phone=OTHER_PHONE, name="佛山市南海区另一家有限公司", rep_name="李四")
    permit_b = material(svc, b.eid, "food_business_permit", "JY24406050000077", permit_a.expires_on,
                        permit_a.issued_on)
    aid_b, (nid_b, _) = remind(svc, b, rep_b, FOOD, permit_b.expires_on, 60)
    client = signed_in(app, sandbox, a)
    page = client.get("/biz").get_data(as_text=True)
    for theirs in (b.name, b.uscc, aid_b, nid_b, "李四"):
        assert theirs not in page
    before = len(svc.portal.refusals())
    attempts = [
        client.get(f"/biz/applications/{aid_b}"),
        post(client, f"/biz/applications/{aid_b}", {"conditions_changed": "否", "confirm": "yes"}),
        client.get(f"/biz/notices/{nid_b}"),
        post(client, f"/biz/notices/{nid_b}/read"),
        client.get(f"/biz/applications/{uuid.uuid4()}"),
    ]
    assert [r.status_code for r in attempts] == [404] * 5
    refusals = svc.portal.refusals()
    assert len(refusals) == before + 5
    assert {r.path for r in refusals[:5]} >= {f"/biz/applications/{aid_b}", f"/biz/notices/{nid_b}",
                                              f"/biz/notices/{nid_b}/read"}
    assert all(r.role == "business" and a.eid in r.actor for r in refusals[:5])
    assert svc.applications.get(aid_b).status == "draft" and svc.notices.get(nid_b).read_at is None


def test_the_business_pages_are_for_businesses_only(app, svc, sandbox):
    rep, _entity = business(svc)
    citizen = app.test_client()
    assert sign_in_citizen(citizen, sandbox, rep.id_number, REP_PHONE).status_code == 303
    assert citizen.get("/biz").headers["Location"].startswith("/biz/login")
    assert citizen.get("/biz/access-log").status_code == 303


def test_the_access_log_shows_who_looked_at_the_business_and_why(app, svc, sandbox):
    from profiles.models import Actor

    _rep, entity = business(svc)
    officer = Actor("李工作 · 禅城区市场监管所 (window1)", "officer")
    svc.access_log.record(officer, "Entity", entity.eid, "食品经营许可延续受理", "entity")
    svc.access_log.record(officer, "Entity", entity.eid, "食品经营许可延续受理", "prefill food_business_permit_renewal")
    page = signed_in(app, sandbox, entity).get("/biz/access-log")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "食品经营许可延续受理" in text and "李工作" in text and "window1" not in text
    assert len(re.findall(r"<tr>\s*<td data-label", text)) == 1  # one visit
    assert "读取了贵企业的登记信息，预填了食品经营许可延续的表单" in text


# --- the annual report's state on any day of the year (the page's rule, on fixed dates) -------------------------
@pytest.mark.parametrize("day, established, events, submitted, expected", [
    (date(2025, 2, 10), date(2019, 5, 1), [], [], ("due", 2024, date(2025, 6, 30), 140, None)),
    (date(2025, 6, 30), date(2019, 5, 1), [], [], ("due", 2024, date(2025, 6, 30), 0, None)),
    (date(2025, 3, 1), date(2019, 5, 1), [date(2024, 3, 1)], [], ("due", 2024, date(2025, 6, 30), 121, None)),
    (date(2025, 3, 1), date(2019, 5, 1), [date(2025, 2, 1)], [], ("filed", 2024, date(2025, 6, 30), None,
                                                                  date(2025, 2, 1))),
    (date(2025, 3, 1), date(2019, 5, 1), [], [date(2025, 2, 15)], ("filed", 2024, date(2025, 6, 30), None,
                                                                   date(2025, 2, 15))),
    (date(2025, 7, 1), date(2019, 5, 1), [], [], ("missed", 2024, date(2025, 6, 30), None, None)),
    (date(2025, 12, 31), date(2019, 5, 1), [date(2025, 6, 30)], [], ("filed", 2024, date(2025, 6, 30), None,
                                                                     date(2025, 6, 30))),
    (date(2025, 3, 1), date(2025, 1, 15), [], [], ("first", 2025, date(2026, 6, 30), None, None)),
    (date(2025, 3, 1), date(2024, 12, 31), [], [], ("due", 2024, date(2025, 6, 30), 121, None)),
])
def test_the_annual_report_state_follows_the_catalog_window(svc, day, established, events, submitted, expected):
    from profiles.models import Entity
    from profiles.rules import Applied, Snapshot, due_items
    from web.pages.enterprise_view import annual_report

    entity = Entity("e1", "91440604MA4W00000X", "示例", "limited_company", established)
    snapshot = Snapshot(entity=entity, events=tuple(LifeEvent(f"ev{i}", "e1", "annual_report", d, {})
                                                    for i, d in enumerate(events)),
                        applications=tuple(Applied(ANNUAL, d) for d in submitted))
    got = annual_report(snapshot, svc.catalog, due_items(snapshot, svc.catalog, day), day)
    assert (got.state, got.report_year, got.due_on, got.days_left, got.filed_on) == expected
    if got.state in ("filed", "missed"):
        assert got.next_opens_on == date(day.year + 1, 1, 1)


def test_a_session_ends_its_reach_when_the_register_names_another_legal_representative(app, svc, sandbox):
    rep, entity = business(svc)
    client = signed_in(app, sandbox, entity)
    assert client.get("/biz").status_code == 200
    svc.driver.execute_query(  # the register changed: no API removes a relation, so the test does it directly
        "MATCH (:Person {pid: $pid})-[r:LEGAL_REP_OF]->(:Entity {eid: $eid}) DELETE r", pid=rep.pid, eid=entity.eid,
        database_=svc.settings.neo4j_database)
    before = len(svc.portal.refusals())
    assert client.get("/biz").status_code == 403
    assert len(svc.portal.refusals()) == before + 1
