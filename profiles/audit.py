"""The access log's keyed hash chains (全程留痕、过往可溯): signing records and heads, and judging one chain. Pure.

Each subject (person or business) has a chain of its own, named by its id: appends to different subjects never wait on
one another. Each record's hash is an HMAC-SHA256 over every field, its chain and its predecessor's hash, so changing,
removing, reordering or moving a record to another chain breaks a link. The MAC is keyed because whoever can write the
graph can also recompute a plain SHA-256 over a rewritten record and everything after it; without the key they cannot.
A chain alone cannot tell a cut end from a short log, so each chain's head (`AuditHead`) holds its last (seq, hash)
under a MAC of its own that names the chain: moving it back, or swapping it with another chain's, also takes the key.

A head rolled back to a state it genuinely had earlier (replayed with its old MAC) after the records since were deleted
is caught only by an anchor (`profiles.anchors`): one anchored at a later seq names the rollback. See there for what
the window between two anchors leaves open.

The log began as one chain for everything; at the upgrade it is sealed as the chain `SEALED`: verified, its records
left exactly as signed (their MAC, "v1", does not cover a chain), its head re-signed under the chain's name and
anchored, and nothing appended to it again.

Keys rotate like the data keys: each record and head name the key that signed them and are checked with that key, so a
retired key must stay configured for as long as the records it signed are to verify. History is never re-signed under a
newer key, on purpose: a tamper-evident log is not rewritten. The one exception is `resign_legacy`, the one-time upgrade
of a chain written before keys existed, which re-signs only what first verifies under the old rules.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from profiles.models import AccessRecord

GENESIS = "0" * 64
SEALED = "access"  # the chain the single log of the earlier layout became; no subject id can be this
# Domain tags: a record MAC can never be presented as a head MAC (or as anything else signed with the same key), and a
# change of the MAC input gets a new version instead of silently meaning something else. v1: the single chain, v2: a
# subject's chain (the chain's name is signed too).
RECORD_TAG, RECORD_TAG_V2 = "lifecycle|access-record|v1", "lifecycle|access-record|v2"
HEAD_TAG, HEAD_TAG_V2 = "lifecycle|access-head|v1", "lifecycle|access-head|v2"
UPGRADE = "`flask --app wsgi audit upgrade`"


class ChainBroken(RuntimeError):
    """The chain cannot be extended or upgraded as it stands; `verdict` says where and why."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.reason)
        self.verdict = verdict


class NoAuditKey(RuntimeError):
    def __init__(self) -> None:
        super().__init__("no access-log key configured: set LIFECYCLE_AUDIT_KEYS")


@dataclass(frozen=True)
class AuditKeys:
    """The configured keys by id; `active` signs new records, heads and anchors."""

    keys: Mapping[str, bytes] = field(default_factory=dict)
    active: str = ""

    def signing(self) -> tuple[str, bytes]:
        if not self.active or self.active not in self.keys:
            raise NoAuditKey()
        return self.active, self.keys[self.active]


@dataclass(frozen=True)
class ChainHead:
    """An `AuditHead` node: its chain's last seq and hash, and a MAC over them ("" mac: not signed, legacy; ""
    chain: the single chain before it was sealed)."""

    seq: int
    hash: str
    key_id: str = ""
    mac: str = ""
    chain: str = ""


@dataclass(frozen=True)
class Anchored:
    """A chain's head as anchor `anchor` recorded it."""

    chain: str
    seq: int
    hash: str
    anchor: int = 0


@dataclass(frozen=True)
class Verdict:
    """What a check found: intact when `reason` is empty; else where: the first bad `record`, or the `head` of `chain`
    (None: it is missing), or an anchor (`profiles.anchors`)."""

    checked: int
    reason: str = ""
    record: AccessRecord | None = None
    head: ChainHead | None = None
    chain: str = ""
    anchor: object | None = None

    @property
    def intact(self) -> bool:
        return not self.reason


def mac(key: bytes, parts: list) -> str:
    # A JSON array, not a joined string: no value can contain a separator that shifts the field boundaries.
    return hmac.new(key, json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode(),
                    hashlib.sha256).hexdigest()


