"""The access log's keyed chain, judged without a graph: each kind of tampering is named at its record or the head."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from profiles.audit import (
    GENESIS,
    AuditKeys,
    ChainHead,
    NoAuditKey,
    head_problem,
    legacy_hash,
    record_mac,
    resign_legacy,
    sign,
    sign_head,
    verify_chain,
    verify_legacy,
)
from profiles.models import AccessRecord

K1, K2 = b"1" * 32, b"2" * 32
KEYS = AuditKeys({"k1": K1}, "k1")
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def unsigned(seq: int, prev: str = GENESIS) -> AccessRecord:
    return AccessRecord(rid=f"rid-{seq}", seq=seq, at=T0 + timedelta(minutes=seq, milliseconds=seq),
                        actor="李窗口 (window1)", role="officer", purpose=f"受理 {seq}", what="person",
                        subject_id="p-42", prev_hash=prev, hash="", key_id="")


def extend(records: list[AccessRecord], n: int, keys: AuditKeys = KEYS) -> tuple[list[AccessRecord], ChainHead]:
    """`records` plus `n` more appended under `keys`, and the head as the log would sign it."""
    out = list(records)
    for _ in range(n):
        prev = out[-1].hash if out else GENESIS
        out.append(sign(unsigned(len(out) + 1, prev), keys))
    return out, sign_head(len(out), out[-1].hash if out else GENESIS, keys)


@pytest.fixture
def chain() -> tuple[list[AccessRecord], ChainHead]:
    return extend([], 6)


def plain_sha256(r: AccessRecord) -> str:
    """What an attacker without the key can compute: the pre-key rule, written out here independently."""
    content = [r.prev_hash, r.rid, r.seq, r.at.isoformat(), r.actor, r.role, r.purpose, r.what, r.subject_id]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def test_an_untouched_chain_is_intact(chain):
    records, head = chain
    verdict = verify_chain(records, head, KEYS)
    assert verdict.intact and verdict.checked == 6 and verdict.record is None
    assert all(r.key_id == "k1" for r in records) and head.key_id == "k1"


def test_an_empty_log_without_a_head_is_intact():
    assert verify_chain([], None, KEYS).intact


# Each field changed in the stored record only (its MAC left as it was): named at that very record.
TAMPERS = [
    ("actor", "someone else", "does not match its MAC"),
    ("role", "admin", "does not match its MAC"),
    ("at", T0 + timedelta(minutes=3, milliseconds=4), "does not match its MAC"),
    ("purpose", "nothing to see", "does not match its MAC"),
    ("what", "materials", "does not match its MAC"),
    ("subject_id", "p-43", "does not match its MAC"),
    ("rid", "rid-forged", "does not match its MAC"),
    ("seq", 7, "sequence jumps from 2 to 7"),
    ("prev_hash", "f" * 64, "link to the previous record"),
    # k1b is the same key material under another id: only a MAC that covers key_id notices the change
    ("key_id", "k1b", "does not match its MAC"),
]


@pytest.mark.parametrize(("name", "value", "reason"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_changing_any_one_stored_field_is_named_at_that_record(chain, name, value, reason):
    records, head = chain
    keys = AuditKeys({"k1": K1, "k1b": K1}, "k1")
    records[2] = tampered = replace(records[2], **{name: value})
    verdict = verify_chain(records, head, keys)
    assert verdict.record == tampered and reason in verdict.reason, verdict


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, v, _ in TAMPERS], ids=[t[0] for t in TAMPERS])
def test_the_mac_covers_every_field(chain, name, value):
    r = chain[0][2]
    assert record_mac(K1, replace(r, **{name: value})) != record_mac(K1, r)


def test_a_time_moved_to_another_offset_is_named(chain):
    records, head = chain
    records[2] = tampered = replace(records[2], at=records[2].at.astimezone(ZoneInfo("Asia/Shanghai")))  # same instant
    assert verify_chain(records, head, KEYS).record == tampered


def test_a_rewrite_rehashed_with_plain_sha256_is_named(chain):
    records, head = chain
    prev = records[1].hash
    for i in range(2, 6):  # record 3 rewritten, it and everything after re-hashed and re-linked
        r = replace(records[i], prev_hash=prev, purpose="nothing to see" if i == 2 else records[i].purpose)
        records[i] = r = replace(r, hash=plain_sha256(r))
        prev = r.hash
    head = replace(head, hash=prev)
    verdict = verify_chain(records, head, KEYS)
    assert verdict.record == records[2] and "plain SHA-256" in verdict.reason, verdict


def test_a_rewrite_signed_with_another_key_under_the_same_id_is_named(chain):
    records, _ = chain
    forger = AuditKeys({"k1": b"x" * 32}, "k1")
    prev = records[1].hash
    for i in range(2, 6):
        records[i] = sign(replace(records[i], prev_hash=prev, purpose=f"forged {i}"), forger)
        prev = records[i].hash
    verdict = verify_chain(records, sign_head(6, prev, forger), KEYS)
    assert verdict.record == records[2] and "does not match its MAC" in verdict.reason, verdict


def test_a_rewrite_signed_with_a_key_not_configured_is_named_with_that_key(chain):
    records, head = chain
    forger = AuditKeys({"evil": b"x" * 32}, "evil")
    records[2] = sign(replace(records[2], purpose="forged"), forger)
    verdict = verify_chain(records, head, KEYS)
    assert verdict.record == records[2] and "'evil', which is not configured" in verdict.reason, verdict


def test_deleting_the_newest_records_is_named_by_the_head(chain):
    records, head = chain
    verdict = verify_chain(records[:-2], head, KEYS)
    assert verdict.record is None and verdict.head == head
    assert "ends at record 6 but the last record is 4" in verdict.reason and "2 record(s) were deleted" in \
        verdict.reason


def test_deleting_the_newest_records_and_moving_the_head_back_is_named(chain):
    records, head = chain
    moved = replace(head, seq=4, hash=records[3].hash)  # what can be read, without the key to re-sign the head
    verdict = verify_chain(records[:-2], moved, KEYS)
    assert verdict.record is None and verdict.head == moved and "does not match its MAC" in verdict.reason
    assert head_problem(moved, KEYS), "an append must refuse to build on it too"
    forged = replace(moved, mac=hmac.new(b"x" * 32, b"guess", hashlib.sha256).hexdigest())
    assert "does not match its MAC" in verify_chain(records[:-2], forged, KEYS).reason


def test_a_missing_head_with_records_present_is_named(chain):
    verdict = verify_chain(chain[0], None, KEYS)
    assert verdict.record is None and "AuditHead) is missing while 6 records exist" in verdict.reason


def test_records_beyond_the_head_are_named(chain):
    records, _ = chain
    old_head = sign_head(4, records[3].hash, KEYS)
    verdict = verify_chain(records, old_head, KEYS)
    assert verdict.record == records[4] and "beyond the head (seq 4)" in verdict.reason


def test_a_newest_record_replaced_by_a_signed_one_is_named(chain):
    records, head = chain
    records[5] = sign(replace(records[5], purpose="another"), KEYS)
    verdict = verify_chain(records, head, KEYS)
    assert verdict.record == records[5] and "newest record was replaced" in verdict.reason


def test_a_deleted_middle_record_is_named_by_the_gap(chain):
    records, head = chain
    del records[2]
    verdict = verify_chain(records, head, KEYS)
    assert verdict.record == records[2] and verdict.record.seq == 4
    assert "sequence jumps from 2 to 4: a record is missing" in verdict.reason


def test_a_reordered_pair_is_named(chain):
    records, head = chain
    third, fourth = records[2], records[3]
    records[2], records[3] = replace(fourth, seq=3), replace(third, seq=4)  # the seqs swapped; read in seq order
    verdict = verify_chain(records, head, KEYS)
    assert verdict.record == records[2] and verdict.record.rid == "rid-4"
    assert "link to the previous record" in verdict.reason


def test_records_out_of_seq_order_are_named():
    records, head = extend([], 4)
    verdict = verify_chain([records[0], records[1], records[2], records[1]], head, KEYS)
    assert verdict.record == records[1] and "goes back from 3 to 2" in verdict.reason


def test_rotation_keeps_old_records_verifiable_while_their_key_stays_listed():
    first, _ = extend([], 3, KEYS)
    both = AuditKeys({"k1": K1, "k2": K2}, "k2")
    records, head = extend(first, 3, both)
    assert [r.key_id for r in records] == ["k1"] * 3 + ["k2"] * 3 and head.key_id == "k2"
    assert verify_chain(records, head, both).intact

    retired = verify_chain(records, head, AuditKeys({"k2": K2}, "k2"))
    assert retired.record == records[0] and "'k1', which is not configured" in retired.reason
    assert "LIFECYCLE_AUDIT_KEYS" in retired.reason


def legacy_chain(n: int) -> tuple[list[AccessRecord], ChainHead]:
    records, prev = [], GENESIS
    for seq in range(1, n + 1):
        r = unsigned(seq, prev)
        records.append(r := replace(r, hash=plain_sha256(r)))
        prev = r.hash
    return records, ChainHead(n, prev)


def test_legacy_records_are_reported_as_not_keyed_never_as_intact():
    records, head = legacy_chain(3)
    verdict = verify_chain(records, head, KEYS)
    assert verdict.record == records[0] and "not keyed" in verdict.reason and "audit upgrade" in verdict.reason
    assert "audit upgrade" in verify_chain([], ChainHead(0, GENESIS), KEYS).reason


def test_an_unkeyed_record_under_a_signed_head_is_a_rewrite_not_a_legacy_one(chain):
    records, head = chain
    records[2] = replace(records[2], key_id="", hash=plain_sha256(replace(records[2], key_id="")))
    verdict = verify_chain(records, head, KEYS)
    assert verdict.record == records[2] and "already upgraded" in verdict.reason


def test_a_legacy_chain_is_checked_under_the_old_rules_then_resigned():
    records, head = legacy_chain(4)
    assert [legacy_hash(r) for r in records] == [r.hash for r in records]
    assert verify_legacy(records, head).intact

    resigned = list(resign_legacy(records, KEYS))
    assert [r.rid for r in resigned] == [r.rid for r in records] and all(r.key_id == "k1" for r in resigned)
    assert verify_chain(resigned, sign_head(4, resigned[-1].hash, KEYS), KEYS).intact


@pytest.mark.parametrize(("tamper", "at", "reason"), [
    (lambda rs, h: ([*rs[:1], replace(rs[1], purpose="changed"), *rs[2:]], h), 2, "changed after it was written"),
    (lambda rs, h: (rs[:1] + rs[2:], h), 3, "a record is missing"),
    (lambda rs, h: (rs[:-1], h), None, "does not match the last record"),
    (lambda rs, h: (rs, None), None, "missing"),
])
def test_a_broken_legacy_chain_is_named(tamper, at, reason):
    records, head = tamper(*legacy_chain(4))
    verdict = verify_legacy(records, head)
    assert not verdict.intact and reason in verdict.reason
    assert (verdict.record.seq if verdict.record else None) == at


def test_nothing_is_signed_without_a_key():
    with pytest.raises(NoAuditKey, match="LIFECYCLE_AUDIT_KEYS"):
        sign(unsigned(1), AuditKeys())
    with pytest.raises(NoAuditKey):
        sign_head(0, GENESIS, AuditKeys({"k1": K1}, ""))


def test_record_and_head_macs_are_kept_apart():
    r = sign(unsigned(1), KEYS)
    assert sign_head(1, r.hash, KEYS).mac not in {r.hash, record_mac(K1, r)}
    assert sign_head(1, r.hash, KEYS).mac != sign_head(2, r.hash, KEYS).mac != sign_head(1, GENESIS, KEYS).mac
