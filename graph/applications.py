"""Applications (办件) in the graph: filed for a subject, reusing materials on file (REUSES, counted per material),
with a decision date from the statutory limit; decided once."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date

import neo4j

from graph.holdings import HOLDER_KEYS
from profiles.errors import Conflict, NotFound, Rejected
from profiles.privacy import FieldCipher

OUTCOMES = ("approved", "rejected", "needs_correction")


@dataclass(frozen=True)
class Application:
    aid: str
    subject_label: str
    subject_id: str
    service: str
    status: str
    created_on: date
    submitted_on: date | None
    time_limit_days: int
    decide_by: date | None
    fields: dict
    reused: tuple[str, ...]
    decided_on: date | None = None
    note: str | None = None


class Applications:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher):
        self.driver, self.database, self.cipher = driver, database, cipher

    def file(self, app: Application, draft: str | None = None) -> Application:
        """Record a submitted application; every reused material must be current and the subject's own, or held by
        its parent or guardian (a minor's form) or its legal representative (a business's form).

        With `draft`, the scan's prefilled draft for this subject and service becomes the application (it keeps
        its id, so the reminder's link leads to it)."""
        key = HOLDER_KEYS[app.subject_label]
        if draft is not None:
            app = replace(app, aid=draft)

        def work(tx: neo4j.ManagedTransaction):
            found = tx.run(  # the subject's own current materials, or those of whoever fills its form (DESIGN §6)
                f"MATCH (s:{app.subject_label} {{{key}: $sid}}) "
                "OPTIONAL MATCH (s)<-[:PARENT_OF|GUARDIAN_OF|LEGAL_REP_OF*0..1]-(h)-[:HOLDS]->(m:Material) "
                "WHERE m.mid IN $mids AND NOT m.superseded "
                "RETURN count(DISTINCT s) AS subjects, collect(DISTINCT m.mid) AS mids",
                sid=app.subject_id, mids=list(app.reused),
            ).single()
            if found["subjects"] == 0:
                raise NotFound(app.subject_label.lower(), app.subject_id, field="subject")
            unknown = sorted(set(app.reused) - set(found["mids"]))
            if unknown:
                raise Rejected("reuse", "not a current material of this subject or of its parent, guardian or legal "
                                        f"representative: {', '.join(unknown)}")
            if draft is not None:
                # Take the draft's write lock before reading its status: a read takes no lock in Neo4j, so two
                # filings of one draft (two tabs, or the citizen and the window) would otherwise both see it open.
                row = tx.run(
                    f"MATCH (:{app.subject_label} {{{key}: $sid}})-[:APPLIED]->(d:Application {{aid: $aid}}) "
                    "SET d._lock = true REMOVE d._lock RETURN d.status AS status, d.service AS service",
                    sid=app.subject_id, aid=draft).single()
                if row is None or row["status"] != "draft" or row["service"] != app.service:
                    raise Rejected("draft", "not an open draft of this subject for this service")
            tx.run(
                f"MATCH (s:{app.subject_label} {{{key}: $sid}}) "
                "MERGE (s)-[:APPLIED]->(a:Application {aid: $aid}) "
                "SET a.service = $service, a.status = $status, a.created_on = coalesce(a.created_on, $created_on), "
                "  a.submitted_on = $submitted_on, a.time_limit_days = $limit, a.decide_by = $decide_by, "
                "  a.fields_enc = $fields "
                "WITH a UNWIND $mids AS mid MATCH (m:Material {mid: mid}) "
                "CREATE (a)-[:REUSES]->(m) SET m.reuse_count = coalesce(m.reuse_count, 0) + 1",
                sid=app.subject_id, aid=app.aid, service=app.service, status=app.status, created_on=app.created_on,
                submitted_on=app.submitted_on, limit=app.time_limit_days, decide_by=app.decide_by,
                fields=self.cipher.encrypt(json.dumps(app.fields, ensure_ascii=False), context="Application.fields"),
                mids=list(app.reused),
            ).consume()

        with self.driver.session(database=self.database) as session:
            session.execute_write(work)
        return app

    def get(self, aid: str) -> Application:
        records = self.driver.execute_query(
            "MATCH (s)-[:APPLIED]->(a:Application {aid: $aid}) "
            "RETURN a, labels(s)[0] AS label, coalesce(s.pid, s.eid) AS sid, "
            "       COLLECT { MATCH (a)-[:REUSES]->(m:Material) RETURN m.mid } AS reused",
            aid=aid, database_=self.database, routing_=neo4j.RoutingControl.READ,
        )[0]
        if not records:
            raise NotFound("application", aid)
        r = records[0]
        a = r["a"]
        return Application(
            aid=a["aid"], subject_label=r["label"], subject_id=r["sid"], service=a["service"], status=a["status"],
            created_on=a["created_on"].to_native(), submitted_on=_day(a.get("submitted_on")),
            time_limit_days=a["time_limit_days"], decide_by=_day(a.get("decide_by")),
            fields=json.loads(self.cipher.decrypt(a["fields_enc"], context="Application.fields"))
            if a.get("fields_enc") else {},  # a draft the scan prepared: prefilled when it is opened
            reused=tuple(sorted(r["reused"])), decided_on=_day(a.get("decided_on")),
            note=self.cipher.decrypt_optional(a.get("note_enc"), context="Application.note"),
        )

    def open_near_limit(self, until: date) -> list[Application]:
        """Submitted, undecided applications whose decision date is on or before `until` (a range seek on
        decide_by), for the yellow and red cards; fields are not decrypted."""
        records = self.driver.execute_query(
            "MATCH (a:Application) WHERE a.decide_by <= $until AND a.status = 'submitted' "
            "MATCH (s)-[:APPLIED]->(a) "
            "RETURN a {.aid, .service, .status, .created_on, .submitted_on, .time_limit_days, .decide_by} AS a, "
            "labels(s)[0] AS label, coalesce(s.pid, s.eid) AS sid ORDER BY a.decide_by, a.aid",
            until=until, database_=self.database, routing_=neo4j.RoutingControl.READ)[0]
        return [Application(aid=r["a"]["aid"], subject_label=r["label"], subject_id=r["sid"], service=r["a"]["service"],
                            status=r["a"]["status"], created_on=r["a"]["created_on"].to_native(),
                            submitted_on=_day(r["a"]["submitted_on"]), time_limit_days=r["a"]["time_limit_days"],
                            decide_by=_day(r["a"]["decide_by"]), fields={}, reused=())
                for r in records]

    def decide(self, aid: str, outcome: str, note: str, on: date) -> None:
        """Decide a submitted application; a decided one cannot be decided again (409)."""
        records = self.driver.execute_query(
            "MATCH (a:Application {aid: $aid}) WITH a, a.status AS before "
            "FOREACH (_ IN CASE WHEN before = 'submitted' THEN [1] ELSE [] END | "
            "  SET a.status = $outcome, a.decided_on = $on, a.note_enc = $note) "
            "RETURN before",
            aid=aid, outcome=outcome, on=on, note=self.cipher.encrypt(note, context="Application.note"),
            database_=self.database,
        )[0]
        if not records:
            raise NotFound("application", aid)
        if records[0]["before"] != "submitted":
            raise Conflict("outcome", f"the application is already {records[0]['before']}")


def _day(value) -> date | None:
    return value.to_native() if value is not None else None
