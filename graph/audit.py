"""The access log in the graph: every officer or system read of a subject becomes a chained `AccessRecord`.

Appends are serialised on one `(:AuditHead)` node (a write lock), so the chain has one order whatever the concurrency.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import neo4j

from profiles.audit import GENESIS, record_hash
from profiles.models import AccessRecord, Actor


class AccessLog:
    def __init__(self, driver: neo4j.Driver, database: str):
        self.driver, self.database = driver, database

    def record(self, actor: Actor, subject_label: str, subject_id: str, purpose: str, what: str) -> AccessRecord:
        key = {"Person": "pid", "Entity": "eid"}[subject_label]

        def work(tx: neo4j.ManagedTransaction) -> AccessRecord:
            head = tx.run("MERGE (h:AuditHead {name: 'access'}) ON CREATE SET h.seq = 0, h.hash = $genesis "
                          "SET h.locked_at = datetime() RETURN h.seq AS seq, h.hash AS hash", genesis=GENESIS).single()
            seq, prev = head["seq"] + 1, head["hash"]
            at = datetime.now(UTC).replace(microsecond=(datetime.now(UTC).microsecond // 1000) * 1000)
            rid = str(uuid.uuid4())
            digest = record_hash(prev, rid, seq, at, actor.name, actor.role, purpose, what, subject_id)
            tx.run(
                f"MATCH (s:{subject_label} {{{key}: $sid}}) "
                "CREATE (r:AccessRecord {rid: $rid, seq: $seq, at: $at, actor: $actor, role: $role, purpose: $purpose, "
                "                        what: $what, subject_id: $sid, prev_hash: $prev, hash: $hash})-[:OF]->(s) "
                "WITH r MATCH (h:AuditHead {name: 'access'}) SET h.seq = $seq, h.hash = $hash",
                sid=subject_id, rid=rid, seq=seq, at=at, actor=actor.name, role=actor.role, purpose=purpose,
                what=what, prev=prev, hash=digest,
            ).consume()
            return AccessRecord(rid, seq, at, actor.name, actor.role, purpose, what, subject_id, prev, digest)

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def for_subject(self, subject_id: str) -> list[AccessRecord]:
        records = self.driver.execute_query(
            "MATCH (r:AccessRecord {subject_id: $sid}) RETURN r ORDER BY r.seq DESC",
            sid=subject_id, database_=self.database, routing_=neo4j.RoutingControl.READ,
        )[0]
        return [_record(r["r"]) for r in records]

    def stream(self, page: int = 5000) -> Iterator[AccessRecord]:
        """Every record in chain order, a page at a time (the log grows without bound)."""
        after = 0
        while True:
            rows = self.driver.execute_query(
                "MATCH (r:AccessRecord) WHERE r.seq > $after RETURN r ORDER BY r.seq LIMIT $page",
                after=after, page=page, database_=self.database, routing_=neo4j.RoutingControl.READ,
            )[0]
            if not rows:
                return
            for row in rows:
                yield _record(row["r"])
            after = rows[-1]["r"]["seq"]


def _record(node) -> AccessRecord:
    return AccessRecord(
        rid=node["rid"], seq=node["seq"], at=node["at"].to_native(), actor=node["actor"], role=node["role"],
        purpose=node["purpose"], what=node["what"], subject_id=node["subject_id"], prev_hash=node["prev_hash"],
        hash=node["hash"],
    )
