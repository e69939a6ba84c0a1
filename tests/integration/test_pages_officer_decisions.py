"""Deciding from the queue and the receipt of a filing, on the officer's pages with real Neo4j and Redis: only the
service's department decides, each decision after a stated purpose and a recorded read, a note where the law wants
one, never twice; every filing at the window gets a printable receipt (受理回执), one for several services."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

import pytest

from graph.notices import NoticeRow
from profiles.applications import decide_by
from profiles.models import Actor, Application, Material, Relation
from profiles.notices import dedupe_key
from profiles.privacy import mask_id_number, mask_phone, mask_text
from tests.integration.api_helpers import snapshot
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_officer, make_person, post, sign_in_officer
from web.usecases.applications import decide, withdraw

POLICE = "公安机关（户籍派出所）"  # decides id_card_renewal
SCHOOLS = "县（区）教育行政部门"  # decides primary_school_entry, not identity cards
CENTRE = "禅城区行政服务中心"  # the one-stop centre: files at the window, decides nothing itself
PURPOSE = "审批居民身份证换领申请"
TODAY = date.today()


def officer(app, svc, username: str, department: str, name: str = "王审批", role: str = "officer"):
    make_officer(svc, username=username, role=role, department=department, name=name)
    client = app.test_client()
    assert sign_in_officer(client, username).status_code == 303
    return client


def filed(svc, person, service: str = "id_card_renewal") -> Application:
    on = TODAY
    limit = svc.catalog.services[service].time_limit_days
    app = Application(str(uuid.uuid4()), "Person", person.pid, service, "submitted", on, on, limit,
                      decide_by(on, limit), {"reason": "有效期满", "phone": "13812345678"}, ())
    return svc.applications.file(app, Actor("市民网上申请", "citizen"))


def open_with_purpose(client, person, purpose: str = PURPOSE):
    answer = post(client, f"/officer/persons/{person.pid}/open", {"purpose": purpose})
    assert answer.status_code == 303


def whats(svc, sid: str) -> list[tuple[str, str]]:
    return [(r.what, r.purpose) for r in svc.access_log.for_subject(sid)]


@pytest.fixture
def case(app, svc):
    person = make_person(svc, name="欧阳明", phone="+8613712345601")
    return {"person": person, "app": filed(svc, person)}


# --- the queue ---------------------------------------------------------------------------------------------------
def test_the_queue_names_a_person_once_a_purpose_is_stated_with_the_masked_number_and_a_decide_button(app, svc,
                                                                                                      case):
    person, application = case["person"], case["app"]
    client = officer(app, svc, "police1", POLICE)
    page = client.get("/officer/queue").get_data(as_text=True)
    assert mask_id_number(person.id_number) in page and "欧阳明" not in page  # a list reads no record
    assert f"/officer/persons/{person.pid}/open" in page and f"/officer/applications/{application.aid}" not in page
    assert svc.access_log.for_subject(person.pid) == []
    open_with_purpose(client, person)
    page = client.get("/officer/queue").get_data(as_text=True)
    assert "欧阳明" in page and mask_id_number(person.id_number) in page and person.id_number not in page
    assert f'href="/officer/applications/{application.aid}/decision"' in page
    assert ("listed in the application queue", PURPOSE) in whats(svc, person.pid)  # the name shown is a read


def test_a_one_stop_centre_officer_sees_the_queue_but_gets_no_decide_button(app, svc, case):
    client = officer(app, svc, "window1", CENTRE)
    open_with_purpose(client, case["person"])
    page = client.get("/officer/queue").get_data(as_text=True)
    assert "欧阳明" in page and "/decision" not in page


# --- deciding ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("outcome", "note"), [("approved", ""),
                                               ("needs_correction", "请补交近期免冠照片；住址栏填写不完整"),
                                               ("rejected", "申请人不符合换领条件")])
def test_an_officer_of_the_department_decides_from_the_queue(app, svc, case, outcome, note):
    person, application = case["person"], case["app"]
    client = officer(app, svc, "police1", POLICE)
    open_with_purpose(client, person)
    url = f"/officer/applications/{application.aid}/decision"
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "欧阳明" in text and application.number in text
    assert mask_phone("13812345678") in text and "13812345678" not in text  # the form's numbers masked
    assert (f"application {application.number} (decision page)", PURPOSE) in whats(svc, person.pid)
    answer = post(client, url, {"outcome": outcome, "note": note})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/officer/queue")
    decided = svc.applications.get(application.aid)
    assert decided.status == outcome and decided.decided_on is not None and (decided.note or "") == note
    last = svc.applications.history(application.aid)[-1]
    assert (last.before, last.after, last.role) == ("submitted", outcome, "officer")
    assert "王审批" in last.actor and POLICE in last.actor and (last.note or "") == note
    assert (f"decision {outcome} on application {application.number}", PURPOSE) in whats(svc, person.pid)
    queue = client.get("/officer/queue").get_data(as_text=True)
    assert application.number in queue and application.aid not in queue  # the flash names it; the row is gone


def test_a_supervisor_decides_any_department_s_application(app, svc, case):
    client = officer(app, svc, "chief1", CENTRE, role="supervisor")
    open_with_purpose(client, case["person"])
    answer = post(client, f"/officer/applications/{case['app'].aid}/decision", {"outcome": "approved", "note": ""})
    assert answer.status_code == 303 and svc.applications.get(case["app"].aid).status == "approved"


@pytest.mark.parametrize("department", [SCHOOLS, CENTRE])
def test_an_officer_of_another_department_is_refused_and_nothing_changes(app, svc, case, department):
    person, application = case["person"], case["app"]
    client = officer(app, svc, "other1", department)
    open_with_purpose(client, person)  # even with a purpose: the decision is the department's
    reads = len(svc.access_log.for_subject(person.pid))
    before = snapshot(svc.driver, svc.settings.neo4j_database)
    url = f"/officer/applications/{application.aid}/decision"
    for answer in (client.get(url), post(client, url, {"outcome": "approved", "note": "同意"})):
        assert answer.status_code == 403 and "欧阳明" not in answer.get_data(as_text=True)
        refusal = svc.portal.refusals()[0]
        assert refusal.path == url and "id_card_renewal" in refusal.reason and "王审批" in refusal.actor
    nodes, rels = snapshot(svc.driver, svc.settings.neo4j_database)
    assert [n for n in nodes if "Refusal" not in n] == [n for n in before[0] if "Refusal" not in n]
    assert rels == before[1] and len(svc.access_log.for_subject(person.pid)) == reads
    assert svc.applications.get(application.aid).status == "submitted"


def test_without_a_purpose_the_decision_page_and_the_decision_are_refused(app, svc, case):
    client = officer(app, svc, "police1", POLICE)
    url = f"/officer/applications/{case['app'].aid}/decision"
    for answer in (client.get(url), post(client, url, {"outcome": "approved", "note": ""})):
        assert answer.status_code == 403 and "欧阳明" not in answer.get_data(as_text=True)
        assert "no purpose stated" in svc.portal.refusals()[0].reason
    assert svc.applications.get(case["app"].aid).status == "submitted"
    assert svc.access_log.for_subject(case["person"].pid) == []


@pytest.mark.parametrize(("outcome", "note", "field"), [
    ("needs_correction", "", "e-note-needs_correction"), ("rejected", "   ", "e-note-rejected"),
    ("rejected", "理由\u202e", "e-note-rejected"), ("rejected", "长" * 501, "e-note-rejected"),
    ("withdrawn", "想撤回", None), ("", "", None)])
def test_a_return_or_a_rejection_needs_a_note_and_a_bad_request_changes_nothing(app, svc, case, outcome, note, field):
    client = officer(app, svc, "police1", POLICE)
    open_with_purpose(client, case["person"])
    answer = post(client, f"/officer/applications/{case['app'].aid}/decision", {"outcome": outcome, "note": note})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert f'id="{field}"' in text if field else "请选择准予批准、退回补正或不予批准" in text
    assert svc.applications.get(case["app"].aid).status == "submitted"
    assert [t.after for t in svc.applications.history(case["app"].aid)] == ["submitted"]


def test_a_second_decision_is_refused_with_a_clear_message(app, svc, case):
    person, application = case["person"], case["app"]
    client = officer(app, svc, "police1", POLICE)
    open_with_purpose(client, person)
    url = f"/officer/applications/{application.aid}/decision"
    assert post(client, url, {"outcome": "rejected", "note": "不符合条件"}).status_code == 303
    again = post(client, url, {"outcome": "approved", "note": ""})
    text = again.get_data(as_text=True)
    assert again.status_code == 409 and "未重复审批" in text and "不予批准" in text
    assert svc.applications.get(application.aid).status == "rejected"
    assert [t.after for t in svc.applications.history(application.aid)] == ["submitted", "rejected"]
    page = client.get(url).get_data(as_text=True)  # the page says there is nothing to decide, offers no form
    assert "无需审批" in page and 'name="outcome"' not in page


def test_a_withdrawal_meanwhile_is_a_conflict_too(app, svc, case):
    client = officer(app, svc, "police1", POLICE)
    open_with_purpose(client, case["person"])
    url = f"/officer/applications/{case['app'].aid}/decision"
    assert client.get(url).status_code == 200
    withdraw(svc, Actor("citizen", "citizen"), case["app"].aid, "不需要了")
    again = post(client, url, {"outcome": "approved", "note": ""})
    assert again.status_code == 409 and "已撤回" in again.get_data(as_text=True)
    assert svc.applications.get(case["app"].aid).status == "withdrawn"


def test_an_unknown_application_is_not_found(app, svc):
    client = officer(app, svc, "police1", POLICE)
    assert client.get(f"/officer/applications/{uuid.uuid4()}/decision").status_code == 404
    assert client.get(f"/officer/applications/{uuid.uuid4()}/receipt").status_code == 404


# --- the profile's applications ----------------------------------------------------------------------------------
def draft(svc, person, service: str, offset: int) -> str:
    """A prefilled draft as the daily scan leaves it with a reminder."""
    due, aid = TODAY + timedelta(days=30), str(uuid.uuid4())
    svc.notices.create([NoticeRow(dedupe_key(person.pid, person.pid, service, due, offset, "inbox"),
                                  uuid.uuid4().hex[:18], "reminder", "inbox", "Person", person.pid, "Person",
                                  person.pid, service, due, offset, f"draft-{aid}", aid, time_limit_days=10)],
                       "scan-test", datetime.now(svc.settings.zone))
    return aid


def test_the_profile_says_every_status_in_words_with_a_receipt_for_each_filing(app, svc):
    person = make_person(svc, name="欧阳明")
    returned, gone = filed(svc, person, "id_card_renewal"), filed(svc, person, "passport_renewal")
    decide(svc, Actor("王审批", "officer"), returned.aid, "needs_correction", "补交照片", TODAY)
    withdraw(svc, Actor("citizen", "citizen"), gone.aid, "不需要了")
    drafts = [draft(svc, person, "driving_licence_renewal", n) for n in (30, 7)]
    adopted = filed(svc, person, "driving_licence_renewal")  # adopts one draft, settles the other
    assert adopted.aid in drafts
    client = officer(app, svc, "window1", CENTRE)
    open_with_purpose(client, person)
    page = client.get(f"/officer/persons/{person.pid}").get_data(as_text=True)
    for words in ("需补正", "已撤回", "已由正式申请办理", "已提交"):
        assert words in page, words
    for a in (returned, gone, adopted):
        assert f"/officer/applications/{a.aid}/receipt" in page
    (settled,) = set(drafts) - {adopted.aid}
    assert f"/officer/applications/{settled}/receipt" not in page  # nothing was filed as it


def test_the_profile_lists_each_application_with_its_number(app, svc, case):
    client = officer(app, svc, "window1", CENTRE)
    open_with_purpose(client, case["person"])
    assert case["app"].number in client.get(f"/officer/persons/{case['person'].pid}").get_data(as_text=True)


# --- the receipt -------------------------------------------------------------------------------------------------
def newborn(svc):
    """A newborn with a verified birth certificate and a parent with an ID card and the household register."""
    parent = make_person(svc, name="陈大文", born=date(1988, 4, 2), phone="+8613712340011")
    baby = make_person(svc, name="陈小宝", born=date.today() - timedelta(days=10))
    svc.subjects.relate(Relation(parent.pid, baby.pid, "PARENT_OF"))
    for kind, number, fields in (("id_card", "ID" + parent.pid[:6].upper(), {}),
                                 ("hukou", "HK" + parent.pid[:6].upper(), {"address": "禅城区祖庙路1号"})):
        svc.holdings.add_material("Person", Material(str(uuid.uuid4()), parent.pid, kind, number, date(2015, 1, 1),
                                                     date.today() + timedelta(days=3000), "佛山市公安局", "issued",
                                                     fields))
    svc.holdings.add_material("Person", Material(
        str(uuid.uuid4()), baby.pid, "birth_certificate", "Q440123456", baby.birth_date, None, "佛山市第一人民医院",
        "verified", {"place_of_birth": "佛山市第一人民医院", "father": "陈大文", "mother": "林小红"}))
    return parent, baby


def typed(parent, *services: str) -> dict:
    return {"field.guardian_phone": mask_phone(parent.phone), "field.child_name": "陈小宝",
            "field.birth_certificate_number": mask_text("Q440123456", 2, 2),
            "field.place_of_birth": "佛山市第一人民医院",
            "field.father_name": "陈大文", "field.mother_name": "林小红", "field.address": "禅城区祖庙路1号",
            "selected": "birth_bundle", "service": list(services)}


def window(app, svc, baby):
    client = officer(app, svc, "window1", CENTRE, name="李受理")
    answer = post(client, "/officer/search", {"number": baby.id_number, "purpose": "办理新生儿出生一件事"})
    assert answer.status_code == 303
    return client


def receipt_checks(text: str, svc, apps: list[Application]) -> None:
    today = datetime_today(svc)
    assert "受理回执" in text and "陈小宝" in text and "李受理" in text and "window1" in text and CENTRE in text
    assert today.isoformat() in text
    for a in apps:
        assert a.number and a.number in text and a.decide_by.isoformat() in text
        assert svc.catalog.services[a.service].name.zh in text
    assert "data-print" in text and "print.js" in text and 'class="subnav"' not in text
    assert "<style" not in text and " style=" not in text and not re.search(r"<script(?![^>]*\bsrc=)", text)


def datetime_today(svc) -> date:
    return datetime.now(svc.settings.zone).date()


def test_a_filing_at_the_window_leads_to_its_printable_receipt_which_can_be_printed_again_later(app, svc):
    parent, baby = newborn(svc)
    client = window(app, svc, baby)
    answer = post(client, f"/officer/persons/{baby.pid}/apply", typed(parent, "newborn_hukou_registration"))
    assert answer.status_code == 303
    (row,) = svc.portal.applications_of("Person", baby.pid)
    assert answer.headers["Location"].endswith(f"/officer/applications/{row['aid']}/receipt")
    application = svc.applications.get(row["aid"])
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200
    receipt_checks(page.get_data(as_text=True), svc, [application])
    assert (f"receipt of application {application.number}", "办理新生儿出生一件事") in whats(svc, baby.pid)
    other = officer(app, svc, "window2", CENTRE, name="张复印")  # later, another officer: a purpose first
    assert other.get(f"/officer/applications/{application.aid}/receipt").status_code == 403
    open_with_purpose(other, baby, "补打受理回执")
    again = other.get(f"/officer/applications/{application.aid}/receipt").get_data(as_text=True)
    receipt_checks(again, svc, [application])  # still the filing's centre, window and officer
    assert "张复印" not in again
    assert (f"receipt of application {application.number}", "补打受理回执") in whats(svc, baby.pid)


def test_several_services_filed_in_one_go_share_one_receipt_and_an_open_matter_is_reported_beside_it(app, svc):
    parent, baby = newborn(svc)
    already = filed(svc, baby, "newborn_medical_insurance")
    client = window(app, svc, baby)
    answer = post(client, f"/officer/persons/{baby.pid}/apply",
                  typed(parent, "newborn_hukou_registration", "newborn_medical_insurance",
                        "social_security_card_application"))
    assert answer.status_code == 303
    rows = {r["service"]: r for r in svc.portal.applications_of("Person", baby.pid)}
    assert set(rows) == {"newborn_hukou_registration", "newborn_medical_insurance", "social_security_card_application"}
    assert rows["newborn_medical_insurance"]["aid"] == already.aid  # not filed twice
    new = [svc.applications.get(rows[c]["aid"]) for c in ("newborn_hukou_registration",
                                                          "social_security_card_application")]
    assert "also=" in answer.headers["Location"]
    text = client.get(answer.headers["Location"]).get_data(as_text=True)
    receipt_checks(text, svc, new)
    medical = svc.catalog.services["newborn_medical_insurance"].name.zh
    assert f"未受理：{medical}已有一份在办申请（{already.number}）。" in text  # reported beside the receipt
    assert ("filed application newborn_hukou_registration,social_security_card_application at the window",
            "办理新生儿出生一件事") in whats(svc, baby.pid)


def test_an_incomplete_form_files_none_of_the_ticked_services(app, svc):
    parent, baby = newborn(svc)
    client = window(app, svc, baby)
    form = {**typed(parent, "newborn_hukou_registration", "newborn_medical_insurance"), "field.address": ""}
    answer = post(client, f"/officer/persons/{baby.pid}/apply", form)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="e-address"' in text
    assert text.count(" checked>") >= 2  # the ticked services stay ticked
    assert svc.portal.applications_of("Person", baby.pid) == []
