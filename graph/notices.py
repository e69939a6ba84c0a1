"""Notices in the graph: created once per dedupe key, claimed by one delivery, moved forward only, every change kept.

A status only ever moves up its rank (profiles.notices.RANK), by conditional writes that check the status under the
notice's lock: a late or repeated provider
callback, a second delivery job for the same ids, or a second scan cannot move a notice back or send it twice. Each
change appends "status@time[:detail]" to the notice's `history`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import neo4j

from graph.driver import utc
from profiles.notices import PUSH_CHANNELS, Notice

# Take the notice's write lock before reading its status: under read-committed isolation a condition checked
# before the lock can be stale by the time the write lands (a callback's `delivered` undone by a late `sent`).
_LOCKED = "SET n._lock = true REMOVE n._lock "

NOTICE_FIELDS = (
    "n {.*, recipient_id: coalesce(r.pid, r.eid, r.name), recipient_label: labels(r)[0], "
    "   aid: COLLECT { MATCH (n)-[:ABOUT]->(a:Application) RETURN a.aid }[0]} AS n"
)


@dataclass(frozen=True)
class NoticeRow:
    """One notice to create: who, about what, when, which channel."""

    dedupe_key: str
    nid: str
    kind: str
    channel: str
    recipient_label: str  # Person / Entity / Department
    recipient_id: str  # pid / eid / department name
    subject_label: str
    subject_id: str
    service: str
    due_on: date
    offset_days: int
    draft_key: str | None  # reminders: the prefilled draft shared by every notice of the due item
    draft_aid: str | None
    aid: str | None = None  # cards, decisions: the application the notice is about
    time_limit_days: int = 0
    transition_seq: int | None = None  # decisions: the decision's place in the application's history


class Notices:
    def __init__(self, driver: neo4j.Driver, database: str):
        self.driver, self.database = driver, database

    # --- creation (the scan) -------------------------------------------------------------------------------------
    def create(self, rows: list[NoticeRow], scan_id: str, now: datetime) -> list[tuple[str, str, datetime | None]]:
        """MERGE every row on its dedupe key (a new one is `pending`), with its draft application and links.

        Returns (nid, status, not_before) of every row's notice, new or found: the caller enqueues the pending ones.
        """
        if not rows:
            return []
        params = [_row_params(r) for r in rows]

        def work(tx: neo4j.ManagedTransaction):
            tx.run(  # drafts first: one per due item, shared by its notices; a subject's own, never a guardian's
                "UNWIND $rows AS row WITH row WHERE row.draft_key IS NOT NULL "
                "CALL (row) { "  # one index seek per label: an OR across labels would scan every node per row
                "  OPTIONAL MATCH (p:Person {pid: row.subject_id}) WHERE row.subject_label = 'Person' "
                "  OPTIONAL MATCH (e:Entity {eid: row.subject_id}) WHERE row.subject_label = 'Entity' "
                "  RETURN coalesce(p, e) AS s } "
                "WITH row, s WHERE s IS NOT NULL "
                "MERGE (a:Application {draft_key: row.draft_key}) "
                "ON CREATE SET a.aid = row.draft_aid, a.service = row.service, a.status = 'draft', "
                "  a.created_on = date($today), a.due_on = row.due_on, a.time_limit_days = row.time_limit_days "
                "MERGE (s)-[:APPLIED]->(a)", rows=params, today=now.date().isoformat()).consume()
            records = tx.run(
                "UNWIND $rows AS row "
                "MERGE (n:Notice {dedupe_key: row.dedupe_key}) "
                "ON CREATE SET n.nid = row.nid, n.kind = row.kind, n.channel = row.channel, n.status = 'pending', "
                "  n.service = row.service, n.due_on = row.due_on, n.offset_days = row.offset_days, "
                "  n.subject_id = row.subject_id, n.subject_label = row.subject_label, n.scan_id = $scan_id, "
                "  n.transition_seq = row.transition_seq, "
                "  n.attempts = 0, n.created_at = $now, n.updated_at = $now, n.history = ['pending@' + $at], "
                "  n.fresh = true "
                "WITH n, row, coalesce(n.fresh, false) AS fresh REMOVE n.fresh WITH n, row, fresh "
                "CALL (n, row, fresh) { "
                "  WITH n, row WHERE fresh "
                "  OPTIONAL MATCH (p:Person {pid: row.recipient_id}) WHERE row.recipient_label = 'Person' "
                "  OPTIONAL MATCH (e:Entity {eid: row.recipient_id}) WHERE row.recipient_label = 'Entity' "
                "  OPTIONAL MATCH (d:Department {name: row.recipient_id}) WHERE row.recipient_label = 'Department' "
                "  WITH n, row, coalesce(p, e, d) AS r "
                "  MERGE (n)-[:TO]->(r) "
                "  WITH n, row "
                "  OPTIONAL MATCH (draft:Application {draft_key: row.draft_key}) "
                "  OPTIONAL MATCH (filed:Application {aid: row.aid}) "
                "  WITH n, coalesce(draft, filed) AS a "
                "  FOREACH (_ IN CASE WHEN a IS NULL THEN [] ELSE [1] END | MERGE (n)-[:ABOUT]->(a)) "
                "} "
                "RETURN n.nid AS nid, n.status AS status, n.not_before AS not_before",
                rows=params, scan_id=scan_id, now=utc(now), at=now.isoformat(timespec="seconds"))
            return [(r["nid"], r["status"], _native(r["not_before"])) for r in records]

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def ensure_departments(self, names: Iterable[str]) -> None:
        self.driver.execute_query("UNWIND $names AS name MERGE (:Department {name: name})",
                                  names=sorted(set(names)), database_=self.database)

    def unread(self, dedupe_keys: list[str]) -> set[str]:
        """Which of these (inbox) notices exist and are still unread."""
        if not dedupe_keys:
            return set()
        records = self._read("UNWIND $keys AS k MATCH (n:Notice {dedupe_key: k}) WHERE n.read_at IS NULL "
                             "RETURN n.dedupe_key AS k", keys=dedupe_keys)
        return {r["k"] for r in records}

    # --- reading -------------------------------------------------------------------------------------------------
    def load(self, nids: list[str]) -> list[Notice]:
        records = self._read(f"UNWIND $nids AS nid MATCH (n:Notice {{nid: nid}})-[:TO]->(r) RETURN {NOTICE_FIELDS}",
                             nids=nids)
        return [notice_from(r["n"]) for r in records]

    def get(self, nid: str) -> Notice | None:
        found = self.load([nid])
        return found[0] if found else None

    def for_recipient(self, label: str, rid: str, limit: int = 200) -> list[Notice]:
        key = "pid" if label == "Person" else "eid"
        records = self._read(f"MATCH (r:{label} {{{key}: $rid}})<-[:TO]-(n:Notice) "
                             f"RETURN {NOTICE_FIELDS} ORDER BY n.created_at DESC, n.nid LIMIT $limit",
                             rid=rid, limit=limit)
        return [notice_from(r["n"]) for r in records]

    def for_department(self, name: str, limit: int = 200) -> list[Notice]:
        records = self._read(f"MATCH (r:Department {{name: $name}})<-[:TO]-(n:Notice) "
                             f"RETURN {NOTICE_FIELDS} ORDER BY n.created_at DESC LIMIT $limit", name=name, limit=limit)
        return [notice_from(r["n"]) for r in records]

    def stale(self, before: datetime, now: datetime, limit: int = 10_000) -> tuple[list[str], list[str]]:
        """Pending notices due to go but untouched since `before`, and notices stuck `sending` since then."""
        records = self._read(
            "MATCH (n:Notice) WHERE n.status IN ['pending', 'sending'] AND n.updated_at < $before "
            "  AND (n.not_before IS NULL OR n.not_before <= $now) "
            "RETURN n.nid AS nid, n.status AS status ORDER BY n.updated_at LIMIT $limit",
            before=utc(before), now=utc(now), limit=limit)
        return ([r["nid"] for r in records if r["status"] == "pending"],
                [r["nid"] for r in records if r["status"] == "sending"])

    def untold_decisions(self, outcomes: list[str], since: datetime, limit: int = 1_000) -> list[tuple[str, int]]:
        """(aid, place in its history) of decisions made since `since` that no notice tells yet: their notices were
        lost between the decision and its telling (the web process died, the graph refused the second write).

        The place is counted as graph.applications.history orders the moves, which is how a decision notice names
        its decision."""
        records = self._read(
            "MATCH (t:Transition) WHERE t.at >= $since AND t.after IN $outcomes "
            "MATCH (a:Application)-[:MOVED]->(t) "
            "WITH a, t, COLLECT { MATCH (a)-[:MOVED]->(x:Transition) RETURN x ORDER BY x.at, x.seq } AS moves "
            "WITH a, t, [i IN range(0, size(moves) - 1) WHERE moves[i] = t][0] AS place "
            "WHERE NOT EXISTS { MATCH (a)<-[:ABOUT]-(n:Notice) WHERE n.transition_seq = place } "
            "RETURN a.aid AS aid, place ORDER BY t.at LIMIT $limit",
            outcomes=outcomes, since=utc(since), limit=limit)
        return [(r["aid"], r["place"]) for r in records]

    def counts(self, scan_id: str) -> dict[str, int]:
        records = self._read("MATCH (n:Notice {scan_id: $scan_id}) RETURN n.status AS status, count(*) AS n",
                             scan_id=scan_id)
        return {r["status"]: r["n"] for r in records}

    # --- delivery ------------------------------------------------------------------------------------------------
    def claim(self, wanted: list[tuple[str, str]], today: date, cap: int, now: datetime) -> tuple[list[str], list[str]]:
        """Claim push notices (nid, recipient pid) for sending, at most `cap` pushes per recipient per local day.

        One transaction: the recipients are locked first (concurrent claims for one person queue behind each other),
        today's pushes counted, then pending notices moved to `sending` in order. Returns (claimed, over the cap).
        """
        def work(tx: neo4j.ManagedTransaction):
            recipients = sorted({rid for _, rid in wanted})
            counted = tx.run(
                "UNWIND $rids AS rid MATCH (r:Person {pid: rid}) SET r.push_lock = $at "
                "RETURN rid, COUNT { MATCH (r)<-[:TO]-(m:Notice) WHERE m.pushed_on = $today "
                "                    AND m.channel IN $push } AS pushed",
                rids=recipients, at=utc(now), today=today, push=list(PUSH_CHANNELS))
            room = {r["rid"]: cap - r["pushed"] for r in counted}
            chosen, over = [], []
            for nid, rid in wanted:
                if room.get(rid, 0) > 0:
                    chosen.append(nid)
                    room[rid] -= 1
                else:
                    over.append(nid)
            claimed = [r["nid"] for r in tx.run(
                "UNWIND $nids AS nid MATCH (n:Notice {nid: nid}) WHERE n.status = 'pending' "
                "SET n.status = 'sending', n.pushed_on = $today, n.claimed_at = $now, n.updated_at = $now, "
                "    n.attempts = coalesce(n.attempts, 0) + 1, n.history = n.history + ['sending@' + $at] "
                "RETURN n.nid AS nid", nids=chosen, today=today, now=utc(now),
                at=now.isoformat(timespec="seconds"))]
            return claimed, over

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def move(self, changes: list[dict], now: datetime) -> list[str]:
        """Apply [{nid, from: [statuses], to, detail?, provider_id?, error_code?, not_before?, sent: bool}]; a change
        applies only while the notice is in one of `from`. Returns the nids that moved."""
        if not changes:
            return []
        records, _, _ = self.driver.execute_query(
            "UNWIND $changes AS c MATCH (n:Notice {nid: c.nid}) " + _LOCKED + "WITH n, c WHERE n.status IN c.from "
            "SET n.status = c.to, n.updated_at = $now, "
            "    n.history = n.history + [c.to + '@' + $at + coalesce(':' + c.detail, '')], "
            "    n.provider_id = coalesce(c.provider_id, n.provider_id), "
            "    n.error_code = coalesce(c.error_code, n.error_code), n.not_before = c.not_before, "
            "    n.sent_at = CASE WHEN c.sent THEN $now ELSE n.sent_at END, "
            "    n.pushed_on = CASE WHEN c.to = 'pending' THEN null ELSE n.pushed_on END "
            "RETURN n.nid AS nid",
            changes=[{"detail": None, "provider_id": None, "error_code": None, "sent": False, **c,
                      "not_before": utc(c.get("not_before"))} for c in changes],
            now=utc(now), at=now.isoformat(timespec="seconds"), database_=self.database)
        return [r["nid"] for r in records]

    def defer(self, nids: list[str], until: datetime, reason: str, now: datetime) -> None:
        """Keep pending, not before `until` (quiet hours, the daily cap); the history says why."""
        self.driver.execute_query(
            "UNWIND $nids AS nid MATCH (n:Notice {nid: nid}) " + _LOCKED + "WITH n WHERE n.status = 'pending' "
            "SET n.not_before = $until, n.updated_at = $now, "
            "    n.history = n.history + ['deferred@' + $at + ':' + $reason]",
            nids=nids, until=utc(until), now=utc(now), at=now.isoformat(timespec="seconds"), reason=reason,
            database_=self.database)

    def provider_status(self, nid: str, sid: str, status: str, error_code: str | None, now: datetime) -> bool:
        """A provider callback: sent only from pending/sending; delivered/undelivered from any non-final state.
        A repeated or late callback changes nothing. Returns whether the notice moved."""
        allowed = ["pending", "sending"] if status == "sent" else ["pending", "sending", "sent"]
        records, _, _ = self.driver.execute_query(
            "MATCH (n:Notice {nid: $nid}) " + _LOCKED + "WITH n WHERE n.channel = 'sms' AND n.status IN $allowed "
            "  AND (n.provider_id IS NULL OR n.provider_id = $sid) "
            "SET n.status = $status, n.provider_id = $sid, n.updated_at = $now, "
            "    n.error_code = coalesce($code, n.error_code), n.sent_at = coalesce(n.sent_at, $now), "
            "    n.history = n.history + [$status + '@' + $at + ':callback' + coalesce(' ' + $code, '')] "
            "RETURN n.nid AS nid",
            nid=nid, sid=sid, status=status, code=error_code, allowed=allowed, now=utc(now),
            at=now.isoformat(timespec="seconds"), database_=self.database)
        return bool(records)

    def cancel(self, nids: list[str], reason: str, now: datetime) -> list[str]:
        """Delivery's refusal: these pending notices become `cancelled` (the recipient or the subject has died)."""
        return self.move([{"nid": nid, "from": ["pending"], "to": "cancelled", "detail": reason} for nid in nids],
                         now)

    def ended_parties(self, nids: list[str]) -> dict[str, str]:
        """Of these notices, those whose recipient or subject has died (or, for the subject, whose business has
        closed), with the reason: nothing is sent to or about them any more."""
        if not nids:
            return {}
        records = self._read(
            "UNWIND $nids AS nid MATCH (n:Notice {nid: nid})-[:TO]->(r) "
            "OPTIONAL MATCH (p:Person {pid: n.subject_id}) WHERE n.subject_label = 'Person' "
            "RETURN n.nid AS nid, r.deceased_on IS NOT NULL AS gone, p.deceased_on IS NOT NULL AS subject_gone",
            nids=nids)
        return {r["nid"]: "recipient deceased" if r["gone"] else "subject deceased"
                for r in records if r["gone"] or r["subject_gone"]}

    def touch(self, nids: list[str], now: datetime) -> None:
        """Note that the sweeper sent these on again, so the next sweep leaves them to the queue a while."""
        self.driver.execute_query("UNWIND $nids AS nid MATCH (n:Notice {nid: nid}) SET n.updated_at = $now",
                                  nids=nids, now=utc(now), database_=self.database)

    def mark_read(self, nid: str, now: datetime) -> bool:
        records, _, _ = self.driver.execute_query(
            "MATCH (n:Notice {nid: $nid}) " + _LOCKED + "WITH n WHERE n.read_at IS NULL SET n.read_at = $now, "
            "n.history = n.history + ['read@' + $at] RETURN n.nid", nid=nid, now=utc(now),
            at=now.isoformat(timespec="seconds"), database_=self.database)
        return bool(records)

    def _read(self, query: str, **params) -> list[neo4j.Record]:
        return self.driver.execute_query(query, params, database_=self.database,
                                         routing_=neo4j.RoutingControl.READ)[0]


