"""A newborn before household registration: put on file by its medical birth certificate number (no ID number yet),
found by that number, given its ID number later (PUT …/id-number), and its household registration due to the
parents until then; every refusal names the field and writes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.integration.api_helpers import id_number, keys, snapshot

PURPOSE = {"X-Purpose": "出生登记 / household registration of a newborn"}
CERTIFICATE = "Q440612345"


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


BORN = today() - timedelta(days=10)


def newborn(**change) -> dict:
    return {"name": "陈小宝", "sex": "M", "birth_date": BORN.isoformat(), "birth_certificate_number": CERTIFICATE,
            **change}


def child_id(born: date = BORN, seq: int = 123) -> str:
    return id_number(born=born, seq=seq)  # seq odd: a boy's number


@pytest.fixture
def auth(app):
    return keys(app)


def post_newborn(client, auth, **change):
    return client.post("/api/v1/persons", json=newborn(**change), headers=auth["system"])


def persons(driver, settings) -> int:
    return driver.execute_query("MATCH (p:Person) RETURN count(p) AS c", database_=settings.neo4j_database)[0][0]["c"]


def test_a_newborn_is_put_on_file_by_its_birth_certificate_with_its_birth(client, auth):
    answer = post_newborn(client, auth, birth_certificate_number=" q440-612345 ")  # normalised: case, spaces, dash
    assert answer.status_code == 201, answer.get_json()
    person = answer.get_json()
    assert person["id_number_masked"] is None and person["region"] is None
    assert person["birth_certificate_number_masked"] == "Q4******45"
    assert (person["name"], person["sex"], person["birth_date"]) == ("陈小宝", "M", BORN.isoformat())
    assert CERTIFICATE not in answer.get_data(as_text=True)
    events = client.get(f"/api/v1/persons/{person['pid']}/events", headers={**auth["officer"], **PURPOSE})
    assert [(e["kind"], e["occurred_on"]) for e in events.get_json()] == [("birth", BORN.isoformat())]


def test_the_same_birth_certificate_twice_is_a_conflict(client, auth, driver, settings):
    assert post_newborn(client, auth).status_code == 201
    again = post_newborn(client, auth, name="陈二宝", birth_certificate_number=CERTIFICATE.lower())
    assert again.status_code == 409
    assert again.get_json()["errors"] == {"birth_certificate_number": [
        "a person with this birth certificate number is already on file"]}
    assert persons(driver, settings) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "陈小宝"}, "id_number"),  # neither key
    (newborn(id_number=child_id()), "birth_certificate_number"),  # both keys
    (newborn(birth_certificate_number="440612345"), "birth_certificate_number"),  # no letter
    (newborn(birth_certificate_number="QQ44061234"), "birth_certificate_number"),
    (newborn(birth_certificate_number="Q44061234"), "birth_certificate_number"),  # eight digits
    ({k: v for k, v in newborn().items() if k != "sex"}, "sex"),
    ({k: v for k, v in newborn().items() if k != "birth_date"}, "birth_date"),
    (newborn(sex="X"), "sex"),
    (newborn(birth_date=(today() + timedelta(days=2)).isoformat()), "birth_date"),  # in the future
    (newborn(birth_date=(today() - timedelta(days=366)).isoformat()), "birth_date"),  # not a newborn any more
    (newborn(birth_date="2026-02-30"), "birth_date"),
    ({"id_number": child_id(), "name": "陈小宝", "sex": "M"}, "sex"),  # read off the ID number
    ({"id_number": child_id(), "name": "陈小宝", "birth_date": BORN.isoformat()}, "birth_date"),
])
def test_a_bad_newborn_is_refused_naming_the_field_and_nothing_is_written(client, auth, driver, settings, body,
                                                                          field):
    before = snapshot(driver, settings.neo4j_database)
    answer = client.post("/api/v1/persons", json=body, headers=auth["system"])
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"], answer.get_json()
    assert answer.get_json()["message"].startswith(field)
    assert snapshot(driver, settings.neo4j_database) == before and persons(driver, settings) == 0


def test_a_newborn_is_found_by_its_birth_certificate_number_and_the_read_recorded(client, auth):
    pid = post_newborn(client, auth).get_json()["pid"]
    found = client.get(f"/api/v1/persons?birth_certificate_number={CERTIFICATE.lower()}",
                       headers={**auth["officer"], **PURPOSE})
    assert found.status_code == 200 and found.get_json()["pid"] == pid
    log = client.get(f"/api/v1/persons/{pid}/access-log", headers={**auth["officer"], **PURPOSE}).get_json()
    assert ("person", PURPOSE["X-Purpose"]) in {(r["what"], r["purpose"]) for r in log}
    assert client.get("/api/v1/persons?birth_certificate_number=R000000001",
                      headers={**auth["officer"], **PURPOSE}).status_code == 404
    bad = client.get("/api/v1/persons?birth_certificate_number=12345", headers={**auth["officer"], **PURPOSE})
    assert bad.status_code == 422 and "birth_certificate_number" in bad.get_json()["errors"]
    both = client.get(f"/api/v1/persons?birth_certificate_number={CERTIFICATE}&id_number={child_id()}",
                      headers={**auth["officer"], **PURPOSE})
    assert both.status_code == 422
    assert client.get(f"/api/v1/persons?birth_certificate_number={CERTIFICATE}",
                      headers=auth["officer"]).status_code == 400  # no purpose


def due_services(client, auth, pid: str) -> set[str]:
    answer = client.get(f"/api/v1/persons/{pid}/due?within=120", headers={**auth["officer"], **PURPOSE})
    assert answer.status_code == 200, answer.get_json()
    return {d["service"] for d in answer.get_json()}


def test_the_id_number_is_attached_once_and_settles_the_household_registration(client, auth, driver, settings):
    mother = client.post("/api/v1/persons", json={"id_number": id_number(born=date(1992, 3, 4), seq=124),
                                                  "name": "李美丽", "phone": "13812345678"},
                         headers=auth["system"]).get_json()["pid"]
    pid = post_newborn(client, auth).get_json()["pid"]
    assert client.post("/api/v1/relations", json={"from": mother, "to": pid, "type": "PARENT_OF"},
                       headers=auth["system"]).status_code == 201
    assert "newborn_hukou_registration" in due_services(client, auth, pid)

    attached = client.put(f"/api/v1/persons/{pid}/id-number", json={"id_number": child_id().lower()},
                          headers={**auth["system"], **PURPOSE})
    assert attached.status_code == 200, attached.get_json()
    person = attached.get_json()
    assert person["id_number_masked"] == "440604**********" + child_id()[-2:]
    assert person["region"] == "440604" and person["birth_certificate_number_masked"] == "Q4******45"
    assert client.get(f"/api/v1/persons?id_number={child_id()}",
                      headers={**auth["officer"], **PURPOSE}).get_json()["pid"] == pid
    assert client.get(f"/api/v1/persons?birth_certificate_number={CERTIFICATE}",
                      headers={**auth["officer"], **PURPOSE}).get_json()["pid"] == pid
    log = client.get(f"/api/v1/persons/{pid}/access-log", headers={**auth["officer"], **PURPOSE}).get_json()
    assert "person (ID number attached)" in {r["what"] for r in log}

    due = due_services(client, auth, pid)
    assert "newborn_hukou_registration" not in due and "newborn_medical_insurance" in due

    again = client.put(f"/api/v1/persons/{pid}/id-number", json={"id_number": child_id(seq=125)},
                       headers={**auth["system"], **PURPOSE})
    assert again.status_code == 422 and again.get_json()["errors"] == {
        "id_number": ["this person has an ID number already"]}


@pytest.mark.parametrize(("number", "status", "reason"), [
    (child_id(born=BORN - timedelta(days=1)), 422, "the birth date in the ID number is not the person's birth date"),
    (child_id(seq=122), 422, "the sex the ID number encodes is not the person's sex on file"),
    ("440604" + "1" * 12, 422, "check digit"),
    (child_id(seq=127), 409, "a person with this ID number is already on file"),
])
def test_an_id_number_that_does_not_fit_is_refused_and_nothing_is_written(client, auth, driver, settings, number,
                                                                           status, reason):
    pid = post_newborn(client, auth).get_json()["pid"]
    # the twin already registered holds seq 127
    assert post_newborn(client, auth, birth_certificate_number="Q440612346", name="陈二宝").status_code == 201
    twin = client.get("/api/v1/persons?birth_certificate_number=Q440612346",
                      headers={**auth["officer"], **PURPOSE}).get_json()["pid"]
    assert client.put(f"/api/v1/persons/{twin}/id-number", json={"id_number": child_id(seq=127)},
                      headers={**auth["system"], **PURPOSE}).status_code == 200
    before = snapshot(driver, settings.neo4j_database)
    answer = client.put(f"/api/v1/persons/{pid}/id-number", json={"id_number": number},
                        headers={**auth["system"], **PURPOSE})
    assert answer.status_code == status, answer.get_json()
    assert reason in answer.get_json()["errors"]["id_number"][0]
    assert snapshot(driver, settings.neo4j_database) == before


def test_attaching_needs_a_key_a_purpose_and_a_known_person(client, auth, driver, settings):
    pid = post_newborn(client, auth).get_json()["pid"]
    before = snapshot(driver, settings.neo4j_database)
    body = {"id_number": child_id()}
    assert client.put(f"/api/v1/persons/{pid}/id-number", json=body, headers=auth["system"]).status_code == 400
    assert client.put(f"/api/v1/persons/{pid}/id-number", json=body, headers=PURPOSE).status_code == 401
    missing = client.put(f"/api/v1/persons/{pid}/id-number", json={}, headers={**auth["system"], **PURPOSE})
    assert missing.status_code == 422 and "id_number" in missing.get_json()["errors"]
    assert snapshot(driver, settings.neo4j_database) == before
    unknown = client.put("/api/v1/persons/00000000-0000-0000-0000-000000000000/id-number", json=body,
                         headers={**auth["system"], **PURPOSE})
    assert unknown.status_code == 404


def test_the_openapi_document_describes_the_attach_and_the_newborn_fields(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    put = spec["paths"]["/api/v1/persons/{pid}/id-number"]["put"]
    assert {"200", "422"} <= set(put["responses"])
    person_in = spec["components"]["schemas"]["PersonIn"]["properties"]
    assert {"birth_certificate_number", "sex", "birth_date", "id_number"} <= set(person_in)
    lookup = {p["name"] for p in spec["paths"]["/api/v1/persons"]["get"]["parameters"]}
    assert {"id_number", "birth_certificate_number"} <= lookup
