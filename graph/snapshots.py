"""One subject's snapshot for the rules and prefill: the subject, its current materials, events, guardians or legal
representatives, and applications, read in one query and decrypted."""

from __future__ import annotations

import json

import neo4j

from graph.holdings import HOLDER_KEYS, Holdings
from graph.subjects import Subjects, entity_from
from profiles.errors import NotFound, Rejected
from profiles.models import LifeEvent
from profiles.rules import Applied, KinEvent, Snapshot

# A person's employers that have not closed (`unless: employed`), and the deaths of their spouse, parents and
# children (`after_kin_event`): `kin` is what the relative is to the subject. graph/scan.py reads the same.
EMPLOYERS = ("COLLECT { MATCH (s)-[:EMPLOYED_BY]->(x:Entity) WHERE coalesce(x.status, 'active') <> 'closed' "
             "          RETURN DISTINCT x.eid } AS employers")
KIN_DEATHS = (
    "COLLECT { MATCH (s)-[r:SPOUSE_OF|PARENT_OF]-(d:Person)-[:EXPERIENCED]->(x:LifeEvent) WHERE x.kind IN $deaths "
    "          RETURN DISTINCT [d.pid, CASE WHEN type(r) = 'SPOUSE_OF' THEN 'spouse' "
    "                                       WHEN startNode(r) = d THEN 'parent' ELSE 'child' END, "
    "                           x.evid, x.kind, x.occurred_on] } AS kin_events"
)

_QUERY = {
    "Person": (
        "MATCH (s:Person {pid: $id}) RETURN s, "
        "COLLECT { MATCH (s)-[:HOLDS]->(m:Material) RETURN m } AS materials, "
        "COLLECT { MATCH (s)-[:EXPERIENCED]->(e:LifeEvent) RETURN e } AS events, "
        "COLLECT { MATCH (g:Person)-[:GUARDIAN_OF|PARENT_OF]->(s) WHERE g.deceased_on IS NULL "
        "          RETURN DISTINCT g.pid } AS guardians, "
        "[] AS legal_reps, "
        "COLLECT { MATCH (s)-[:APPLIED]->(a:Application) WHERE NOT a.status IN ['rejected', 'withdrawn'] "
        "          RETURN a {.service, .submitted_on} } AS applications, " + EMPLOYERS + ", " + KIN_DEATHS
    ),
    "Entity": (
        "MATCH (s:Entity {eid: $id}) RETURN s, "
        "COLLECT { MATCH (s)-[:HOLDS]->(m:Material) RETURN m } AS materials, "
        "COLLECT { MATCH (s)-[:EXPERIENCED]->(e:LifeEvent) RETURN e } AS events, "
        "[] AS guardians, "
        "COLLECT { MATCH (r:Person)-[:LEGAL_REP_OF]->(s) RETURN DISTINCT r.pid } AS legal_reps, "
        "COLLECT { MATCH (s)-[:APPLIED]->(a:Application) WHERE NOT a.status IN ['rejected', 'withdrawn'] "
        "          RETURN a {.service, .submitted_on} } AS applications, [] AS employers, [] AS kin_events"
    ),
}


