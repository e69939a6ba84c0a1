"""A life event and its effect on the profile, written in one transaction (DESIGN §4): the subject is locked, the
event checked against what is on file under that lock (profiles.events), recorded, and its kind's effect applied.

Effects (profiles/catalog/events.yaml `effect`):
- deceased: `Person.deceased_on`; the notices waiting to go to the person or about their applications are cancelled,
  their drafts withdrawn. Guardianship needs no write: snapshots and the scan leave out a deceased guardian.
- closed: `Entity.status = 'closed'` and `closed_on`; its waiting notices cancelled, its drafts withdrawn.
- employed: `(employee)-[:EMPLOYED_BY {since}]->(entity)`.
- spouse / spouse_ended: a `SPOUSE_OF` added (marriage with `spouse_pid`) / ended (divorce; with `spouse_pid` that
  one, else every one).
- address: the new address kept encrypted on the person (`address_enc`), the region replaced when given.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import neo4j

from graph.applications import withdraw_drafts
from graph.holdings import HOLDER_KEYS
from graph.notices import cancel_pending
from profiles.catalog.model import EventKind
from profiles.errors import NotFound, Rejected
from profiles.events import SubjectState
from profiles.models import Actor, LifeEvent
from profiles.privacy import FieldCipher

_STATE = {
    "Person": "RETURN s.birth_date AS starts_on, s.deceased_on AS ended_on, ",
    "Entity": "RETURN s.established_on AS starts_on, s.closed_on AS ended_on, ",
}
_REASON = {"deceased": "the person has died", "closed": "the business has closed (注销)"}


@dataclass(frozen=True)
class Recorded:
    event: LifeEvent
    cancelled: int = 0  # notices cancelled by the effect
    withdrawn: int = 0  # drafts withdrawn by the effect


class Effects:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher):
        self.driver, self.database, self.cipher = driver, database, cipher

    def record(self, label: str, event: LifeEvent, kind: EventKind, check: Callable[[SubjectState], object],
               actor: Actor, now: datetime) -> Recorded:
        """`check` raises (`Rejected`, naming the field) when the event cannot be recorded: nothing is written."""
        key = HOLDER_KEYS[label]

        def work(tx: neo4j.ManagedTransaction) -> Recorded:
            row = tx.run(f"MATCH (s:{label} {{{key}: $sid}}) SET s._lock = true REMOVE s._lock "
                         + _STATE[label] + "COLLECT { MATCH (s)-[:EXPERIENCED]->(e:LifeEvent) RETURN DISTINCT e.kind } "
                                           "AS had", sid=event.subject_id).single()
            if row is None:
                raise NotFound(label.lower(), event.subject_id)
            check(SubjectState("person" if label == "Person" else "entity", row["starts_on"].to_native(),
                               row["ended_on"].to_native() if row["ended_on"] else None, frozenset(row["had"])))
            self._people(tx, event, kind)
            tx.run(f"MATCH (s:{label} {{{key}: $sid}}) "
                   "CREATE (s)-[:EXPERIENCED]->(:LifeEvent {evid: $evid, kind: $kind, occurred_on: $on, "
                   "                                        details_enc: $details, created_at: datetime()})",
                   sid=event.subject_id, evid=event.evid, kind=event.kind, on=event.occurred_on,
                   details=self.cipher.encrypt(json.dumps(event.details, ensure_ascii=False),
                                               context="LifeEvent.details")).consume()
            return self._effect(tx, label, event, kind.effect, actor, now)

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def _people(self, tx: neo4j.ManagedTransaction, event: LifeEvent, kind: EventKind) -> None:
        """A `person` detail names a living person on file, not the subject itself."""
        for d in kind.details:
            pid = event.details.get(d.name)
            if d.type != "person" or not pid:
                continue
            where = f"details.{d.name}"
            if pid == event.subject_id:
                raise Rejected(where, "cannot be the subject itself")
            found = tx.run("MATCH (p:Person {pid: $pid}) RETURN p.deceased_on AS deceased_on", pid=pid).single()
            if found is None:
                raise Rejected(where, f"no person with id {pid!r}")
            if found["deceased_on"] is not None and kind.effect in ("employed", "spouse"):
                raise Rejected(where, "this person has died")

    def _effect(self, tx: neo4j.ManagedTransaction, label: str, event: LifeEvent, effect: str, actor: Actor,
                now: datetime) -> Recorded:
        sid, on, details = event.subject_id, event.occurred_on, event.details
        if effect in ("deceased", "closed"):
            if effect == "deceased":
                tx.run("MATCH (s:Person {pid: $sid}) SET s.deceased_on = $on", sid=sid, on=on).consume()
            else:
                tx.run("MATCH (s:Entity {eid: $sid}) SET s.status = 'closed', s.closed_on = $on",
                       sid=sid, on=on).consume()
            reason = _REASON[effect]
            return Recorded(event, cancel_pending(tx, label, sid, reason, now),
                            withdraw_drafts(tx, self.cipher, label, sid, reason, actor, now))
        if effect == "employed":
            tx.run("MATCH (e:Entity {eid: $sid}) MATCH (p:Person {pid: $pid}) "
                   "MERGE (p)-[r:EMPLOYED_BY]->(e) SET r.since = $on", sid=sid, pid=details["employee_pid"],
                   on=on).consume()
        elif effect == "spouse" and details.get("spouse_pid"):
            tx.run("MATCH (a:Person {pid: $sid}) MATCH (b:Person {pid: $pid}) "
                   "WHERE NOT EXISTS { (a)-[:SPOUSE_OF]-(b) } CREATE (a)-[:SPOUSE_OF {since: $on}]->(b)",
                   sid=sid, pid=details["spouse_pid"], on=on).consume()
        elif effect == "spouse_ended":
            tx.run("MATCH (a:Person {pid: $sid})-[r:SPOUSE_OF]-(b:Person) WHERE $pid IS NULL OR b.pid = $pid "
                   "DELETE r", sid=sid, pid=details.get("spouse_pid") or None).consume()
        elif effect == "address":
            tx.run("MATCH (s:Person {pid: $sid}) SET s.address_enc = $address, s.region = coalesce($region, s.region)",
                   sid=sid, address=self.cipher.encrypt(str(details["address"]), context="Person.address"),
                   region=details.get("region") or None).consume()
        return Recorded(event)
