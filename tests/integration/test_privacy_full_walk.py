"""No personal data in clear at rest after a walk through every channel: the API (persons, a business, materials,
events, an application, preferences, a newborn put on file by its birth certificate and given its ID number), the
pages (a citizen's sign-in and page, an officer's search, profile, unified form and recordings at the window), a daily
scan and its delivery by SMS. Then every property of every node and relationship of every label, and every Redis key
and value, is searched for each personal value."""

from __future__ import annotations

from datetime import date, timedelta

from notifier.scan import start_scan
from notifier.services import install
from tests.integration.api_helpers import id_number, keys, redis_contents, uscc
from tests.integration.notify_helpers import at, run_jobs
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_officer, post, sign_in_citizen, sign_in_officer
from tests.integration.test_privacy_at_rest import all_strings

PURPOSE = {"X-Purpose": "窗口受理 / at the window"}
PEOPLE = [("欧阳娜娜", 511, "13912345671", "nana@example.cn"), ("司马光明", 512, "13912345672", "guangming@example.cn")]


def test_no_personal_value_in_clear_in_the_graph_or_redis_after_a_full_walk(app, svc, sandbox, driver, settings):
    auth = keys(app)
    today = date.today()
    secrets: list[str] = []
    pids = []
    for name, seq, phone, email in PEOPLE:
        number = id_number(seq=seq, born=date(1984, 2, 29))
        pid = app.test_client().post("/api/v1/persons", headers=auth["system"], json={
            "id_number": number, "name": name, "phone": phone, "email": email}).get_json()["pid"]
        pids.append(pid)
        card = f"C{number[-8:]}"
        answer = app.test_client().post(f"/api/v1/persons/{pid}/materials", headers=auth["system"], json={
            "kind": "id_card", "number": number, "issued_on": (today - timedelta(days=3620)).isoformat(),
            "expires_on": (today + timedelta(days=30)).isoformat(), "issuer": "佛山市公安局禅城分局",
            "provenance": "issued", "fields": {"address": f"禅城区祖庙路{seq}号"}})
        assert answer.status_code == 201, answer.get_json()
        secrets += [number, number[6:], name, phone, "+86" + phone, email, f"祖庙路{seq}号", card]
    husband, wife = pids
    client = app.test_client()
    assert client.post("/api/v1/relations", headers=auth["system"],
                       json={"from": husband, "to": wife, "type": "SPOUSE_OF"}).status_code == 201
    assert client.post(f"/api/v1/persons/{husband}/events", headers=auth["system"], json={
        "kind": "marriage", "occurred_on": "2012-05-20", "details": {"spouse": "司马光明", "place": "禅城区民政局"}}
    ).status_code == 201
    # their newborn, put on file by its birth certificate, found by it, then given its ID number
    born = today - timedelta(days=9)
    certificate, child_number = "Q440600513", id_number(seq=513, born=born)
    child = client.post("/api/v1/persons", headers=auth["system"], json={
        "name": "欧阳小宝", "sex": "M", "birth_date": born.isoformat(), "birth_certificate_number": certificate})
    assert child.status_code == 201, child.get_json()
    child_pid = child.get_json()["pid"]
    assert client.post("/api/v1/relations", headers=auth["system"],
                       json={"from": wife, "to": child_pid, "type": "PARENT_OF"}).status_code == 201
    assert client.get(f"/api/v1/persons?birth_certificate_number={certificate}",
                      headers={**auth["officer"], **PURPOSE}).status_code == 200
    assert client.put(f"/api/v1/persons/{child_pid}/id-number", headers={**auth["system"], **PURPOSE},
                      json={"id_number": child_number}).status_code == 200
    secrets += [certificate, certificate[1:], child_number, child_number[6:], "欧阳小宝"]
    code = uscc(org="MA4W77777")
    eid = client.post("/api/v1/entities", headers=auth["system"], json={
        "uscc": code, "name": "佛山市欧阳贸易有限公司", "kind": "limited_company", "established_on": "2019-03-01"}
    ).get_json()["eid"]
    client.post("/api/v1/relations", headers=auth["system"], json={"from": husband, "to": eid, "type": "LEGAL_REP_OF"})
    filed = client.post("/api/v1/applications", headers=auth["officer"], json={
        "subject": {"type": "person", "id": wife}, "service": "passport_renewal",
        "fields": {"contact_phone": "13912345672", "reason": "护照将到期"}, "reuse": []})
    assert filed.status_code == 201, filed.get_json()
    assert client.put(f"/api/v1/persons/{wife}/preferences", headers=auth["system"], json={
        "channels": ["sms"], "language": "zh-CN", "quiet_hours": None}).status_code == 200
    for path in (f"/api/v1/persons/{husband}", f"/api/v1/persons/{husband}/materials", "/api/v1/prefill"):
        answer = client.get(path, headers={**auth["officer"], **PURPOSE}) if "prefill" not in path else client.post(
            path, headers={**auth["officer"], **PURPOSE},
            json={"subject": {"type": "person", "id": husband}, "services": ["id_card_renewal"]})
        assert answer.status_code == 200

    # a scan finds both ID cards due and texts each person; the delivery runs through the worker's jobs
    install(svc)
    start_scan(svc, today, at=at(today, 10))  # at ten in the morning: outside the quiet hours, whenever this runs
    run_jobs(svc)
    assert len(sandbox.messages(to="+8613912345671")) >= 1

    # the pages: the citizen, then an officer at the window
    citizen = app.test_client()
    assert sign_in_citizen(citizen, sandbox, id_number(seq=511, born=date(1984, 2, 29)),
                           "+8613912345671").status_code == 303
    assert "欧阳娜娜" in citizen.get("/me").get_data(as_text=True)
    make_officer(svc, "window4", name="李窗口")
    officer = app.test_client()
    sign_in_officer(officer, "window4")
    assert post(officer, "/officer/search", {"number": id_number(seq=512, born=date(1984, 2, 29)),
                                             "purpose": "窗口受理"}).status_code == 303
    assert officer.get(f"/officer/persons/{wife}").status_code == 200
    assert officer.get(f"/officer/persons/{wife}/prefill?services=passport_renewal").status_code == 200
    recorded = post(officer, f"/officer/persons/{wife}/materials", {
        "kind": "hukou", "number": "HK44060400512", "issued_on": "2001-05-01", "expires_on": "",
        "issuer": "佛山市公安局", "detail.hukou.address": "禅城区岭南大道512号"})
    assert recorded.status_code == 303, recorded.get_data(as_text=True)[:400]
    assert post(officer, f"/officer/persons/{wife}/events", {
        "kind": "household_move", "occurred_on": "2020-01-01", "address": "佛山市禅城区岭南大道512号",
        "note": "迁入禅城区岭南大道512号"}).status_code == 303
    secrets += ["HK44060400512", "岭南大道512号"]

    stored = all_strings(driver, settings.neo4j_database)
    labels = {r["l"] for r in driver.execute_query("MATCH (n) UNWIND labels(n) AS l RETURN DISTINCT l",
                                                   database_=settings.neo4j_database)[0]}
    assert {"Person", "Entity", "Material", "LifeEvent", "Application", "Notice", "AccessRecord"} <= labels
    leaks = [(s, v[:80]) for s in secrets for v in stored if s in v]
    assert leaks == [], leaks
    in_redis = redis_contents(svc.redis)
    assert any(k.startswith(b"pages:session:") for k, _v in in_redis), "the walk must leave sessions to search"
    redis_leaks = [(s, k[:60]) for s in secrets for k, v in in_redis if s.encode() in k or s.encode() in v]
    assert redis_leaks == [], redis_leaks
