"""The access log's nodes as `profiles` dataclasses, and the paged walk of one chain's records; shared by the log,
its anchors and its upgrade."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from profiles.audit import Anchored, ChainHead
from profiles.models import AccessRecord

HEAD_FIELDS = "h.seq AS seq, h.hash AS hash, h.key_id AS key_id, h.mac AS mac, h.chain AS chain"
# A chain's records from seq `after` on, in order: the (chain, seq) constraint's index serves it in that order.
CHAIN_PAGE = ("MATCH (r:AccessRecord) WHERE r.chain = $chain AND r.seq > $after "
              "AND ($upto IS NULL OR r.seq <= $upto) RETURN r ORDER BY r.chain, r.seq LIMIT $page")
# The single chain of the earlier layout before its seal: its records carry no chain (no index; read once or twice).
UNSEALED_PAGE = ("MATCH (r:AccessRecord) WHERE r.chain IS NULL AND r.seq > $after "
                 "AND ($upto IS NULL OR r.seq <= $upto) RETURN r ORDER BY r.seq LIMIT $page")


def pages(run: Callable[..., list], chain: str | None, page: int, upto: int | None = None) -> Iterator[AccessRecord]:
    """Every record of `chain` (None: the unsealed single chain) up to seq `upto`, `page` at a time:
    `run(cypher, **params)` returns the rows, in a transaction or through the driver."""
    after = 0
    while True:
        rows = run(CHAIN_PAGE if chain is not None else UNSEALED_PAGE, chain=chain, after=after, upto=upto, page=page)
        if not rows:
            return
        yield from (record(row["r"]) for row in rows)
        after = rows[-1]["r"]["seq"]


def head(row) -> ChainHead:
    return ChainHead(row["seq"], row["hash"], row["key_id"] or "", row["mac"] or "", row["chain"] or "")


def anchored(node) -> Anchored:
    return Anchored(node["chain"], node["seq"], node["hash"], node["anchor"])


def record(node) -> AccessRecord:
    return AccessRecord(
        rid=node["rid"], seq=node["seq"], at=node["at"].to_native(), actor=node["actor"], role=node["role"],
        purpose=node["purpose"], what=node["what"], subject_id=node["subject_id"], prev_hash=node["prev_hash"],
        hash=node["hash"], key_id=node.get("key_id", ""), chain=node.get("chain", ""),
    )
