"""The sweeper: notices a lost job left behind are found in the graph and sent on their way again.

Pending notices untouched for `stuck_after` seconds (their delivery job was lost: Redis flushed, a worker killed)
are enqueued again. A notice stuck in `sending` was claimed by a delivery that died mid-send: for SMS the provider
is asked whether it took the message (the link in the body carries the notice id), and the notice becomes `sent`
if it did and `pending` again if not, so it is sent once. For e-mail nobody can say, so it is marked failed rather
than risk a second message (the inbox still has it). Every run also anchors the access log's chain heads that moved
(`graph.anchors`), and logs each anchor's seq and hash so a copy of them lives outside the graph.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from notifier import outcomes
from notifier.delivery import enqueue_delivery, link
from notifier.services import current
from notifier.sms import SmsError
from profiles.audit import ChainBroken, NoAuditKey

log = structlog.get_logger(__name__)

RECONCILE_SLACK = timedelta(minutes=5)  # provider clocks and ours differ a little


def sweep(at: str | None = None) -> dict[str, int]:
    services = current()
    now = services.now(at)
    before = now - timedelta(seconds=services.settings.stuck_after_s)
    pending, sending = services.notices.stale(before, now)
    moves, again = [], list(pending)
    stuck = services.notices.load(sending)
    contacts = services.preferences.contacts([n.recipient_id for n in stuck if n.channel == "sms"])
    for n in stuck:
        if n.channel != "sms":
            moves.append({"nid": n.nid, "from": ["sending"], "to": "failed", "error_code": "unknown_after_crash",
                          "detail": "the send was interrupted and cannot be checked; the inbox has it"})
            continue
        contact = contacts.get(n.recipient_id)
        try:
            since = (n.not_before or n.created_at or now) - RECONCILE_SLACK
            sid = services.sms.find(contact.phone, link(services, n.nid), since) if contact and contact.phone else None
        except SmsError as exc:
            log.warning("reconciliation postponed: the provider did not answer", code=exc.code)
            continue
        if sid:
            moves.append({"nid": n.nid, "from": ["sending"], "to": "sent", "provider_id": sid, "sent": True,
                          "detail": "found at the provider after an interrupted send"})
        else:
            moves.append({"nid": n.nid, "from": ["sending"], "to": "pending",
                          "detail": "the provider never got it; sending again"})
            again.append(n.nid)
    services.notices.move(moves, now)
    services.notices.touch(again, now)
    batches = enqueue_delivery(services, again, clock=at)
    counts = {"requeued": len(again), "reconciled_sent": sum(m["to"] == "sent" for m in moves),
              "failed_unknown": sum(m["to"] == "failed" for m in moves), "batches": batches,
              # a decision whose notices were never written (the web process died right after it): tell it now
              "decisions_told": outcomes.catch_up(services, at, window=timedelta(hours=1)),
              "heads_anchored": anchor(services)}
    if any(counts.values()):
        log.info("sweep", **counts)
    return counts


def anchor(services) -> int:
    """Anchor the access log's moved heads; a broken anchor head or a refused chain head is logged, not raised: the
    notices above must not wait on it, and `audit verify` names it."""
    try:
        done = services.access_log.anchor()
    except (ChainBroken, NoAuditKey) as exc:
        log.error("access log not anchored", reason=str(exc))
        return 0
    for a in done.anchors:
        log.info("access log anchor", seq=a.seq, hash=a.hash, key=a.key_id, heads=len(a.heads))
    for verdict in done.refused:
        log.error("access log head not anchored", chain=verdict.chain, reason=verdict.reason)
    return done.heads
