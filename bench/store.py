"""The Neo4j store per resident: `python -m bench.store --persons 20000` loads a synthetic district through the import
command, stops Neo4j cleanly (a checkpoint), and measures the store's files. Run it at two sizes: the difference over
the difference in persons is what a resident adds (the fixed size and preallocated files cancel out)."""

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
    home = stack.neo4j.home
    try:
        for part in parts:
            import_part(stack, part)
            write_events(stack, part)
        counts = nodes_and_relationships(stack)
    finally:
        stack.stop()  # a clean shutdown checkpoints: the store files then hold everything (Community has no
        # db.checkpoint procedure)
    sizes = store_bytes(home)
    report = {"persons": args.persons, **counts, **sizes,
              "store_bytes_per_person": round(sizes["store"] / args.persons)}
    say(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
