"""Persons, entities and the relations between them: the Cypher, encryption at rest and the blind index.

Persons are found by `pid` or by the keyed hash of their ID number; the number, name, phone and e-mail are stored only
encrypted, each bound to its field (a ciphertext moved to another property does not decrypt).
"""

from __future__ import annotations

import neo4j

from profiles.errors import Conflict, NotFound, Rejected
from profiles.models import PERSON_ENTITY_RELATIONS, PERSON_RELATIONS, Entity, Person, Relation
from profiles.privacy import BlindIndex, FieldCipher

ID_KIND = "resident_id"  # blind-index domain of resident ID numbers


class Subjects:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher, index: BlindIndex):
        self.driver, self.database, self.cipher, self.index = driver, database, cipher, index

    # --- persons -----------------------------------------------------------------------------------------------
    def person_properties(self, p: Person) -> dict:
        c = self.cipher
        return {
            "pid": p.pid,
            "id_hash": self.index(ID_KIND, p.id_number),
            "id_enc": c.encrypt(p.id_number, context="Person.id_number"),
            "name_enc": c.encrypt(p.name, context="Person.name"),
            "birth_date": p.birth_date,
            "sex": p.sex,
            "region": p.region,
            "phone_enc": c.encrypt_optional(p.phone, context="Person.phone"),
            "email_enc": c.encrypt_optional(p.email, context="Person.email"),
            "deceased_on": p.deceased_on,
        }

    def add_person(self, person: Person) -> Person:
        """Create the person, or 409 if the ID number is on file. A MERGE on the blind index that says whether it
        created: twenty concurrent creates of one number serialise on the index entry and nineteen find it, so a
        duplicate is a normal answer, not a constraint violation and a rolled-back transaction."""
        props = self.person_properties(person)
        created = self.driver.execute_query(
            "MERGE (p:Person {id_hash: $props.id_hash}) "
            "ON CREATE SET p = $props, p.created_at = datetime() "
            "RETURN p.pid = $props.pid AS created", props=props, database_=self.database)[0][0]["created"]
        if not created:
            raise Conflict("id_number", "a person with this ID number is already on file")
        return person

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

    def person_from(self, node) -> Person:
        c = self.cipher
        return Person(
            pid=node["pid"],
            id_number=c.decrypt(node["id_enc"], context="Person.id_number"),
            name=c.decrypt(node["name_enc"], context="Person.name"),
            birth_date=node["birth_date"].to_native(),
            sex=node["sex"],
            region=node["region"],
            phone=c.decrypt_optional(node.get("phone_enc"), context="Person.phone"),
            email=c.decrypt_optional(node.get("email_enc"), context="Person.email"),
            deceased_on=node["deceased_on"].to_native() if node.get("deceased_on") else None,
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
