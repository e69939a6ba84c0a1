"""Bulk writes: persons, entities, materials, relations and life events in `UNWIND $rows` batches, encrypted exactly as
the repositories do, with duplicates and missing holders reported per input row instead of raised.

A `Bulk` is given what it writes with (driver, database, cipher, blind index) and the loaded catalog's material kinds;
each write takes a list of `profiles` dataclasses and returns a `Written`: what was created, which input positions
were skipped and why, and how many nodes and relationships the graph gained (for rates).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import neo4j
from neo4j.exceptions import ConstraintError

from graph.driver import Driver, constraint_errors
from graph.holdings import HOLDER_KEYS
from graph.subjects import BC_CONFLICT, ID_CONFLICT, ID_KIND, Subjects
from profiles.catalog.loader import load_event_kinds
from profiles.catalog.model import EventKind
from profiles.materials import MaterialKind
from profiles.models import (
    PERSON_RELATIONS,
    RELATION_TYPES,
    Entity,
    LifeEvent,
    Material,
    Person,
    Relation,
)
from profiles.privacy import BlindIndex, FieldCipher

BATCH = 2000

PERSON_CONFLICT = ID_CONFLICT  # "a person with this ID number is already on file"
NEWBORN_CONFLICT = BC_CONFLICT  # the same for a newborn's birth certificate number
ENTITY_CONFLICT = "an entity with this unified social credit code is already on file"
IN_BATCH_DUPLICATE = "appears twice in this batch"
MATERIAL_ON_FILE = "a material of this kind issued on this date is already on file for this holder"

_EXISTING = {
    "Person": "UNWIND $keys AS k MATCH (n:Person {id_hash: k}) RETURN k, n.pid AS id",
    "Newborn": "UNWIND $keys AS k MATCH (n:Person {bc_hash: k}) RETURN k, n.pid AS id",
    "Entity": "UNWIND $keys AS k MATCH (n:Entity {uscc: k}) RETURN k, n.eid AS id",
}
_CREATE = {
    "Person": "UNWIND $rows AS row CREATE (n:Person) SET n = row, n.created_at = datetime()",
    # a newborn put on file by its birth certificate: its birth is recorded with it, as Subjects.add_person does
    "Newborn": "UNWIND $rows AS row CREATE (n:Person) SET n = row.props, n.created_at = datetime() "
               "CREATE (n)-[:EXPERIENCED]->(e:LifeEvent) SET e = row.birth, e.created_at = datetime()",
    "Entity": "UNWIND $rows AS row CREATE (n:Entity) SET n = row, n.created_at = datetime()",
}
# Writing to each holder first takes its lock (as Holdings.add_material does), so what is read next stays true until
# the batch commits: the versions and supersessions computed from it cannot race another writer.
_HELD = {label: (
    "UNWIND $hids AS hid "
    f"MATCH (h:{label} {{{key}: hid}}) "
    "SET h.materials_changed_at = datetime() "
    "WITH h, hid OPTIONAL MATCH (h)-[:HOLDS]->(m:Material) "
    "RETURN hid, m.mid AS mid, m.kind AS kind, m.issued_on AS issued_on, m.version AS version, "
    "       m.superseded AS superseded"
) for label, key in HOLDER_KEYS.items()}
_ATTACH = {label: (
    f"UNWIND $rows AS row MATCH (h:{label} {{{key}: row.hid}}) "
    "CREATE (h)-[:HOLDS]->(m:Material) SET m = row.props, m.created_at = datetime()"
) for label, key in HOLDER_KEYS.items()}
_SUPERSEDE = "UNWIND $rows AS row MATCH (m:Material {mid: row.mid}) SET m.superseded = true, m.superseded_by = row.by"
# The state a death or a closure sets comes with the imported event (graph.effects does the rest for one event at
# a time: an import has no notices or drafts of its own to cancel).
_EVENTS = {label: (
    "UNWIND $rows AS row "
    f"MATCH (s:{label} {{{key}: row.sid}}) "
    "CREATE (s)-[:EXPERIENCED]->(:LifeEvent {evid: row.evid, kind: row.kind, occurred_on: row.occurred_on, "
    "                                        details_enc: row.details, created_at: datetime()}) "
    + ("FOREACH (_ IN CASE WHEN row.effect = 'deceased' THEN [1] ELSE [] END | SET s.deceased_on = row.occurred_on) "
       if label == "Person" else
       "FOREACH (_ IN CASE WHEN row.effect = 'closed' THEN [1] ELSE [] END | "
       "  SET s.status = 'closed', s.closed_on = row.occurred_on) ")
    + "RETURN row.i AS i"
) for label, key in HOLDER_KEYS.items()}


def _relation_query(rel_type: str) -> str:
    to = "(b:Person {pid: row.to_id})" if rel_type in PERSON_RELATIONS else "(b:Entity {eid: row.to_id})"
    return (
        f"UNWIND $rows AS row MATCH (a:Person {{pid: row.from_id}}) MATCH {to} "
        f"OPTIONAL MATCH (a)-[old:{rel_type}]->(b) "
        f"FOREACH (_ IN CASE WHEN old IS NULL THEN [1] ELSE [] END | MERGE (a)-[:{rel_type}]->(b)) "
        "RETURN row.i AS i, old IS NOT NULL AS existed"
    )


# Relationship types cannot be parameters: one fixed query per allow-listed type, never text from the input.
_RELATIONS = {rel_type: _relation_query(rel_type) for rel_type in RELATION_TYPES}


@dataclass
class Written:
    created: int = 0
    skipped: dict[int, str] = field(default_factory=dict)  # position in the input -> why it was not written
    nodes: int = 0
    relationships: int = 0

    @property
    def writes(self) -> int:
        return self.nodes + self.relationships

    def add(self, other: Written, offset: int = 0) -> None:
        self.created += other.created
        self.nodes += other.nodes
        self.relationships += other.relationships
        self.skipped.update({offset + i: why for i, why in other.skipped.items()})


def _batches(items: Sequence, size: int) -> Iterable[tuple[int, Sequence]]:
    for start in range(0, len(items), size):
        yield start, items[start:start + size]


def material_properties(cipher, m: Material) -> dict:
    """The stored form of a material, as Holdings.add_material writes it (same encryption contexts)."""
    return {
        "mid": m.mid, "kind": m.kind,
        "number_enc": cipher.encrypt(m.number, context="Material.number"),
        "issued_on": m.issued_on, "expires_on": m.expires_on, "issuer": m.issuer, "provenance": m.provenance,
        "fields_enc": cipher.encrypt(json.dumps(m.fields, ensure_ascii=False), context="Material.fields"),
    }


class Bulk:
    def __init__(self, driver: Driver, database: str, cipher: FieldCipher, blind_index: BlindIndex,
                 material_kinds: Mapping[str, MaterialKind], event_kinds: Mapping[str, EventKind] | None = None):
        self.driver, self.database, self.cipher, self.blind_index = driver, database, cipher, blind_index
        self.event_kinds = event_kinds if event_kinds is not None else load_event_kinds()
        self.material_kinds = material_kinds  # the loaded catalog's: a material of another kind is skipped
        # persons are stored exactly as the repository stores them (its encryption contexts and blind index)
        self._subjects = Subjects(driver, database, cipher, blind_index)

    def _write(self, query: str, **params) -> tuple[list[neo4j.Record], Written]:
        def work(tx: neo4j.ManagedTransaction):
            result = tx.run(query, params)
            records = list(result)
            return records, result.consume().counters

        with constraint_errors(), self.driver.session(database=self.database) as session:
            records, counters = session.execute_write(work)
        return records, Written(nodes=counters.nodes_created, relationships=counters.relationships_created)

    def _read(self, query: str, **params) -> list[neo4j.Record]:
        return self.driver.execute_query(query, params, database_=self.database,
                                         routing_=neo4j.RoutingControl.READ)[0]

    # --- lookups ------------------------------------------------------------------------------------------------------
    def _lookup(self, label: str, keys: list[str], batch: int = BATCH) -> dict[str, str]:
        found = {}
        for _, chunk in _batches(keys, batch):
            found.update({r["k"]: r["id"] for r in self._read(_EXISTING[label], keys=list(chunk))})
        return found

    def person_ids(self, id_numbers: Iterable[str], batch: int = BATCH) -> dict[str, str]:
        """ID number -> pid for those on file, found through the blind index."""
        by_hash = {self.blind_index(ID_KIND, n): n for n in set(id_numbers)}
        return {by_hash[h]: pid for h, pid in self._lookup("Person", list(by_hash), batch).items()}

    def entity_ids(self, usccs: Iterable[str], batch: int = BATCH) -> dict[str, str]:
        """Credit code -> eid for those on file."""
        return self._lookup("Entity", list(set(usccs)), batch)

    # --- persons and entities -----------------------------------------------------------------------------------------
    def _create_unique(self, label: str, key: str, rows: list[dict], conflict: str) -> Written:
        """Create the rows whose key is not yet on file; a ConstraintError (a concurrent writer) retries row by row."""
        out = Written()
        on_file = set(self._lookup(label, [r[key] for r in rows]))
        fresh, seen = [], set()
        for i, row in enumerate(rows):
            if row[key] in on_file or row[key] in seen:
                out.skipped[i] = conflict if row[key] in on_file else IN_BATCH_DUPLICATE
                continue
            seen.add(row[key])
            fresh.append((i, row))
        try:
            _, counts = self._write(_CREATE[label], rows=[row for _, row in fresh])
            counts.created = len(fresh)
            out.add(counts)
        except ConstraintError:
            for i, row in fresh:
                try:
                    _, counts = self._write(_CREATE[label], rows=[row])
                    counts.created = 1
                    out.add(counts)
                except ConstraintError:
                    out.skipped[i] = conflict
        return out

    def write_persons(self, persons: Sequence[Person], batch: int = BATCH) -> Written:
        """Persons keyed by ID number; newborns without one keyed by birth certificate number, each written with
        its birth event (the birth the certificate attests)."""
        out = Written()
        for start, chunk in _batches(persons, batch):
            keyed = [(i, p) for i, p in enumerate(chunk) if p.id_number]
            newborns = [(i, p) for i, p in enumerate(chunk) if not p.id_number]
            if keyed:
                rows = [self._subjects.person_properties(p) for _, p in keyed]
                written = self._create_unique("Person", "id_hash", rows, PERSON_CONFLICT)
                written.skipped = {keyed[j][0]: why for j, why in written.skipped.items()}
                out.add(written, start)
            if newborns:
                rows = [{"bc_hash": props["bc_hash"], "props": props, "birth": self._birth(p)}
                        for _, p in newborns for props in [self._subjects.person_properties(p)]]
                written = self._create_unique("Newborn", "bc_hash", rows, NEWBORN_CONFLICT)
                written.skipped = {newborns[j][0]: why for j, why in written.skipped.items()}
                out.add(written, start)
        return out

    def _birth(self, p: Person) -> dict:
        details = json.dumps({"recorded_with": "birth_certificate"})
        return {"evid": str(uuid.uuid4()), "kind": "birth", "occurred_on": p.birth_date,
                "details_enc": self.cipher.encrypt(details, context="LifeEvent.details")}

    def write_entities(self, entities: Sequence[Entity], batch: int = BATCH) -> Written:
        out = Written()
        for start, chunk in _batches(entities, batch):
            rows = [{"eid": e.eid, "uscc": e.uscc, "name": e.name, "kind": e.kind, "established_on": e.established_on,
                     "region": e.region, "status": e.status} for e in chunk]
            out.add(self._create_unique("Entity", "uscc", rows, ENTITY_CONFLICT), start)
        return out

    # --- materials ----------------------------------------------------------------------------------------------------
    def write_materials(self, materials: Sequence[Material], batch: int = BATCH) -> Written:
        """Attach materials to their holders (pid or eid; the kind says which holder type).

        The materials of one holder and kind are recorded as if one after the other in order of issue date:
        everything on file before is superseded, versions continue from the highest on file, and only the newest
        stays current. A material whose holder is missing, or whose kind and issue date are on file already, is
        skipped, so importing the same file twice adds nothing. A kind the catalog does not declare is skipped too.
        """
        out = Written()
        groups: dict[str, dict[tuple[str, str], list[int]]] = {label: defaultdict(list) for label in HOLDER_KEYS}
        for i, m in enumerate(materials):
            spec = self.material_kinds.get(m.kind)
            if spec is None:
                out.skipped[i] = f"unknown material kind {m.kind!r}"
                continue
            groups["Person" if spec.holder == "person" else "Entity"][(m.holder_id, m.kind)].append(i)
        for label, by_key in groups.items():
            pending: dict[tuple[str, str], list[int]] = {}
            size = 0
            for key, positions in by_key.items():
                pending[key] = sorted(positions, key=lambda i: materials[i].issued_on)  # stable for same-day items
                size += len(positions)
                if size >= batch:
                    out.add(self._write_material_groups(label, materials, pending))
                    pending, size = {}, 0
            if pending:
                out.add(self._write_material_groups(label, materials, pending))
        return out

    def _write_material_groups(self, label: str, materials: Sequence[Material], pending: dict) -> Written:
        props = {i: material_properties(self.cipher, materials[i])
                 for positions in pending.values() for i in positions}

        def work(tx: neo4j.ManagedTransaction) -> Written:
            out, found, held = Written(), set(), defaultdict(list)
            for r in tx.run(_HELD[label], hids=list({hid for hid, _kind in pending})):
                found.add(r["hid"])
                if r["mid"] is not None:
                    held[(r["hid"], r["kind"])].append(r)
            rows, superseded = [], []
            for (hid, kind), positions in pending.items():
                on_file = held[(hid, kind)]
                dates = {r["issued_on"].to_native() for r in on_file}
                for i in positions:
                    if hid not in found or materials[i].issued_on in dates:
                        out.skipped[i] = (f"no {label.lower()} with id {hid!r}" if hid not in found
                                          else MATERIAL_ON_FILE)
                new = [i for i in positions if i not in out.skipped]
                if not new:
                    continue
                superseded += [{"mid": r["mid"], "by": materials[new[0]].mid} for r in on_file if not r["superseded"]]
                version = max((r["version"] for r in on_file), default=0)
                for n, (i, after) in enumerate(zip(new, [*new[1:], None], strict=True), start=1):
                    rows.append({"hid": hid, "props": {
                        **props[i], "version": version + n, "superseded": after is not None,
                        "superseded_by": None if after is None else materials[after].mid}})
            if superseded:
                tx.run(_SUPERSEDE, rows=superseded).consume()
            counters = tx.run(_ATTACH[label], rows=rows).consume().counters
            out.created, out.nodes = len(rows), counters.nodes_created
            out.relationships = counters.relationships_created
            return out

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    # --- relations and events -----------------------------------------------------------------------------------------
    def write_relations(self, relations: Sequence[Relation], batch: int = BATCH) -> Written:
        """MERGE relations, one fixed query per allow-listed type; duplicates and missing ends are skipped."""
        out = Written()
        by_type: dict[str, list[dict]] = defaultdict(list)
        seen = set()
        for i, r in enumerate(relations):
            if r.type not in _RELATIONS:
                out.skipped[i] = f"unknown relation type {r.type!r}"
            elif r.from_id == r.to_id:
                out.skipped[i] = "a subject cannot be related to itself"
            elif (r.from_id, r.to_id, r.type) in seen:
                out.skipped[i] = "this relation appears twice"
            else:
                seen.add((r.from_id, r.to_id, r.type))
                by_type[r.type].append({"i": i, "from_id": r.from_id, "to_id": r.to_id})
        for rel_type, rows in by_type.items():
            for _, chunk in _batches(rows, batch):
                records, counts = self._write(_RELATIONS[rel_type], rows=list(chunk))
                out.add(counts)
                done = {r["i"]: r["existed"] for r in records}
                for row in chunk:
                    if row["i"] not in done:
                        out.skipped[row["i"]] = "one end of the relation is not on file"
                    elif done[row["i"]]:
                        out.skipped[row["i"]] = "this relation is already on file"
                    else:
                        out.created += 1
        return out

    def write_events(self, events: Sequence[LifeEvent], batch: int = BATCH) -> Written:
        """Life events of persons (birth, marriage, ...) or entities (founding, annual report, ...), by their kind."""
        out = Written()
        by_label: dict[str, list[dict]] = defaultdict(list)
        for i, e in enumerate(events):
            kind = self.event_kinds.get(e.kind)
            label = {"person": "Person", "entity": "Entity"}[kind.subject] if kind else None
            if label is None:
                out.skipped[i] = f"unknown event kind {e.kind!r}"
                continue
            by_label[label].append({
                "i": i, "sid": e.subject_id, "evid": e.evid, "kind": e.kind, "occurred_on": e.occurred_on,
                "effect": kind.effect,
                "details": self.cipher.encrypt(json.dumps(e.details, ensure_ascii=False), context="LifeEvent.details"),
            })
        for label, rows in by_label.items():
            for _, chunk in _batches(rows, batch):
                records, counts = self._write(_EVENTS[label], rows=list(chunk))
                done = {r["i"] for r in records}
                counts.created = len(done)
                counts.skipped = {row["i"]: f"no {label.lower()} with id {row['sid']!r}" for row in chunk
                                  if row["i"] not in done}
                out.add(counts)
        return out

    def write_population(self, population, batch: int = BATCH) -> dict[str, Written]:
        """Write a generated population (profiles/demo.py) in dependency order. Whatever hangs off a person or entity
        that is on file already is left out, so writing the same population twice adds nothing."""
        out = {"persons": self.write_persons(population.persons, batch),
               "entities": self.write_entities(population.entities, batch)}
        skipped = {population.persons[i].pid for i in out["persons"].skipped}
        skipped |= {population.entities[i].eid for i in out["entities"].skipped}
        out["relations"] = self.write_relations([r for r in population.relations
                                                 if r.from_id not in skipped and r.to_id not in skipped], batch)
        out["materials"] = self.write_materials([m for m in population.materials if m.holder_id not in skipped],
                                                batch)
        out["events"] = self.write_events([e for e in population.events if e.subject_id not in skipped], batch)
        return out
