"""Materials and life events of a person or an entity: recording them (a newer material supersedes the older of its
kind) and listing them. Material numbers, material contents and event details are stored only encrypted.
"""

from __future__ import annotations

import json

import neo4j

from profiles.errors import NotFound
from profiles.models import LifeEvent, Material
from profiles.privacy import FieldCipher

HOLDER_KEYS = {"Person": "pid", "Entity": "eid"}  # the only labels a holder can have; keys from this allow-list


class Holdings:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher):
        self.driver, self.database, self.cipher = driver, database, cipher

    def add_material(self, label: str, material: Material) -> Material:
        """Record `material`; older unsuperseded materials of the same kind become superseded, in one transaction."""
        key = HOLDER_KEYS[label]
        props = {
            "mid": material.mid, "kind": material.kind,
            "number_enc": self.cipher.encrypt(material.number, context="Material.number"),
            "issued_on": material.issued_on, "expires_on": material.expires_on, "issuer": material.issuer,
            "provenance": material.provenance,
            "fields_enc": self.cipher.encrypt(json.dumps(material.fields, ensure_ascii=False),
                                              context="Material.fields"),
        }

        def work(tx: neo4j.ManagedTransaction):
            # Writing to the holder first takes its lock: two materials of one kind recorded at once are serialised,
            # so exactly one of them ends up current.
            holder = tx.run(f"MATCH (h:{label} {{{key}: $hid}}) SET h.materials_changed_at = datetime() RETURN h",
                            hid=material.holder_id).single()
            if holder is None:
                raise NotFound(label.lower(), material.holder_id)
            return tx.run(
                f"MATCH (h:{label} {{{key}: $hid}}) "
                "OPTIONAL MATCH (h)-[:HOLDS]->(old:Material {kind: $kind}) "
                "WITH h, collect(old) AS olds "
                "FOREACH (o IN [x IN olds WHERE NOT x.superseded] | SET o.superseded = true, o.superseded_by = $mid) "
                "CREATE (h)-[:HOLDS]->(m:Material) "
                "SET m = $props, m.superseded = false, m.created_at = datetime(), "
                "    m.version = reduce(v = 0, o IN olds | CASE WHEN o.version > v THEN o.version ELSE v END) + 1 "
                "RETURN m",
                hid=material.holder_id, kind=material.kind, mid=material.mid, props=props,
            ).single()["m"]

        with self.driver.session(database=self.database) as session:
            node = session.execute_write(work)
        return self.material_from(node, material.holder_id)

    def materials(self, label: str, holder_id: str) -> list[Material]:
        key = HOLDER_KEYS[label]
        records = self.driver.execute_query(
            f"MATCH (h:{label} {{{key}: $hid}})-[:HOLDS]->(m:Material) "
            "RETURN m ORDER BY m.kind, m.version DESC",
            hid=holder_id, database_=self.database, routing_=neo4j.RoutingControl.READ,
        )[0]
        return [self.material_from(r["m"], holder_id) for r in records]

    def material_from(self, node, holder_id: str) -> Material:
        return Material(
            mid=node["mid"], holder_id=holder_id, kind=node["kind"],
            number=self.cipher.decrypt(node["number_enc"], context="Material.number"),
            issued_on=node["issued_on"].to_native(),
            expires_on=node["expires_on"].to_native() if node.get("expires_on") else None,
            issuer=node["issuer"], provenance=node["provenance"],
            fields=json.loads(self.cipher.decrypt(node["fields_enc"], context="Material.fields")),
            version=node["version"], superseded=node["superseded"], created_at=node["created_at"].to_native(),
        )

    def add_event(self, label: str, event: LifeEvent) -> LifeEvent:
        key = HOLDER_KEYS[label]
        records = self.driver.execute_query(
            f"MATCH (s:{label} {{{key}: $sid}}) "
            "CREATE (s)-[:EXPERIENCED]->(e:LifeEvent {evid: $evid, kind: $kind, occurred_on: $occurred_on, "
            "                                        details_enc: $details, created_at: datetime()}) "
            "RETURN e.evid AS evid",
            sid=event.subject_id, evid=event.evid, kind=event.kind, occurred_on=event.occurred_on,
            details=self.cipher.encrypt(json.dumps(event.details, ensure_ascii=False), context="LifeEvent.details"),
            database_=self.database,
        )[0]
        if not records:
            raise NotFound(label.lower(), event.subject_id)
        return event

    def events(self, label: str, subject_id: str) -> list[LifeEvent]:
        key = HOLDER_KEYS[label]
        records = self.driver.execute_query(
            f"MATCH (s:{label} {{{key}: $sid}})-[:EXPERIENCED]->(e:LifeEvent) RETURN e ORDER BY e.occurred_on, e.evid",
            sid=subject_id, database_=self.database, routing_=neo4j.RoutingControl.READ,
        )[0]
        return [LifeEvent(evid=r["e"]["evid"], subject_id=subject_id, kind=r["e"]["kind"],
                          occurred_on=r["e"]["occurred_on"].to_native(),
                          details=json.loads(self.cipher.decrypt(r["e"]["details_enc"], context="LifeEvent.details")))
                for r in records]
