"""Persons, entities and the relations between them: the Cypher, encryption at rest and the blind index.

Persons are found by `pid` or by the keyed hash of their ID number; the number, name, phone and e-mail are stored only
encrypted, each bound to its field (a ciphertext moved to another property does not decrypt). A newborn put on file
before household registration has no `id_hash`/`id_enc` yet: the keyed hash of its medical birth certificate number
(`bc_hash`, unique as well) finds it, until `attach_id_number` gives it the number.
"""

from __future__ import annotations

import json
from datetime import date

import neo4j
from neo4j.exceptions import ConstraintError

from graph.driver import constraint_errors
from profiles.errors import Conflict, NotFound, Rejected
from profiles.models import PERSON_ENTITY_RELATIONS, PERSON_RELATIONS, Entity, LifeEvent, Person, Relation
from profiles.privacy import BlindIndex, FieldCipher

ID_KIND = "resident_id"  # blind-index domain of resident ID numbers
BC_KIND = "birth_certificate"  # blind-index domain of medical birth certificate numbers
ID_CONFLICT = "a person with this ID number is already on file"
BC_CONFLICT = "a person with this birth certificate number is already on file"


class Subjects:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher, index: BlindIndex):
        self.driver, self.database, self.cipher, self.index = driver, database, cipher, index

    # --- persons -----------------------------------------------------------------------------------------------
    def person_properties(self, p: Person) -> dict:
        c = self.cipher
        return {
            "pid": p.pid,
            "id_hash": self.index(ID_KIND, p.id_number) if p.id_number else None,
            "id_enc": c.encrypt_optional(p.id_number, context="Person.id_number"),
            "bc_hash": self.index(BC_KIND, p.birth_certificate_number) if p.birth_certificate_number else None,
            "bc_enc": c.encrypt_optional(p.birth_certificate_number, context="Person.birth_certificate_number"),
            "name_enc": c.encrypt(p.name, context="Person.name"),
            "birth_date": p.birth_date,
            "sex": p.sex,
            "region": p.region,
            "phone_enc": c.encrypt_optional(p.phone, context="Person.phone"),
            "email_enc": c.encrypt_optional(p.email, context="Person.email"),
            "deceased_on": p.deceased_on,
            "id_attached_on": p.id_attached_on,
        }

    def add_person(self, person: Person, birth: LifeEvent | None = None) -> Person:
        """Create the person, or 409 if the ID number (a newborn: the birth certificate number) is on file. A MERGE
        on the blind index that says whether it created: twenty concurrent creates of one number serialise on the
        index entry and nineteen find it, so a duplicate is a normal answer, not a constraint violation and a
        rolled-back transaction. `birth`, for a newborn put on file by its birth certificate, is created with it in
        the same transaction: the birth is what the certificate attests, and what the birth bundle follows."""
        props = self.person_properties(person)
        key, field, conflict = ("id_hash", "id_number", ID_CONFLICT) if person.id_number else \
            ("bc_hash", "birth_certificate_number", BC_CONFLICT)
        event = None if birth is None else {
            "evid": birth.evid, "kind": birth.kind, "occurred_on": birth.occurred_on,
            "details_enc": self.cipher.encrypt(json.dumps(birth.details, ensure_ascii=False),
                                               context="LifeEvent.details")}
        # the key property comes from the two fixed names above, never from the request
        with constraint_errors():
            try:
                created = self.driver.execute_query(
                    f"MERGE (p:Person {{{key}: $props.{key}}}) "
                    "ON CREATE SET p = $props, p.created_at = datetime() "
                    "WITH p, p.pid = $props.pid AS created "
                    "FOREACH (_ IN CASE WHEN created AND $event IS NOT NULL THEN [1] ELSE [] END | "
                    "  CREATE (p)-[:EXPERIENCED]->(e:LifeEvent) SET e = $event, e.created_at = datetime()) "
                    "RETURN created", props=props, event=event, database_=self.database)[0][0]["created"]
            except ConstraintError:  # the other key (a newborn's certificate number held as well): the same answer
                raise Conflict(field, conflict) from None
        if not created:
            raise Conflict(field, conflict)
        return person

    def attach_id_number(self, pid: str, id_number: str, on: date) -> Person:
        """Give a person on file without an ID number the one household registration assigned: `Conflict` if
        another person holds it (also when two attach it at once: the uniqueness constraint decides), `Rejected` if
        this person has one already. The birth date, sex and region are the caller's to check against the number."""
        h = self.index(ID_KIND, id_number)
        with constraint_errors():
            try:
                records = self.driver.execute_query(
                    "MATCH (p:Person {pid: $pid}) "
                    "OPTIONAL MATCH (o:Person {id_hash: $h}) "
                    "WITH p, o, p.id_hash IS NULL AND o IS NULL AS free "
                    "FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END | "
                    "  SET p.id_hash = $h, p.id_enc = $enc, p.region = $region, p.id_attached_on = $on) "
                    "RETURN p, o IS NOT NULL AND o <> p AS held, free",
                    pid=pid, h=h, enc=self.cipher.encrypt(id_number, context="Person.id_number"),
                    region=id_number[:6], on=on, database_=self.database)[0]
            except ConstraintError:
                raise Conflict("id_number", ID_CONFLICT) from None
        if not records:
            raise NotFound("person", pid)
        if records[0]["held"]:
            raise Conflict("id_number", ID_CONFLICT)
        if not records[0]["free"]:
            raise Rejected("id_number", "this person has an ID number already")
        return self.person_from(records[0]["p"])

    def get_person(self, pid: str) -> Person:
        records = self._read("MATCH (p:Person {pid: $pid}) RETURN p", pid=pid)
        if not records:
            raise NotFound("person", pid)
        return self.person_from(records[0]["p"])

    def find_person(self, id_number: str) -> Person:
        return self.find_person_by_index(self.index(ID_KIND, id_number))

    def find_person_by_index(self, id_hash: str) -> Person:
        """By the blind index of the ID number, for callers that hold only that (a pending sign-in)."""
        records = self._read("MATCH (p:Person {id_hash: $h}) RETURN p", h=id_hash)
        if not records:
            raise NotFound("person", "(by ID number)", field="id_number")
        return self.person_from(records[0]["p"])

    def find_newborn(self, birth_certificate_number: str) -> Person:
        """By the blind index of the medical birth certificate number (kept after the ID number is attached)."""
        records = self._read("MATCH (p:Person {bc_hash: $h}) RETURN p",
                             h=self.index(BC_KIND, birth_certificate_number))
        if not records:
            raise NotFound("person", "(by birth certificate number)", field="birth_certificate_number")
        return self.person_from(records[0]["p"])

    def person_from(self, node) -> Person:
        c = self.cipher
        return Person(
            pid=node["pid"],
            id_number=c.decrypt_optional(node.get("id_enc"), context="Person.id_number"),
            name=c.decrypt(node["name_enc"], context="Person.name"),
            birth_date=node["birth_date"].to_native(),
            sex=node["sex"],
            region=node.get("region"),
            phone=c.decrypt_optional(node.get("phone_enc"), context="Person.phone"),
            email=c.decrypt_optional(node.get("email_enc"), context="Person.email"),
            deceased_on=node["deceased_on"].to_native() if node.get("deceased_on") else None,
            birth_certificate_number=c.decrypt_optional(node.get("bc_enc"), context="Person.birth_certificate_number"),
            id_attached_on=node["id_attached_on"].to_native() if node.get("id_attached_on") else None,
        )

    # --- entities ----------------------------------------------------------------------------------------------
    def add_entity(self, entity: Entity) -> Entity:
        created = self.driver.execute_query(  # a MERGE that says whether it created, as for persons
            "MERGE (e:Entity {uscc: $uscc}) "
            "ON CREATE SET e.eid = $eid, e.name = $name, e.kind = $kind, e.established_on = $established_on, "
            "  e.region = $region, e.status = $status, e.created_at = datetime() "
            "RETURN e.eid = $eid AS created",
            eid=entity.eid, uscc=entity.uscc, name=entity.name, kind=entity.kind,
            established_on=entity.established_on, region=entity.region, status=entity.status,
            database_=self.database,
        )[0][0]["created"]
        if not created:
            raise Conflict("uscc", "an entity with this unified social credit code is already on file")
        return entity

    def get_entity(self, eid: str) -> Entity:
        records = self._read("MATCH (e:Entity {eid: $eid}) RETURN e", eid=eid)
        if not records:
            raise NotFound("entity", eid)
        return entity_from(records[0]["e"])

    def find_entity(self, uscc: str) -> Entity:
        records = self._read("MATCH (e:Entity {uscc: $uscc}) RETURN e", uscc=uscc)
        if not records:
            raise NotFound("entity", uscc, field="uscc")
        return entity_from(records[0]["e"])

    # --- relations ---------------------------------------------------------------------------------------------
    def relate(self, relation: Relation) -> Relation:
        """MERGE the relation (posting it twice keeps one); both ends must exist and be of the right kind."""
        if relation.from_id == relation.to_id:
            raise Rejected("to", "a subject cannot be related to itself")
        to_label = "Person" if relation.type in PERSON_RELATIONS else "Entity"
        if relation.type not in PERSON_RELATIONS + PERSON_ENTITY_RELATIONS:
            raise Rejected("type", f"unknown relation type {relation.type!r}")
        to_key = "pid" if to_label == "Person" else "eid"
        # The relation type comes from the allow-list above, never from the request text itself.
        query = (
            "OPTIONAL MATCH (a:Person {pid: $from_id}) "
            f"OPTIONAL MATCH (b:{to_label} {{{to_key}: $to_id}}) "
            f"FOREACH (_ IN CASE WHEN a IS NOT NULL AND b IS NOT NULL THEN [1] ELSE [] END | "
            f"  MERGE (a)-[:{relation.type}]->(b)) "
            "RETURN a IS NOT NULL AS has_from, b IS NOT NULL AS has_to"
        )
        record = self.driver.execute_query(query, from_id=relation.from_id, to_id=relation.to_id,
                                           database_=self.database)[0][0]
        if not record["has_from"]:
            raise NotFound("person", relation.from_id, field="from")
        if not record["has_to"]:
            raise NotFound(to_label.lower(), relation.to_id, field="to")
        return relation

    def _read(self, query: str, **params):
        return self.driver.execute_query(query, params, database_=self.database,
                                         routing_=neo4j.RoutingControl.READ)[0]


def entity_from(node) -> Entity:
    return Entity(
        eid=node["eid"], uscc=node["uscc"], name=node["name"], kind=node["kind"],
        established_on=node["established_on"].to_native(), region=node.get("region"), status=node["status"],
        closed_on=node["closed_on"].to_native() if node.get("closed_on") else None,
    )
