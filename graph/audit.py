"""The access log in the graph: every officer or system read of a subject becomes a signed `AccessRecord` in the
subject's own chain; reading a subject's log back; verifying every chain and the anchors that tie them together.

An append locks only its subject's `(:AuditHead {chain})` (a write lock), so each chain has one order whatever the
concurrency while reads of different subjects never wait on one another. Signing and judging are `profiles.audit`'s
and `profiles.anchors`'; anchoring is `graph.anchors`', the upgrade of an earlier layout `graph.audit_seal`'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby

import neo4j

from graph.anchors import Anchoring, anchor, anchor_head, anchors, deleted_chains, last_anchored, top_anchor
from graph.audit_rows import HEAD_FIELDS, head, pages, record
from graph.audit_seal import Upgraded, upgrade_legacy
from profiles.anchors import verify_anchors
from profiles.audit import (
    GENESIS,
    AuditKeys,
    ChainBroken,
    ChainHead,
    Verdict,
    head_problem,
    sign,
    sign_head,
    verify_chain,
)
from profiles.errors import NotFound
from profiles.models import AccessRecord, Actor

__all__ = ["AccessLog", "Checked", "Upgraded", "upgrade_legacy"]

# Taking the head's write lock. In Neo4j a MATCH ... RETURN takes no lock, so two writers could both read seq N and
# fork the chain; the SET does, and the head is read only in the next statement, once this one holds the lock (kept
# until commit). A head created here is signed at once, so an unsigned head is never a new chain's.
_LOCK_HEAD = ("MATCH (s:{label} {{{key}: $chain}}) MERGE (h:AuditHead {{chain: $chain}}) "
              "ON CREATE SET h.seq = 0, h.hash = $genesis, h.key_id = $key_id, h.mac = $mac "
              "SET h.locked_at = datetime()")
_READ_HEAD = f"MATCH (h:AuditHead {{chain: $chain}}) RETURN {HEAD_FIELDS}"
_APPEND = ("MATCH (s:{label} {{{key}: $sid}}) "
           "CREATE (r:AccessRecord {{rid: $rid, chain: $chain, seq: $seq, at: $at, actor: $actor, role: $role, "
           "purpose: $purpose, what: $what, subject_id: $sid, prev_hash: $prev, hash: $hash, "
           "key_id: $key_id}})-[:OF]->(s) "
           "WITH r MATCH (h:AuditHead {{chain: $chain}}) "
           "SET h.seq = $seq, h.hash = $hash, h.key_id = $key_id, h.mac = $head_mac, h.unanchored = true")
# The same three steps for many chains at once (AccessLog.record_many): lock every head in the order given, read them,
# then create the records and move the heads.
_LOCK_HEADS = ("UNWIND $rows AS row MATCH (s:{label} {{{key}: row.chain}}) MERGE (h:AuditHead {{chain: row.chain}}) "
               "ON CREATE SET h.seq = 0, h.hash = $genesis, h.key_id = row.key_id, h.mac = row.mac "
               "SET h.locked_at = datetime()")
_READ_HEADS = f"UNWIND $chains AS c MATCH (h:AuditHead {{chain: c}}) RETURN {HEAD_FIELDS}"
_CREATE_RECORDS = ("UNWIND $rows AS row MATCH (s:{label} {{{key}: row.sid}}) "
                   "CREATE (r:AccessRecord {{rid: row.rid, chain: row.chain, seq: row.seq, at: row.at, "
                   "actor: row.actor, role: row.role, purpose: row.purpose, what: row.what, subject_id: row.sid, "
                   "prev_hash: row.prev, hash: row.hash, key_id: row.key_id}})-[:OF]->(s)")
_MOVE_HEADS = ("UNWIND $rows AS row MATCH (h:AuditHead {chain: row.chain}) "
               "SET h.seq = row.seq, h.hash = row.hash, h.key_id = row.key_id, h.mac = row.mac, h.unanchored = true")
_KEYS = {"Person": "pid", "Entity": "eid"}


@dataclass(frozen=True)
class Checked:
    """What `verify` walked, and its verdict: the first problem, or intact."""

    verdict: Verdict
    records: int = 0
    chains: int = 0
    anchors: int = 0
    anchor_head: ChainHead | None = None


class AccessLog:
    def __init__(self, driver: neo4j.Driver, database: str, keys: AuditKeys | None = None):
        self.driver, self.database = driver, database
        self.keys = keys or AuditKeys()  # reading needs none; `record`, `anchor` and `verify` refuse without

    def record(self, actor: Actor, subject_label: str, subject_id: str, purpose: str, what: str) -> AccessRecord:
        """Append to the subject's chain (its id names it); raises NotFound if there is no such subject."""
        fresh = sign_head(0, GENESIS, self.keys, subject_id)  # raises NoAuditKey before anything is written

        def work(tx: neo4j.ManagedTransaction) -> AccessRecord:
            current = self._take_head(tx, subject_label, subject_id, fresh)
            if current is None:
                raise NotFound(subject_label.lower(), subject_id)
            r, moved = self._next(actor, current, subject_id, purpose, what)
            tx.run(_APPEND.format(label=subject_label, key=_KEYS[subject_label]), sid=subject_id, chain=subject_id,
                   rid=r.rid, seq=r.seq, at=r.at, actor=r.actor, role=r.role, purpose=purpose, what=what,
                   prev=r.prev_hash, hash=r.hash, key_id=r.key_id, head_mac=moved.mac).consume()
            return r

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def record_many(self, actor: Actor, subject_label: str,
                    reads: list[tuple[str, str, str]]) -> list[AccessRecord]:
        """One system's reads of many subjects, each `(subject_id, purpose, what)` appended to its own chain, in one
        transaction of four statements whatever the count (all or none; heads locked in id order, so two batches
        never wait on each other in a circle). Raises NotFound, writing nothing, if a subject is missing."""
        chains = sorted({sid for sid, _purpose, _what in reads})
        fresh = [{"chain": c, "key_id": h.key_id, "mac": h.mac}  # raises NoAuditKey before anything is written
                 for c, h in ((c, sign_head(0, GENESIS, self.keys, c)) for c in chains)]
        key = _KEYS[subject_label]

        def work(tx: neo4j.ManagedTransaction) -> list[AccessRecord]:
            tx.run(_LOCK_HEADS.format(label=subject_label, key=key), rows=fresh, genesis=GENESIS).consume()
            heads = {row["chain"]: head(row) for row in tx.run(_READ_HEADS, chains=chains)}
            missing = [c for c in chains if c not in heads]
            if missing:
                raise NotFound(subject_label.lower(), missing[0])
            written, moved = [], {}
            for sid, purpose, what in reads:  # a subject read twice: the second record follows the first
                r, heads[sid] = self._next(actor, heads[sid], sid, purpose, what)
                written.append(r)
                moved[sid] = heads[sid]
            tx.run(_CREATE_RECORDS.format(label=subject_label, key=key),
                   rows=[{"rid": r.rid, "chain": r.chain, "seq": r.seq, "at": r.at, "actor": r.actor, "role": r.role,
                          "purpose": r.purpose, "what": r.what, "sid": r.subject_id, "prev": r.prev_hash,
                          "hash": r.hash, "key_id": r.key_id} for r in written]).consume()
            tx.run(_MOVE_HEADS, rows=[{"chain": c, "seq": h.seq, "hash": h.hash, "key_id": h.key_id, "mac": h.mac}
                                      for c, h in moved.items()]).consume()
            return written

        if not reads:
            return []
        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def _next(self, actor: Actor, current: ChainHead, subject_id: str, purpose: str,
              what: str) -> tuple[AccessRecord, ChainHead]:
        """The signed record after `current`, and the chain's head once it is appended."""
        problem = head_problem(current, self.keys)
        if problem:  # signing a new head over a moved one would hide the move for good: refuse, loudly
            raise ChainBroken(Verdict(0, problem, None, current, current.chain or subject_id))
        now = datetime.now(UTC)
        at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        r = sign(AccessRecord(str(uuid.uuid4()), current.seq + 1, at, actor.name, actor.role, purpose, what,
                              subject_id, current.hash, "", "", subject_id), self.keys)
        return r, sign_head(r.seq, r.hash, self.keys, subject_id)

    def _take_head(self, tx: neo4j.ManagedTransaction, label: str, chain: str, fresh: ChainHead) -> ChainHead | None:
        """Lock the chain's head (created signed if new) and read it; None when the subject does not exist."""
        self._lock_head(tx, label, chain, fresh)
        row = tx.run(_READ_HEAD, chain=chain).single()
        return head(row) if row else None

    def _lock_head(self, tx: neo4j.ManagedTransaction, label: str, chain: str, fresh: ChainHead) -> None:
        """The statement that waits while another append to the chain holds it (bench.audit times it)."""
        tx.run(_LOCK_HEAD.format(label=label, key=_KEYS[label]), chain=chain, genesis=GENESIS, key_id=fresh.key_id,
               mac=fresh.mac).consume()

    def for_subject(self, subject_id: str) -> list[AccessRecord]:
        """The subject's records, newest first: its own chain and, from before the chains, the sealed one."""
        records = self.driver.execute_query(
            "MATCH (r:AccessRecord {subject_id: $sid}) RETURN r ORDER BY r.at DESC, r.seq DESC",
            sid=subject_id, database_=self.database, routing_=neo4j.RoutingControl.READ,
        )[0]
        return [record(r["r"]) for r in records]

    def stream(self, chain: str, page: int = 5000, upto: int | None = None) -> Iterator[AccessRecord]:
        """Every record of `chain` in order (up to seq `upto`), a page at a time."""
        return pages(self._read, chain, page, upto)

    def head(self, chain: str) -> ChainHead | None:
        rows = self._read(_READ_HEAD, chain=chain)
        return head(rows[0]) if rows else None

    def anchor(self) -> Anchoring:
        return anchor(self.driver, self.database, self.keys)

    def verify(self, batch: int = 500, page: int = 5000) -> Checked:
        """The anchors, then every chain against its head and its last anchor, without stopping appends.

        Each chain's top seq is read before its head: a record and its head move are committed together, so a record
        above a head read afterwards was not appended by the log. The walk stops at the head as read (or that top, if
        higher), so records appended while it runs are not taken for records beyond the head. The same holds for the
        anchors and the anchor head.
        """
        top = top_anchor(self.driver, self.database)
        anchor_top = anchor_head(self.driver, self.database)
        upto = max(top, anchor_top.seq if anchor_top else 0)
        verdict = verify_anchors(anchors(self.driver, self.database, upto), anchor_top, self.keys)
        if not verdict.intact:
            return Checked(verdict, anchor_head=anchor_top)
        n_anchors, records, chains, after = verdict.checked, 0, 0, ""
        while True:
            names = [r["chain"] for r in self._read("MATCH (h:AuditHead) WHERE h.chain > $after RETURN h.chain AS "
                                                    "chain ORDER BY chain LIMIT $batch", after=after, batch=batch)]
            if not names:
                break
            bad, walked = self._verify_chains(names, page)
            records, chains, after = records + walked, chains + len(names), names[-1]
            if bad:
                return Checked(bad, records, chains, n_anchors, anchor_top)
        gone = deleted_chains(self.driver, self.database)
        if gone:  # never intact: records or an anchor without the head
            last = last_anchored(self.driver, self.database, gone[:1])
            bad = verify_chain(self.stream(gone[0], page), None, self.keys, last.get(gone[0]), gone[0])
            return Checked(bad, records, chains, n_anchors, anchor_top)
        bad = self._unsealed(page)
        return Checked(bad or Verdict(records), records, chains, n_anchors, anchor_top)

    def _verify_chains(self, names: list[str], page: int) -> tuple[Verdict | None, int]:
        tops = {r["chain"]: r["top"] for r in self._read(
            "UNWIND $chains AS c CALL (c) { MATCH (r:AccessRecord) WHERE r.chain = c RETURN max(r.seq) AS top } "
            "RETURN c AS chain, top", chains=names)}
        heads = {r["chain"]: head(r) for r in self._read(
            f"UNWIND $chains AS c MATCH (h:AuditHead {{chain: c}}) RETURN {HEAD_FIELDS}", chains=names)}
        last = last_anchored(self.driver, self.database, names)
        bounds = [{"chain": c, "after": 0, "upto": max(tops.get(c) or 0, heads[c].seq if c in heads else 0)}
                  for c in names]
        walked, seen = 0, set()
        for chain, found in groupby(self._records(bounds, page), key=lambda r: r.chain):
            seen.add(chain)
            verdict = verify_chain(found, heads.get(chain), self.keys, last.get(chain), chain)
            walked += verdict.checked
            if not verdict.intact:
                return verdict, walked
        for chain in (c for c in names if c not in seen):
            verdict = verify_chain([], heads.get(chain), self.keys, last.get(chain), chain)
            if not verdict.intact:
                return verdict, walked
        return None, walked

    def _records(self, bounds: list[dict], page: int) -> Iterator[AccessRecord]:
        """The records of several chains, each up to its bound, in (chain, seq) order, a page at a time: the chains
        before the last row's are complete, the rest are asked for again from there."""
        while bounds:
            rows = self._read("UNWIND $bounds AS b MATCH (r:AccessRecord) WHERE r.chain = b.chain "
                              "AND b.after < r.seq <= b.upto RETURN r ORDER BY r.chain, r.seq LIMIT $page",
                              bounds=bounds, page=page)
            yield from (record(row["r"]) for row in rows)
            if len(rows) < page:
                return
            tail = record(rows[-1]["r"])
            bounds = [{**b, "after": tail.seq} if b["chain"] == tail.chain else b for b in bounds
                      if b["chain"] >= tail.chain]

    def _unsealed(self, page: int) -> Verdict | None:
        """The single chain of the earlier layout, if not sealed yet: its own problem, or that it awaits the seal."""
        rows = self._read(f"MATCH (h:AuditHead) WHERE h.chain IS NULL RETURN {HEAD_FIELDS}")
        legacy = self._read("MATCH (r:AccessRecord) WHERE r.chain IS NULL RETURN count(r) AS n")[0]["n"]
        if not rows and not legacy:
            return None
        current = head(rows[0]) if rows else None
        verdict = verify_chain(pages(self._read, None, page), current, self.keys)
        if not verdict.intact:
            return verdict
        return Verdict(verdict.checked, f"the single chain of the earlier layout ({verdict.checked} records) is not "
                                        "sealed yet: run `flask --app wsgi audit upgrade`", None, current)

    def _read(self, cypher: str, **params) -> list:
        return self.driver.execute_query(cypher, params, database_=self.database,
                                         routing_=neo4j.RoutingControl.READ)[0]
