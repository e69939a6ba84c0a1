"""Every answer that carries a subject's personal data is a recorded read with a purpose — checked over every route
of the URL map, API and officer pages, so a route added tomorrow is covered without editing this file."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from profiles.models import Actor, Application
from profiles.privacy import mask_id_number
from tests.integration.api_helpers import id_number, keys, uscc
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_entity, make_officer, make_person, post, sign_in_officer
from web.api.auth import enforce, reads_subject, roles

PURPOSE = {"X-Purpose": "核验 / checking the record"}
NOT_API = {"api-docs.openapi_json"}  # the OpenAPI document (no subject)


def api_views(app) -> list[tuple[str, str, str, object]]:
    """(rule, HTTP method, endpoint, view function) of every API route."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint in NOT_API:
            continue
        view_class = app.view_functions[rule.endpoint].view_class
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, rule.endpoint, getattr(view_class, method.lower())))
    return found


def test_every_api_view_says_whether_it_answers_personal_data(app):
    unmarked = [f"{m} {r}" for r, m, _e, view in api_views(app)
                if getattr(view, "_reads_subject", False) == bool(getattr(view, "_no_personal_data", ""))]
    assert not unmarked, "mark each with @reads_subject or @no_personal_data(reason): " + ", ".join(unmarked)
    assert len(api_views(app)) >= 25


@pytest.fixture
def world(app, client):
    auth = keys(app)
    system, officer = auth["system"], auth["officer"]
    pid = client.post("/api/v1/persons", headers=system, json={"id_number": id_number(seq=311), "name": "张三",
                                                               "phone": "13812345678"}).get_json()["pid"]
    eid = client.post("/api/v1/entities", headers=system, json={
        "uscc": uscc(), "name": "佛山市示例有限公司", "kind": "limited_company",
        "established_on": "2018-06-01"}).get_json()["eid"]
    filed = client.post("/api/v1/applications", headers=officer, json={
        "subject": {"type": "person", "id": pid}, "service": "id_card_renewal", "fields": {"reason": "有效期满"},
        "reuse": []}).get_json()
    newborn = client.post("/api/v1/persons", headers=system, json={
        "name": "张小宝", "sex": "M", "birth_date": (date.today() - timedelta(days=5)).isoformat(),
        "birth_certificate_number": "Q440600311"}).get_json()["pid"]
    return {"auth": auth, "pid": pid, "eid": eid, "aid": filed["aid"], "uscc": uscc(), "newborn": newborn}


def read_requests(w) -> dict[tuple[str, str], tuple[str, str, dict | None, str]]:
    """(endpoint, method) -> (method, URL, body, subject id) for every API view that reads a subject."""
    pid, eid, aid = w["pid"], w["eid"], w["aid"]
    on = date.today().isoformat()
    return {
        ("subjects.Persons", "GET"): ("GET", f"/api/v1/persons?id_number={id_number(seq=311)}", None, pid),
        ("subjects.PersonById", "GET"): ("GET", f"/api/v1/persons/{pid}", None, pid),
        ("subjects.PersonIdNumber", "PUT"): ("PUT", f"/api/v1/persons/{w['newborn']}/id-number", {
            "id_number": id_number(seq=311, born=date.today() - timedelta(days=5))}, w["newborn"]),
        ("subjects.Entities", "GET"): ("GET", "/api/v1/entities?uscc=" + w["uscc"], None, eid),
        ("subjects.EntityById", "GET"): ("GET", f"/api/v1/entities/{eid}", None, eid),
        ("holdings.Materials", "GET"): ("GET", f"/api/v1/persons/{pid}/materials", None, pid),
        ("holdings.Events", "GET"): ("GET", f"/api/v1/entities/{eid}/events", None, eid),
        ("holdings.Due", "GET"): ("GET", f"/api/v1/persons/{pid}/due?as_of={on}", None, pid),
        ("holdings.AccessLogView", "GET"): ("GET", f"/api/v1/persons/{pid}/access-log", None, pid),
        ("notices.Notices", "GET"): ("GET", f"/api/v1/persons/{pid}/notices", None, pid),
        ("notices.PreferencesView", "GET"): ("GET", f"/api/v1/persons/{pid}/preferences", None, pid),
        ("applications.ApplicationById", "GET"): ("GET", f"/api/v1/applications/{aid}", None, pid),
        ("applications.Decision", "POST"): ("POST", f"/api/v1/applications/{aid}/decision",
                                            {"outcome": "needs_correction", "note": "请补充照片"}, pid),
        ("applications.Prefill", "POST"): ("POST", "/api/v1/prefill",
                                           {"subject": {"type": "person", "id": pid}, "services": ["id_card_renewal"]},
                                           pid),
    }


def records_of(app, sid: str) -> int:
    return len(app.extensions["lifecycle"].access_log.for_subject(sid))


