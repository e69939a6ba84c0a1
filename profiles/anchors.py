"""Anchors tie the access log's chains together: signing an anchor and judging the anchor chain. Pure.

An anchor is written every sweeper run (and by `audit anchor` and `audit verify`). It MAC-signs the (chain, seq, hash)
of every chain head that moved since the previous anchor and links to the previous anchor's MAC; a head of its own
(`AnchorHead`) holds the last anchor's (seq, hash) under a MAC. So, whoever writes the graph without the key cannot:
change, drop or add an anchor or one of its entries (its MAC breaks, or the links, or the head); roll a chain back
behind the seq its last anchor recorded, or delete an anchored chain (`profiles.audit.verify_chain` compares each chain
with its last anchor); or rewrite an anchored record (its hash is the anchor's).

What the window between two anchors leaves open (at most one sweeper interval plus a run, SWEEP_EVERY_S = 300 s, while
the sweeper runs): records appended to a chain since the last anchor that recorded it can be deleted without a trace
by someone who also restores the chain's head to a state it genuinely had at or after that anchor (the old head node's
properties, replayed with their MAC), and a chain begun since the last anchor can be deleted whole (head and records).
Changing, reordering or inserting a record is still found at any time, since it takes the key. The same hole exists
at the end of the anchor chain itself: anchors deleted from the end, with the anchor head replayed from an earlier
state, are found only against a copy kept outside the graph; the sweeper logs each anchor's seq and hash for that.
Whoever holds the key can forge everything in the graph, anchors included; only such an outside copy binds them.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from profiles.audit import GENESIS, Anchored, AuditKeys, ChainHead, Verdict, mac

ANCHOR_TAG, ANCHOR_HEAD_TAG = "lifecycle|access-anchor|v1", "lifecycle|access-anchor-head|v1"
ANCHORS = "anchors"  # the anchor chain's name in verdicts


@dataclass(frozen=True)
class Anchor:
    """One anchor: the heads it records (sorted by chain), its predecessor's hash, and its own MAC (`hash`)."""

    seq: int
    at: datetime
    prev_hash: str
    heads: tuple[Anchored, ...]
    key_id: str = ""
    hash: str = ""


def anchor_mac(key: bytes, a: Anchor) -> str:
    return mac(key, [ANCHOR_TAG, a.key_id, a.seq, a.prev_hash, a.at.isoformat(),
                     [[h.chain, h.seq, h.hash] for h in sorted(a.heads, key=lambda h: h.chain)]])


def anchor_head_mac(key: bytes, key_id: str, seq: int, last_hash: str) -> str:
    return mac(key, [ANCHOR_HEAD_TAG, key_id, seq, last_hash])


def sign_anchor(seq: int, at: datetime, prev_hash: str, heads: Iterable[Anchored], keys: AuditKeys) -> Anchor:
    key_id, key = keys.signing()
    unsigned = Anchor(seq, at, prev_hash, tuple(sorted((replace(h, anchor=seq) for h in heads),
                                                      key=lambda h: h.chain)), key_id)
    return replace(unsigned, hash=anchor_mac(key, unsigned))


def sign_anchor_head(seq: int, last_hash: str, keys: AuditKeys) -> ChainHead:
    key_id, key = keys.signing()
    return ChainHead(seq, last_hash, key_id, anchor_head_mac(key, key_id, seq, last_hash), ANCHORS)


def anchor_head_problem(head: ChainHead, keys: AuditKeys) -> str:
    key = keys.keys.get(head.key_id)
    if key is None:
        return (f"the anchor head is signed with key {head.key_id!r}, which is not configured: a retired key must "
                "stay in LIFECYCLE_AUDIT_KEYS, or else this was signed by someone else")
    if not hmac.compare_digest(anchor_head_mac(key, head.key_id, head.seq, head.hash), head.mac):
        return (f"the anchor head (seq {head.seq}) does not match its MAC: it was moved or rewritten without the key "
                "(anchors after the last one may have been deleted)")
    return ""


def next_entry(head: ChainHead, last: Anchored | None) -> str:
    """Why `head` (its MAC already checked) must not go into the next anchor, or "" if it may. Anchoring a chain
    rolled back behind its last anchor would make the rollback the new truth."""
    if last is not None and (head.seq < last.seq or (head.seq == last.seq and head.hash != last.hash)):
        return (f"the head of chain {head.chain} (seq {head.seq}) is behind what anchor {last.anchor} recorded "
                f"(seq {last.seq}): the chain was rolled back and its newest records deleted")
    return ""


def verify_anchors(anchors: Iterable[Anchor], head: ChainHead | None, keys: AuditKeys) -> Verdict:
    """Walk the anchors in seq order and compare the end with the anchor head; name the first bad anchor, or the
    head."""
    checked, last = 0, None
    for a in anchors:
        checked += 1
        why = _anchor_problem(a, last, keys)
        if not why and head is not None and a.seq > head.seq:
            why = f"it lies beyond the anchor head (seq {head.seq}): it was added outside the log"
        if why:
            return Verdict(checked, why, chain=ANCHORS, anchor=a, head=head)
        last = a
    if head is None:
        if last is None:
            return Verdict(0, chain=ANCHORS)
        return Verdict(checked, f"the anchor head is missing while {checked} anchors exist: it was deleted",
                       chain=ANCHORS)
    problem = anchor_head_problem(head, keys)
    end = 0 if last is None else last.seq
    if not problem and end < head.seq:
        problem = (f"the anchor head says the anchors end at {head.seq} but the last anchor is {end}: the newest "
                   f"{head.seq - end} anchor(s) were deleted")
    if not problem and last is not None and last.hash != head.hash:
        return Verdict(checked, "its MAC differs from the anchor head's: the newest anchor was replaced",
                       chain=ANCHORS, anchor=last, head=head)
    return Verdict(checked, problem, chain=ANCHORS, head=head)


def _anchor_problem(a: Anchor, last: Anchor | None, keys: AuditKeys) -> str:
    expected = 1 if last is None else last.seq + 1
    if a.seq > expected:
        return f"anchors jump from {expected - 1} to {a.seq}: an anchor is missing"
    if a.seq < expected:
        return f"anchors go back from {expected - 1} to {a.seq}: anchors were reordered"
    if a.prev_hash != (GENESIS if last is None else last.hash):
        return "its link to the previous anchor does not match"
    key = keys.keys.get(a.key_id)
    if key is None:
        return (f"it is signed with key {a.key_id!r}, which is not configured: a retired key must stay in "
                "LIFECYCLE_AUDIT_KEYS, or else it was forged")
    if not hmac.compare_digest(anchor_mac(key, a), a.hash):
        return "it does not match its MAC: it was forged, or heads it recorded were changed, added or removed"
    return ""
