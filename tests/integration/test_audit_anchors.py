"""A chain per subject in a real graph: appends to different subjects do not wait on one another, appends to one
subject still do; anchors find a chain rolled back or deleted behind them and are themselves tamper-evident; the
keyed single chain of the earlier layout is sealed, not re-signed, and still verified."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

import notifier.services
from graph.audit import AccessLog
from notifier.sweep import sweep
from profiles.audit import GENESIS, AuditKeys, ChainHead, head_problem, sign, sign_head
from profiles.models import AccessRecord, Actor
from tests.integration.api_helpers import id_number, keys

OFFICER = Actor("李窗口 (window1)", "officer")


@pytest.fixture
def log(app, settings) -> AccessLog:
    return AccessLog(app.extensions["lifecycle"].driver, settings.neo4j_database,
                     AuditKeys(settings.audit_keys, settings.active_audit_key))


@pytest.fixture
def auth(app) -> dict:
    return keys(app)


@pytest.fixture
def people(client, auth) -> list[str]:
    system = auth["system"]
    return [client.post("/api/v1/persons", json={"id_number": id_number(seq=600 + n), "name": "钱" + "一二三"[n]},
                        headers=system).get_json()["pid"] for n in range(3)]


def run(driver, settings, cypher: str, **params):
    return driver.execute_query(cypher, params, database_=settings.neo4j_database)[0]


def cli(app, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", *args])
    return result.exit_code, result.output


def reads(log: AccessLog, pid: str, n: int) -> None:
    for i in range(n):
        log.record(OFFICER, "Person", pid, f"受理 {i}", "person")


def blocked_transactions(driver, settings) -> int:
    return run(driver, settings, "SHOW TRANSACTIONS YIELD status WHERE status STARTS WITH 'Blocked' "
                                 "RETURN count(*) AS n")[0]["n"]


def test_an_append_waits_only_for_its_own_subjects_head(log, people, driver, settings):
    a, b = people[:2]
    reads(log, a, 1)
    reads(log, b, 1)
    with driver.session(database=settings.neo4j_database) as session, ThreadPoolExecutor(2) as pool:
        holder = session.begin_transaction()  # holds a's head as an append does, until it ends
        holder.run("MATCH (h:AuditHead {chain: $a}) SET h.locked_at = datetime()", a=a).consume()
        same = pool.submit(log.record, OFFICER, "Person", a, "waits for a", "person")
        for _ in range(600):  # until the append to a is seen waiting on the lock (a bound, not a timing assertion)
            if blocked_transactions(driver, settings):
                break
            time.sleep(0.1)
        assert blocked_transactions(driver, settings) == 1, "the append to a must wait on a's head"

        # The guard only turns a hang into a failure: with one head for the whole log this append would wait too.
        other = pool.submit(log.record, OFFICER, "Person", b, "does not wait", "person").result(timeout=120)
        assert other.chain == b and other.seq == 2
        assert not same.done() and blocked_transactions(driver, settings) == 1
        holder.rollback()
        waited = same.result(timeout=120)
    assert (waited.chain, waited.seq) == (a, 2)
    assert [r.seq for r in log.stream(a)] == [1, 2] and [r.prev_hash for r in log.stream(a)][1] == \
        next(log.stream(a)).hash


def test_concurrent_appends_to_several_subjects_leave_one_order_per_chain(app, log, people):
    def many(worker: int) -> list[int]:
        return [log.record(OFFICER, "Person", people[(worker + n) % 3], f"w{worker} r{n}", "person").seq
                for n in range(30)]

    with ThreadPoolExecutor(4) as pool:
        assert sum(len(seqs) for seqs in pool.map(many, range(4))) == 120
    for pid in people:
        records = list(log.stream(pid))
        assert [r.seq for r in records] == list(range(1, 41))
        assert [r.prev_hash for r in records] == [GENESIS] + [r.hash for r in records[:-1]]
    assert cli(app, "verify")[0] == 0


def test_anchor_records_the_heads_that_moved_and_only_those(app, log, people, driver, settings):
    reads(log, people[0], 2)
    reads(log, people[1], 1)
    code, out = cli(app, "anchor")
    assert code == 0 and "anchored 2 chain heads in anchor(s) 1-1" in out
    assert cli(app, "anchor") == (0, "no chain head moved since the last anchor\n")
    reads(log, people[1], 1)
    assert cli(app, "anchor")[0] == 0
    entries = run(driver, settings, "MATCH (e:AnchorEntry) RETURN e.anchor AS a, e.chain AS c, e.seq AS s "
                                    "ORDER BY a, c")
    assert [(e["a"], e["c"], e["s"]) for e in entries] == \
        [*sorted([(1, people[0], 2), (1, people[1], 1)]), (2, people[1], 2)]
    assert run(driver, settings, "MATCH (h:AuditHead) WHERE h.unanchored RETURN count(h) AS n")[0]["n"] == 0


def test_the_sweeper_anchors_every_run(app, log, people, monkeypatch):
    monkeypatch.setattr(notifier.services, "_current", app.extensions["lifecycle"])
    reads(log, people[0], 1)
    reads(log, people[2], 3)
    assert sweep()["heads_anchored"] == 2
    assert sweep()["heads_anchored"] == 0


def test_a_chain_rolled_back_behind_its_anchor_is_named_and_not_anchored_again(app, log, people, driver, settings):
    pid = people[0]
    reads(log, pid, 4)
    genuine = run(driver, settings, "MATCH (h:AuditHead {chain: $c}) RETURN properties(h) AS h", c=pid)[0]["h"]
    reads(log, pid, 2)
    assert cli(app, "anchor")[0] == 0  # anchor 1 records seq 6
    run(driver, settings, "MATCH (r:AccessRecord {chain: $c}) WHERE r.seq > 4 DETACH DELETE r", c=pid)
    run(driver, settings, "MATCH (h:AuditHead {chain: $c}) SET h = $h", c=pid, h=genuine)  # replayed, MAC and all

    code, out = cli(app, "verify")
    assert code == 1 and f"broken at the head of chain {pid} (AuditHead seq 4)" in out
    assert "is behind what anchor 1 recorded (seq 6): the chain was rolled back" in out
    code, out = cli(app, "anchor")
    assert code == 1 and "1 head(s) left out" in out and "behind what anchor 1 recorded" in out
    assert run(driver, settings, "MATCH (a:AuditAnchor) RETURN max(a.seq) AS n")[0]["n"] == 1


def test_what_the_window_leaves_open_a_rollback_to_a_state_since_the_last_anchor(app, log, people, driver, settings):
    """The documented limit (profiles/anchors.py): records appended after the last anchor that recorded their chain
    can be removed with the head replayed from a state at or after that anchor, and nothing in the graph shows it."""
    pid = people[0]
    reads(log, pid, 4)
    assert cli(app, "anchor")[0] == 0  # anchor 1 records seq 4
    genuine = run(driver, settings, "MATCH (h:AuditHead {chain: $c}) RETURN properties(h) AS h", c=pid)[0]["h"]
    reads(log, pid, 2)
    run(driver, settings, "MATCH (r:AccessRecord {chain: $c}) WHERE r.seq > 4 DETACH DELETE r", c=pid)
    run(driver, settings, "MATCH (h:AuditHead {chain: $c}) SET h = $h", c=pid, h=genuine)
    assert cli(app, "verify")[0] == 0


def test_an_anchored_chain_deleted_whole_is_named(app, log, people, driver, settings):
    reads(log, people[1], 2)
    reads(log, people[2], 1)
    assert cli(app, "anchor")[0] == 0
    run(driver, settings, "MATCH (n) WHERE (n:AuditHead OR n:AccessRecord) AND n.chain = $c DETACH DELETE n",
        c=people[1])
    code, out = cli(app, "verify")
    assert code == 1 and f"broken at the head of chain {people[1]} (AuditHead missing)" in out
    assert "anchor 1 recorded this chain at seq 2: the chain was deleted" in out


def test_a_forged_changed_or_missing_anchor_is_named(app, log, people, driver, settings):
    for n in range(3):  # anchors 1, 2, 3
        reads(log, people[n], 1)
        assert cli(app, "anchor")[0] == 0
    assert cli(app, "verify", "--no-anchor")[0] == 0

    entry = "MATCH (e:AnchorEntry {anchor: 2}) "
    run(driver, settings, entry + "SET e.seq = 7")  # what a rollback of that chain would need the anchor to say
    code, out = cli(app, "verify", "--no-anchor")
    assert code == 1 and "broken at anchor 2 (" in out and "does not match its MAC" in out
    run(driver, settings, entry + "SET e.seq = 1")
    run(driver, settings, entry + "SET e.anchor = -2")  # an entry removed from the anchor
    assert "broken at anchor 2 (" in cli(app, "verify", "--no-anchor")[1]
    run(driver, settings, "MATCH (e:AnchorEntry {anchor: -2}) SET e.anchor = 2")
    assert cli(app, "verify", "--no-anchor")[0] == 0

    run(driver, settings, "MATCH (a:AuditAnchor {seq: 2}) SET a.hash = $h", h="f" * 64)  # forged: another MAC
    code, out = cli(app, "verify", "--no-anchor")
    assert code == 1 and "broken at anchor 2 (" in out and "forged" in out

    run(driver, settings, "MATCH (a:AuditAnchor {seq: 2}) DETACH DELETE a")
    code, out = cli(app, "verify", "--no-anchor")
    assert code == 1 and "broken at anchor 3 (" in out and "anchors jump from 1 to 3: an anchor is missing" in out

    run(driver, settings, "MATCH (a:AuditAnchor {seq: 3}) DETACH DELETE a")  # the newest one, too
    code, out = cli(app, "verify", "--no-anchor")
    assert code == 1 and "broken at the anchor head (AnchorHead seq 3)" in out
    assert "anchors end at 3 but the last anchor is 1" in out
    run(driver, settings, "MATCH (h:AnchorHead), (a:AuditAnchor {seq: 1}) SET h.seq = 1, h.hash = a.hash")
    code, out = cli(app, "verify")
    assert code == 1 and "broken at the anchor head (AnchorHead seq 1)" in out and "does not match its MAC" in out


def write_single_chain(driver, settings, pid: str, n: int) -> list[AccessRecord]:
    """The log as the previous release wrote it: one keyed chain for every subject, records without a chain."""
    signer, prev, written = AuditKeys(settings.audit_keys, settings.active_audit_key), GENESIS, []
    for seq in range(1, n + 1):
        r = sign(AccessRecord(f"single-{seq}", seq, datetime(2025, 6, 1, 9, tzinfo=UTC) + timedelta(hours=seq),
                              "李窗口 (window1)", "officer", f"受理 {seq}", "person", pid, prev, "", ""), signer)
        props = {k: v for k, v in asdict(r).items() if k != "chain"}
        run(driver, settings, "MATCH (p:Person {pid: $pid}) CREATE (r:AccessRecord)-[:OF]->(p) SET r = $r",
            pid=pid, r=props)
        written.append(r)
        prev = r.hash
    head = sign_head(n, prev, signer)
    run(driver, settings, "MERGE (h:AuditHead {name: 'access'}) SET h.seq = $seq, h.hash = $hash, "
                          "h.key_id = $key_id, h.mac = $mac", seq=head.seq, hash=head.hash, key_id=head.key_id,
        mac=head.mac)
    return written


def test_the_keyed_single_chain_is_sealed_not_resigned_and_still_verified(app, client, auth, log, people, driver,
                                                                           settings):
    pid = people[0]
    written = write_single_chain(driver, settings, pid, 5)
    code, out = cli(app, "verify")
    assert code == 1 and "the single chain of the earlier layout (5 records) is not sealed yet" in out

    code, out = cli(app, "upgrade")
    assert code == 0 and "re-signed" not in out
    assert "sealed the single chain (5 records) as chain 'access'; anchor 1 recorded its head" in out
    stored = run(driver, settings, "MATCH (r:AccessRecord) RETURN r.rid AS rid, r.hash AS hash, r.prev_hash AS prev, "
                                   "r.chain AS chain ORDER BY r.seq")
    assert [(s["rid"], s["hash"], s["prev"]) for s in stored] == [(r.rid, r.hash, r.prev_hash) for r in written]
    assert {s["chain"] for s in stored} == {"access"}
    entry = run(driver, settings, "MATCH (e:AnchorEntry {anchor: 1}) RETURN e.chain AS c, e.seq AS s, e.hash AS h")
    assert [tuple(e.values()) for e in entry] == [("access", 5, written[-1].hash)]

    reads(log, pid, 1)
    shown = client.get(f"/api/v1/persons/{pid}/access-log", headers={**auth["officer"], "X-Purpose": "核对"}).get_json()
    assert [r["purpose"] for r in shown] == ["核对", "受理 0"] + [f"受理 {n}" for n in (5, 4, 3, 2, 1)]
    code, out = cli(app, "verify")
    assert (code, out.split(";")[0]) == (0, "access log intact: 7 records checked in 2 chains, 2 anchors")

    run(driver, settings, "MATCH (r:AccessRecord {rid: 'single-3'}) SET r.purpose = 'nothing to see'")
    code, out = cli(app, "verify")
    assert code == 1 and "broken at record 3 (rid single-3, " in out and "of chain access" in out
    assert "changed after it was written" in out


def test_an_instance_of_the_earlier_code_cannot_extend_the_sealed_chain(app, people, driver, settings):
    write_single_chain(driver, settings, people[0], 2)
    assert cli(app, "upgrade")[0] == 0
    row = run(driver, settings, "MATCH (h:AuditHead {name: 'access'}) RETURN h.seq AS seq, h.hash AS hash, "
                                "h.key_id AS key_id, h.mac AS mac")[0]
    as_the_earlier_code_reads_it = ChainHead(row["seq"], row["hash"], row["key_id"], row["mac"])  # no chain: v1
    assert "does not match its MAC" in head_problem(as_the_earlier_code_reads_it,
                                                    AuditKeys(settings.audit_keys, settings.active_audit_key))
