"""What the graph holds: one person per ID number under concurrency, no personal data in clear, a tamper-evident
access log, and key rotation that can be interrupted and resumed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from graph.rotation import count_pending, rotate
from profiles.privacy import FieldCipher
from tests.integration.api_helpers import id_number, keys

PURPOSE = {"X-Purpose": "核验 verify"}


@pytest.fixture
def auth(app):
    return keys(app)


def test_twenty_concurrent_creates_of_one_id_number(app, auth, driver, settings):
    body = {"id_number": id_number(seq=777), "name": "陈七"}

    def create(_):
        return app.test_client().post("/api/v1/persons", json=body, headers=auth["system"]).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(create, range(20)))
    assert statuses == [201] + [409] * 19
    count = driver.execute_query("MATCH (p:Person) RETURN count(p) AS c", database_=settings.neo4j_database)[0][0]
    assert count["c"] == 1


def all_strings(driver, database) -> list[str]:
    rows = driver.execute_query("MATCH (n) UNWIND keys(n) AS k WITH n[k] AS v RETURN v", database_=database)[0]
    out = []
    for r in rows:
        v = r["v"]
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, list):
            out.extend(x for x in v if isinstance(x, str))
    rels = driver.execute_query("MATCH ()-[r]->() UNWIND keys(r) AS k WITH r[k] AS v RETURN v", database_=database)[0]
    out.extend(r["v"] for r in rels if isinstance(r["v"], str))
    return out


def test_no_personal_data_in_clear_anywhere_in_the_graph(client, auth, driver, settings):
    people = [
        {"id_number": id_number(seq=100 + i), "name": name, "phone": f"1391234{5670 + i}",
         "email": f"person{i}@example.cn"}
        for i, name in enumerate(["欧阳娜娜", "司马光明", "诸葛亮亮"])
    ]
    secrets = []
    for p in people:
        created = client.post("/api/v1/persons", json=p, headers=auth["system"]).get_json()
        number = f"E{p['id_number'][-8:]}"
        m = client.post(f"/api/v1/persons/{created['pid']}/materials", headers=auth["system"], json={
            "kind": "passport", "number": number, "issued_on": "2020-01-01", "expires_on": "2030-01-01",
            "issuer": "出入境管理局", "provenance": "issued", "fields": {"holder_name": p["name"]}})
        assert m.status_code == 201
        client.get(f"/api/v1/persons/{created['pid']}", headers={**auth["officer"], **PURPOSE})
        secrets += [p["id_number"], p["id_number"][6:14] + p["id_number"][14:], p["name"], p["phone"],
                    "+86" + p["phone"], p["email"], number]

    stored = all_strings(driver, settings.neo4j_database)
    assert len(stored) > 30, "the scan must actually read the graph"
    leaks = [(s, v[:60]) for s in secrets for v in stored if s in v]
    assert leaks == []


def test_tampering_with_one_access_record_is_named(app, client, auth, driver, settings):
    pid = client.post("/api/v1/persons", json={"id_number": id_number(seq=321), "name": "赵六"},
                      headers=auth["system"]).get_json()["pid"]
    for purpose in ("one", "two", "three", "four"):
        response = client.get(f"/api/v1/persons/{pid}", headers={**auth["officer"], "X-Purpose": purpose})
        assert response.status_code == 200
    runner = app.test_cli_runner()
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0 and "access log intact: 4 records checked" in intact.output

    victim = driver.execute_query(
        "MATCH (r:AccessRecord {seq: 3}) SET r.purpose = 'nothing to see' RETURN r.rid AS rid",
        database_=settings.neo4j_database)[0][0]["rid"]
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"access log broken at record 3 (rid {victim}" in broken.output and "changed after it was written" in \
        broken.output

    driver.execute_query("MATCH (r:AccessRecord {seq: 3}) SET r.purpose = 'three'", database_=settings.neo4j_database)
    driver.execute_query("MATCH (r:AccessRecord {seq: 2}) DETACH DELETE r", database_=settings.neo4j_database)
    missing = runner.invoke(args=["audit", "verify"])
    assert missing.exit_code == 1 and "access log broken at record 3" in missing.output and "missing" in \
        missing.output


def test_key_rotation_resumes_after_an_interruption(app, client, auth, driver, settings):
    services = app.extensions["lifecycle"]
    pids = []
    for i in range(7):
        r = client.post("/api/v1/persons", json={"id_number": id_number(seq=400 + i), "name": "钱八",
                                                 "phone": "13800000000"}, headers=auth["system"])
        pids.append(r.get_json()["pid"])
    old_key = services.settings.active_data_key
    new_keys = {**services.settings.data_keys, "k2": b"n" * 32}
    services.cipher = FieldCipher(new_keys, "k2")
    db = settings.neo4j_database
    assert count_pending(driver, db, services.cipher) == 7

    class Interrupted(Exception):
        pass

    def crash_after_first_batch(n):
        raise Interrupted

    with pytest.raises(Interrupted):
        rotate(driver, db, services.cipher, batch=3, progress=crash_after_first_batch)
    assert count_pending(driver, db, services.cipher) == 4, "the first batch was committed before the crash"

    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 4 nodes; 0 left" in result.output
    tokens = all_strings(driver, db)
    assert not any(t.startswith(f"enc1:{old_key}:") for t in tokens)

    # The old key can now be retired: a cipher holding only k2 reads everyone back.
    services.cipher = FieldCipher({"k2": b"n" * 32}, "k2")
    assert {services.subjects.get_person(pid).phone for pid in pids} == {"+8613800000000"}
