"""Authorization over every page route, found from the app's URL map (so a new route is covered the day it is
added): anonymous visitors are sent to sign in; citizen A reaches nothing of citizen B (or B's child), business A
nothing of business B, an officer nothing without a stated purpose — each attempt 403/404, recorded, nothing shown."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

import pytest

from graph.notices import NoticeRow
from profiles.models import Actor, Application, Material, Relation
from profiles.notices import dedupe_key
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

PAGE_BLUEPRINTS = ("login", "citizen", "links", "enterprise", "officer")
PUBLIC = {"login.index", "login.citizen", "login.business", "login.officer", "login.code", "login.language",
          "login.logout", "login.resend", "login.session_left", "login.session_extend", "login.favicon"}
# Where an officer states the purpose for a linked record: a form, never the record (checked apart below).
PURPOSE_DOORS = {"officer.open_record"}
LOGIN_OF = {"citizen": "/login", "links": "/login", "enterprise": "/biz/login", "officer": "/officer/login"}
A_PHONE, B_PHONE, A_REP, B_REP = "+8613700000001", "+8613700000002", "+8613700000003", "+8613700000004"


def page_rules(app) -> list:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in PAGE_BLUEPRINTS),
                  key=lambda r: r.rule)


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def notice_to(svc, recipient_pid: str, subject_label: str, subject_id: str, service: str, aid: str) -> str:
    nid = uuid.uuid4().hex[:18]
    due = date.today() + timedelta(days=30)
    row = NoticeRow(dedupe_key(recipient_pid, subject_id, service, due, 30, "inbox"), nid, "reminder", "inbox",
                    "Person", recipient_pid, subject_label, subject_id, service, due, 30, None, aid)
    svc.notices.create([row], "auth-test", datetime.now(svc.settings.zone))
    return nid


def application_of(svc, label: str, sid: str, service: str) -> str:
    today = date.today()
    app = Application(str(uuid.uuid4()), label, sid, service, "submitted", today, today, 20, today + timedelta(30),
                      {"note": "B的申请"}, ())
    return svc.applications.file(app, Actor("test", "system")).aid


@pytest.fixture
def world(app):
    svc = app.extensions["lifecycle"]
    a = make_person(svc, name="甲市民", phone=A_PHONE)
    b = make_person(svc, name="乙市民", phone=B_PHONE)
    kid = make_person(svc, name="乙小孩", born=date.today() - timedelta(days=400))
    svc.subjects.relate(Relation(b.pid, kid.pid, "PARENT_OF"))
    svc.holdings.add_material("Person", Material(str(uuid.uuid4()), b.pid, "id_card", "B-CARD-0001",
                                                 date(2016, 1, 1), date(2036, 1, 1), "佛山市公安局", "issued", {}))
    rep_a, rep_b = make_person(svc, name="甲老板", phone=A_REP), make_person(svc, name="乙老板", phone=B_REP)
    biz_a = make_entity(svc, name="甲公司", legal_rep=rep_a)
    biz_b = make_entity(svc, name="乙公司", legal_rep=rep_b)
    b_aid = application_of(svc, "Person", b.pid, "id_card_renewal")
    biz_b_aid = application_of(svc, "Entity", biz_b.eid, "enterprise_annual_report")
    return {"svc": svc, "a": a, "b": b, "kid": kid, "rep_a": rep_a, "biz_a": biz_a, "biz_b": biz_b, "b_aid": b_aid,
            "b_nid": notice_to(svc, b.pid, "Person", b.pid, "id_card_renewal", b_aid), "biz_b_aid": biz_b_aid,
            "biz_b_nid": notice_to(svc, rep_b.pid, "Entity", biz_b.eid, "enterprise_annual_report", biz_b_aid)}


def foreign_urls(rule, w: dict, kind: str) -> list[str]:
    """The rule's URL filled with someone else's ids, every way this visitor could try; [] when it takes none."""
    args = set(rule.arguments)
    if kind == "citizen":
        values = {"pid": [w["b"].pid, w["kid"].pid], "aid": [w["b_aid"]], "nid": [w["b_nid"]],
                  "code": ["id_card_renewal"]}
        if args == {"pid", "aid"}:  # B's application under A's own id, too
            return [rule.build({"pid": p, "aid": w["b_aid"]})[1] for p in (w["b"].pid, w["a"].pid)]
    elif kind == "enterprise":
        values = {"aid": [w["biz_b_aid"], w["b_aid"]], "nid": [w["biz_b_nid"], w["b_nid"]]}
    else:
        values = {"sid": [w["b"].pid], "kind": ["persons"], "aid": [w["b_aid"], w["biz_b_aid"]]}
        if "kind" in args:
            return [rule.build({"kind": "persons", "sid": w["b"].pid})[1],
                    rule.build({"kind": "entities", "sid": w["biz_b"].eid})[1]]
    if not args & {"pid", "aid", "nid", "sid"}:
        return []
    return [rule.build({k: values[k][i % len(values[k])] for k in args})[1]
            for i in range(max(len(values[k]) for k in args))]


def test_every_page_route_but_signing_in_needs_a_signed_in_visitor(app, world):
    client = app.test_client()
    for rule in page_rules(app):
        if rule.endpoint in PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "_signed_in", None), f"{rule.endpoint} has no @signed_in"
        url = rule.build({k: "x" for k in rule.arguments} | ({"kind": "persons"} if "kind" in rule.arguments
                                                               else {}))[1]
        for method in methods(rule):
            answer = client.get(url) if method == "GET" else post(client, url, {})
            assert answer.status_code == 303, (method, url, answer.status_code)
            assert answer.headers["Location"].startswith(LOGIN_OF[rule.endpoint.split(".")[0]] + "?next="), url


def test_posts_without_the_csrf_token_are_refused_before_anything_runs(app, world, sandbox):
    client = app.test_client()
    sign_in_citizen(client, sandbox, world["a"].id_number, A_PHONE)
    graph_before = snapshot(world["svc"].driver, world["svc"].settings.neo4j_database)
    for rule in page_rules(app):
        if "POST" in rule.methods:
            url = rule.build({k: "x" for k in rule.arguments} | ({"kind": "persons"} if "kind" in rule.arguments
                                                                   else {}))[1]
            assert client.post(url, data={}).status_code == 400, url
    assert snapshot(world["svc"].driver, world["svc"].settings.neo4j_database) == graph_before


def attempt(client, method: str, url: str):
    return client.get(url) if method == "GET" else post(client, url, {"confirm": "yes", "purpose": "",
                                                                     "reason": "", "kind": "id_card"})


def sweep(app, client, w, kind: str, expected: int) -> list[str]:
    """Every id-taking route of this visitor's blueprint(s), with someone else's ids: the expected refusal, one
    Refusal recorded per attempt, and nothing of theirs on the page. Returns the URLs tried."""
    svc = w["svc"]
    blueprints = {"citizen": ("citizen", "links"), "enterprise": ("enterprise",), "officer": ("officer",)}[kind]
    secrets = [w["b"].name, w["kid"].name, w["biz_b"].name, "B的申请", "B-CARD"]
    tried = []
    for rule in page_rules(app):
        if rule.endpoint.split(".")[0] not in blueprints:
            continue
        for url in foreign_urls(rule, w, kind):
            for method in methods(rule):
                before = len(svc.portal.refusals())
                answer = attempt(client, method, url)
                page = answer.get_data(as_text=True)
                if rule.endpoint in PURPOSE_DOORS:  # the form asking why (200), or why again (422): no data
                    assert answer.status_code == (200 if method == "GET" else 422), (method, url)
                    assert not [s for s in secrets if s in page], (method, url)
                    continue
                assert answer.status_code == expected, (method, url, answer.status_code)
                assert len(svc.portal.refusals()) == before + 1, (method, url)
                assert svc.portal.refusals()[0].path == url
                assert not [s for s in secrets if s in page], (method, url)
                tried.append(f"{method} {url}")
    return tried


def test_citizen_a_reaches_nothing_of_citizen_b_or_bs_child(app, world, sandbox):
    client = app.test_client()
    sign_in_citizen(client, sandbox, world["a"].id_number, A_PHONE)
    graph_before = snapshot(world["svc"].driver, world["svc"].settings.neo4j_database)
    tried = sweep(app, client, world, "citizen", 404)
    assert len(tried) >= 12
    assert {re.sub(r"/[0-9a-f-]{18,}", "/ID", t) for t in tried} >= {
        "GET /me/p/ID", "GET /me/p/ID/access-log", "GET /me/p/ID/applications/ID", "POST /me/p/ID/applications/ID",
        "GET /me/p/ID/apply/id_card_renewal", "POST /me/p/ID/apply/id_card_renewal", "POST /me/notices/ID/read",
        "GET /n/ID"}
    nodes, rels = snapshot(world["svc"].driver, world["svc"].settings.neo4j_database)
    assert [n for n in nodes if "Refusal" not in n] == [n for n in graph_before[0] if "Refusal" not in n]
    assert rels == graph_before[1]


def test_business_a_reaches_nothing_of_business_b(app, world, sandbox):
    client = app.test_client()
    sign_in_business(client, sandbox, world["biz_a"].uscc, A_REP)
    tried = sweep(app, client, world, "enterprise", 404)
    assert len(tried) >= 8


def test_an_officer_without_a_purpose_sees_nothing(app, world):
    make_officer(world["svc"], "window9")
    client = app.test_client()
    sign_in_officer(client, "window9")
    tried = sweep(app, client, world, "officer", 403)
    assert len(tried) >= 10
    assert world["svc"].access_log.for_subject(world["b"].pid) == []
