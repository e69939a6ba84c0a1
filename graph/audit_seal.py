"""Bringing an access log of an earlier layout to the current one, once: re-signing a chain written before the log was
keyed, and sealing the single chain every read used to append to (before a chain per subject) as chain `SEALED`."""

from __future__ import annotations

from dataclasses import dataclass

import neo4j

from graph.anchors import anchor
from graph.audit_rows import HEAD_FIELDS, head, pages
from profiles.audit import (
    GENESIS,
    SEALED,
    AuditKeys,
    ChainBroken,
    resign_legacy,
    sign_head,
    verify_chain,
    verify_legacy,
)

_LOCK = "MATCH (h:AuditHead {name: 'access'}) SET h.locked_at = datetime()"
_READ = f"MATCH (h:AuditHead {{name: 'access'}}) RETURN {HEAD_FIELDS}"
# The single chain's records carry no chain yet; labelling them is what lets the (chain, seq) index serve them.
_LABEL = "MATCH (r:AccessRecord) WHERE r.chain IS NULL SET r.chain = $chain RETURN count(r) AS n"
_SEAL = ("MATCH (h:AuditHead {name: 'access'}) SET h.chain = $chain, h.seq = $seq, h.hash = $hash, "
         "h.key_id = $key_id, h.mac = $mac, h.sealed_at = datetime(), h.unanchored = true")


@dataclass(frozen=True)
class Upgraded:
    resigned: int
    nothing_to_do: bool  # the single chain was sealed already, or there is no log of the earlier layout
    sealed: int = 0  # records in the chain sealed now
    anchor: int = 0  # the anchor that recorded the sealed chain's head


def upgrade_legacy(driver: neo4j.Driver, database: str, keys: AuditKeys, page: int = 5000) -> Upgraded:
    """Seal the single chain of the earlier layout: verify it under today's rules (first re-signing it under the active
    key if it predates keys, once it verifies under the old plain-SHA-256 rules), label its records with the chain,
    sign its head under the chain's name and anchor it. Raise `ChainBroken`, changing nothing, if it does not verify:
    a broken history is never blessed with a MAC or an anchor. Its records are not re-signed (but for the pre-key
    upgrade): re-signing would bless any tampering, and their MACs are the evidence.

    One transaction, holding the single head's lock from the start: a half-done upgrade would look exactly like a
    tampered log. The cost is memory for the transaction state, proportional to the log; it runs once per deployment.
    Stop instances of the earlier code first: one still appending to the single chain after the seal fails on the
    re-signed head rather than extend a sealed chain.
    """
    keys.signing()  # raises NoAuditKey before anything is locked

    def work(tx: neo4j.ManagedTransaction) -> tuple[int, int] | None:
        tx.run(_LOCK).consume()
        row = tx.run(_READ).single()
        if row is not None and row["chain"]:
            return None  # sealed already
        labelled = tx.run(_LABEL, chain=SEALED).single()["n"]
        current = head(row) if row else None
        if current is None and not labelled:
            return None  # a log begun in the current layout (or none at all)

        def run(cypher: str, **params) -> list:
            return list(tx.run(cypher, **params))

        if current is None:  # records without their head: nothing to seal them under
            raise ChainBroken(verify_chain(pages(run, SEALED, page), None, keys))
        resigned = 0
        if not current.mac:
            verdict = verify_legacy(pages(run, SEALED, page), current)
            if not verdict.intact:
                raise ChainBroken(verdict)
            resigned, last_hash = _resign(tx, pages(run, SEALED, page), keys, page)
            current = sign_head(current.seq, last_hash, keys)
        verdict = verify_chain(pages(run, SEALED, page), current, keys)
        if not verdict.intact:
            raise ChainBroken(verdict)
        sealed = sign_head(current.seq, current.hash, keys, SEALED)
        tx.run(_SEAL, chain=SEALED, seq=sealed.seq, hash=sealed.hash, key_id=sealed.key_id, mac=sealed.mac).consume()
        return resigned, verdict.checked

    with driver.session(database=database) as session:
        done = session.execute_write(work)
    if done is None:
        return Upgraded(0, True)
    written = anchor(driver, database, keys).anchors
    return Upgraded(done[0], False, done[1], next((a.seq for a in written for h in a.heads if h.chain == SEALED), 0))


def _resign(tx: neo4j.ManagedTransaction, records, keys: AuditKeys, page: int) -> tuple[int, str]:
    count, last_hash, batch = 0, GENESIS, []
    for r in resign_legacy(records, keys):
        batch.append({"rid": r.rid, "prev_hash": r.prev_hash, "hash": r.hash, "key_id": r.key_id})
        count, last_hash = count + 1, r.hash
        if len(batch) == page:
            _rewrite(tx, batch)
            batch = []
    _rewrite(tx, batch)
    return count, last_hash


def _rewrite(tx: neo4j.ManagedTransaction, rows: list[dict]) -> None:
    if rows:
        tx.run("UNWIND $rows AS row MATCH (r:AccessRecord {rid: row.rid}) "
               "SET r.prev_hash = row.prev_hash, r.hash = row.hash, r.key_id = row.key_id", rows=rows).consume()
