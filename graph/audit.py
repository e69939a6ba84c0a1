"""The access log in the graph: every officer or system read of a subject becomes a signed, chained `AccessRecord`.

Appends are serialised on one `(:AuditHead)` node (a write lock), so the chain has one order whatever the concurrency.
Signing and judging the chain are `profiles.audit`'s; this stores, streams, and upgrades a legacy chain in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import neo4j

from profiles.audit import (
    GENESIS,
    AuditKeys,
    ChainBroken,
    ChainHead,
    Verdict,
    head_problem,
    resign_legacy,
    sign,
    sign_head,
    verify_chain,
    verify_legacy,
)
from profiles.models import AccessRecord, Actor

# Taking the head's write lock. In Neo4j a MATCH ... RETURN takes no lock, so two writers could both read seq N and
# fork the chain; the SET does, and the head is read only in the next statement, once this one holds the lock (kept
# until commit). A head created here is signed at once, so an unsigned head is never a new log's but a legacy one.
_LOCK_HEAD = ("MERGE (h:AuditHead {name: 'access'}) "
              "ON CREATE SET h.seq = 0, h.hash = $genesis, h.key_id = $key_id, h.mac = $mac "
              "SET h.locked_at = datetime()")
_READ_HEAD = ("MATCH (h:AuditHead {name: 'access'}) "
              "RETURN h.seq AS seq, h.hash AS hash, h.key_id AS key_id, h.mac AS mac")
_SET_HEAD = "MATCH (h:AuditHead {name: 'access'}) SET h.seq = $seq, h.hash = $hash, h.key_id = $key_id, h.mac = $mac"


class AccessLog:
    def __init__(self, driver: neo4j.Driver, database: str, keys: AuditKeys | None = None):
        self.driver, self.database = driver, database
        self.keys = keys or AuditKeys()  # reading needs none; `record` and `verify` refuse without

    def record(self, actor: Actor, subject_label: str, subject_id: str, purpose: str, what: str) -> AccessRecord:
        key = {"Person": "pid", "Entity": "eid"}[subject_label]
        fresh = sign_head(0, GENESIS, self.keys)  # raises NoAuditKey before anything is written

        def work(tx: neo4j.ManagedTransaction) -> AccessRecord:
            tx.run(_LOCK_HEAD, genesis=GENESIS, key_id=fresh.key_id, mac=fresh.mac).consume()
            head = _head(tx.run(_READ_HEAD).single())
            problem = head_problem(head, self.keys)
            if problem:  # signing a new head over a moved one would hide the move for good: refuse, loudly
                raise ChainBroken(Verdict(0, problem, None, head))
            now = datetime.now(UTC)
            at = now.replace(microsecond=now.microsecond // 1000 * 1000)
            r = sign(AccessRecord(str(uuid.uuid4()), head.seq + 1, at, actor.name, actor.role, purpose, what,
                                  subject_id, head.hash, "", ""), self.keys)
            new_head = sign_head(r.seq, r.hash, self.keys)
            tx.run(
                f"MATCH (s:{subject_label} {{{key}: $sid}}) "
                "CREATE (r:AccessRecord {rid: $rid, seq: $seq, at: $at, actor: $actor, role: $role, purpose: $purpose, "
                "                        what: $what, subject_id: $sid, prev_hash: $prev, hash: $hash, "
                "                        key_id: $key_id})-[:OF]->(s) "
                "WITH r MATCH (h:AuditHead {name: 'access'}) SET h.seq = $seq, h.hash = $hash, h.key_id = $key_id, "
                "h.mac = $head_mac",
                sid=subject_id, rid=r.rid, seq=r.seq, at=at, actor=r.actor, role=r.role, purpose=purpose,
                what=what, prev=r.prev_hash, hash=r.hash, key_id=r.key_id, head_mac=new_head.mac,
            ).consume()
            return r

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def for_subject(self, subject_id: str) -> list[AccessRecord]:
        records = self.driver.execute_query(
            "MATCH (r:AccessRecord {subject_id: $sid}) RETURN r ORDER BY r.seq DESC",
            sid=subject_id, database_=self.database, routing_=neo4j.RoutingControl.READ,
        )[0]
        return [_record(r["r"]) for r in records]

    def stream(self, page: int = 5000, upto: int | None = None) -> Iterator[AccessRecord]:
        """Every record in chain order (up to seq `upto`), a page at a time (the log grows without bound)."""
        after = 0
        while True:
            rows = self.driver.execute_query(
                "MATCH (r:AccessRecord) WHERE r.seq > $after AND ($upto IS NULL OR r.seq <= $upto) "
                "RETURN r ORDER BY r.seq LIMIT $page",
                after=after, upto=upto, page=page, database_=self.database, routing_=neo4j.RoutingControl.READ,
            )[0]
            if not rows:
                return
            for row in rows:
                yield _record(row["r"])
            after = rows[-1]["r"]["seq"]

    def head(self) -> ChainHead | None:
        rows = self.driver.execute_query(_READ_HEAD, database_=self.database, routing_=neo4j.RoutingControl.READ)[0]
        return _head(rows[0]) if rows else None

    def verify(self) -> Verdict:
        """The whole chain against the head, without stopping appends.

        The top seq is read before the head: a record and its head move are committed together, so a record above a
        head read afterwards was not appended by the log. The walk stops at the head as read (or that top, if
        higher), so records appended while it runs are not taken for records beyond the head.
        """
        top = self.driver.execute_query("MATCH (r:AccessRecord) RETURN max(r.seq) AS top", database_=self.database,
                                        routing_=neo4j.RoutingControl.READ)[0][0]["top"] or 0
        head = self.head()
        return verify_chain(self.stream(upto=max(top, head.seq if head else 0)), head, self.keys)


@dataclass(frozen=True)
class Upgraded:
    resigned: int
    nothing_to_do: bool  # the head was signed already, or there is no log yet


def upgrade_legacy(driver: neo4j.Driver, database: str, keys: AuditKeys, page: int = 5000) -> Upgraded:
    """Re-sign a chain written before the log was keyed, under the active key; raise `ChainBroken` if it does not
    verify under the old plain-SHA-256 rules (a broken history is never blessed with a MAC).

    One transaction, holding the head's lock from the start: a half-upgraded chain would look exactly like a tampered
    one (keyed records followed by unkeyed ones), and appends must wait anyway while the links they build on change.
    The cost is memory for the transaction state, proportional to the log; it runs once per deployment.
    """
    keys.signing()  # raises NoAuditKey before anything is locked

    def work(tx: neo4j.ManagedTransaction) -> Upgraded:
        tx.run("MATCH (h:AuditHead {name: 'access'}) SET h.locked_at = datetime()").consume()
        row = tx.run(_READ_HEAD).single()
        head = _head(row) if row else None
        if head is not None and head.mac:
            return Upgraded(0, True)
        verdict = verify_legacy(_pages(tx, page), head)
        if not verdict.intact:
            raise ChainBroken(verdict)
        if head is None:  # no head and no records: a log not yet begun
            return Upgraded(0, True)
        count, last_hash, batch = 0, GENESIS, []
        for r in resign_legacy(_pages(tx, page), keys):
            batch.append({"rid": r.rid, "prev_hash": r.prev_hash, "hash": r.hash, "key_id": r.key_id})
            count, last_hash = count + 1, r.hash
            if len(batch) == page:
                _rewrite(tx, batch)
                batch = []
        _rewrite(tx, batch)
        signed = sign_head(head.seq, last_hash, keys)
        tx.run(_SET_HEAD, seq=signed.seq, hash=signed.hash, key_id=signed.key_id, mac=signed.mac).consume()
        return Upgraded(count, False)

    with driver.session(database=database) as session:
        return session.execute_write(work)


def _pages(tx: neo4j.ManagedTransaction, page: int) -> Iterator[AccessRecord]:
    after = 0
    while True:
        rows = list(tx.run("MATCH (r:AccessRecord) WHERE r.seq > $after RETURN r ORDER BY r.seq LIMIT $page",
                           after=after, page=page))
        if not rows:
            return
        yield from (_record(row["r"]) for row in rows)
        after = rows[-1]["r"]["seq"]


def _rewrite(tx: neo4j.ManagedTransaction, rows: list[dict]) -> None:
    if rows:
        tx.run("UNWIND $rows AS row MATCH (r:AccessRecord {rid: row.rid}) "
               "SET r.prev_hash = row.prev_hash, r.hash = row.hash, r.key_id = row.key_id", rows=rows).consume()


def _head(row) -> ChainHead:
    return ChainHead(row["seq"], row["hash"], row["key_id"] or "", row["mac"] or "")


def _record(node) -> AccessRecord:
    return AccessRecord(
        rid=node["rid"], seq=node["seq"], at=node["at"].to_native(), actor=node["actor"], role=node["role"],
        purpose=node["purpose"], what=node["what"], subject_id=node["subject_id"], prev_hash=node["prev_hash"],
        hash=node["hash"], key_id=node.get("key_id", ""),
    )
