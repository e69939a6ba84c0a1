"""Anchoring the access log's chains in the graph: `anchor` writes `(:AuditAnchor)` nodes with their `(:AnchorEntry)`s
and moves the `(:AnchorHead)`; the rest reads them back for `audit verify`. Signing and judging are `profiles.anchors`'.

A chain's append marks its head `unanchored`; an anchor takes the marked heads (an index finds them, so a run costs
what moved, not the size of the log) and unmarks them afterwards. Only anchoring serialises, on the anchor head: it
runs every few minutes, not on every read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import neo4j

from graph.audit_rows import HEAD_FIELDS, anchored, head
from profiles.anchors import (
    ANCHORS,
    Anchor,
    anchor_head_problem,
    next_entry,
    sign_anchor,
    sign_anchor_head,
)
from profiles.audit import GENESIS, Anchored, AuditKeys, ChainBroken, ChainHead, Verdict, head_problem

ANCHOR_LIMIT = 5000  # heads per anchor: one transaction's worth; a busier interval writes several anchors

_LOCK = ("MERGE (h:AnchorHead {name: 'anchors'}) "
         "ON CREATE SET h.seq = 0, h.hash = $genesis, h.key_id = $key_id, h.mac = $mac "
         "SET h.locked_at = datetime()")
_READ = ("MATCH (h:AnchorHead {name: 'anchors'}) "
         "RETURN h.seq AS seq, h.hash AS hash, h.key_id AS key_id, h.mac AS mac, 'anchors' AS chain")
_MOVED = ("MATCH (h:AuditHead) WHERE h.unanchored = true AND h.chain > $after "
          f"WITH h ORDER BY h.chain LIMIT $limit RETURN {HEAD_FIELDS}, "
          "COLLECT { MATCH (e:AnchorEntry) WHERE e.chain = h.chain RETURN e ORDER BY e.anchor DESC LIMIT 1 } AS last")
_WRITE = ("CREATE (a:AuditAnchor {seq: $seq, at: $at, prev_hash: $prev, key_id: $key_id, hash: $hash, count: $count}) "
          "WITH a UNWIND $heads AS x CREATE (:AnchorEntry {anchor: $seq, chain: x.chain, seq: x.seq, hash: x.hash})")
_SET = "MATCH (h:AnchorHead {name: 'anchors'}) SET h.seq = $seq, h.hash = $hash, h.key_id = $key_id, h.mac = $mac"
# Unmarking takes each head's lock first and reads seq after, in the next statement: an append that moved the head in
# between keeps its mark for the next anchor.
_LOCK_MARKED = "UNWIND $heads AS x MATCH (h:AuditHead {chain: x.chain}) SET h.locked_at = datetime()"
_UNMARK = "UNWIND $heads AS x MATCH (h:AuditHead {chain: x.chain}) WHERE h.seq = x.seq REMOVE h.unanchored"


@dataclass(frozen=True)
class Anchoring:
    anchors: tuple[Anchor, ...]  # written now (none when no head had moved)
    refused: tuple[Verdict, ...]  # heads left out, and why: each one is tampering for `audit verify` to name

    @property
    def heads(self) -> int:
        return sum(len(a.heads) for a in self.anchors)


def anchor(driver: neo4j.Driver, database: str, keys: AuditKeys, limit: int = ANCHOR_LIMIT) -> Anchoring:
    """Anchor every head that moved since it was last anchored; refuse (and report) heads whose MAC fails or that
    are behind their last anchor. Raises `ChainBroken` if the anchor head itself does not verify: a new anchor over
    it would hide its move."""
    fresh = sign_anchor_head(0, GENESIS, keys)  # raises NoAuditKey before anything is written
    written, refused, after = [], [], ""

    def work(tx: neo4j.ManagedTransaction) -> tuple[Anchor | None, list[ChainHead], list[Verdict], int, str]:
        tx.run(_LOCK, genesis=GENESIS, key_id=fresh.key_id, mac=fresh.mac).consume()
        top = head(tx.run(_READ).single())
        problem = anchor_head_problem(top, keys)
        if problem:
            raise ChainBroken(Verdict(0, problem, head=top, chain=ANCHORS))
        rows = list(tx.run(_MOVED, after=after, limit=limit))
        entries, settled, bad = [], [], []
        for row in rows:
            h = head(row)
            last = anchored(row["last"][0]) if row["last"] else None
            why = head_problem(h, keys) or next_entry(h, last)
            if why:
                bad.append(Verdict(0, why, head=h, chain=h.chain))
            elif last is not None and last.seq == h.seq:
                settled.append(h)  # anchored already; its mark outlived a run that died before unmarking
            else:
                entries.append(h)
        last_chain = rows[-1]["chain"] if rows else after
        if not entries:
            return None, settled, bad, len(rows), last_chain
        now = datetime.now(UTC)
        a = sign_anchor(top.seq + 1, now.replace(microsecond=now.microsecond // 1000 * 1000), top.hash,
                        [Anchored(h.chain, h.seq, h.hash) for h in entries], keys)
        tx.run(_WRITE, seq=a.seq, at=a.at, prev=a.prev_hash, key_id=a.key_id, hash=a.hash, count=len(a.heads),
               heads=[{"chain": h.chain, "seq": h.seq, "hash": h.hash} for h in a.heads]).consume()
        moved = sign_anchor_head(a.seq, a.hash, keys)
        tx.run(_SET, seq=moved.seq, hash=moved.hash, key_id=moved.key_id, mac=moved.mac).consume()
        return a, entries + settled, bad, len(rows), last_chain

    with driver.session(database=database) as session:
        while True:
            a, done, bad, seen, after = session.execute_write(work)
            if a is not None:
                written.append(a)
            refused += bad
            _unmark(session, [{"chain": h.chain, "seq": h.seq} for h in done])
            if seen < limit:
                return Anchoring(tuple(written), tuple(refused))


def _unmark(session: neo4j.Session, heads: list[dict], batch: int = 1000) -> None:
    def work(tx: neo4j.ManagedTransaction, part: list[dict]) -> None:
        tx.run(_LOCK_MARKED, heads=part).consume()
        tx.run(_UNMARK, heads=part).consume()

    for i in range(0, len(heads), batch):  # sorted by chain, so two runs unmarking at once lock in the same order
        session.execute_write(work, heads[i:i + batch])


def anchor_head(driver: neo4j.Driver, database: str) -> ChainHead | None:
    rows = driver.execute_query(_READ, database_=database, routing_=neo4j.RoutingControl.READ)[0]
    return head(rows[0]) if rows else None


def top_anchor(driver: neo4j.Driver, database: str) -> int:
    return driver.execute_query("MATCH (a:AuditAnchor) RETURN max(a.seq) AS top", database_=database,
                                routing_=neo4j.RoutingControl.READ)[0][0]["top"] or 0


def anchors(driver: neo4j.Driver, database: str, upto: int, page: int = 20) -> Iterator[Anchor]:
    """Every anchor up to seq `upto` with its entries, in seq order."""
    after = 0
    while True:
        rows = driver.execute_query(
            "MATCH (a:AuditAnchor) WHERE a.seq > $after AND a.seq <= $upto WITH a ORDER BY a.seq LIMIT $page "
            "RETURN a, COLLECT { MATCH (e:AnchorEntry) WHERE e.anchor = a.seq RETURN e } AS heads",
            after=after, upto=upto, page=page, database_=database, routing_=neo4j.RoutingControl.READ)[0]
        if not rows:
            return
        for row in rows:
            a = row["a"]
            yield Anchor(a["seq"], a["at"].to_native(), a["prev_hash"], tuple(anchored(e) for e in row["heads"]),
                         a["key_id"] or "", a["hash"] or "")
        after = rows[-1]["a"]["seq"]


def last_anchored(driver: neo4j.Driver, database: str, chains: list[str]) -> dict[str, Anchored]:
    """Each chain's entry in the last anchor that recorded it."""
    rows = driver.execute_query(
        "UNWIND $chains AS c CALL (c) { MATCH (e:AnchorEntry) WHERE e.chain = c RETURN e ORDER BY e.anchor DESC "
        "LIMIT 1 } RETURN e", chains=chains, database_=database, routing_=neo4j.RoutingControl.READ)[0]
    return {row["e"]["chain"]: anchored(row["e"]) for row in rows}


def deleted_chains(driver: neo4j.Driver, database: str) -> list[str]:
    """Chains an anchor recorded, or that have records, but whose head is gone."""
    rows = driver.execute_query(
        "CALL () { MATCH (e:AnchorEntry) RETURN DISTINCT e.chain AS chain "
        "UNION MATCH (r:AccessRecord) WHERE r.chain IS NOT NULL RETURN DISTINCT r.chain AS chain } "
        "WITH chain WHERE NOT EXISTS { MATCH (h:AuditHead {chain: chain}) } RETURN chain ORDER BY chain LIMIT 10",
        database_=database, routing_=neo4j.RoutingControl.READ)[0]
    return [row["chain"] for row in rows]
