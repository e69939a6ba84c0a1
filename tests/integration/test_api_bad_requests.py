"""A corpus of bad requests: each gets the contract's status and error shape, names the field, and writes nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.integration.api_helpers import id_number, keys, snapshot, uscc

TOMORROW = (date.today() + timedelta(days=2)).isoformat()
GOOD_PERSON = {"id_number": id_number(seq=555), "name": "王五"}
GOOD_ENTITY = {"uscc": uscc("MA4W99999"), "name": "佛山市测试有限公司", "kind": "limited_company",
               "established_on": "2010-01-01"}
GOOD_MATERIAL = {"kind": "passport", "number": "E12345678", "issued_on": "2020-01-01", "expires_on": "2030-01-01",
                 "issuer": "出入境管理局", "provenance": "issued", "fields": {}}
MB = "x" * (1024 * 1024)
CYPHER = "x' }) MATCH (n) DETACH DELETE n //"
HTML = "<script>alert(1)</script>"
NOT_A_PID = "00000000-0000-0000-0000-000000000000"


def person(**change):
    return {**GOOD_PERSON, **change}


def entity(**change):
    return {**GOOD_ENTITY, **change}


def material(**change):
    return {**GOOD_MATERIAL, **change}


def without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


# (name, method, path, role, body, extra headers, status, field named in errors or None)
# Paths may contain {pid} / {eid}: the fixture's person and entity.
CASES = [
    # malformed bodies -> 400
    ("malformed json", "POST", "/api/v1/persons", "system", b"{not json", {}, 400, None),
    ("truncated json", "POST", "/api/v1/persons", "system", b'{"id_number": "44', {}, 400, None),
    ("json not utf-8", "POST", "/api/v1/persons", "system", '{"name": "张三"}'.encode("gb18030"), {}, 400, None),
    # size -> 413
    ("1 MB person", "POST", "/api/v1/persons", "system", person(name=MB), {}, 413, None),
    ("1 MB material", "POST", "/api/v1/persons/{pid}/materials", "system", material(fields={"a": MB}), {}, 413, None),
    ("1 MB event", "POST", "/api/v1/persons/{pid}/events", "system",
     {"kind": "birth", "occurred_on": "2020-01-01", "details": {"x": MB}}, {}, 413, None),
    ("1 MB relation", "POST", "/api/v1/relations", "system", {"from": MB, "to": "x", "type": "SPOUSE_OF"}, {}, 413,
     None),
    # auth -> 401 / 403
    ("no key", "POST", "/api/v1/persons", None, person(), {}, 401, None),
    ("no key, bad body", "POST", "/api/v1/persons", None, b"{oops", {}, 401, None),
    ("bad key", "POST", "/api/v1/persons", "forged", person(), {}, 401, None),
    ("basic auth instead of bearer", "GET", "/api/v1/persons/{pid}", "basic", None, {"X-Purpose": "x"}, 401, None),
    ("officer creates person", "POST", "/api/v1/persons", "officer", person(), {}, 403, None),
    ("officer creates entity", "POST", "/api/v1/entities", "officer", entity(), {}, 403, None),
    ("officer relates", "POST", "/api/v1/relations", "officer", {"from": "{pid}", "to": "{eid}",
                                                                  "type": "LEGAL_REP_OF"}, {}, 403, None),
    ("no key reads", "GET", "/api/v1/persons/{pid}", None, None, {"X-Purpose": "x"}, 401, None),
    # missing purpose -> 400
    ("read person without purpose", "GET", "/api/v1/persons/{pid}", "officer", None, {}, 400, "X-Purpose"),
    ("lookup without purpose", "GET", "/api/v1/persons?id_number=" + id_number(), "officer", None, {}, 400,
     "X-Purpose"),
    ("materials without purpose", "GET", "/api/v1/persons/{pid}/materials", "officer", None, {}, 400, "X-Purpose"),
    ("events without purpose", "GET", "/api/v1/persons/{pid}/events", "system", None, {}, 400, "X-Purpose"),
    ("access log without purpose", "GET", "/api/v1/persons/{pid}/access-log", "officer", None, {}, 400,
     "X-Purpose"),
    ("entity without purpose", "GET", "/api/v1/entities/{eid}", "officer", None, {}, 400, "X-Purpose"),
    ("blank purpose", "GET", "/api/v1/persons/{pid}", "officer", None, {"X-Purpose": "   "}, 400, "X-Purpose"),
    ("overlong purpose", "GET", "/api/v1/persons/{pid}", "officer", None, {"X-Purpose": "p" * 201}, 400,
     "X-Purpose"),
    # person validation -> 422
    ("missing id_number", "POST", "/api/v1/persons", "system", without(GOOD_PERSON, "id_number"), {}, 422,
     "id_number"),
    ("missing name", "POST", "/api/v1/persons", "system", without(GOOD_PERSON, "name"), {}, 422, "name"),
    ("id_number as number", "POST", "/api/v1/persons", "system", person(id_number=440604199005171234), {}, 422,
     "id_number"),
    ("name as list", "POST", "/api/v1/persons", "system", person(name=["王", "五"]), {}, 422, "name"),
    ("body is a list", "POST", "/api/v1/persons", "system", [GOOD_PERSON], {}, 422, None),
    ("unknown field", "POST", "/api/v1/persons", "system", person(is_admin=True), {}, 422, "is_admin"),
    ("wrong check digit", "POST", "/api/v1/persons", "system",
     person(id_number=id_number(seq=555)[:-1] + ("0" if id_number(seq=555)[-1] != "0" else "1")), {}, 422,
     "id_number"),
    ("impossible birth date", "POST", "/api/v1/persons", "system", person(id_number="440604199002301230"), {}, 422,
     "id_number"),
    ("future birth date", "POST", "/api/v1/persons", "system",
     person(id_number=id_number(born=date.today() + timedelta(days=400))), {}, 422, "id_number"),
    ("region never existed", "POST", "/api/v1/persons", "system", person(id_number=id_number(region="999999")), {},
     422, "id_number"),
    ("15-digit legacy number", "POST", "/api/v1/persons", "system", person(id_number="440604900517123"), {}, 422,
     "id_number"),
    ("letters in id", "POST", "/api/v1/persons", "system", person(id_number="44060419900517ABCX"), {}, 422,
     "id_number"),
    ("cypher in id", "POST", "/api/v1/persons", "system", person(id_number=CYPHER), {}, 422, "id_number"),
    ("cypher in name", "POST", "/api/v1/persons", "system", person(name=CYPHER), {}, 422, "name"),
    ("html in name", "POST", "/api/v1/persons", "system", person(name=HTML), {}, 422, "name"),
    ("empty name", "POST", "/api/v1/persons", "system", person(name=""), {}, 422, "name"),
    ("digits in name", "POST", "/api/v1/persons", "system", person(name="王5"), {}, 422, "name"),
    ("bad phone", "POST", "/api/v1/persons", "system", person(phone="12345"), {}, 422, "phone"),
    ("bad email", "POST", "/api/v1/persons", "system", person(email="not-an-email"), {}, 422, "email"),
    ("null name", "POST", "/api/v1/persons", "system", person(name=None), {}, 422, "name"),
    # entity validation -> 422
    ("uscc wrong check", "POST", "/api/v1/entities", "system", entity(uscc=uscc("MA4W99999")[:-1] + "0"), {}, 422,
     "uscc"),
    ("uscc too short", "POST", "/api/v1/entities", "system", entity(uscc="91440604MA4W"), {}, 422, "uscc"),
    ("uscc illegal letter", "POST", "/api/v1/entities", "system", entity(uscc="91440604MA4WI2345O"), {}, 422,
     "uscc"),
    ("unknown entity kind", "POST", "/api/v1/entities", "system", entity(kind="megacorp"), {}, 422, "kind"),
    ("impossible founding date", "POST", "/api/v1/entities", "system", entity(established_on="2015-02-30"), {}, 422,
     "established_on"),
    ("future founding date", "POST", "/api/v1/entities", "system", entity(established_on=TOMORROW), {}, 422,
     "established_on"),
    ("date in wrong format", "POST", "/api/v1/entities", "system", entity(established_on="01/02/2015"), {}, 422,
     "established_on"),
    ("region not 6 digits", "POST", "/api/v1/entities", "system", entity(region="4406"), {}, 422, "region"),
    ("entity region never existed", "POST", "/api/v1/entities", "system", entity(region="999999"), {}, 422, "region"),
    ("html in entity name", "POST", "/api/v1/entities", "system", entity(name=HTML), {}, 422, "name"),
    # relations
    ("unknown relation type", "POST", "/api/v1/relations", "system", {"from": "{pid}", "to": "{eid}",
                                                                       "type": "OWNS"}, {}, 422, "type"),
    ("cypher as relation type", "POST", "/api/v1/relations", "system",
     {"from": "{pid}", "to": "{eid}", "type": "KNOWS]->(x) DETACH DELETE x//"}, {}, 422, "type"),
    ("relation to self", "POST", "/api/v1/relations", "system", {"from": "{pid}", "to": "{pid}",
                                                                  "type": "SPOUSE_OF"}, {}, 422, "to"),
    ("relation from unknown", "POST", "/api/v1/relations", "system", {"from": NOT_A_PID, "to": "{eid}",
                                                                       "type": "LEGAL_REP_OF"}, {}, 404, "from"),
    ("relation to unknown", "POST", "/api/v1/relations", "system", {"from": "{pid}", "to": NOT_A_PID,
                                                                     "type": "LEGAL_REP_OF"}, {}, 404, "to"),
    ("family relation to an entity", "POST", "/api/v1/relations", "system", {"from": "{pid}", "to": "{eid}",
                                                                              "type": "PARENT_OF"}, {}, 404, "to"),
    ("missing relation type", "POST", "/api/v1/relations", "system", {"from": "{pid}", "to": "{eid}"}, {}, 422,
     "type"),
    # materials
    ("unknown material kind", "POST", "/api/v1/persons/{pid}/materials", "system", material(kind="magic_scroll"),
     {}, 422, "kind"),
    ("entity material on a person", "POST", "/api/v1/persons/{pid}/materials", "system",
     material(kind="business_licence"), {}, 422, "kind"),
    ("person material on an entity", "POST", "/api/v1/entities/{eid}/materials", "system", material(), {}, 422,
     "kind"),
    ("expiry before issue", "POST", "/api/v1/persons/{pid}/materials", "system",
     material(issued_on="2020-01-01", expires_on="2019-01-01"), {}, 422, "expires_on"),
    ("expiry equals issue", "POST", "/api/v1/persons/{pid}/materials", "system",
     material(issued_on="2020-01-01", expires_on="2020-01-01"), {}, 422, "expires_on"),
    ("issued in the future", "POST", "/api/v1/persons/{pid}/materials", "system",
     material(issued_on=TOMORROW, expires_on="2040-01-01"), {}, 422, "issued_on"),
    ("passport without expiry", "POST", "/api/v1/persons/{pid}/materials", "system", material(expires_on=None), {},
     422, "expires_on"),
    ("hukou with expiry", "POST", "/api/v1/persons/{pid}/materials", "system", material(kind="hukou"), {}, 422,
     "expires_on"),
    ("bad provenance", "POST", "/api/v1/persons/{pid}/materials", "system", material(provenance="rumour"), {}, 422,
     "provenance"),
    ("missing expires_on", "POST", "/api/v1/persons/{pid}/materials", "system", without(GOOD_MATERIAL, "expires_on"),
     {}, 422, "expires_on"),
    ("nested fields", "POST", "/api/v1/persons/{pid}/materials", "system", material(fields={"a": {"b": 1}}), {},
     422, "fields"),
    ("too many fields", "POST", "/api/v1/persons/{pid}/materials", "system",
     material(fields={f"f{i}": i for i in range(51)}), {}, 422, "fields"),
    ("cypher in material number", "POST", "/api/v1/persons/{pid}/materials", "system", material(number=CYPHER), {},
     422, "number"),
    ("material for unknown person", "POST", f"/api/v1/persons/{NOT_A_PID}/materials", "system", material(), {},
     404, None),
    ("material under unknown collection", "POST", "/api/v1/planets/{pid}/materials", "system", material(), {}, 404,
     None),
    # events
    ("unknown event kind", "POST", "/api/v1/persons/{pid}/events", "system",
     {"kind": "coronation", "occurred_on": "2020-01-01"}, {}, 422, "kind"),
    ("entity event on a person", "POST", "/api/v1/persons/{pid}/events", "system",
     {"kind": "annual_report", "occurred_on": "2020-01-01"}, {}, 422, "kind"),
    ("event in the future", "POST", "/api/v1/persons/{pid}/events", "system",
     {"kind": "marriage", "occurred_on": TOMORROW}, {}, 422, "occurred_on"),
    ("impossible event date", "POST", "/api/v1/persons/{pid}/events", "system",
     {"kind": "marriage", "occurred_on": "2021-13-01"}, {}, 422, "occurred_on"),
    ("event for unknown entity", "POST", f"/api/v1/entities/{NOT_A_PID}/events", "system",
     {"kind": "founding", "occurred_on": "2020-01-01"}, {}, 404, None),
    # unknown ids on reads -> 404, nothing recorded
    ("unknown pid", "GET", f"/api/v1/persons/{NOT_A_PID}", "officer", None, {"X-Purpose": "x"}, 404, None),
    ("unknown eid", "GET", f"/api/v1/entities/{NOT_A_PID}", "officer", None, {"X-Purpose": "x"}, 404, None),
    ("unknown id number", "GET", "/api/v1/persons?id_number=" + id_number(seq=999), "officer", None,
     {"X-Purpose": "x"}, 404, "id_number"),
    ("invalid id number lookup", "GET", "/api/v1/persons?id_number=123", "officer", None, {"X-Purpose": "x"}, 422,
     "id_number"),
    ("unknown uscc", "GET", "/api/v1/entities?uscc=" + uscc("MA4W00000"), "officer", None, {"X-Purpose": "x"}, 404,
     "uscc"),
    ("materials of unknown pid", "GET", f"/api/v1/persons/{NOT_A_PID}/materials", "officer", None,
     {"X-Purpose": "x"}, 404, None),
    ("access log of unknown pid", "GET", f"/api/v1/persons/{NOT_A_PID}/access-log", "officer", None,
     {"X-Purpose": "x"}, 404, None),
    ("cypher in path id", "GET", "/api/v1/persons/x'})%20MATCH%20(n)%20DETACH%20DELETE%20n//", "officer", None,
     {"X-Purpose": "x"}, 404, None),
    ("wrong method", "DELETE", "/api/v1/persons/{pid}", "admin", None, {}, 405, None),
    # notification: scans, preferences, notices, filing a draft
    ("officer starts a scan", "POST", "/api/v1/scans", "officer", {"as_of": "2026-03-02"}, {}, 403, None),
    ("system starts a scan", "POST", "/api/v1/scans", "system", {}, {}, 403, None),
    ("scan on 30 February", "POST", "/api/v1/scans", "admin", {"as_of": "2026-02-30"}, {}, 422, "as_of"),
    ("scan with unknown field", "POST", "/api/v1/scans", "admin", {"as_of": "2026-03-02", "all": True}, {}, 422,
     "all"),
    ("unknown scan", "GET", "/api/v1/scans/no-such-scan", "admin", None, {}, 404, None),
    ("preferences: fax", "PUT", "/api/v1/persons/{pid}/preferences", "system", {"channels": ["fax"]}, {}, 422,
     "channels.0"),
    ("preferences: sms twice", "PUT", "/api/v1/persons/{pid}/preferences", "system", {"channels": ["sms", "sms"]},
     {}, 422, "channels"),
    ("preferences: no channels", "PUT", "/api/v1/persons/{pid}/preferences", "system", {"language": "en"}, {}, 422,
     "channels"),
    ("preferences: language fr", "PUT", "/api/v1/persons/{pid}/preferences", "system",
     {"channels": ["sms"], "language": "fr"}, {}, 422, "language"),
    ("preferences: quiet 25:00", "PUT", "/api/v1/persons/{pid}/preferences", "system",
     {"channels": ["sms"], "quiet_hours": "25:00-08:00"}, {}, 422, "quiet_hours"),
    ("preferences: quiet injection", "PUT", "/api/v1/persons/{pid}/preferences", "system",
     {"channels": ["sms"], "quiet_hours": CYPHER}, {}, 422, "quiet_hours"),
    ("preferences of nobody", "PUT", f"/api/v1/persons/{NOT_A_PID}/preferences", "system", {"channels": []}, {},
     404, None),
    ("preferences by an officer", "PUT", "/api/v1/persons/{pid}/preferences", "officer", {"channels": []}, {}, 403,
     None),
    ("preferences read without purpose", "GET", "/api/v1/persons/{pid}/preferences", "officer", None, {}, 400,
     "X-Purpose"),
    ("notices without purpose", "GET", "/api/v1/persons/{pid}/notices", "officer", None, {}, 400, "X-Purpose"),
    ("notices of nobody", "GET", f"/api/v1/persons/{NOT_A_PID}/notices", "officer", None, {"X-Purpose": "x"}, 404,
     None),
    ("file a draft that is not one", "POST", "/api/v1/applications", "officer",
     {"subject": {"type": "person", "id": "{pid}"}, "service": "id_card_renewal", "draft": NOT_A_PID}, {}, 422,
     "draft"),
    # free text: control, format (bidi, zero-width), surrogate and separator characters -> 422 naming the field
    ("NUL in issuer", "POST", "/api/v1/persons/{pid}/materials", "system", material(issuer="出入境\x00管理局"), {},
     422, "issuer"),
    ("bell in a material fields value", "POST", "/api/v1/persons/{pid}/materials", "system",
     material(fields={"address": "祖庙路\x07"}), {}, 422, "fields.address"),
    ("RLO in an event details value", "POST", "/api/v1/persons/{pid}/events", "system",
     {"kind": "marriage", "occurred_on": "2020-01-01", "details": {"note": "核查\u202e改篡"}}, {}, 422, "details.note"),
    ("zero-width space in a fields key", "POST", "/api/v1/persons/{pid}/materials", "system",
     material(fields={"addr\u200bess": "祖庙路"}), {}, 422, "fields"),
    ("lone surrogate in issuer", "POST", "/api/v1/persons/{pid}/materials", "system",
     json.dumps(material(issuer="局\ud800"), ensure_ascii=True).encode(), {}, 422, "issuer"),
    ("line separator in an event details value", "POST", "/api/v1/persons/{pid}/events", "system",
     {"kind": "marriage", "occurred_on": "2020-01-01", "details": {"note": "a\u2028b"}}, {}, 422, "details.note"),
    ("RLO in a person's name", "POST", "/api/v1/persons", "system", person(name="王\u202e五"), {}, 422, "name"),
    ("NUL in an application fields value", "POST", "/api/v1/applications", "officer",
     {"subject": {"type": "person", "id": "{pid}"}, "service": "id_card_renewal", "fields": {"reason": "\x00"}}, {},
     422, "fields.reason"),
    ("RLO in a decision note", "POST", f"/api/v1/applications/{NOT_A_PID}/decision", "officer",
     {"outcome": "rejected", "note": "材料\u202e不全"}, {"X-Purpose": "x"}, 422, "note"),
    ("zero-width space in a lookup", "GET", "/api/v1/persons?id_number=%E2%80%8B" + id_number(), "officer", None,
     {"X-Purpose": "x"}, 422, "id_number"),
    ("RLO in X-Purpose", "GET", "/api/v1/persons/{pid}", "officer", None,
     {"X-Purpose": "核查\u202e改篡".encode().decode("latin-1")}, 422, "X-Purpose"),  # UTF-8 on the wire
    ("zero-width space in X-Purpose", "GET", "/api/v1/persons/{pid}/materials", "officer", None,
     {"X-Purpose": "窗口\u200b受理"}, 422, "X-Purpose"),
    ("line separator in X-Purpose", "GET", "/api/v1/persons/{pid}/access-log", "officer", None,
     {"X-Purpose": "核查\u2028"}, 422, "X-Purpose"),
    ("lone surrogate in X-Purpose", "GET", "/api/v1/persons/{pid}", "officer", None, {"X-Purpose": "核查\ud800"},
     422, "X-Purpose"),
]


@pytest.fixture
def world(app, client):
    auth = keys(app)
    auth["forged"] = {"Authorization": "Bearer lk_0000000000000000_notarealsecret"}
    auth["basic"] = {"Authorization": "Basic dXNlcjpwYXNz"}
    pid = client.post("/api/v1/persons", json={"id_number": id_number(), "name": "张三"},
                      headers=auth["system"]).get_json()["pid"]
    eid = client.post("/api/v1/entities", json={**GOOD_ENTITY, "uscc": uscc()},
                      headers=auth["system"]).get_json()["eid"]
    return auth, pid, eid


def fill(value, pid: str, eid: str):
    if isinstance(value, str):
        return value.replace("{pid}", pid).replace("{eid}", eid)
    if isinstance(value, dict):
        return {k: fill(v, pid, eid) for k, v in value.items()}
    return value


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES), "case names must be unique"


@pytest.mark.parametrize(("name", "method", "path", "role", "body", "headers", "status", "field"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_request(world, client, driver, settings, name, method, path, role, body, headers, status, field):
    auth, pid, eid = world
    before = snapshot(driver, settings.neo4j_database)
    all_headers = {**(auth[role] if role else {}), **headers}
    if isinstance(body, bytes):
        data = body
    elif body is None:
        data = None
    else:
        data = json.dumps(fill(body, pid, eid), ensure_ascii=False).encode()
    response = client.open(fill(path, pid, eid), method=method, data=data, headers=all_headers,
                           content_type="application/json" if data is not None else None)

    assert response.status_code == status, response.get_data(as_text=True)[:500]
    payload = response.get_json()
    assert set(payload) == {"code", "status", "message", "errors"}, payload
    assert payload["code"] == status and isinstance(payload["message"], str) and payload["message"]
    assert all(isinstance(v, list) and v and all(isinstance(m, str) for m in v) for v in payload["errors"].values())
    if field is not None:
        assert field in payload["errors"], payload
    assert snapshot(driver, settings.neo4j_database) == before, "a failed request changed the graph"
