"""Load benchmark: the district through the import command, against a bare `UNWIND ... CREATE` of the same rows.

The import command (`flask --app wsgi import KIND FILE`, run as a user runs it) validates every row with the API's
schemas and checksums, encrypts personal fields, computes blind indexes and material versions, and writes in batches;
the baseline sends the same JSON rows, unchecked and in clear, to a second empty Neo4j with the same memory settings
and only the two lookup indexes it needs. Parts alternate between the two, so both see the same noise.
"""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path

import neo4j

from bench.district import Part
from bench.stack import BenchStack
from graph import bulk
from graph.local import LocalNeo4j
from graph.processes import free_port
from profiles.config import Settings
from profiles.models import LifeEvent

IMPORTED = ("persons", "entities", "materials", "relations")  # the order that resolves every reference
BATCH = bulk.BATCH
_RATE = re.compile(r"^(\d+) rows in ([\d.]+) s", re.MULTILINE)
_IMPORTED = re.compile(r"^imported (\d+), rejected (\d+)", re.MULTILINE)


def import_part(stack: BenchStack, part: Part) -> dict:
    """Run the import command for each kind of the part; returns rows, seconds (inside the command) and rejects."""
    out = {"rows": 0, "seconds": 0.0, "rejected": 0, "kinds": {}}
    for kind in IMPORTED:
        path = part.file(kind)
        argv = [sys.executable, "-m", "flask", "--app", "wsgi", "import", kind, str(path), "--rejects",
                str(path.with_suffix(".rejects.csv"))]
        done = stack.run_command(f"import-{kind}", argv)
        rate, counts = _RATE.search(done.stdout), _IMPORTED.search(done.stdout)
        if done.returncode != 0 or rate is None or counts is None:
            raise SystemExit(f"import {kind} {path} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
        rows, seconds = int(rate.group(1)), float(rate.group(2))
        out["kinds"][kind] = {"rows": rows, "seconds": seconds, "rejected": int(counts.group(2))}
        out["rows"] += rows
        out["seconds"] += seconds
        out["rejected"] += int(counts.group(2))
    out["per_second"] = out["rows"] / out["seconds"]
    return out


# --- the baseline ---------------------------------------------------------------------------------------------------
_BARE_INDEXES = ("CREATE INDEX bare_person IF NOT EXISTS FOR (p:Person) ON (p.id_number)",
                 "CREATE INDEX bare_entity IF NOT EXISTS FOR (e:Entity) ON (e.uscc)")
_BARE = {
    "persons": "UNWIND $rows AS r CREATE (:Person {id_number: r.id_number, name: r.name, phone: r.phone, "
               "email: r.email})",
    "entities": "UNWIND $rows AS r CREATE (:Entity {uscc: r.uscc, name: r.name, kind: r.kind, "
                "established_on: date(r.established_on), region: r.region})",
    "materials:person": "UNWIND $rows AS r MATCH (h:Person {id_number: r.holder_id_number}) "
                        "CREATE (h)-[:HOLDS]->(:Material {kind: r.kind, number: r.number, "
                        "issued_on: date(r.issued_on), expires_on: date(r.expires_on), issuer: r.issuer, "
                        "provenance: r.provenance, fields: r.fields})",
    "materials:entity": "UNWIND $rows AS r MATCH (h:Entity {uscc: r.holder_uscc}) "
                        "CREATE (h)-[:HOLDS]->(:Material {kind: r.kind, number: r.number, "
                        "issued_on: date(r.issued_on), expires_on: date(r.expires_on), issuer: r.issuer, "
                        "provenance: r.provenance, fields: r.fields})",
}


def _bare_relation(rel_type: str, to_entity: bool) -> str:
    to = "(b:Entity {uscc: r.to_uscc})" if to_entity else "(b:Person {id_number: r.to_id_number})"
    return (f"UNWIND $rows AS r MATCH (a:Person {{id_number: r.from_id_number}}) MATCH {to} "
            f"CREATE (a)-[:{rel_type}]->(b)")


class Bare:
    """The baseline's own Neo4j: the same memory settings as the benchmarked one, empty but for two indexes."""

    def __init__(self, root: Path, heap: str, pagecache: str):
        self.server = LocalNeo4j(home=root / "bare-neo4j", port=free_port(), dist_dir=Settings().neo4j_dist_dir,
                                 heap=heap, pagecache=pagecache)
        self.driver: neo4j.Driver | None = None

    def __enter__(self) -> Bare:
        self.server.start(timeout=300)
        self.driver = neo4j.GraphDatabase.driver(self.server.uri, auth=None)
        for text in _BARE_INDEXES:
            self.driver.execute_query(text)
        self.driver.execute_query("CALL db.awaitIndexes(300)")
        return self

    def __exit__(self, *exc) -> None:
        if self.driver:
            self.driver.close()
        self.server.stop(timeout=120)

    def load(self, part: Part) -> dict:
        rows_total, started = 0, time.perf_counter()
        with self.driver.session() as session:
            for kind in IMPORTED:
                groups: dict[str, list[dict]] = defaultdict(list)
                with part.file(kind).open(encoding="utf-8") as f:
                    for text in f:
                        row = json.loads(text)
                        if kind == "materials":
                            row["fields"] = json.dumps(row["fields"], ensure_ascii=False)
                            query = _BARE["materials:person" if "holder_id_number" in row else "materials:entity"]
                        elif kind == "relations":
                            query = _bare_relation(row["type"], "to_uscc" in row)
                        else:
                            query = _BARE[kind]
                        batch = groups[query]
                        batch.append(row)
                        rows_total += 1
                        if len(batch) >= BATCH:
                            session.execute_write(_run, query, batch)
                            batch.clear()
                for query, batch in groups.items():
                    if batch:
                        session.execute_write(_run, query, batch)
        seconds = time.perf_counter() - started
        return {"rows": rows_total, "seconds": seconds, "per_second": rows_total / seconds}


def _run(tx: neo4j.ManagedTransaction, query: str, rows: list[dict]) -> None:
    tx.run(query, rows=rows).consume()


# --- life events: not an import kind; written through the bulk writer the demo seed uses ---------------------------
def write_events(stack: BenchStack, part: Part) -> dict:
    services, started, rows = stack.services, time.perf_counter(), []
    with part.file("events").open(encoding="utf-8") as f:
        rows = [json.loads(text) for text in f]
    pids = services.bulk.person_ids([r["holder_id_number"] for r in rows if "holder_id_number" in r])
    eids = services.bulk.entity_ids([r["holder_uscc"] for r in rows if "holder_uscc" in r])
    events = [LifeEvent(str(uuid.uuid4()), pids[r["holder_id_number"]] if "holder_id_number" in r
                        else eids[r["holder_uscc"]], r["kind"], date.fromisoformat(r["occurred_on"]), r["details"])
              for i, r in enumerate(rows)]
    written = services.bulk.write_events(events)
    return {"rows": written.created, "seconds": time.perf_counter() - started}