def record_mac(key: bytes, r: AccessRecord) -> str:
    """The MAC over every field of `r` but `hash` itself (key_id included: a record cannot claim another key)."""
    fields = [r.prev_hash, r.rid, r.seq, r.at.isoformat(), r.actor, r.role, r.purpose, r.what, r.subject_id]
    if r.chain in ("", SEALED):
        return mac(key, [RECORD_TAG, r.key_id, *fields])
    return mac(key, [RECORD_TAG_V2, r.key_id, r.chain, *fields])


def head_mac(key: bytes, key_id: str, seq: int, last_hash: str, chain: str = "") -> str:
    if not chain:
        return mac(key, [HEAD_TAG, key_id, seq, last_hash])
    return mac(key, [HEAD_TAG_V2, key_id, chain, seq, last_hash])


def legacy_hash(r: AccessRecord) -> str:
    """The plain SHA-256 the log used before it was keyed; only for recognising and upgrading such records."""
    content = [r.prev_hash, r.rid, r.seq, r.at.isoformat(), r.actor, r.role, r.purpose, r.what, r.subject_id]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def sign(r: AccessRecord, keys: AuditKeys) -> AccessRecord:
    """`r` under the active key: key_id set, hash = its MAC."""
    key_id, key = keys.signing()
    unsigned = replace(r, key_id=key_id, hash="")
    return replace(unsigned, hash=record_mac(key, unsigned))


def sign_head(seq: int, last_hash: str, keys: AuditKeys, chain: str = "") -> ChainHead:
    key_id, key = keys.signing()
    return ChainHead(seq, last_hash, key_id, head_mac(key, key_id, seq, last_hash, chain), chain)


def _of(chain: str) -> str:
    return f" of chain {chain}" if chain else ""


def head_problem(head: ChainHead, keys: AuditKeys) -> str:
    """Why `head` cannot be trusted, or "" if its MAC holds. Appends check this too: building on a moved head would
    sign it anew and launder the move."""
    if not head.mac:
        return f"the head (seq {head.seq}) is not signed: the log predates keyed signing; run {UPGRADE}"
    key = keys.keys.get(head.key_id)
    if key is None:
        return _unknown_key(f"the head{_of(head.chain)} is", head.key_id)
    if not hmac.compare_digest(head_mac(key, head.key_id, head.seq, head.hash, head.chain), head.mac):
        return (f"the head{_of(head.chain)} (seq {head.seq}) does not match its MAC: it was moved or rewritten "
                "without the key (records after the last one may have been deleted)")
    return ""


def verify_chain(records: Iterable[AccessRecord], head: ChainHead | None, keys: AuditKeys,
                 anchored: Anchored | None = None, chain: str = "") -> Verdict:
    """Walk one chain's `records` in seq order and compare the end with `head` and with the last anchor that recorded
    the chain; name the first bad record, or the head."""
    chain = chain or (head.chain if head else "") or (anchored.chain if anchored else "")
    trusted = head is not None and not head_problem(head, keys)
    checked, last = 0, None
    for r in records:
        checked += 1
        why = _chain_problem(r, chain) or _link_problem(r, last) or _mac_problem(r, head, keys)
        if not why and trusted and r.seq > head.seq:
            why = f"it lies beyond the head (seq {head.seq}): it was added outside the log"
        if not why and anchored and r.seq == anchored.seq and r.hash != anchored.hash:
            why = (f"it is not the record anchor {anchored.anchor} recorded at this seq: the chain was rewritten "
                   "behind its anchor")
        if why:
            return Verdict(checked, why, r, head, chain)
        last = r
    if head is None:
        if anchored:
            return Verdict(checked, f"the head is missing, yet anchor {anchored.anchor} recorded this chain at seq "
                                    f"{anchored.seq}: the chain was deleted", None, None, chain)
        if last is None:
            return Verdict(0, chain=chain)
        return Verdict(checked, f"the head (AuditHead) is missing while {checked} records exist: it was deleted",
                       None, head, chain)
    if not trusted:
        return Verdict(checked, head_problem(head, keys), None, head, chain)
    if anchored and (head.seq < anchored.seq or (head.seq == anchored.seq and head.hash != anchored.hash)):
        return Verdict(checked, f"the head{_of(chain)} (seq {head.seq}) is behind what anchor {anchored.anchor} "
                                f"recorded (seq {anchored.seq}): the chain was rolled back and its newest records "
                                "deleted", None, head, chain)
    return _end_problem(checked, last, head, chain)


