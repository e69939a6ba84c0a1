"""What the pages need beyond the repositories: whom a signed-in citizen may act for, who is linked to a business,
a person's family and businesses, a subject's applications, and the record of refused attempts to reach a record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import neo4j

from profiles.models import Actor
from profiles.privacy import FieldCipher

LINKS = ("PARENT_OF", "GUARDIAN_OF", "SPOUSE_OF", "LEGAL_REP_OF", "SHAREHOLDER_OF", "EMPLOYED_BY")


@dataclass(frozen=True)
class Link:
    """One relation as a page shows it: the other side's id, label, name, the relation and its direction."""

    other_id: str
    other_label: str  # Person | Entity
    name: str
    type: str
    outgoing: bool  # True: this subject -[type]-> other
    birth_date: date | None = None


@dataclass(frozen=True)
class Refusal:
    at: datetime
    actor: str
    role: str
    path: str
    reason: str


class Portal:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher):
        self.driver, self.database, self.cipher = driver, database, cipher

    def _read(self, query: str, **params) -> list[neo4j.Record]:
        return self.driver.execute_query(query, params, database_=self.database,
                                         routing_=neo4j.RoutingControl.READ)[0]

    def wards(self, pid: str, today: date) -> list[str]:
        """The living minors this person is parent or guardian of: the only other people a citizen may act for."""
        adult_on = date(today.year - 18, today.month, today.day if (today.month, today.day) != (2, 29) else 28)
        rows = self._read("MATCH (:Person {pid: $pid})-[:PARENT_OF|GUARDIAN_OF]->(c:Person) "
                          "WHERE c.birth_date > $adult_on AND c.deceased_on IS NULL "
                          "WITH DISTINCT c ORDER BY c.birth_date RETURN c.pid AS pid", pid=pid, adult_on=adult_on)
        return [r["pid"] for r in rows]

    def represents(self, pid: str, eid: str) -> bool:
        return bool(self._read("MATCH (:Person {pid: $pid})-[:LEGAL_REP_OF]->(:Entity {eid: $eid}) RETURN 1 AS x",
                               pid=pid, eid=eid))

    def links(self, label: str, sid: str) -> list[Link]:
        """Every relation of a person or entity, both directions, with the other side's name (a person's decrypted)."""
        key = "pid" if label == "Person" else "eid"
        rows = self._read(
            f"MATCH (s:{label} {{{key}: $sid}})-[r]-(o) WHERE type(r) IN $types "
            "RETURN coalesce(o.pid, o.eid) AS id, labels(o)[0] AS label, o.name AS name, o.name_enc AS name_enc, "
            "       type(r) AS type, startNode(r) = s AS outgoing, o.birth_date AS born ORDER BY type, id",
            sid=sid, types=list(LINKS))
        return [Link(r["id"], r["label"], self._name(r), r["type"], r["outgoing"],
                     r["born"].to_native() if r["born"] is not None else None) for r in rows]

    def _name(self, row: neo4j.Record) -> str:
        if row["name_enc"]:  # persons' names are encrypted at rest; businesses' names are public
            return self.cipher.decrypt(row["name_enc"], context="Person.name")
        return row["name"] or ""

    def applications_of(self, label: str, sid: str) -> list[dict]:
        """The subject's applications, newest first: drafts the scan prepared, submitted and decided ones."""
        key = "pid" if label == "Person" else "eid"
        rows = self._read(
            f"MATCH (:{label} {{{key}: $sid}})-[:APPLIED]->(a:Application) "
            "RETURN a {.aid, .service, .status, .number, .created_on, .submitted_on, .decide_by, .decided_on, "
            "          .due_on} AS a "
            "ORDER BY a.created_on DESC, a.aid", sid=sid)
        return [{k: (v.to_native() if hasattr(v, "to_native") else v) for k, v in r["a"].items()} for r in rows]

    # --- refused attempts ---------------------------------------------------------------------------------------
    def refuse(self, actor: Actor, path: str, reason: str) -> None:
        """Record an attempt to reach a record the caller may not see (the answer is 403 or 404 either way)."""
        self.driver.execute_query(
            "CREATE (:Refusal {rfid: $id, at: $at, actor: $actor, role: $role, path: $path, reason: $reason})",
            id=str(uuid.uuid4()), at=datetime.now(UTC), actor=actor.name, role=actor.role, path=path[:500],
            reason=reason, database_=self.database)

    def refusals(self, limit: int = 200) -> list[Refusal]:
        rows = self._read("MATCH (r:Refusal) RETURN r ORDER BY r.at DESC LIMIT $limit", limit=limit)
        return [Refusal(r["r"]["at"].to_native(), r["r"]["actor"], r["r"]["role"], r["r"]["path"], r["r"]["reason"])
                for r in rows]

    def refusals_of_roles(self, roles: tuple[str, ...], limit: int = 200) -> list[Refusal]:
        """The refused attempts of these roles only (the officers'), newest first."""
        rows = self._read("MATCH (r:Refusal) WHERE r.role IN $roles RETURN r ORDER BY r.at DESC LIMIT $limit",
                          roles=list(roles), limit=limit)
        return [Refusal(r["r"]["at"].to_native(), r["r"]["actor"], r["r"]["role"], r["r"]["path"], r["r"]["reason"])
                for r in rows]
