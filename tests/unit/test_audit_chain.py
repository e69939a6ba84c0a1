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
    Anchored,
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


# --- a chain per subject ------------------------------------------------------------------------------------------

def subject_chain(n: int, chain: str = "p-42", keys: AuditKeys = KEYS) -> tuple[list[AccessRecord], ChainHead]:
    out = []
    for seq in range(1, n + 1):
        r = replace(unsigned(seq, out[-1].hash if out else GENESIS), subject_id=chain, chain=chain)
        out.append(sign(r, keys))
    return out, sign_head(n, out[-1].hash if out else GENESIS, keys, chain)


def test_a_subjects_chain_is_signed_with_its_name_and_verifies():
    records, head = subject_chain(4)
    assert verify_chain(records, head, KEYS).intact and head.chain == "p-42"
    assert record_mac(K1, records[0]) != record_mac(K1, replace(records[0], chain=""))  # v2 covers the chain
    assert head.mac != sign_head(4, records[-1].hash, KEYS).mac != sign_head(4, records[-1].hash, KEYS, "p-43").mac


def test_a_record_moved_into_another_subjects_chain_is_named():
    records, _ = subject_chain(3)
    theirs, their_head = subject_chain(2, "p-43")
    moved = replace(records[2], chain="p-43", seq=3, prev_hash=theirs[-1].hash)  # relinked, as a mover would
    assert "names chain p-42" in verify_chain([*theirs, records[2]], their_head, KEYS).reason
    verdict = verify_chain([*theirs, moved], their_head, KEYS)
    assert verdict.record == moved and "moved to another chain" in verdict.reason and verdict.chain == "p-43"
    relabelled = replace(moved, subject_id="p-43")  # its fields made to fit: the MAC does not
    assert "does not match its MAC" in verify_chain([*theirs, relabelled], their_head, KEYS).reason


def test_a_record_of_the_sealed_chain_does_not_pass_in_a_subjects_chain():
    single, _ = extend([], 1)  # v1: signed without a chain
    placed = replace(single[0], chain="p-42")
    verdict = verify_chain([placed], sign_head(1, placed.hash, KEYS, "p-42"), KEYS)
    assert verdict.record == placed and "does not match its MAC" in verdict.reason


def test_one_subjects_head_cannot_stand_in_for_anothers():
    _, head = subject_chain(2)
    swapped = replace(head, chain="p-43")
    assert "of chain p-43 (seq 2) does not match its MAC" in head_problem(swapped, KEYS)


def test_a_chain_rolled_back_behind_its_anchor_is_named():
    records, head = subject_chain(6)
    anchored = Anchored("p-42", 6, records[5].hash, 3)
    assert verify_chain(records, head, KEYS, anchored).intact
    replayed = sign_head(4, records[3].hash, KEYS, "p-42")  # a state the head genuinely had: its MAC holds
    verdict = verify_chain(records[:4], replayed, KEYS, anchored)
    assert verdict.record is None and verdict.head == replayed
    assert "behind what anchor 3 recorded (seq 6): the chain was rolled back" in verdict.reason


def test_a_rollback_to_a_state_since_the_last_anchor_is_not_seen():
    """The window (profiles/anchors.py): an anchor at seq 4 cannot speak for records 5 and 6."""
    records, _ = subject_chain(6)
    replayed = sign_head(4, records[3].hash, KEYS, "p-42")
    assert verify_chain(records[:4], replayed, KEYS, Anchored("p-42", 4, records[3].hash, 1)).intact


def test_a_deleted_anchored_chain_is_named_even_without_records():
    verdict = verify_chain([], None, KEYS, Anchored("p-42", 2, "a" * 64, 5))
    assert verdict.chain == "p-42" and "anchor 5 recorded this chain at seq 2: the chain was deleted" in verdict.reason


def test_a_chain_rewritten_by_a_key_holder_behind_its_anchor_is_named():
    records, _ = subject_chain(6)
    anchored = Anchored("p-42", 6, records[5].hash, 2)
    rewritten = records[:2]
    for r in records[2:]:  # re-signed with the real key from record 3 on, as only an insider could
        rewritten.append(sign(replace(r, prev_hash=rewritten[-1].hash, purpose=r.purpose + "!"), KEYS))
    head = sign_head(6, rewritten[-1].hash, KEYS, "p-42")
    verdict = verify_chain(rewritten, head, KEYS, anchored)
    assert verdict.record == rewritten[5] and "rewritten behind its anchor" in verdict.reason
