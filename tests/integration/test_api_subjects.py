"""The API's happy paths: record and read persons, entities, relations, materials, events; masked; access recorded."""

from datetime import date, timedelta

import pytest

from tests.integration.api_helpers import id_number, keys, uscc

PURPOSE = {"X-Purpose": "受理身份证换领 / ID card renewal at window 3"}


@pytest.fixture
def auth(app):
    return keys(app)


def create_person(client, auth, **overrides):
    body = {"id_number": id_number(), "name": "张三", "phone": "13812345678", "email": "zhang.san@example.com"}
    body.update(overrides)
    response = client.post("/api/v1/persons", json=body, headers=auth["system"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_person_is_recorded_and_masked(client, auth):
    person = create_person(client, auth)
    assert person["id_number_masked"] == "440604**********" + id_number()[-2:]
    assert (person["name"], person["birth_date"], person["sex"], person["region"]) == ("张三", "1990-05-17", "M",
                                                                                        "440604")
    assert person["phone_masked"] == "+86 138****5678"
    assert person["email_masked"].endswith("@example.com") and "zhang" not in person["email_masked"]
    assert "id_number" not in person and "phone" not in person

    by_id = client.get(f"/api/v1/persons/{person['pid']}", headers={**auth["officer"], **PURPOSE})
    assert by_id.status_code == 200 and by_id.get_json() == person
    lookup = client.get(f"/api/v1/persons?id_number={id_number().lower()}", headers={**auth["officer"], **PURPOSE})
    assert lookup.status_code == 200 and lookup.get_json()["pid"] == person["pid"]


def test_same_id_number_twice_is_a_conflict(client, auth):
    create_person(client, auth)
    again = client.post("/api/v1/persons", json={"id_number": id_number(), "name": "李四"}, headers=auth["system"])
    assert again.status_code == 409
    assert again.get_json()["errors"] == {"id_number": ["a person with this ID number is already on file"]}


def test_entity_and_relations(client, auth):
    person = create_person(client, auth)
    entity = client.post("/api/v1/entities", json={"uscc": uscc(), "name": "佛山市禅城区好味道餐饮有限公司",
                                                   "kind": "limited_company", "established_on": "2015-03-02"},
                         headers=auth["system"])
    assert entity.status_code == 201, entity.get_json()
    e = entity.get_json()
    assert (e["uscc"], e["region"], e["status"]) == (uscc(), "440604", "active")
    rel = client.post("/api/v1/relations", json={"from": person["pid"], "to": e["eid"], "type": "LEGAL_REP_OF"},
                      headers=auth["system"])
    assert rel.status_code == 201 and rel.get_json() == {"from": person["pid"], "to": e["eid"],
                                                         "type": "LEGAL_REP_OF"}
    found = client.get(f"/api/v1/entities?uscc={uscc()}", headers={**auth["officer"], **PURPOSE})
    assert found.status_code == 200 and found.get_json()["eid"] == e["eid"]

    child = create_person(client, auth, id_number=id_number(born=date(2019, 2, 1), seq=124), name="张小明")
    for rel_type in ("PARENT_OF", "GUARDIAN_OF"):
        r = client.post("/api/v1/relations", json={"from": person["pid"], "to": child["pid"], "type": rel_type},
                        headers=auth["system"])
        assert r.status_code == 201


def test_a_newer_material_supersedes_and_status_follows_dates(client, auth):
    person = create_person(client, auth)
    url = f"/api/v1/persons/{person['pid']}/materials"
    today = date.today()
    old = {"kind": "id_card", "number": id_number(), "issued_on": "2010-01-05", "expires_on": "2020-01-05",
           "issuer": "佛山市公安局禅城分局", "provenance": "issued", "fields": {"address": "佛山市禅城区祖庙路1号"}}
    first = client.post(url, json=old, headers=auth["system"])
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["status"] == "expired" and first.get_json()["version"] == 1
    assert "*" in first.get_json()["number_masked"]
    soon = (today + timedelta(days=30)).isoformat()
    second = client.post(url, json={**old, "issued_on": "2020-01-06", "expires_on": soon}, headers=auth["officer"])
    assert second.status_code == 201 and second.get_json()["version"] == 2
    assert second.get_json()["status"] == "expiring"

    listed = client.get(url, headers={**auth["officer"], **PURPOSE}).get_json()
    assert [(m["version"], m["status"]) for m in listed] == [(2, "expiring"), (1, "superseded")]
    assert listed[0]["fields"] == {"address": "佛山市禅城区祖庙路1号"}

    long_term = client.post(url, json={**old, "issued_on": "2021-06-01", "expires_on": None}, headers=auth["system"])
    assert long_term.status_code == 201 and long_term.get_json()["status"] == "valid"


def test_events_are_recorded_and_listed(client, auth):
    person = create_person(client, auth)
    url = f"/api/v1/persons/{person['pid']}/events"
    r = client.post(url, headers=auth["system"],
                    json={"kind": "marriage", "occurred_on": "2018-10-01", "details": {"registry": "禅城区民政局"}})
    assert r.status_code == 201
    listed = client.get(url, headers={**auth["officer"], **PURPOSE}).get_json()
    assert [(e["kind"], e["occurred_on"], e["details"]) for e in listed] == [
        ("marriage", "2018-10-01", {"registry": "禅城区民政局"})]


def test_every_officer_read_is_in_the_access_log_with_its_purpose(client, auth):
    person = create_person(client, auth)
    pid = person["pid"]
    reads = [("/api/v1/persons/" + pid, "核验身份 verify identity"),
             (f"/api/v1/persons/{pid}/materials", "一表通预填 prefill"),
             (f"/api/v1/persons/{pid}/events", "出生一件事 birth bundle")]
    for path, purpose in reads:
        assert client.get(path, headers={**auth["officer"], "X-Purpose": purpose}).status_code == 200
    log = client.get(f"/api/v1/persons/{pid}/access-log", headers={**auth["officer"], "X-Purpose": "citizen asked"})
    assert log.status_code == 200
    entries = log.get_json()
    assert [(e["what"], e["purpose"], e["role"], e["actor"]) for e in entries] == [
        ("access-log", "citizen asked", "officer", "test-officer"),
        ("events", "出生一件事 birth bundle", "officer", "test-officer"),
        ("materials", "一表通预填 prefill", "officer", "test-officer"),
        ("person", "核验身份 verify identity", "officer", "test-officer"),
    ]
    assert all(e["at"] for e in entries)


def test_openapi_describes_the_contract(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/persons", "/api/v1/persons/{pid}", "/api/v1/entities", "/api/v1/entities/{eid}",
                 "/api/v1/relations", "/api/v1/{kind}/{sid}/materials", "/api/v1/{kind}/{sid}/events",
                 "/api/v1/{kind}/{sid}/access-log"):
        assert path in spec["paths"], path
    assert "PersonIn" in spec["components"]["schemas"]


def test_a_purpose_typed_in_chinese_arrives_as_typed(client, auth):
    """Servers hand WSGI the header bytes decoded as Latin-1; the logged purpose must still read 换领身份证."""
    pid = create_person(client, auth)["pid"]
    on_the_wire = "换领身份证".encode().decode("latin-1")
    assert client.get(f"/api/v1/persons/{pid}", headers={**auth["officer"], "X-Purpose": on_the_wire}).status_code \
        == 200
    log = client.get(f"/api/v1/persons/{pid}/access-log", headers={**auth["officer"], "X-Purpose": "ok"}).get_json()
    assert log[-1]["purpose"] == "换领身份证"
