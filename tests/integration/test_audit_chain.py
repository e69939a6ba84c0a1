"""The access log in a real graph: tampering done with Cypher is named by `audit verify` with its chain, concurrent
writers to one subject leave one chain, and a single chain written before keys existed is re-signed and sealed once it
verifies (and refused when it does not). Anchors, appends to different subjects and the seal of a keyed single chain:
test_audit_anchors.py."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest

from graph.audit import AccessLog
from profiles.audit import AuditKeys, ChainBroken, sign
from profiles.errors import NotFound
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


def verify(app, *options: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify", *options])
    return result.exit_code, result.output


def intact(records: int, chains: int = 1, anchors: int = 1) -> str:
    return (f"access log intact: {records} records checked in {chains} chain{'s' if chains != 1 else ''}, "
            f"{anchors} anchor{'s' if anchors != 1 else ''}; last anchor {anchors}, key a1\n")


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
    head = run(driver, settings, "MATCH (h:AuditHead) RETURN h.chain AS chain, h.seq AS seq, h.key_id AS k, "
                                 "h.mac AS mac")
    assert [(h["chain"], h["seq"], h["k"]) for h in head] == [(six, 6, "a1")] and len(head[0]["mac"]) == 64
    chain = run(driver, settings, "MATCH (r:AccessRecord) RETURN r.chain AS c, r.seq AS seq ORDER BY seq")
    assert [(r["c"], r["seq"]) for r in chain] == [(six, n) for n in range(1, 7)]
    assert verify(app) == (0, intact(6))


def test_a_cut_end_is_named(app, six, driver, settings):
    run(driver, settings, "MATCH (r:AccessRecord) WHERE r.seq > 4 DETACH DELETE r")
    code, out = verify(app)
    assert code == 1 and f"broken at the head of chain {six} (AuditHead seq 6)" in out
    assert "ends at record 6 but the last record is 4" in out


def test_a_cut_end_with_the_head_moved_back_is_named_and_not_built_on(app, six, driver, settings):
    run(driver, settings, "MATCH (r:AccessRecord) WHERE r.seq > 4 DETACH DELETE r")
    run(driver, settings, "MATCH (h:AuditHead), (r:AccessRecord {seq: 4}) SET h.seq = r.seq, h.hash = r.hash")
    code, out = verify(app)
    assert code == 1 and f"broken at the head of chain {six} (AuditHead seq 4)" in out and "does not match its MAC" \
        in out

    log = AccessLog(driver, settings.neo4j_database, AuditKeys(settings.audit_keys, settings.active_audit_key))
    with pytest.raises(ChainBroken, match="does not match its MAC"):  # a new head signed over it would hide the cut
        log.record(Actor("window1", "officer"), "Person", six, "read 7", "person")
    assert run(driver, settings, "MATCH (r:AccessRecord) RETURN max(r.seq) AS top")[0]["top"] == 4
    assert verify(app)[0] == 1


def test_a_deleted_middle_record_is_named(app, six, driver, settings):
    after = rid(driver, settings, 4)
    run(driver, settings, "MATCH (r:AccessRecord {seq: 3}) DETACH DELETE r")
    code, out = verify(app)
    assert code == 1 and f"broken at record 4 (rid {after}, " in out
    assert f"of chain {six}: sequence jumps from 2 to 4: a record is missing" in out


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
    assert verify(app) == (0, intact(6))

    # A well-signed record 7 written past the head (by whoever holds the key but not the log's lock) is named too.
    sixth = AccessLog(driver, settings.neo4j_database).for_subject(six)[0]
    beyond = sign(replace(sixth, rid="past-the-head", seq=7, prev_hash=sixth.hash),
                  AuditKeys(settings.audit_keys, settings.active_audit_key))
    run(driver, settings, "CREATE (r:AccessRecord) SET r = $r", r={**asdict(beyond), "at": beyond.at})
    code, out = verify(app)
    assert code == 1 and "broken at record 7 (rid past-the-head, " in out and "beyond the head (seq 6)" in out
    run(driver, settings, "MATCH (r:AccessRecord {seq: 7}) DETACH DELETE r")

    run(driver, settings, "MATCH (h:AuditHead) DELETE h")  # anchored at seq 6 by the verifications above
    code, out = verify(app)
    assert code == 1 and f"broken at the head of chain {six} (AuditHead missing)" in out
    assert "anchor 1 recorded this chain at seq 6: the chain was deleted" in out


def test_a_head_deleted_before_any_anchor_is_named_by_its_records(app, six, driver, settings):
    run(driver, settings, "MATCH (h:AuditHead) DELETE h")
    code, out = verify(app)
    assert code == 1 and f"broken at the head of chain {six} (AuditHead missing)" in out and "6 records exist" in out


def test_a_record_moved_to_another_subjects_chain_is_named(app, client, auth, six, driver, settings):
    other = client.post("/api/v1/persons", json={"id_number": id_number(seq=532), "name": "孙六"},
                        headers=auth["system"]).get_json()["pid"]
    assert client.get(f"/api/v1/persons/{other}", headers={**auth["officer"], "X-Purpose": "other"}).status_code == 200
    assert verify(app)[0] == 0
    # The chains are checked in the order of their names: the record goes from the later one into the earlier one,
    # so the first chain checked is the one holding it (the other is then short of its newest record, too).
    into, out_of = sorted([six, other])
    moved, seq = run(driver, settings, "MATCH (r:AccessRecord {chain: $c}) RETURN r.rid AS rid ORDER BY r.seq DESC "
                                       "LIMIT 1", c=out_of)[0]["rid"], 7 if into == six else 2
    run(driver, settings, "MATCH (r:AccessRecord {rid: $rid}) SET r.chain = $into, r.seq = $seq", rid=moved,
        into=into, seq=seq)
    code, out = verify(app)
    assert code == 1 and f"broken at record {seq} (rid {moved}, " in out and f"of chain {into}" in out
    assert "it was moved to another chain" in out


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
    assert verify(app) == (0, intact(200))


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


def test_a_legacy_log_is_reported_until_upgraded_then_sealed_and_reads_go_to_the_subjects_chain(
        app, client, auth, pid, driver, settings):
    write_legacy(driver, settings, pid, 4)
    code, out = verify(app)
    assert code == 1 and "broken at record 1 (rid legacy-1, " in out and "not keyed" in out and "audit upgrade" in out

    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["audit", "upgrade"])
    assert upgraded.exit_code == 0 and "re-signed 4 legacy records and the head under key a1" in upgraded.output
    assert "sealed the single chain (4 records) as chain 'access'; anchor 1 recorded its head" in upgraded.output
    assert verify(app) == (0, intact(4))
    again = runner.invoke(args=["audit", "upgrade"])
    assert again.exit_code == 0 and "nothing to upgrade" in again.output

    assert client.get(f"/api/v1/persons/{pid}", headers={**auth["officer"], "X-Purpose": "after"}).status_code == 200
    assert verify(app) == (0, intact(5, chains=2, anchors=2))
    chains = run(driver, settings, "MATCH (h:AuditHead) RETURN h.chain AS c, h.seq AS seq ORDER BY c")
    assert sorted((h["c"], h["seq"]) for h in chains) == sorted([("access", 4), (pid, 1)]), "the seal is not grown"
    shown = AccessLog(driver, settings.neo4j_database).for_subject(pid)
    assert [(r.chain, r.purpose) for r in shown] == [(pid, "after")] + [("access", f"核对 {n}") for n in (4, 3, 2, 1)]


def test_a_broken_legacy_log_is_refused_and_left_as_it_was(app, pid, driver, settings):
    write_legacy(driver, settings, pid, 4)
    run(driver, settings, "MATCH (r:AccessRecord {seq: 2}) SET r.purpose = 'nothing to see'")
    state = "MATCH (r:AccessRecord) RETURN r.hash AS h, r.key_id AS k, r.chain AS c ORDER BY r.seq"
    before = run(driver, settings, state)

    refused = app.test_cli_runner().invoke(args=["audit", "upgrade"])
    assert refused.exit_code == 1 and "refusing to upgrade" in refused.output
    assert "record 2 (rid legacy-2, " in refused.output and "changed after it was written" in refused.output
    assert run(driver, settings, state) == before and {r["c"] for r in before} == {None}
    assert run(driver, settings, "MATCH (h:AuditHead) RETURN h.mac AS mac, h.chain AS c")[0].values() == [None, None]
    assert run(driver, settings, "MATCH (a:AuditAnchor) RETURN count(a) AS n")[0]["n"] == 0


def test_the_run_commands_migrate_step_upgrades_a_legacy_log(app, pid, driver, settings):
    from web.stack import migrate_graph

    write_legacy(driver, settings, pid, 3)
    migrate_graph(settings)
    assert verify(app) == (0, intact(3))


def test_a_batch_of_system_reads_extends_each_subjects_chain_in_one_transaction_and_verifies(
        app, client, auth, six, driver, settings):
    other = client.post("/api/v1/persons", json={"id_number": id_number(seq=532), "name": "孙六"},
                        headers=auth["system"]).get_json()["pid"]
    log = app.extensions["lifecycle"].access_log
    system = Actor("reminder delivery", "system")
    written = log.record_many(system, "Person", [(other, "p", "a"), (six, "p", "b"), (other, "p", "c")])
    assert [(r.subject_id, r.seq, r.what) for r in written] == [(other, 1, "a"), (six, 7, "b"), (other, 2, "c")]
    assert written[2].prev_hash == written[0].hash  # the same subject twice: the second follows the first
    assert [r.what for r in log.for_subject(other)] == ["c", "a"]
    assert verify(app) == (0, intact(9, chains=2))


def test_a_batch_naming_a_missing_subject_writes_nothing(app, six, driver, settings):
    log = app.extensions["lifecycle"].access_log
    with pytest.raises(NotFound):
        log.record_many(Actor("reminder delivery", "system"), "Person", [(six, "p", "x"), ("no-such-pid", "p", "y")])
    assert len(log.for_subject(six)) == 6 and verify(app) == (0, intact(6))
