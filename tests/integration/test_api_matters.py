"""One matter, one application, whatever the channel (issue 15), on the real graph: a second filing of an open matter
is 409 naming the open application — for a person, a ward filed by a parent on the pages, and a business — a
withdrawn application frees the matter, and concurrent filings of one matter give one 201."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from profiles.models import Relation
from tests.integration.api_helpers import id_number, keys, uscc
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_person, post, sign_in_citizen
from tests.integration.test_pages_citizen import as_filled

PURPOSE = {"X-Purpose": "窗口受理"}


def person(client, auth, seq: int, born: date = date(1990, 5, 17)) -> str:
    answer = client.post("/api/v1/persons", headers=auth["system"],
                         json={"id_number": id_number(seq=seq, born=born), "name": "张三"})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["pid"]


def filing(client, auth, subject: dict, service: str, **extra):
    return client.post("/api/v1/applications", headers=auth["officer"],
                       json={"subject": subject, "service": service, "fields": {"reason": "有效期满"}, **extra})


def test_a_second_filing_of_an_open_matter_is_409_naming_the_first(app, client):
    auth = keys(app)
    pid = person(client, auth, 301)
    first = filing(client, auth, {"type": "person", "id": pid}, "id_card_renewal")
    assert first.status_code == 201 and first.get_json()["number"]
    aid = first.get_json()["aid"]
    again = filing(client, auth, {"type": "person", "id": pid}, "id_card_renewal")
    body = again.get_json()
    assert again.status_code == 409 and body["aid"] == aid and body["errors"]["aid"] == [aid]
    assert aid in body["message"] and body["errors"]["service"]
    other = filing(client, auth, {"type": "person", "id": pid}, "passport_renewal")
    assert other.status_code == 201  # another service is another matter
    count = app.extensions["lifecycle"].driver.execute_query(
        "MATCH (a:Application {service: 'id_card_renewal'}) RETURN count(a) AS c")[0][0]["c"]
    assert count == 1


def test_a_business_files_its_annual_report_once(app, client):
    auth = keys(app)
    eid = client.post("/api/v1/entities", headers=auth["system"], json={
        "uscc": uscc(org="MA4W30001"), "name": "佛山市年报测试有限公司", "kind": "limited_company",
        "established_on": "2019-03-01"}).get_json()["eid"]
    first = filing(client, auth, {"type": "entity", "id": eid}, "enterprise_annual_report")
    again = filing(client, auth, {"type": "entity", "id": eid}, "enterprise_annual_report")
    assert first.status_code == 201 and again.status_code == 409 and again.get_json()["aid"] == first.get_json()["aid"]


def test_a_ward_filed_for_by_a_parent_on_the_pages_cannot_be_filed_again_through_the_api(app, svc, sandbox):
    parent = make_person(svc, name="陈妈妈", phone="+8613712347001", born=date(1985, 3, 9))
    child = make_person(svc, name="陈小宝", born=date.today() - timedelta(days=16 * 365 + 20))
    svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    browser = app.test_client()
    sign_in_citizen(browser, sandbox, parent.id_number, "+8613712347001")
    page = browser.get(f"/me/p/{child.pid}/apply/resident_medical_insurance_contribution")
    assert page.status_code == 200, page.status_code
    shown = as_filled(page.get_data(as_text=True))
    filed = post(browser, f"/me/p/{child.pid}/apply/resident_medical_insurance_contribution",
                 {**{k: v or "广东省佛山市禅城区祖庙路1号" for k, v in shown.items()}, "confirm": "yes"})
    assert filed.status_code == 303, filed.get_data(as_text=True)[:500]
    open_aid = next(a["aid"] for a in svc.portal.applications_of("Person", child.pid) if a["status"] == "submitted")
    auth = keys(app)
    again = filing(app.test_client(), auth, {"type": "person", "id": child.pid},
                   "resident_medical_insurance_contribution")
    assert again.status_code == 409 and again.get_json()["aid"] == open_aid


def test_a_withdrawn_application_frees_the_matter_and_its_due_item_comes_back(app, client):
    auth = keys(app)
    pid = person(client, auth, 302)
    expiry = (date.today() + timedelta(days=30)).isoformat()
    client.post(f"/api/v1/persons/{pid}/materials", headers=auth["system"], json={
        "kind": "id_card", "number": id_number(seq=302), "issued_on": "2006-12-01", "expires_on": expiry,
        "issuer": "佛山市公安局", "provenance": "issued"})

    def due() -> list[str]:
        answer = client.get(f"/api/v1/persons/{pid}/due?within=60", headers={**auth["officer"], **PURPOSE})
        return [i["service"] for i in answer.get_json()]

    assert "id_card_renewal" in due()
    aid = filing(client, auth, {"type": "person", "id": pid}, "id_card_renewal").get_json()["aid"]
    assert "id_card_renewal" not in due()
    assert client.post(f"/api/v1/applications/{aid}/withdrawal", headers=auth["officer"],
                       json={}).status_code == 422  # a reason is required
    withdrawn = client.post(f"/api/v1/applications/{aid}/withdrawal", headers=auth["officer"],
                            json={"reason": "申请人搬家，改到新住址办理"})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert "id_card_renewal" in due()
    refiled = filing(client, auth, {"type": "person", "id": pid}, "id_card_renewal")
    assert refiled.status_code == 201 and refiled.get_json()["aid"] != aid
    again = client.post(f"/api/v1/applications/{aid}/withdrawal", headers=auth["officer"], json={"reason": "x"})
    assert again.status_code == 409
    history = client.get(f"/api/v1/applications/{aid}", headers={**auth["officer"], **PURPOSE}).get_json()["history"]
    assert [(h["from"], h["to"]) for h in history] == [(None, "submitted"), ("submitted", "withdrawn")]
    assert history[1]["note"] == "申请人搬家，改到新住址办理"


def test_concurrent_filings_of_one_matter_give_one_201(app, client):
    auth = keys(app)
    pid = person(client, auth, 303)

    def file(_):
        answer = app.test_client().post("/api/v1/applications", headers=auth["officer"], json={
            "subject": {"type": "person", "id": pid}, "service": "id_card_renewal", "fields": {}})
        return answer.status_code, answer.get_json().get("aid")

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(file, range(10)))
    assert sorted(status for status, _aid in results) == [201] + [409] * 9
    assert len({aid for _status, aid in results}) == 1  # the nine 409s name the one that was filed


def test_returned_for_correction_then_resubmitted_keeps_one_application(app, client):
    auth = keys(app)
    pid = person(client, auth, 304)
    aid = filing(client, auth, {"type": "person", "id": pid}, "id_card_renewal").get_json()["aid"]
    returned = client.post(f"/api/v1/applications/{aid}/decision", headers={**auth["officer"], **PURPOSE},
                           json={"outcome": "needs_correction", "note": "照片不合格"})
    assert returned.status_code == 200 and returned.get_json()["status"] == "needs_correction"
    assert filing(client, auth, {"type": "person", "id": pid}, "id_card_renewal").status_code == 409
