"""The officer console with real Neo4j, Redis and the SMS sandbox: nothing about a person before a stated purpose,
every look recorded, numbers masked unless revealed for a reason, 一表通 from what is on file, recording at the window,
the queue by decision date with cards, and the supervisors' dashboard."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from graph.notices import NoticeRow
from notifier.services import install
from profiles.applications import decide_by
from profiles.identifiers import parse_uscc, resident_id_check_digit
from profiles.models import Actor, Application, Material, Relation
from profiles.notices import card_key
from profiles.privacy import mask_id_number, mask_phone, mask_text
from profiles.workdays import subtract_working_days
from tests.integration.api_helpers import snapshot
from tests.integration.notify_helpers import run_jobs
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import (
    make_entity,
    make_officer,
    make_person,
    post,
    sign_in_officer,
)
from web.usecases.applications import decide

PURPOSE = "办理新生儿出生一件事"
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the app's day (LIFECYCLE_TZ default), not the host's


def officer(app, svc, username="window1", role="officer", department="禅城区行政服务中心"):
    make_officer(svc, username=username, role=role, department=department)
    client = app.test_client()
    assert sign_in_officer(client, username).status_code == 303
    return client


def search(client, number: str, purpose: str | None = PURPOSE):
    return post(client, "/officer/search", {"number": number, **({"purpose": purpose} if purpose is not None else {})})


def material(svc, holder: str, kind: str, number: str, *, provenance="issued", expires_on=None, issued_on=None,
             fields=None, label="Person") -> Material:
    m = Material(str(uuid.uuid4()), holder, kind, number, issued_on or date(2015, 1, 1), expires_on,
                 "佛山市公安局禅城分局", provenance, fields or {})
    return svc.holdings.add_material(label, m)


def family(svc):
    """A newborn with a birth certificate (recorded at the hospital's window), and two parents with ID cards and
    the household register."""
    father = make_person(svc, name="陈大文", born=date(1988, 4, 2), phone="+8613712340011")
    mother = make_person(svc, name="林小红", born=date(1990, 7, 15), phone="+8613712340012")
    baby = make_person(svc, name="陈小宝", born=TODAY - timedelta(days=10))
    for parent in (father, mother):
        svc.subjects.relate(Relation(parent.pid, baby.pid, "PARENT_OF"))
        material(svc, parent.pid, "id_card", f"ID{parent.pid[:6]}".upper(), expires_on=TODAY + timedelta(days=3000))
        material(svc, parent.pid, "hukou", f"HK{parent.pid[:6]}".upper(), fields={"address": "禅城区祖庙路1号"})
    material(svc, baby.pid, "birth_certificate", "Q440123456", provenance="verified", issued_on=baby.birth_date,
             fields={"place_of_birth": "佛山市第一人民医院", "father": "陈大文", "mother": "林小红"})
    return father, mother, baby


def whats(svc, sid: str) -> list[tuple[str, str]]:
    return [(r.what, r.purpose) for r in svc.access_log.for_subject(sid)]


# --- a purpose before anything -----------------------------------------------------------------------------------
def test_a_search_without_a_purpose_is_refused_and_nothing_is_looked_up(app, svc):
    person = make_person(svc, name="陈小明")
    client = officer(app, svc)
    for purpose in (None, "", "   "):
        answer = search(client, person.id_number, purpose)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422
        assert 'id="e-purpose"' in page and 'id="e-number"' not in page
        assert person.name not in page  # nothing looked up; the number typed is kept in its field only (issue 18)
        assert page.count(person.id_number) == 1 and f'value="{person.id_number}"' in page
    too_long = search(client, person.id_number, "为" * 201)
    assert too_long.status_code == 422 and 'id="e-purpose"' in too_long.get_data(as_text=True)
    assert svc.access_log.for_subject(person.pid) == []
    assert client.get(f"/officer/persons/{person.pid}").status_code == 403  # no purpose was kept either


def test_a_wrong_check_digit_or_an_impossible_birth_date_is_named_on_the_number_field(app, svc):
    client = officer(app, svc)
    # a fixed number: with the session's running sequence, a wrong check digit was now and then a valid credit code
    good = make_person(svc, seq=123).id_number
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    first17 = "440604" + "19900230" + "123"
    impossible = first17 + resident_id_check_digit(first17)
    for number, reason in ((wrong, "校验码"), (impossible, "出生日期")):
        with pytest.raises(ValueError):
            parse_uscc(number)  # so the number is judged as an ID number, whatever its shape
        answer = search(client, number)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422
        error = re.search(r'id="e-number"[^>]*>(.*?)</p>', page, re.S)
        assert error and reason in error.group(1), page
        assert 'id="e-purpose"' not in page
    bad_code = search(client, "91440604MA4W12345X")
    assert bad_code.status_code == 422 and "统一社会信用代码" in bad_code.get_data(as_text=True)


def test_an_unknown_number_says_no_record_and_shows_nothing(app, svc):
    client = officer(app, svc)
    unknown = make_person(svc).id_number
    svc.driver.execute_query("MATCH (p:Person) DETACH DELETE p")
    answer = search(client, unknown)
    assert answer.status_code == 404 and "没有与该号码匹配的记录" in answer.get_data(as_text=True)


def test_a_profile_opened_by_its_address_without_a_purpose_is_refused_and_the_attempt_recorded(app, svc):
    person = make_person(svc, name="王小五")
    client = officer(app, svc)
    for path in (f"/officer/persons/{person.pid}", f"/officer/persons/{person.pid}/prefill?services=id_card_renewal",
                 f"/officer/persons/{person.pid}/record", f"/officer/persons/{person.pid}/reveal"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert person.name not in answer.get_data(as_text=True)
    refused = post(client, f"/officer/persons/{person.pid}/materials", {"kind": "hukou", "number": "HK1",
                                                                         "issued_on": "2020-01-01", "issuer": "x"})
    assert refused.status_code == 403
    paths = [r.path for r in svc.portal.refusals()]
    assert f"/officer/persons/{person.pid}" in paths and len(paths) == 5
    assert all(r.actor.endswith("(window1)") and r.role == "officer" for r in svc.portal.refusals())
    assert svc.access_log.for_subject(person.pid) == []
    assert svc.holdings.materials("Person", person.pid) == []


def test_a_search_with_a_purpose_opens_the_profile_masked_and_recorded(app, svc):
    person = make_person(svc, name="陈小明", phone="+8613712340001")
    company = make_entity(svc, legal_rep=person, name="佛山市禅城区示例贸易有限公司")
    material(svc, person.pid, "id_card", "ID12345678", expires_on=TODAY + timedelta(days=30))
    client = officer(app, svc)
    found = search(client, person.id_number)
    assert found.status_code == 303 and found.headers["Location"] == f"/officer/persons/{person.pid}"
    page = client.get(found.headers["Location"]).get_data(as_text=True)
    assert person.name in page and mask_id_number(person.id_number) in page and person.id_number not in page
    assert mask_phone(person.phone) in page and person.phone not in page
    assert mask_text("ID12345678", 2, 2) in page and "ID12345678" not in page
    assert "<svg" in page and "<title" in page and company.name in page  # the relationship picture and its list
    assert whats(svc, person.pid) == [("profile", PURPOSE), ("search", PURPOSE)]
    records = svc.access_log.for_subject(person.pid)
    assert records[0].actor == "李工作 · 禅城区行政服务中心 (window1)"
    # the business is only named: opening it needs its own purpose
    assert client.get(f"/officer/entities/{company.eid}").status_code == 403
    opened = post(client, f"/officer/entities/{company.eid}/open", {"purpose": ""})
    assert opened.status_code == 422 and company.name not in opened.get_data(as_text=True)
    opened = post(client, f"/officer/entities/{company.eid}/open", {"purpose": "核对法定代表人"})
    assert opened.status_code == 303
    assert company.uscc in client.get(f"/officer/entities/{company.eid}").get_data(as_text=True)
    assert whats(svc, company.eid) == [("profile", "核对法定代表人"), ("opened from a link", "核对法定代表人")]
    client.get("/lang/en?next=/officer")
    english = client.get(f"/officer/persons/{person.pid}").get_data(as_text=True)
    assert "Relationship picture" in english and "legal representative of" in english and "关系图" not in english


def test_a_credit_code_finds_the_business(app, svc):
    company = make_entity(svc, name="佛山市禅城区另一家有限公司")
    client = officer(app, svc)
    found = search(client, company.uscc.lower())
    assert found.status_code == 303 and found.headers["Location"] == f"/officer/entities/{company.eid}"


def test_revealing_a_number_needs_a_reason_which_is_recorded(app, svc):
    person = make_person(svc, phone="+8613712340001")
    client = officer(app, svc)
    search(client, person.id_number)
    refused = post(client, f"/officer/persons/{person.pid}/reveal", {"what": "id_number", "reason": " "})
    assert refused.status_code == 422 and 'id="e-reason"' in refused.get_data(as_text=True)
    assert person.id_number not in refused.get_data(as_text=True)
    assert not any("revealed" in what for what, _p in whats(svc, person.pid))
    shown = post(client, f"/officer/persons/{person.pid}/reveal", {"what": "id_number", "reason": "申请人证件遗失"})
    assert shown.status_code == 200 and person.id_number in shown.get_data(as_text=True)
    assert "no-store" in shown.headers["Cache-Control"]
    assert whats(svc, person.pid)[0] == ("revealed ID number (reason: 申请人证件遗失)", PURPOSE)
    phone = post(client, f"/officer/persons/{person.pid}/reveal", {"what": "phone", "reason": "回访"})
    assert person.phone in phone.get_data(as_text=True)
    assert person.id_number not in client.get(f"/officer/persons/{person.pid}").get_data(as_text=True)


# --- 一表通 ---------------------------------------------------------------------------------------------------------
def test_the_birth_bundle_is_prefilled_for_a_newborn_and_the_parent_read_recorded(app, svc):
    father, mother, baby = family(svc)
    client = officer(app, svc)
    search(client, baby.id_number)
    answer = client.get(f"/officer/persons/{baby.pid}/prefill?services=birth_bundle")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    for badge in ('class="badge issued"', 'class="badge verified"', 'class="badge missing"',  # provenance
                  'class="badge declared"', 'class="badge ok"'):  # the checklist: reusable
        assert badge in page, badge
    assert "出生医学证明" in page and "居民户口簿" in page and "居民身份证" in page
    parent = father if whats(svc, father.pid) else mother
    assert mask_id_number(parent.id_number) in page and parent.id_number not in page
    assert baby.id_number not in page and "Q440123456" not in page and mask_text("Q440123456", 2, 2) in page
    assert "佛山市第一人民医院" in page and parent.name in page
    services = ("birth_bundle,newborn_hukou_registration,newborn_medical_insurance,"
                "social_security_card_application,vaccination_certificate_application")
    assert whats(svc, baby.pid)[0] == (f"prefill {services}", PURPOSE)
    assert whats(svc, parent.pid) == [(f"prefill {services} (as parent of {baby.pid})", PURPOSE)]
    assert client.get(f"/officer/persons/{parent.pid}").status_code == 403  # read for the form, not opened
    printed = client.get(f"/officer/persons/{baby.pid}/prefill?services=birth_bundle&print=1")
    text = printed.get_data(as_text=True)
    assert printed.status_code == 200 and "data-print" in text and "print.js" in text and 'class="subnav"' not in text
    assert "佛山市第一人民医院" in text and parent.id_number not in text


def test_the_window_files_one_service_from_the_form_keeping_masked_numbers_from_the_file(app, svc):
    father, mother, baby = family(svc)
    client = officer(app, svc)
    search(client, baby.id_number)
    page = client.get(f"/officer/persons/{baby.pid}/prefill?services=birth_bundle").get_data(as_text=True)
    parent = father if whats(svc, father.pid) else mother
    typed = {"field.guardian_phone": mask_phone(parent.phone), "field.child_name": "陈小宝",
             "field.birth_certificate_number": mask_text("Q440123456", 2, 2),
             "field.place_of_birth": "佛山市第一人民医院",
             "field.father_name": "陈大文", "field.mother_name": "林小红", "selected": "birth_bundle",
             "service": "newborn_hukou_registration"}
    assert f'value="{mask_phone(parent.phone)}"' in page
    missing = post(client, f"/officer/persons/{baby.pid}/apply", typed)
    assert missing.status_code == 422 and 'id="e-address"' in missing.get_data(as_text=True)
    assert svc.portal.applications_of("Person", baby.pid) == []
    filed = post(client, f"/officer/persons/{baby.pid}/apply", {**typed, "field.address": "禅城区祖庙路1号"})
    assert filed.status_code == 303
    (row,) = svc.portal.applications_of("Person", baby.pid)
    application = svc.applications.get(row["aid"])
    assert application.service == "newborn_hukou_registration" and application.status == "submitted"
    assert application.fields["birth_certificate_number"] == "Q440123456"  # the masked value meant "as on file"
    assert application.fields["guardian_phone"] == parent.phone
    assert application.fields["guardian_id_number"] == parent.id_number  # locked: from the file
    (certificate,) = svc.holdings.materials("Person", baby.pid)
    assert certificate.mid in application.reused  # not handed in again
    parents_papers = {m.mid for p in (father, mother) for m in svc.holdings.materials("Person", p.pid)}
    assert set(application.reused) & parents_papers  # nor the parent's documents the checklist found on file


# --- recording at the window -------------------------------------------------------------------------------------
def test_a_material_recorded_at_the_window_is_verified_and_bad_input_writes_nothing(app, svc):
    baby = make_person(svc, name="陈小宝", born=TODAY - timedelta(days=3))
    client = officer(app, svc)
    search(client, baby.id_number)
    assert client.get(f"/officer/persons/{baby.pid}/record").status_code == 200
    good = {"kind": "birth_certificate", "number": "q440999888", "issued_on": baby.birth_date.isoformat(),
            "expires_on": "", "issuer": "佛山市妇幼保健院",
            "detail.birth_certificate.place_of_birth": "佛山市妇幼保健院"}
    before = snapshot(svc.driver, svc.settings.neo4j_database)
    for change, field in (({"kind": "moon_rock"}, "kind"), ({"kind": "business_licence"}, "kind"),
                          ({"issued_on": "2024-02-30"}, "issued_on"),
                          ({"issued_on": (TODAY + timedelta(days=1)).isoformat()}, "issued_on"),
                          ({"expires_on": "2030-01-01"}, "expires_on"),  # a birth certificate does not expire
                          ({"kind": "id_card", "issued_on": "2020-01-01", "expires_on": "2019-01-01"}, "expires_on"),
                          ({"kind": "passport", "issued_on": "2020-01-01"}, "expires_on"),
                          ({"number": "Q44 0999"}, "number"), ({"issuer": ""}, "issuer")):
        answer = post(client, f"/officer/persons/{baby.pid}/materials", {**good, **change})
        assert answer.status_code == 422, change
        assert f'id="m-e-{field}"' in answer.get_data(as_text=True), change
    for change, field in (({"kind": "founding"}, "kind"), ({"occurred_on": "2023-13-01"}, "occurred_on"),
                          ({"occurred_on": (TODAY + timedelta(days=1)).isoformat()}, "occurred_on")):
        answer = post(client, f"/officer/persons/{baby.pid}/events",
                      {"kind": "birth", "occurred_on": baby.birth_date.isoformat(), **change})
        assert answer.status_code == 422 and f'id="e-e-{field}"' in answer.get_data(as_text=True), change
    assert snapshot(svc.driver, svc.settings.neo4j_database) == before  # nothing written, nothing logged
    assert post(client, f"/officer/persons/{baby.pid}/materials", good).status_code == 303
    (m,) = svc.holdings.materials("Person", baby.pid)
    assert (m.kind, m.number, m.provenance, m.expires_on) == ("birth_certificate", "Q440999888", "verified", None)
    assert m.fields == {"place_of_birth": "佛山市妇幼保健院"}
    event = post(client, f"/officer/persons/{baby.pid}/events",
                 {"kind": "birth", "occurred_on": baby.birth_date.isoformat(), "note": "窗口登记"})
    assert event.status_code == 303
    (e,) = svc.holdings.events("Person", baby.pid)
    assert (e.kind, e.occurred_on, e.details) == ("birth", baby.birth_date, {"note": "窗口登记"})
    assert ("recorded material birth_certificate at the window", PURPOSE) in whats(svc, baby.pid)


# --- the desk ----------------------------------------------------------------------------------------------------
def _file(svc, subject, service: str, submitted_on: date) -> Application:
    limit = svc.catalog.services[service].time_limit_days
    app = Application(str(uuid.uuid4()), "Person", subject.pid, service, "submitted", submitted_on, submitted_on,
                      limit, decide_by(submitted_on, limit), {}, ())
    return svc.applications.file(app, Actor("test", "system"))


def test_the_queue_lists_undecided_applications_by_decision_date_with_cards(app, svc):
    people = [make_person(svc, seq=100 + n) for n in range(4)]
    limit = svc.catalog.services["id_card_renewal"].time_limit_days
    fresh = _file(svc, people[0], "id_card_renewal", TODAY)
    late = _file(svc, people[1], "id_card_renewal", subtract_working_days(TODAY, limit + 3))
    near = _file(svc, people[2], "id_card_renewal", subtract_working_days(TODAY, limit - 1))
    passport = _file(svc, people[3], "passport_renewal", TODAY)
    decided = _file(svc, people[0], "id_card_first", TODAY - timedelta(days=2))
    decide(svc, Actor("test officer", "officer"), decided.aid, "approved", "ok", TODAY)
    svc.notices.ensure_departments(["公安机关（户籍派出所）"])
    police = "公安机关（户籍派出所）"
    svc.notices.create([NoticeRow(card_key(late.aid, "red"), str(uuid.uuid4()), "red_card", "inbox", "Department",
                                  police, "Person", people[1].pid, "id_card_renewal", late.decide_by, 0, None, None,
                                  aid=late.aid)], "scan-1", datetime.now(UTC))
    page = officer(app, svc).get("/officer/queue").get_data(as_text=True)
    order = [page.index(mask_id_number(p.id_number)) for p in (people[1], people[2])]
    assert order == sorted(order) and mask_id_number(people[0].id_number) in page
    assert page.index(mask_id_number(people[1].id_number)) < page.index(mask_id_number(people[0].id_number))
    assert 'class="card-red"' in page and 'class="card-yellow"' in page and 'class="card-none"' in page
    assert all(p.id_number not in page for p in people)
    assert page.count('class="badge red"') == 2  # the red row and the department's red card
    assert "护照" in page  # the one-stop centre's officer sees every department
    rows = re.findall(r'<tr class="card-(\w+)"><th scope="row" data-label="[^"]+">([\d-]+) ', page)
    assert [d for _c, d in rows] == sorted(d for _c, d in rows) and len(rows) == 4
    assert decided.aid not in page and fresh.aid not in page and near.aid not in page and passport.aid not in page
    text = officer(app, svc, "police1", department=police).get("/officer/queue").get_data(as_text=True)
    assert mask_id_number(people[1].id_number) in text and mask_id_number(people[3].id_number) not in text
    assert svc.access_log.for_subject(people[1].pid) == []  # masked numbers only: no record was read


def test_the_dashboard_is_for_supervisors_with_charts_and_their_figures(app, svc):
    due, applicant = make_person(svc, seq=201), make_person(svc, seq=202)
    card = material(svc, due.pid, "id_card", "ID7654321", expires_on=TODAY + timedelta(days=30))
    hukou = material(svc, applicant.pid, "hukou", "HK7654321")
    limit = svc.catalog.services["passport_renewal"].time_limit_days
    svc.applications.file(Application(str(uuid.uuid4()), "Person", applicant.pid, "passport_renewal", "submitted",
                                      TODAY, TODAY, limit, decide_by(TODAY, limit), {}, (hukou.mid,)),
                          Actor("test", "system"))
    svc.notices.create([NoticeRow("k1", str(uuid.uuid4()), "reminder", "sms", "Person", due.pid, "Person",
                                  due.pid, "id_card_renewal", card.expires_on, 30, None, None)],
                       "scan-1", datetime.now(UTC))
    plain = officer(app, svc)
    assert plain.get("/officer/dashboard").status_code == 403
    assert any(r.path == "/officer/dashboard" for r in svc.portal.refusals())
    assert "/officer/dashboard" not in plain.get("/officer").get_data(as_text=True)
    boss = officer(app, svc, "boss", role="supervisor")
    answer = boss.get("/officer/dashboard")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and page.count("<svg") == 3 and page.count('role="img"') == 3
    day = TODAY.isoformat()  # channel sms; total: each count a link to its list
    link = rf'<a href="/officer/dashboard/notices\?day={day}'
    day_row = (rf'<th scope="row" class="status" data-label="[^"]+">{day}</th>\s*'
               rf'<td data-label="[^"]+">{link}&amp;channel=sms"[^>]*>1</a></td>\s*'
               rf'<td data-label="[^"]+">{link}"[^>]*>1</a></td>')
    assert re.search(day_row, page), page
    assert re.search(r'<th scope="row" data-label="[^"]+">居民户口簿</th>\s*<td data-label="[^"]+">'
                     r'<a href="/officer/dashboard/reuse\?kind=hukou"[^>]*>1</a></td><td data-label="[^"]+">1</td>',
                     page)  # reused once
    # the due items are a walk over the whole district: the page asks a job to count them, and does not wait
    assert "正在统计" in page and "居民身份证有效期满换领" not in page
    assert [j.id for j in svc.queues["default"].get_jobs()] == [f"due-counts-{TODAY.isoformat()}"]
    boss.get("/officer/dashboard")
    assert len(svc.queues["default"].get_jobs()) == 1  # asked once, however often supervisors look
    install(svc)
    run_jobs(svc, ("default",))
    page = boss.get("/officer/dashboard").get_data(as_text=True)
    assert page.count("<svg") == 4 and "正在统计" not in page
    assert re.search(r'<th scope="row" data-label="[^"]+">居民身份证有效期满换领</th><td data-label="[^"]+">1</td>',
                     page), page  # due in the next 90 days
    assert json.loads(svc.redis.get(f"officer:dashboard:due:{TODAY.isoformat()}"))["id_card_renewal"] == 1


# --- accessibility basics ------------------------------------------------------------------------------------------
class _Audit(HTMLParser):
    """Collects headings, form controls and their labels, and table headers of one page."""

    def __init__(self):
        super().__init__()
        self.headings, self.controls, self.labels, self.unscoped = [], [], set(), 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a.get("id"))
        elif tag == "label":
            self.labels.add(a.get("for"))
        elif tag == "th" and "scope" not in a:
            self.unscoped += 1


def test_every_console_page_has_one_h1_ordered_headings_labelled_inputs_and_scoped_headers(app, svc):
    father, mother, baby = family(svc)
    _file(svc, father, "passport_renewal", TODAY - timedelta(days=10))
    client = officer(app, svc, role="supervisor")
    search(client, father.id_number)
    search(client, baby.id_number)
    for path in ("/officer", "/officer/queue", "/officer/dashboard", f"/officer/persons/{father.pid}",
                 f"/officer/persons/{baby.pid}/prefill", f"/officer/persons/{baby.pid}/prefill?services=birth_bundle",
                 f"/officer/persons/{baby.pid}/prefill?services=birth_bundle&print=1",
                 f"/officer/persons/{baby.pid}/record", f"/officer/persons/{baby.pid}/reveal",
                 f"/officer/persons/{mother.pid}/open"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        audit = _Audit()
        audit.feed(answer.get_data(as_text=True))
        assert audit.headings.count(1) == 1 and audit.headings[0] == 1, path
        assert all(b - a <= 1 for a, b in zip(audit.headings, audit.headings[1:], strict=False)), path
        assert all(c and c in audit.labels for c in audit.controls), (path, audit.controls)
        assert audit.unscoped == 0, path
