"""The anchor chain judged without a graph: every kind of tampering with an anchor or its head is named, and a head
behind its last anchor is never anchored again."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from profiles.anchors import (
    ANCHORS,
    anchor_head_problem,
    anchor_mac,
    next_entry,
    sign_anchor,
    sign_anchor_head,
    verify_anchors,
)
from profiles.audit import GENESIS, Anchored, AuditKeys, head_mac, sign_head

K1 = b"1" * 32
KEYS = AuditKeys({"k1": K1}, "k1")
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def heads(n: int, seq: int) -> list[Anchored]:
    return [Anchored(f"p-{c}", seq, f"{c:064x}") for c in range(n)]


@pytest.fixture
def anchors():
    out = []
    for seq in range(1, 5):
        out.append(sign_anchor(seq, T0 + timedelta(minutes=5 * seq), out[-1].hash if out else GENESIS,
                               heads(3, seq), KEYS))
    return out, sign_anchor_head(4, out[-1].hash, KEYS)


def test_an_untouched_anchor_chain_is_intact(anchors):
    chain, head = anchors
    verdict = verify_anchors(chain, head, KEYS)
    assert verdict.intact and verdict.checked == 4 and verdict.chain == ANCHORS
    assert all(h.anchor == a.seq for a in chain for h in a.heads)
    assert verify_anchors([], None, KEYS).intact


@pytest.mark.parametrize(("tamper", "reason"), [
    (lambda a: replace(a, heads=(replace(a.heads[0], seq=9), *a.heads[1:])), "does not match its MAC"),
    (lambda a: replace(a, heads=(replace(a.heads[0], hash="f" * 64), *a.heads[1:])), "does not match its MAC"),
    (lambda a: replace(a, heads=(replace(a.heads[0], chain="p-9"), *a.heads[1:])), "does not match its MAC"),
    (lambda a: replace(a, heads=a.heads[1:]), "does not match its MAC"),
    (lambda a: replace(a, heads=(*a.heads, Anchored("p-9", 1, "e" * 64, a.seq))), "does not match its MAC"),
    (lambda a: replace(a, at=a.at + timedelta(seconds=1)), "does not match its MAC"),
    (lambda a: replace(a, hash=hmac.new(b"x" * 32, b"forged", hashlib.sha256).hexdigest()), "forged"),
    (lambda a: replace(a, key_id="evil"), "'evil', which is not configured"),
    (lambda a: replace(a, prev_hash="f" * 64), "link to the previous anchor"),
], ids=["entry seq", "entry hash", "entry chain", "entry removed", "entry added", "time", "forged MAC", "unknown key",
        "link"])
def test_a_changed_or_forged_anchor_is_named(anchors, tamper, reason):
    chain, head = anchors
    chain[1] = tampered = tamper(chain[1])
    verdict = verify_anchors(chain, head, KEYS)
    assert verdict.anchor == tampered and reason in verdict.reason, verdict


def test_a_missing_anchor_is_named_by_the_gap(anchors):
    chain, head = anchors
    del chain[1]
    verdict = verify_anchors(chain, head, KEYS)
    assert verdict.anchor.seq == 3 and "anchors jump from 1 to 3: an anchor is missing" in verdict.reason


def test_anchors_out_of_order_are_named(anchors):
    chain, head = anchors
    verdict = verify_anchors([chain[0], chain[1], chain[2], chain[1]], head, KEYS)
    assert verdict.anchor == chain[1] and "go back from 3 to 2" in verdict.reason


def test_newest_anchors_deleted_are_named_by_the_head_and_a_head_moved_back_by_its_mac(anchors):
    chain, head = anchors
    verdict = verify_anchors(chain[:2], head, KEYS)
    assert verdict.anchor is None and "end at 4 but the last anchor is 2" in verdict.reason
    moved = replace(head, seq=2, hash=chain[1].hash)
    assert "anchor head (seq 2) does not match its MAC" in verify_anchors(chain[:2], moved, KEYS).reason


def test_a_missing_anchor_head_an_anchor_beyond_it_and_a_replaced_newest_anchor_are_named(anchors):
    chain, head = anchors
    assert "anchor head is missing while 4 anchors exist" in verify_anchors(chain, None, KEYS).reason
    beyond = verify_anchors(chain, sign_anchor_head(3, chain[2].hash, KEYS), KEYS)
    assert beyond.anchor == chain[3] and "beyond the anchor head (seq 3)" in beyond.reason
    chain[3] = sign_anchor(4, chain[3].at, chain[2].hash, heads(1, 9), KEYS)  # signed, but not the one the head has
    replaced = verify_anchors(chain, head, KEYS)
    assert replaced.anchor == chain[3] and "newest anchor was replaced" in replaced.reason


def test_an_anchor_head_signed_with_an_unknown_key_is_named(anchors):
    _, head = anchors
    assert "'k1', which is not configured" in anchor_head_problem(head, AuditKeys({"k2": b"2" * 32}, "k2"))


def test_the_anchor_macs_are_kept_apart_from_record_and_head_macs(anchors):
    chain, head = anchors
    assert head.mac != head_mac(K1, "k1", head.seq, head.hash) != head_mac(K1, "k1", head.seq, head.hash, ANCHORS)
    a = chain[0]
    assert anchor_mac(K1, a) == a.hash and anchor_mac(K1, replace(a, heads=tuple(reversed(a.heads)))) == a.hash


def test_a_head_behind_its_last_anchor_is_never_anchored():
    last = Anchored("p-1", 6, "a" * 64, 3)
    assert next_entry(sign_head(7, "b" * 64, KEYS, "p-1"), last) == ""
    assert next_entry(sign_head(6, "a" * 64, KEYS, "p-1"), last) == ""
    assert "behind what anchor 3 recorded (seq 6)" in next_entry(sign_head(4, "c" * 64, KEYS, "p-1"), last)
    assert "behind" in next_entry(sign_head(6, "c" * 64, KEYS, "p-1"), last)
    assert next_entry(sign_head(1, "c" * 64, KEYS, "p-1"), None) == ""
