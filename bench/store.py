"""The Neo4j store per resident: `python -m bench.store --persons 20000` loads a synthetic district in two parts (a
tenth, then the rest) through the import command, checkpoints, and measures the store's files after each; the
difference is what the second part's residents added (the fixed size and preallocated files cancel out)."""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

from bench import say
from bench.district import generate
from bench.load import import_part, write_events
from bench.stack import BenchStack
from profiles.config import PROJECT_ROOT


def store_bytes(home: Path) -> dict[str, int]:
    """Bytes on disk of the database's store files and of its transaction logs."""
    def size(folder: Path) -> int:
        return sum(f.stat().st_blocks * 512 for f in folder.rglob("*") if f.is_file())

    return {"store": size(home / "data" / "databases" / "neo4j"),
            "transactions": size(home / "data" / "transactions" / "neo4j")}


def nodes_and_relationships(stack: BenchStack) -> dict[str, int]:
    query = "CALL () { MATCH (n) RETURN count(n) AS nodes } CALL () { MATCH ()-[r]->() RETURN count(r) AS rels } " \
            "RETURN nodes, rels"
    row = stack.services.driver.execute_query(query, database_="neo4j")[0][0]
    return {"nodes": row["nodes"], "relationships": row["rels"]}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__)
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    folder = PROJECT_ROOT / "var" / "bench" / f"district-{args.persons}-seed{args.seed}-store"
    parts, _ = generate(folder, args.persons, args.seed, date(2026, 11, 22), parts_after_first=1)
    stack = BenchStack(Path(tempfile.mkdtemp(prefix="bench-store-"))).start()
    points = []
    try:
        for part in parts:
            loaded = import_part(stack, part)
            write_events(stack, part)
            stack.services.driver.execute_query("CALL db.checkpoint()", database_="neo4j")
            point = {"rows": loaded["rows"], **nodes_and_relationships(stack), **store_bytes(stack.neo4j.home)}
            points.append(point)
            say(f"part {part.number}: {point}")
    finally:
        stack.stop()
    first, last = points[0], points[-1]
    residents = args.persons - args.persons // 10  # the second part's (the first is a tenth of the district)
    added = {k: last[k] - first[k] for k in ("store", "nodes", "relationships")}
    per_resident = added["store"] / residents
    report = {"persons": args.persons, "points": points, "second_part_residents": residents, "added": added,
              "store_bytes_per_resident": round(per_resident)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
