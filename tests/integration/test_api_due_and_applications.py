"""Due items and applications through the API: an expiring ID card is due, a filed renewal reusing the card on file
settles it, the application carries its decision date and card, and is decided once."""

from datetime import date, timedelta

import pytest

from tests.integration.api_helpers import id_number, keys

PURPOSE = {"X-Purpose": "窗口受理 window 3"}


@pytest.fixture
def world(app, client):
    auth = keys(app)
    pid = client.post("/api/v1/persons", json={"id_number": id_number(), "name": "张三"},
                      headers=auth["system"]).get_json()["pid"]
    today = date.today()
    card = client.post(f"/api/v1/persons/{pid}/materials", headers=auth["system"], json={
        "kind": "id_card", "number": id_number(), "issued_on": "2006-12-01",
        "expires_on": (today + timedelta(days=30)).isoformat(), "issuer": "佛山市公安局", "provenance": "issued"})
    hukou = client.post(f"/api/v1/persons/{pid}/materials", headers=auth["system"], json={
        "kind": "hukou", "number": "440604123456", "issued_on": "2001-05-01", "expires_on": None,
        "issuer": "佛山市公安局", "provenance": "issued", "fields": {"address": "佛山市禅城区祖庙路1号"}})
    return auth, pid, card.get_json()["mid"], hukou.get_json()["mid"]


def test_due_lists_the_renewal_with_why_and_when(client, world):
    auth, pid, card_mid, _ = world
    response = client.get(f"/api/v1/persons/{pid}/due?within=60", headers={**auth["officer"], **PURPOSE})
    assert response.status_code == 200
    [item] = [i for i in response.get_json() if i["service"] == "id_card_renewal"]
    due_on = date.today() + timedelta(days=30)
    assert item["due_on"] == due_on.isoformat()
    assert item["notify_on"] == [(due_on - timedelta(days=d)).isoformat() for d in (90, 30, 7)]
    assert item["reason"]["rule"].startswith("id_card_renewal@v") and item["reason"]["source"] == f"material:{card_mid}"
    assert item["recipients"] == [pid]
    assert item["nature"] == "deadline" and item["opens_on"] == (due_on - timedelta(days=90)).isoformat()
    log = client.get(f"/api/v1/persons/{pid}/access-log", headers={**auth["officer"], **PURPOSE}).get_json()
    assert "due items" in [e["what"] for e in log]


def test_filing_the_renewal_settles_it_and_counts_reuse(client, world, driver, settings):
    auth, pid, card_mid, hukou_mid = world
    filed = client.post("/api/v1/applications", headers=auth["officer"], json={
        "subject": {"type": "person", "id": pid}, "service": "id_card_renewal",
        "fields": {"reason": "有效期满"}, "reuse": [hukou_mid, card_mid, hukou_mid]})
    assert filed.status_code == 201, filed.get_json()
    body = filed.get_json()
    assert body["status"] == "submitted" and body["card"] == "none" and body["decide_by"] > date.today().isoformat()
    assert sorted(body["reuse"]) == sorted([hukou_mid, card_mid])
    counts = driver.execute_query("MATCH (:Application)-[:REUSES]->(m:Material) RETURN m.mid AS mid, "
                                  "m.reuse_count AS n", database_=settings.neo4j_database)[0]
    assert {r["mid"]: r["n"] for r in counts} == {hukou_mid: 1, card_mid: 1}

    due = client.get(f"/api/v1/persons/{pid}/due?within=60", headers={**auth["officer"], **PURPOSE}).get_json()
    assert "id_card_renewal" not in [i["service"] for i in due]

    aid = body["aid"]
    read = client.get(f"/api/v1/applications/{aid}", headers={**auth["officer"], **PURPOSE})
    assert read.status_code == 200 and read.get_json()["fields"] == {"reason": "有效期满"}
    decided = client.post(f"/api/v1/applications/{aid}/decision", headers={**auth["officer"], **PURPOSE},
                          json={"outcome": "approved", "note": "准予换领"})
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
    again = client.post(f"/api/v1/applications/{aid}/decision", headers={**auth["officer"], **PURPOSE},
                        json={"outcome": "rejected", "note": "改主意"})
    assert again.status_code == 409 and "already approved" in again.get_json()["message"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"service": "no_such_service"}, 422, "service"),
    ({"service": "enterprise_annual_report"}, 422, "service"),
    ({"reuse": ["not-a-material"]}, 422, "reuse"),
    ({"subject": {"type": "person", "id": "00000000-0000-0000-0000-000000000000"}}, 404, "subject"),
    ({"subject": {"type": "planet", "id": "x"}}, 422, "subject.type"),
])
def test_bad_applications_write_nothing(client, world, driver, settings, body, status, field):
    auth, pid, _, _ = world
    request = {"subject": {"type": "person", "id": pid}, "service": "id_card_renewal", "fields": {}, "reuse": []}
    request.update(body)
    before = driver.execute_query("MATCH (a:Application) RETURN count(a) AS n", database_=settings.neo4j_database)
    response = client.post("/api/v1/applications", headers=auth["officer"], json=request)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["errors"]
    after = driver.execute_query("MATCH (a:Application) RETURN count(a) AS n", database_=settings.neo4j_database)
    assert before[0][0]["n"] == after[0][0]["n"] == 0


