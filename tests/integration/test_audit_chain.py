"""The access log in a real graph: tampering done with Cypher is named by `audit verify`, concurrent writers leave one
chain, and a log written before keys existed is upgraded once it verifies (and refused when it does not)."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest

from graph.audit import AccessLog
from profiles.audit import AuditKeys, ChainBroken, sign
from profiles.models import Actor
from tests.integration.api_helpers import id_number, keys

GENESIS = "0" * 64


@pytest.fixture
def auth(app):
    return keys(app)


@pytest.fixture
def pid(client, auth) -> str:
    return client.post("/api/v1/persons", json={"id_number": id_number(seq=531), "name": "孙五"},
                       headers=auth["system"]).get_json()["pid"]


@pytest.fixture
def six(client, auth, pid) -> str:
    """Six officer reads through the API: records 1..6."""
    for n in range(1, 7):
        assert client.get(f"/api/v1/persons/{pid}", headers={**auth["officer"], "X-Purpose": f"read {n}"}).status_code \
            == 200
    return pid


def verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def run(driver, settings, cypher: str, **params):
    return driver.execute_query(cypher, params, database_=settings.neo4j_database)[0]


def rid(driver, settings, seq: int) -> str:
    return run(driver, settings, "MATCH (r:AccessRecord {seq: $seq}) RETURN r.rid AS rid", seq=seq)[0]["rid"]


def plain_sha256(r: dict) -> str:
    """The pre-key rule, written out here: what anyone who can read the graph can recompute."""
    at = r["at"].to_native() if hasattr(r["at"], "to_native") else r["at"]
    content = [r["prev_hash"], r["rid"], r["seq"], at.isoformat(), r["actor"], r["role"], r["purpose"], r["what"],
               r["subject_id"]]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def test_reads_through_the_api_are_signed_with_the_configured_key_and_verify(app, six, driver, settings):
    stored = run(driver, settings, "MATCH (r:AccessRecord) RETURN DISTINCT r.key_id AS k")
    assert [r["k"] for r in stored] == [settings.active_audit_key] == ["a1"]
    head = run(driver, settings, "MATCH (h:AuditHead) RETURN h.seq AS seq, h.key_id AS k, h.mac AS mac")[0]
    assert (head["seq"], head["k"]) == (6, "a1") and len(head["mac"]) == 64
    assert verify(app) == (0, "access log intact: 6 records checked (head: seq 6, key a1)\n")


def test_a_cut_end_is_named(app, six, driver, settings):
    run(driver, settings, "MATCH (r:AccessRecord) WHERE r.seq > 4 DETACH DELETE r")
    code, out = verify(app)
    assert code == 1 and "broken at the head (AuditHead seq 6)" in out
    assert "ends at record 6 but the last record is 4" in out


def test_a_cut_end_with_the_head_moved_back_is_named_and_not_built_on(app, six, driver, settings):
    run(driver, settings, "MATCH (r:AccessRecord) WHERE r.seq > 4 DETACH DELETE r")
    run(driver, settings, "MATCH (h:AuditHead), (r:AccessRecord {seq: 4}) SET h.seq = r.seq, h.hash = r.hash")
    code, out = verify(app)
    assert code == 1 and "broken at the head (AuditHead seq 4)" in out and "does not match its MAC" in out

    log = AccessLog(driver, settings.neo4j_database, AuditKeys(settings.audit_keys, settings.active_audit_key))
    with pytest.raises(ChainBroken, match="does not match its MAC"):  # a new head signed over it would hide the cut
        log.record(Actor("window1", "officer"), "Person", six, "read 7", "person")
    assert run(driver, settings, "MATCH (r:AccessRecord) RETURN max(r.seq) AS top")[0]["top"] == 4
    assert verify(app)[0] == 1


def test_a_deleted_middle_record_is_named(app, six, driver, settings):
    after = rid(driver, settings, 4)
    run(driver, settings, "MATCH (r:AccessRecord {seq: 3}) DETACH DELETE r")
    code, out = verify(app)
    assert code == 1 and f"broken at record 4 (rid {after}, " in out and "jumps from 2 to 4: a record is missing" in out


def test_a_field_rewritten_and_rehashed_with_plain_sha256_is_named(app, six, driver, settings):
    victim = rid(driver, settings, 3)
    rows = run(driver, settings, "MATCH (r:AccessRecord) WHERE r.seq >= 2 RETURN properties(r) AS r ORDER BY r.seq")
    prev = rows[0]["r"]["hash"]
    for row in rows[1:]:  # record 3 changed; it and every later one re-hashed and re-linked, the head moved along
        r = {**row["r"], "prev_hash": prev}
        if r["seq"] == 3:
            r["purpose"] = "nothing to see"
        prev = plain_sha256(r)
        run(driver, settings, "MATCH (r:AccessRecord {rid: $rid}) SET r.purpose = $purpose, r.prev_hash = $prev, "
                              "r.hash = $hash", rid=r["rid"], purpose=r["purpose"], prev=r["prev_hash"], hash=prev)
    run(driver, settings, "MATCH (h:AuditHead) SET h.hash = $hash", hash=prev)
    code, out = verify(app)
    assert code == 1 and f"broken at record 3 (rid {victim}, " in out and "plain SHA-256" in out


def test_two_swapped_seqs_are_named(app, six, driver, settings):
    fourth = rid(driver, settings, 4)
    for cypher in ("MATCH (r:AccessRecord {seq: 3}) SET r.seq = -3", "MATCH (r:AccessRecord {seq: 4}) SET r.seq = 3",
                   "MATCH (r:AccessRecord {seq: -3}) SET r.seq = 4"):  # seq is unique: the swap goes through -3
        run(driver, settings, cypher)
    code, out = verify(app)
    assert code == 1 and f"broken at record 3 (rid {fourth}, " in out and "link to the previous record" in out


def test_a_changed_key_id_a_deleted_head_and_a_record_beyond_the_head_are_named(app, six, driver, settings):
    run(driver, settings, "MATCH (r:AccessRecord {seq: 2}) SET r.key_id = 'zz'")
    code, out = verify(app)
    assert code == 1 and "broken at record 2" in out and "'zz', which is not configured" in out
    run(driver, settings, "MATCH (r:AccessRecord {seq: 2}) SET r.key_id = 'a1'")
    assert verify(app)[0] == 0

    # A well-signed record 7 written past the head (by whoever holds the key but not the log's lock) is named too.
    sixth = AccessLog(driver, settings.neo4j_database).for_subject(six)[0]
    beyond = sign(replace(sixth, rid="past-the-head", seq=7, prev_hash=sixth.hash),
                  AuditKeys(settings.audit_keys, settings.active_audit_key))
    run(driver, settings, "CREATE (r:AccessRecord) SET r = $r", r={**asdict(beyond), "at": beyond.at})
    code, out = verify(app)
    assert code == 1 and "broken at record 7 (rid past-the-head, " in out and "beyond the head (seq 6)" in out
    run(driver, settings, "MATCH (r:AccessRecord {seq: 7}) DETACH DELETE r")

    run(driver, settings, "MATCH (h:AuditHead) DELETE h")
    code, out = verify(app)
    assert code == 1 and "broken at the head (AuditHead missing)" in out and "6 records exist" in out


def test_concurrent_writers_leave_one_unforked_chain(app, auth, pid, driver, settings):
    def reads(worker: int) -> list[int]:
        client = app.test_client()  # each request its own Neo4j session
        return [client.get(f"/api/v1/persons/{pid}", headers={**auth["officer"], "X-Purpose": f"w{worker} r{n}"})
                .status_code for n in range(50)]

    with ThreadPoolExecutor(4) as pool:
        statuses = [s for batch in pool.map(reads, range(4)) for s in batch]
    assert statuses == [200] * 200

    rows = run(driver, settings, "MATCH (r:AccessRecord) RETURN r.seq AS seq, r.prev_hash AS prev, r.hash AS hash "
                                 "ORDER BY r.seq")
    assert [r["seq"] for r in rows] == list(range(1, 201))
    assert [r["prev"] for r in rows] == [GENESIS] + [r["hash"] for r in rows[:-1]]
    assert len({r["prev"] for r in rows}) == 200, "two records share a predecessor: the chain forked"
    assert verify(app) == (0, "access log intact: 200 records checked (head: seq 200, key a1)\n")


def write_legacy(driver, settings, pid: str, n: int) -> list[str]:
    """Records as the log wrote them before it was keyed: plain SHA-256, no key id, an unsigned head."""
    prev, rids = GENESIS, []
    for seq in range(1, n + 1):
        r = {"rid": f"legacy-{seq}", "seq": seq, "at": datetime(2024, 3, 1, 9, tzinfo=UTC) + timedelta(hours=seq),
             "actor": "老系统", "role": "system", "purpose": f"核对 {seq}", "what": "person", "subject_id": pid,
             "prev_hash": prev}
        r["hash"] = prev = plain_sha256(r)
        run(driver, settings, "MATCH (p:Person {pid: $pid}) CREATE (r:AccessRecord)-[:OF]->(p) SET r = $r",
            pid=pid, r=r)
        rids.append(r["rid"])
    run(driver, settings, "MERGE (h:AuditHead {name: 'access'}) SET h.seq = $seq, h.hash = $hash", seq=n, hash=prev)
    return rids


def test_a_legacy_log_is_reported_until_upgraded_then_verifies_and_grows(app, client, auth, pid, driver, settings):
    write_legacy(driver, settings, pid, 4)
    code, out = verify(app)
    assert code == 1 and "broken at record 1 (rid legacy-1, " in out and "not keyed" in out and "audit upgrade" in out
    with pytest.raises(ChainBroken, match="audit upgrade"):  # nothing is appended to an unsigned chain
        AccessLog(driver, settings.neo4j_database, AuditKeys(settings.audit_keys, "a1")).record(
            Actor("window1", "officer"), "Person", pid, "early", "person")

    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["audit", "upgrade"])
    assert upgraded.exit_code == 0 and "re-signed 4 legacy records and the head under key a1" in upgraded.output
    assert verify(app) == (0, "access log intact: 4 records checked (head: seq 4, key a1)\n")
    again = runner.invoke(args=["audit", "upgrade"])
    assert again.exit_code == 0 and "nothing to upgrade" in again.output

    assert client.get(f"/api/v1/persons/{pid}", headers={**auth["officer"], "X-Purpose": "after"}).status_code == 200
    assert verify(app)[1].startswith("access log intact: 5 records checked")


def test_a_broken_legacy_log_is_refused_and_left_as_it_was(app, pid, driver, settings):
    write_legacy(driver, settings, pid, 4)
    run(driver, settings, "MATCH (r:AccessRecord {seq: 2}) SET r.purpose = 'nothing to see'")
    before = run(driver, settings, "MATCH (r:AccessRecord) RETURN r.hash AS h, r.key_id AS k ORDER BY r.seq")

    refused = app.test_cli_runner().invoke(args=["audit", "upgrade"])
    assert refused.exit_code == 1 and "refusing to upgrade" in refused.output
    assert "record 2 (rid legacy-2, " in refused.output and "changed after it was written" in refused.output
    assert run(driver, settings, "MATCH (r:AccessRecord) RETURN r.hash AS h, r.key_id AS k ORDER BY r.seq") == before
    assert run(driver, settings, "MATCH (h:AuditHead) RETURN h.mac AS mac")[0]["mac"] is None


def test_the_run_commands_migrate_step_upgrades_a_legacy_log(app, pid, driver, settings):
    from web.stack import _migrate

    write_legacy(driver, settings, pid, 3)
    _migrate(settings)
    assert verify(app) == (0, "access log intact: 3 records checked (head: seq 3, key a1)\n")
