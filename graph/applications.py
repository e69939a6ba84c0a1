"""Applications (办件) in the graph: filed for a subject under the one-matter rule (one open application per subject and
service, the scan's draft adopted), reusing materials on file (REUSES, counted per material), numbered, and moved
through their life (decided, withdrawn, resubmitted) with a `Transition` recorded for each move.

Every write takes a lock before it reads what it decides on (a read takes no lock in Neo4j): a filing locks the
subject, so two filings of one matter from two channels at once cannot both find it free; a move locks the
application. What a filing or a move makes of the application is `profiles.matters`' to say.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

import neo4j

from graph.driver import utc
from graph.holdings import HOLDER_KEYS
from profiles.errors import NotFound, Rejected
from profiles.matters import OPEN, Matter, application_number
from profiles.models import Actor, Application, Transition
from profiles.privacy import FieldCipher

_APPLICATION = (
    "MATCH (s)-[:APPLIED]->(a:Application {aid: $aid}) "
    "RETURN a, labels(s)[0] AS label, coalesce(s.pid, s.eid) AS sid, "
    "       COLLECT { MATCH (a)-[:REUSES]->(m:Material) RETURN m.mid } AS reused"
)


class Applications:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher):
        self.driver, self.database, self.cipher = driver, database, cipher

    def file(self, app: Application, actor: Actor, draft: str | None = None, at: datetime | None = None
             ) -> Application:
        """Record a submitted application; every reused material must be current and the subject's own, or held by
        its parent or guardian (a minor's form) or its legal representative (a business's form).

        Refused (`MatterOpen`, naming it) while an application for the same subject and service is open. The scan's
        draft for the matter becomes the application (`draft` names it, or the newest is taken), so the reminder's
        link leads to what was filed; other drafts of the service are settled by it."""
        key = HOLDER_KEYS[app.subject_label]
        at = utc(at) or datetime.now(UTC)

        def work(tx: neo4j.ManagedTransaction) -> Application:
            row = tx.run(  # the subject's lock first: filings of one matter from every channel queue up here
                f"MATCH (s:{app.subject_label} {{{key}: $sid}}) SET s._lock = true REMOVE s._lock "
                "RETURN COLLECT { MATCH (s)-[:APPLIED]->(a:Application {service: $service}) "
                "                 WHERE a.status IN $open RETURN a.aid } AS open, "
                "       COLLECT { MATCH (s)-[:APPLIED]->(d:Application {service: $service, status: 'draft'}) "
                "                 RETURN d.aid ORDER BY d.created_on DESC, d.aid } AS drafts",
                sid=app.subject_id, service=app.service, open=list(OPEN)).single()
            if row is None:
                raise NotFound(app.subject_label.lower(), app.subject_id, field="subject")
            matter = Matter(open_aid=(row["open"] or [None])[0], drafts=tuple(row["drafts"]))
            filed = matter.file(app, draft)
            found = tx.run(  # the subject's own current materials, or those of whoever fills its form (DESIGN §6)
                f"MATCH (s:{app.subject_label} {{{key}: $sid}}) "
                "OPTIONAL MATCH (s)<-[:PARENT_OF|GUARDIAN_OF|LEGAL_REP_OF*0..1]-(h)-[:HOLDS]->(m:Material) "
                "WHERE m.mid IN $mids AND NOT m.superseded RETURN collect(DISTINCT m.mid) AS mids",
                sid=app.subject_id, mids=list(filed.reused)).single()
            unknown = sorted(set(filed.reused) - set(found["mids"]))
            if unknown:
                raise Rejected("reuse", "not a current material of this subject or of its parent, guardian or legal "
                                        f"representative: {', '.join(unknown)}")
            seq = tx.run("MERGE (c:ApplicationCounter {day: $day}) ON CREATE SET c.n = 0 SET c.n = c.n + 1 "
                         "RETURN c.n AS n", day=filed.submitted_on).single()["n"]
            filed = replace(filed, number=application_number(filed.submitted_on, seq))
            before = "draft" if filed.aid in matter.drafts else ""
            tx.run(
                f"MATCH (s:{app.subject_label} {{{key}: $sid}}) "
                "MERGE (s)-[:APPLIED]->(a:Application {aid: $aid}) "
                "SET a.service = $service, a.status = $status, a.created_on = coalesce(a.created_on, $created_on), "
                "  a.submitted_on = $submitted_on, a.time_limit_days = $limit, a.decide_by = $decide_by, "
                "  a.fields_enc = $fields, a.number = $number "
                "WITH a, s UNWIND $settled AS other "
                "MATCH (s)-[:APPLIED]->(d:Application {aid: other, status: 'draft'}) "
                "SET d.status = 'settled', d.settled_by = a.aid",
                sid=app.subject_id, aid=filed.aid, service=filed.service, status=filed.status,
                created_on=filed.created_on, submitted_on=filed.submitted_on, limit=filed.time_limit_days,
                decide_by=filed.decide_by, fields=self._fields(filed.fields), number=filed.number,
                settled=list(matter.settled_by_filing(filed)),
            ).consume()
            tx.run("MATCH (a:Application {aid: $aid}) UNWIND $mids AS mid MATCH (m:Material {mid: mid}) "
                   "CREATE (a)-[:REUSES]->(m) SET m.reuse_count = coalesce(m.reuse_count, 0) + 1",
                   aid=filed.aid, mids=list(filed.reused)).consume()
            self._record(tx, filed.aid, Transition(at, before, filed.status, actor.name, actor.role))
            return filed

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def move(self, aid: str, actor: Actor, change: Callable[[Application], Application], note: str | None = None,
             at: datetime | None = None) -> Application:
        """Apply one move of the application's life (`change`, from profiles.matters) under its lock; record it."""
        at = utc(at) or datetime.now(UTC)

        def work(tx: neo4j.ManagedTransaction) -> Application:
            tx.run("MATCH (a:Application {aid: $aid}) SET a._lock = true REMOVE a._lock", aid=aid).consume()
            row = tx.run(_APPLICATION, aid=aid).single()
            if row is None:
                raise NotFound("application", aid)
            app = self._application(row)
            moved = change(app)
            tx.run("MATCH (a:Application {aid: $aid}) SET a.status = $status, a.decided_on = $decided_on, "
                   "a.note_enc = $note, a.fields_enc = $fields, a.submitted_on = $submitted_on, "
                   "a.decide_by = $decide_by",
                   aid=aid, status=moved.status, decided_on=moved.decided_on, fields=self._fields(moved.fields),
                   note=self.cipher.encrypt_optional(moved.note, context="Application.note"),
                   submitted_on=moved.submitted_on, decide_by=moved.decide_by).consume()
            self._record(tx, aid, Transition(at, app.status, moved.status, actor.name, actor.role, note))
            return moved

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def get(self, aid: str) -> Application:
        records = self.driver.execute_query(_APPLICATION, aid=aid, database_=self.database,
                                            routing_=neo4j.RoutingControl.READ)[0]
        if not records:
            raise NotFound("application", aid)
        return self._application(records[0])

    def history(self, aid: str) -> list[Transition]:
        """Every move of the application, oldest first."""
        records = self.driver.execute_query(
            "MATCH (:Application {aid: $aid})-[:MOVED]->(t:Transition) RETURN t ORDER BY t.at, t.seq",
            aid=aid, database_=self.database, routing_=neo4j.RoutingControl.READ)[0]
        return [Transition(at=r["t"]["at"].to_native(), before=r["t"]["before"], after=r["t"]["after"],
                           actor=r["t"]["actor"], role=r["t"]["role"],
                           note=self.cipher.decrypt_optional(r["t"].get("note_enc"), context="Transition.note"))
                for r in records]

    def open_near_limit(self, until: date) -> list[Application]:
        """Submitted, undecided applications whose decision date is on or before `until` (a range seek on
        decide_by), for the yellow and red cards; fields are not decrypted."""
        records = self.driver.execute_query(
            "MATCH (a:Application) WHERE a.decide_by <= $until AND a.status = 'submitted' "
            "MATCH (s)-[:APPLIED]->(a) "
            "RETURN a {.aid, .service, .status, .created_on, .submitted_on, .time_limit_days, .decide_by, .number} "
            "AS a, labels(s)[0] AS label, coalesce(s.pid, s.eid) AS sid ORDER BY a.decide_by, a.aid",
            until=until, database_=self.database, routing_=neo4j.RoutingControl.READ)[0]
        return [Application(aid=r["a"]["aid"], subject_label=r["label"], subject_id=r["sid"], service=r["a"]["service"],
                            status=r["a"]["status"], created_on=r["a"]["created_on"].to_native(),
                            submitted_on=_day(r["a"]["submitted_on"]), time_limit_days=r["a"]["time_limit_days"],
                            decide_by=_day(r["a"]["decide_by"]), fields={}, reused=(), number=r["a"]["number"])
                for r in records]

    # --- encoding --------------------------------------------------------------------------------------------------
    def _fields(self, fields: dict) -> str:
        return self.cipher.encrypt(json.dumps(fields, ensure_ascii=False), context="Application.fields")

    def _record(self, tx: neo4j.ManagedTransaction, aid: str, t: Transition) -> None:
        tx.run("MATCH (a:Application {aid: $aid}) "
               "CREATE (a)-[:MOVED]->(:Transition {at: $at, seq: COUNT { (a)-[:MOVED]->() }, before: $before, "
               "                                   after: $after, actor: $actor, role: $role, note_enc: $note})",
               aid=aid, at=t.at, before=t.before, after=t.after, actor=t.actor, role=t.role,
               note=self.cipher.encrypt_optional(t.note, context="Transition.note")).consume()

    def _application(self, r) -> Application:
        a = r["a"]
        return Application(
            aid=a["aid"], subject_label=r["label"], subject_id=r["sid"], service=a["service"], status=a["status"],
            created_on=a["created_on"].to_native(), submitted_on=_day(a.get("submitted_on")),
            time_limit_days=a["time_limit_days"], decide_by=_day(a.get("decide_by")),
            fields=json.loads(self.cipher.decrypt(a["fields_enc"], context="Application.fields"))
            if a.get("fields_enc") else {},  # a draft the scan prepared: prefilled when it is opened
            reused=tuple(sorted(r["reused"])), decided_on=_day(a.get("decided_on")),
            note=self.cipher.decrypt_optional(a.get("note_enc"), context="Application.note"), number=a.get("number"),
        )


def withdraw_drafts(tx: neo4j.ManagedTransaction, cipher: FieldCipher, label: str, sid: str, reason: str,
                    actor: Actor, at: datetime) -> int:
    """In the caller's transaction (a death, a closure): the subject's drafts (the scan's prefilled forms nobody has
    filed) are withdrawn with the reason, each move recorded. Filed applications are the departments' to decide."""
    key = HOLDER_KEYS[label]
    record = tx.run(
        f"MATCH (s:{label} {{{key}: $sid}})-[:APPLIED]->(a:Application {{status: 'draft'}}) "
        "SET a.status = 'withdrawn', a.note_enc = $note "
        "CREATE (a)-[:MOVED]->(:Transition {at: $at, seq: COUNT { (a)-[:MOVED]->() }, before: 'draft', "
        "                                   after: 'withdrawn', actor: $actor, role: $role, note_enc: $tnote}) "
        "RETURN count(a) AS n",
        sid=sid, at=utc(at), actor=actor.name, role=actor.role,
        note=cipher.encrypt(reason, context="Application.note"),
        tnote=cipher.encrypt(reason, context="Transition.note")).single()
    return record["n"] if record else 0


def _day(value) -> date | None:
    return value.to_native() if value is not None else None