def test_prefill_fills_from_file_and_records_the_read(client, world):
    auth, pid, _, hukou_mid = world
    response = client.post("/api/v1/prefill", headers={**auth["officer"], **PURPOSE},
                           json={"subject": {"type": "person", "id": pid}, "services": ["id_card_renewal"]})
    assert response.status_code == 200, response.get_json()
    form = response.get_json()
    by_name = {f["name"]: f for f in form["fields"]}
    assert by_name["address"]["value"] == "佛山市禅城区祖庙路1号"
    assert (by_name["address"]["provenance"], by_name["address"]["locked"]) == ("issued", True)
    assert by_name["address"]["material_id"] == hukou_mid
    states = {m["kind"]: (m["state"], m["mid"]) for m in form["materials"]}
    assert states["hukou"] == ("reusable", hukou_mid)
    log = client.get(f"/api/v1/persons/{pid}/access-log", headers={**auth["officer"], **PURPOSE}).get_json()
    assert "prefill id_card_renewal" in [e["what"] for e in log]

    unknown = client.post("/api/v1/prefill", headers={**auth["officer"], **PURPOSE},
                          json={"subject": {"type": "person", "id": pid}, "services": ["no_such"]})
    assert unknown.status_code == 422 and "services" in unknown.get_json()["errors"]
    no_purpose = client.post("/api/v1/prefill", headers=auth["officer"],
                             json={"subject": {"type": "person", "id": pid}, "services": ["id_card_renewal"]})
    assert no_purpose.status_code == 400


def test_a_childs_application_reuses_a_parents_papers_but_not_a_strangers(client, world):
    auth, parent_pid, _card, hukou_mid = world
    child = client.post("/api/v1/persons", json={"id_number": id_number(born=date(2020, 3, 1), seq=321),
                                                  "name": "张小宝"}, headers=auth["system"]).get_json()["pid"]
    stranger = client.post("/api/v1/persons", json={"id_number": id_number(seq=654), "name": "李四"},
                           headers=auth["system"]).get_json()["pid"]
    theirs = client.post(f"/api/v1/persons/{stranger}/materials", headers=auth["system"], json={
        "kind": "hukou", "number": "440604999999", "issued_on": "2001-05-01", "expires_on": None,
        "issuer": "佛山市公安局", "provenance": "issued", "fields": {"address": "别处"}}).get_json()["mid"]
    assert client.post("/api/v1/relations", json={"from": parent_pid, "to": child, "type": "PARENT_OF"},
                       headers=auth["system"]).status_code == 201
    request = {"subject": {"type": "person", "id": child}, "service": "primary_school_entry", "fields": {}}
    refused = client.post("/api/v1/applications", headers=auth["officer"], json={**request, "reuse": [theirs]})
    assert refused.status_code == 422 and "reuse" in refused.get_json()["errors"]
    filed = client.post("/api/v1/applications", headers=auth["officer"], json={**request, "reuse": [hukou_mid]})
    assert filed.status_code == 201 and filed.get_json()["reuse"] == [hukou_mid]


def test_an_offer_is_a_due_item_of_nature_offer(client, world):
    auth, parent_pid, _card, _hukou = world
    born = date.today() - timedelta(days=20)
    baby = client.post("/api/v1/persons", json={"id_number": id_number(born=born, seq=322), "name": "张小宝"},
                       headers=auth["system"]).get_json()["pid"]
    client.post("/api/v1/relations", json={"from": parent_pid, "to": baby, "type": "PARENT_OF"}, headers=auth["system"])
    items = client.get(f"/api/v1/persons/{baby}/due", headers={**auth["officer"], **PURPOSE}).get_json()
    [offer] = [i for i in items if i["service"] == "childcare_subsidy_claim"]
    assert offer["nature"] == "offer" and offer["recipients"] == [parent_pid]
    assert offer["opens_on"] in (born.isoformat(), (born + timedelta(days=1)).isoformat())  # the first year of age
    assert offer["notify_on"] == [offer["opens_on"]]  # pushed once, when the year opens