def _link_problem(r: AccessRecord, last: AccessRecord | None) -> str:
    expected = 1 if last is None else last.seq + 1
    if r.seq > expected:
        return f"sequence jumps from {expected - 1} to {r.seq}: a record is missing"
    if r.seq < expected:
        return f"sequence goes back from {expected - 1} to {r.seq}: records were reordered"
    if r.prev_hash != (GENESIS if last is None else last.hash):
        return "its link to the previous record does not match"
    return ""


def _chain_problem(r: AccessRecord, chain: str) -> str:
    if chain and r.chain and r.chain != chain:
        return f"it is found in chain {chain} but names chain {r.chain}"
    if chain not in ("", SEALED) and r.subject_id != chain:
        return f"its subject ({r.subject_id}) is not its chain's ({chain}): it was moved to another chain"
    return ""


def _mac_problem(r: AccessRecord, head: ChainHead | None, keys: AuditKeys) -> str:
    if not r.key_id:
        if head is not None and head.mac:
            return "it is not keyed, yet the log was already upgraded (its head is signed): it was rewritten"
        return f"it is not keyed: written before the access log was signed; run {UPGRADE}"
    key = keys.keys.get(r.key_id)
    if key is None:
        return _unknown_key("it is", r.key_id)
    if hmac.compare_digest(record_mac(key, r), r.hash):
        return ""
    if r.hash == legacy_hash(r):
        return "its hash is a plain SHA-256 of its content, not its MAC: it was rewritten and re-hashed without the key"
    return "its content does not match its MAC: it was changed after it was written"


def _unknown_key(subject: str, key_id: str) -> str:
    return (f"{subject} signed with key {key_id!r}, which is not configured: a retired key must stay in "
            "LIFECYCLE_AUDIT_KEYS, or else this was signed by someone else")


def _end_problem(checked: int, last: AccessRecord | None, head: ChainHead, chain: str) -> Verdict:
    end = 0 if last is None else last.seq
    if end < head.seq:
        return Verdict(checked, f"the head says the log ends at record {head.seq} but the last record is {end}: the "
                                f"newest {head.seq - end} record(s) were deleted", None, head, chain)
    if last is not None and last.hash != head.hash:
        return Verdict(checked, "its hash differs from the head's: the newest record was replaced", last, head, chain)
    return Verdict(checked, head=head, chain=chain)


def verify_legacy(records: Iterable[AccessRecord], head: ChainHead | None) -> Verdict:
    """The pre-key rules (plain SHA-256, unsigned head): the check `audit upgrade` makes before it re-signs."""
    checked, last = 0, None
    for r in records:
        checked += 1
        why = _link_problem(r, last)
        if not why and r.key_id:
            why = f"it is already keyed ({r.key_id!r}) among unkeyed records: the chain is not a legacy one"
        if not why and r.hash != legacy_hash(r):
            why = "its content does not match its hash: it was changed after it was written"
        if why:
            return Verdict(checked, why, r, head)
        last = r
    if head is None:
        return Verdict(checked, "the head (AuditHead) is missing" if last else "", None, head)
    if head.seq != (0 if last is None else last.seq) or head.hash != (GENESIS if last is None else last.hash):
        return Verdict(checked, f"the head (seq {head.seq}) does not match the last record "
                                f"({0 if last is None else last.seq}): records were deleted or replaced", None, head)
    return Verdict(checked, head=head)


def resign_legacy(records: Iterable[AccessRecord], keys: AuditKeys) -> Iterator[AccessRecord]:
    """Each legacy record (already verified, in seq order) re-signed under the active key, linked to its re-signed
    predecessor; the last one's hash is what the head gets."""
    prev = GENESIS
    for r in records:
        signed = sign(replace(r, prev_hash=prev), keys)
        prev = signed.hash
        yield signed