def cancel_pending(tx: neo4j.ManagedTransaction, label: str, sid: str, reason: str, now: datetime) -> int:
    """In the caller's transaction (a life event's effect): every notice still waiting to go (pending, deferred
    included) to the subject or about its applications becomes `cancelled` with the reason, and is never sent. A
    notice already being sent is left to its delivery, which refuses a deceased recipient itself."""
    key = {"Person": "pid", "Entity": "eid"}[label]
    record = tx.run(
        f"MATCH (s:{label} {{{key}: $sid}}) "
        "WITH COLLECT { MATCH (s)<-[:TO]-(n:Notice) WHERE n.status = 'pending' RETURN n } + "
        "     COLLECT { MATCH (s)-[:APPLIED]->(:Application)<-[:ABOUT]-(n:Notice) WHERE n.status = 'pending' "
        "               RETURN n } AS found "
        "UNWIND found AS n WITH DISTINCT n "
        + _LOCKED + "WITH n WHERE n.status = 'pending' "
        "SET n.status = 'cancelled', n.updated_at = $now, n.cancel_reason = $reason, "
        "    n.history = n.history + ['cancelled@' + $at + ':' + $reason] "
        "RETURN count(n) AS n", sid=sid, reason=reason, now=utc(now), at=now.isoformat(timespec="seconds")).single()
    return record["n"] if record else 0


def _row_params(r: NoticeRow) -> dict:
    return {**r.__dict__}


def _native(value):
    return value.to_native() if value is not None and hasattr(value, "to_native") else value


def notice_from(n: dict) -> Notice:
    return Notice(
        nid=n["nid"], dedupe_key=n["dedupe_key"], kind=n["kind"], channel=n["channel"], status=n["status"],
        recipient_id=n["recipient_id"], subject_id=n["subject_id"], service=n["service"],
        due_on=_native(n["due_on"]), offset_days=n["offset_days"], aid=n.get("aid"),
        provider_id=n.get("provider_id"), error_code=n.get("error_code"), attempts=n.get("attempts") or 0,
        created_at=_native(n.get("created_at")), sent_at=_native(n.get("sent_at")), read_at=_native(n.get("read_at")),
        not_before=_native(n.get("not_before")), history=tuple(n.get("history") or ()),
        transition_seq=n.get("transition_seq"),
    )