def test_every_api_read_needs_a_purpose_and_is_recorded(app, client, world):
    requests = read_requests(world)
    reads = [(e, m) for _r, m, e, view in api_views(app) if getattr(view, "_reads_subject", False)]
    missing = [f"{m} {e}" for e, m in reads if (e, m) not in requests]
    assert not missing, "add a request for each new reading view: " + ", ".join(missing)
    officer = world["auth"]["officer"]
    for endpoint, method in reads:
        verb, url, body, sid = requests[(endpoint, method)]
        before = records_of(app, sid)
        refused = client.open(url, method=verb, json=body, headers=officer)
        assert refused.status_code == 400 and refused.get_json()["errors"] == {"X-Purpose": [
            "state why you are reading this record in the X-Purpose header"]}, (endpoint, refused.get_json())
        assert records_of(app, sid) == before, endpoint
        answered = client.open(url, method=verb, json=body, headers={**officer, **PURPOSE})
        assert answered.status_code == 200, (endpoint, answered.get_json())
        assert records_of(app, sid) > before, f"{endpoint} answered without recording the read"
    assert len(reads) >= 13


def test_a_decision_without_a_purpose_decides_nothing(app, client, world):
    officer = world["auth"]["officer"]
    answer = client.post(f"/api/v1/applications/{world['aid']}/decision", headers=officer,
                         json={"outcome": "approved", "note": "准予"})
    assert answer.status_code == 400
    assert app.extensions["lifecycle"].applications.get(world["aid"]).status == "submitted"
    decided = client.post(f"/api/v1/applications/{world['aid']}/decision", headers={**officer, **PURPOSE},
                          json={"outcome": "approved", "note": "准予"})
    assert decided.status_code == 200 and decided.get_json()["fields"] == {"reason": "有效期满"}
    log = app.extensions["lifecycle"].access_log.for_subject(world["pid"])
    assert log[0].what == "decision approved on application id_card_renewal" and log[0].purpose == PURPOSE["X-Purpose"]


def test_a_reading_view_that_forgets_to_record_answers_500_not_the_data(app, client):
    """The safety net under the sweep: a view marked as reading that does not record does not leak."""
    blp = Blueprint("forgetful", __name__, url_prefix="/api/v1/test-only")
    blp.before_request(enforce)

    @blp.route("/leak")
    class Leak(MethodView):
        @roles("officer")
        @reads_subject
        def get(self):
            return {"name": "张三"}

    app.extensions["lifecycle.api"].register_blueprint(blp)
    officer = keys(app)["officer"]
    answer = client.get("/api/v1/test-only/leak", headers={**officer, **PURPOSE})
    assert answer.status_code == 500 and "张三" not in answer.get_data(as_text=True)


# --- the officer's pages -----------------------------------------------------------------------------------------
def test_every_officer_page_that_shows_a_record_records_the_read(app, svc, sandbox):
    """Every GET page of the officer console that takes a record's id, with and without services chosen: when it
    shows the record's data (the name, the masked number), the read was recorded; a form asking why shows none."""
    person = make_person(svc, name="欧阳修", phone="+8613712345670", born=date.today() - timedelta(days=40 * 365))
    company = make_entity(svc, name="佛山市欧阳贸易有限公司", legal_rep=person)
    make_officer(svc, "window5", role="supervisor")  # a supervisor may open any department's decision page
    client = app.test_client()
    sign_in_officer(client, "window5")
    for number in (person.id_number, company.uscc):
        post(client, "/officer/search", {"number": number, "purpose": "窗口受理"})
    shown = ("欧阳", mask_id_number(person.id_number), person.id_number[-4:])
    aids = {sid: svc.applications.file(Application(str(uuid.uuid4()), label, sid, code, "submitted", date.today(),
                                                   date.today(), 20, date.today() + timedelta(days=30), {}, ()),
                                       Actor("test", "system")).aid
            for label, sid, code in (("Person", person.pid, "id_card_renewal"),
                                     ("Entity", company.eid, "enterprise_annual_report"))}
    recorded, silent = set(), set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("officer.") or not {"sid", "aid"} & rule.arguments or "GET" not in rule.methods:
            continue
        for kind in (["persons", "entities"] if rule.arguments & {"kind", "aid"} else [None]):
            sid = company.eid if kind == "entities" else person.pid
            values = {"sid": sid, "aid": aids[sid], **({"kind": kind} if kind else {})}
            url = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
            service = "enterprise_annual_report" if kind == "entities" else "id_card_renewal"
            for query in ("", f"?services={service}"):
                before = records_of(app, sid)
                answer = client.get(url + query)
                assert answer.status_code == 200, (url + query, answer.status_code)
                if any(value in answer.get_data(as_text=True) for value in shown):
                    assert records_of(app, sid) > before, f"{url + query} showed a record without recording it"
                    recorded.add(rule.endpoint)
                else:
                    silent.add(rule.endpoint)
    assert {"officer.profile", "officer.prefill_form", "officer.decision", "officer.receipt"} <= recorded
    assert {"officer.reveal", "officer.open_record", "officer.window"} <= silent  # forms: nothing of the record
