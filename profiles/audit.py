"""The access log's hash chain (全程留痕、过往可溯): each record's hash covers its content and its predecessor's hash.

Changing, removing or reordering any record breaks every link after it, so `first_broken_link` names the first record
that no longer matches. Pure: the graph stores and streams the records, this decides whether they are intact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime

GENESIS = "0" * 64


def record_hash(prev_hash: str, rid: str, seq: int, at: datetime, actor: str, role: str, purpose: str, what: str,
                subject_id: str) -> str:
    content = [prev_hash, rid, seq, at.isoformat(), actor, role, purpose, what, subject_id]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def first_broken_link(records: Iterable) -> tuple[object | None, str, int]:
    """Walk records in `seq` order; return (first bad record or None, why, how many were checked)."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for r in records:
        checked += 1
        if r.seq != expected_seq:
            return r, f"sequence jumps from {expected_seq - 1} to {r.seq}: a record is missing", checked
        if r.prev_hash != expected_prev:
            return r, "its link to the previous record does not match", checked
        if record_hash(r.prev_hash, r.rid, r.seq, r.at, r.actor, r.role, r.purpose, r.what, r.subject_id) != r.hash:
            return r, "its content does not match its hash: it was changed after it was written", checked
        expected_prev, expected_seq = r.hash, expected_seq + 1
    return None, "", checked