class Snapshots:
    def __init__(self, driver: neo4j.Driver, database: str, subjects: Subjects, holdings: Holdings,
                 deaths: tuple[str, ...] = ("death",)):
        self.driver, self.database, self.subjects, self.holdings = driver, database, subjects, holdings
        self.deaths = list(deaths)  # the event kinds whose effect is `deceased` (the catalog's events.yaml)

    def load(self, label: str, subject_id: str) -> Snapshot:
        if label not in HOLDER_KEYS:
            raise ValueError(f"no snapshot for {label}")
        records = self.driver.execute_query(_QUERY[label], id=subject_id, deaths=self.deaths, database_=self.database,
                                            routing_=neo4j.RoutingControl.READ)[0]
        if not records:
            raise NotFound(label.lower(), subject_id)
        return self._snapshot(label, subject_id, records[0])

    def load_with_related(self, label: str, subject_id: str) -> tuple[Snapshot, dict[str, Snapshot]]:
        """The subject's snapshot and those whose data fills its forms (DESIGN §6): a minor's parent or guardian
        (`parent`), a business's legal representative (`legal_rep`)."""
        snapshot = self.load(label, subject_id)
        related = {}
        if snapshot.guardians:
            related["parent"] = self.load("Person", snapshot.guardians[0])
        if snapshot.legal_reps:
            related["legal_rep"] = self.load("Person", snapshot.legal_reps[0])
        return snapshot, related

    def load_with_applicant(self, label: str, subject_id: str, applicant: str | None
                            ) -> tuple[Snapshot, dict[str, Snapshot]]:
        """As `load_with_related`, with the person at the window (`applicant`: one of the subject's living parents or
        guardians, or one of its legal representatives) filling the applicant fields instead of the first; None
        means the first. Anyone else is refused (`Rejected` on `applicant`), so a form never reads a stranger."""
        snapshot = self.load(label, subject_id)
        if applicant is not None and applicant not in (*snapshot.guardians, *snapshot.legal_reps):
            raise Rejected("applicant", "not a parent, guardian or legal representative of this subject")
        related = {}
        for role, pids in (("parent", snapshot.guardians), ("legal_rep", snapshot.legal_reps)):
            if pids:
                related[role] = self.load("Person", applicant if applicant in pids else pids[0])
        return snapshot, related

    def load_many(self, label: str, subject_ids: list[str]) -> dict[str, Snapshot]:
        """Snapshots of many subjects in one read (delivery checks a whole batch); missing ones are left out."""
        if label not in HOLDER_KEYS:
            raise ValueError(f"no snapshot for {label}")
        key = HOLDER_KEYS[label]
        query = _QUERY[label].replace(f"MATCH (s:{label} {{{key}: $id}})",
                                      f"UNWIND $ids AS id MATCH (s:{label} {{{key}: id}})", 1)
        records = self.driver.execute_query(query, ids=sorted(set(subject_ids)), deaths=self.deaths,
                                            database_=self.database,
                                            routing_=neo4j.RoutingControl.READ)[0]
        return {r["s"][key]: self._snapshot(label, r["s"][key], r) for r in records}

    def _snapshot(self, label: str, subject_id: str, r: neo4j.Record) -> Snapshot:
        cipher = self.holdings.cipher
        events = tuple(
            LifeEvent(evid=e["evid"], subject_id=subject_id, kind=e["kind"], occurred_on=e["occurred_on"].to_native(),
                      details=json.loads(cipher.decrypt(e["details_enc"], context="LifeEvent.details")))
            for e in r["events"])
        return Snapshot(
            person=self.subjects.person_from(r["s"]) if label == "Person" else None,
            entity=entity_from(r["s"]) if label == "Entity" else None,
            materials=tuple(self.holdings.material_from(m, subject_id) for m in r["materials"]),
            events=events,
            guardians=tuple(sorted(r["guardians"])),
            legal_reps=tuple(sorted(r["legal_reps"])),
            applications=tuple(Applied(a["service"], a["submitted_on"].to_native() if a["submitted_on"] else None)
                               for a in r["applications"]),
            employers=tuple(sorted(r["employers"])),
            kin_events=kin_events(r["kin_events"]),
        )


def kin_events(rows) -> tuple[KinEvent, ...]:
    """[[relative pid, relation, evid, kind, occurred_on], ...] -> KinEvents, each once, in a stable order."""
    found = {(pid, relation, evid): KinEvent(pid, relation, LifeEvent(evid, pid, kind, _day(on)))
             for pid, relation, evid, kind, on in rows}
    return tuple(found[k] for k in sorted(found, key=lambda k: (k[2], k[1], k[0])))


def _day(value):
    return value.to_native() if hasattr(value, "to_native") else value
