"""The synthetic district: the demo generator's households written as import files (JSON Lines), part by part.

A part is a run of whole households; the first is a tenth of the district (so the scan can be measured at N/10 before
the rest is loaded), the others split the remainder evenly. Files are cached under `var/bench/` by N, seed and day,
because generating a million persons takes minutes and the same inputs give the same district.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tqdm import tqdm

from profiles import demo

KINDS = ("persons", "entities", "materials", "relations", "events")
CHUNK = 5000
RECENT = 5000  # persons remembered across chunks: the generator draws representatives from its last 400 adults


@dataclass(frozen=True)
class Part:
    number: int
    folder: Path

    def file(self, kind: str) -> Path:
        return self.folder / f"{kind}.jsonl"

    def counts(self) -> dict[str, int]:
        return json.loads((self.folder / "counts.json").read_text())


def part_sizes(n: int, parts_after_first: int) -> list[int]:
    first = max(1, n // 10)
    rest = n - first
    sizes = [first] + [rest // parts_after_first + (1 if i < rest % parts_after_first else 0)
                       for i in range(parts_after_first)]
    return [s for s in sizes if s > 0]


def generate(folder: Path, n: int, seed: int, today: date, parts_after_first: int) -> tuple[list[Part], dict]:
    """Write (or reuse) the district's part files; returns the parts and what generating them took."""
    done = folder / "done.json"
    if done.exists():
        meta = json.loads(done.read_text())
        return [Part(i, folder / f"part-{i}") for i in range(meta["parts"])], meta
    sizes = part_sizes(n, parts_after_first)
    bounds = [sum(sizes[:i + 1]) for i in range(len(sizes))]
    started, totals = time.perf_counter(), Counter()
    parts: list[Part] = []
    files: dict = {}
    counts: Counter = Counter()
    written, earlier = 0, {}

    def open_part(i: int) -> None:
        nonlocal files, counts
        part = Part(i, folder / f"part-{i}")
        part.folder.mkdir(parents=True, exist_ok=True)
        parts.append(part)
        files = {k: part.file(k).open("w", encoding="utf-8") for k in KINDS}
        counts = Counter()

    def close_part() -> None:
        for f in files.values():
            f.close()
        (parts[-1].folder / "counts.json").write_text(json.dumps(dict(counts)))
        totals.update(counts)

    open_part(0)
    with tqdm(total=n, unit="persons", desc="generate district") as bar:
        for chunk in demo.chunks(n, seed=seed, today=today, size=min(CHUNK, max(50, n // 40))):
            if written >= bounds[len(parts) - 1]:  # chunks end at household boundaries: parts do too
                close_part()
                open_part(len(parts))
            for kind, rows in rows_of(chunk, earlier).items():
                out = files[kind]
                for row in rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                counts[kind] += len(rows)
            earlier.update((p.pid, p.id_number) for p in chunk.persons if p.id_number is not None)
            while len(earlier) > RECENT:
                del earlier[next(iter(earlier))]  # oldest first: dicts keep insertion order
            written += len(chunk.persons)
            bar.update(len(chunk.persons))
    close_part()
    meta = {"persons": n, "seed": seed, "today": today.isoformat(), "parts": len(parts),
            "part_persons": [p.counts()["persons"] for p in parts], "rows": dict(totals),
            "generate_seconds": round(time.perf_counter() - started, 1)}
    done.write_text(json.dumps(meta, indent=2))
    return parts, meta


def rows_of(chunk: demo.Population, earlier: dict[str, str]) -> dict[str, list[dict]]:
    """Import rows: subjects by ID number or credit code (the import command resolves them), as a registry exports.

    `earlier`: ID numbers of the last `RECENT` persons of earlier chunks (a business's legal representative or
    shareholder may be an adult generated there; the generator draws them from its last 400 adults).

    A registry's export holds registered residents: a newborn not registered yet (no ID number; the hospital's
    system enters it through the API) is left out, with what hangs off it."""
    unregistered = {p.pid for p in chunk.persons if p.id_number is None}
    if unregistered:
        chunk = demo.Population(
            persons=[p for p in chunk.persons if p.pid not in unregistered], entities=chunk.entities,
            relations=[r for r in chunk.relations if r.from_id not in unregistered and r.to_id not in unregistered],
            materials=[m for m in chunk.materials if m.holder_id not in unregistered],
            events=[e for e in chunk.events if e.subject_id not in unregistered])
    people = {**earlier, **{p.pid: p.id_number for p in chunk.persons}}
    code = {e.eid: e.uscc for e in chunk.entities}

    def holder(sid: str) -> dict:
        return {"holder_id_number": people[sid]} if sid in people else {"holder_uscc": code[sid]}

    return {
        "persons": [{"id_number": p.id_number, "name": p.name, "phone": p.phone, "email": p.email}
                    for p in chunk.persons],
        "entities": [{"uscc": e.uscc, "name": e.name, "kind": e.kind, "established_on": e.established_on.isoformat(),
                      "region": e.region} for e in chunk.entities],
        "materials": [{**holder(m.holder_id), "kind": m.kind, "number": m.number,
                       "issued_on": m.issued_on.isoformat(),
                       "expires_on": m.expires_on.isoformat() if m.expires_on else None, "issuer": m.issuer,
                       "provenance": m.provenance, "fields": m.fields} for m in chunk.materials],
        "relations": [{"from_id_number": people[r.from_id],
                       **({"to_uscc": code[r.to_id]} if r.to_id in code else {"to_id_number": people[r.to_id]}),
                       "type": r.type} for r in chunk.relations],
        "events": [{**holder(e.subject_id), "kind": e.kind, "occurred_on": e.occurred_on.isoformat(),
                    "details": e.details} for e in chunk.events],
    }
