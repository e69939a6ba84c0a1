"""Flask CLI commands that load data: `import persons|entities|materials|relations|events FILE` and `demo seed`.

Rows are checked with the API's own schemas and domain rules; a bad row is written to the rejects file with its line
number and never stops the good ones. Writes go through `graph/bulk.py`.
"""

from __future__ import annotations

import codecs
import csv
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from marshmallow import Schema, ValidationError
from tqdm import tqdm

from graph import bulk
from profiles import demo
from profiles.errors import Rejected
from profiles.identifiers import InvalidIdentifier, parse_resident_id, parse_uscc, region_ever_existed
from profiles.materials import check_material
from profiles.models import PERSON_RELATIONS, RELATION_TYPES, Entity, Material, Person, Relation
from web import cli_events
from web.api.schemas import EntityIn, MaterialIn, PersonIn
from web.usecases.register import newborn, normalise_phone

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SHOWN_REJECTS = 10
DEMO_CHUNK = 5000  # persons generated and written at a time
KINDS_WRITTEN = ("persons", "entities", "relations", "materials", "events")
PERSON_IN, ENTITY_IN, MATERIAL_IN = PersonIn(), EntityIn(), MaterialIn()  # built once: a schema is reusable
PERSON_COLUMNS = ("id_number", "name", "phone", "email", "birth_certificate_number", "sex", "birth_date")


def init_app(app: Flask) -> None:
    app.cli.add_command(import_group)
    app.cli.add_command(demo_group)


# --- validating one row ------------------------------------------------------------------------------------------
def _present(row: dict, names: tuple[str, ...]) -> dict:
    return {k: row[k] for k in names if row.get(k) is not None}


def _load(schema: Schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        field, messages = next(iter(exc.messages.items()))
        raise Rejected(field, messages[0] if isinstance(messages, list) else str(messages)) from None


def _identifier(row: dict, name: str, parse: Callable[[str], object]):
    if not row.get(name):
        raise Rejected(name, "Missing data for required field.")
    try:
        return parse(str(row[name]))
    except InvalidIdentifier as exc:
        raise Rejected(name, exc.reason) from None


def _resident_id(row: dict, name: str, on: date):
    return _identifier(row, name, lambda text: parse_resident_id(text, on))


def _uscc(row: dict, name: str) -> str:
    return _identifier(row, name, parse_uscc)


def person_row(row: dict, on: date) -> Person:
    """A person by ID number, or a newborn not yet registered by birth certificate number, sex and birth date (the
    API's rules: under one year old; its birth is recorded with it)."""
    data = _load(PERSON_IN, _present(row, PERSON_COLUMNS))
    if "birth_certificate_number" in data:
        return newborn(data["name"], data["sex"], data["birth_date"], data["birth_certificate_number"],
                       data.get("phone"), data.get("email"), on)
    rid = _resident_id(row, "id_number", on)
    return Person(pid=str(uuid.uuid4()), id_number=rid.number, name=data["name"].strip(), birth_date=rid.birth_date,
                  sex=rid.sex, region=rid.region, phone=normalise_phone(data.get("phone")), email=data.get("email"))


def entity_row(row: dict, on: date) -> Entity:
    data = _load(ENTITY_IN, _present(row, ("uscc", "name", "kind", "established_on", "region")))
    code = _uscc(row, "uscc")
    if data["established_on"] > on:
        raise Rejected("established_on", "the founding date is in the future")
    region = data.get("region") or code[2:8]
    if not region_ever_existed(region):
        raise Rejected("region", "no such administrative division code has ever existed")
    return Entity(eid=str(uuid.uuid4()), uscc=code, name=data["name"].strip(), kind=data["kind"],
                  established_on=data["established_on"], region=region)


def material_row(row: dict, on: date) -> tuple[str, Material]:
    """('person' or 'entity', the material with the holder's ID number or credit code as holder_id)."""
    if bool(row.get("holder_id_number")) == bool(row.get("holder_uscc")):
        raise Rejected("holder_id_number", "give exactly one of holder_id_number and holder_uscc")
    holder = "person" if row.get("holder_id_number") else "entity"
    key = _resident_id(row, "holder_id_number", on).number if holder == "person" else _uscc(row, "holder_uscc")
    fields = row.get("fields")
    if isinstance(fields, str):
        try:
            fields = json.loads(fields)
        except ValueError:
            raise Rejected("fields", "must be a JSON object") from None
    body = _present(row, ("kind", "number", "issued_on", "issuer", "provenance"))
    body["expires_on"] = row.get("expires_on")  # absent or empty: long-term
    if fields is not None:
        body["fields"] = fields
    data = _load(MATERIAL_IN, body)
    check_material(current_app.extensions["lifecycle"].catalog.materials, holder, data["kind"], data["issued_on"],
                   data["expires_on"], on)
    return holder, Material(mid=str(uuid.uuid4()), holder_id=key, kind=data["kind"], number=data["number"].upper(),
                            issued_on=data["issued_on"], expires_on=data["expires_on"], issuer=data["issuer"],
                            provenance=data["provenance"], fields=data["fields_"])


def relation_row(row: dict, on: date) -> Relation:
    """A relation between ID numbers / credit codes (resolved to pid and eid at write time)."""
    kind = row.get("type")
    if kind not in RELATION_TYPES:
        raise Rejected("type", f"Must be one of: {', '.join(RELATION_TYPES)}.")
    source = _resident_id(row, "from_id_number", on).number
    to_field, other = ("to_id_number", "to_uscc") if kind in PERSON_RELATIONS else ("to_uscc", "to_id_number")
    if row.get(other):
        raise Rejected(other, f"a {kind} relation goes to {'a person' if kind in PERSON_RELATIONS else 'an entity'}")
    target = _resident_id(row, to_field, on).number if to_field == "to_id_number" else _uscc(row, to_field)
    if target == source:
        raise Rejected(to_field, "a subject cannot be related to itself")
    return Relation(source, target, kind)


# --- writing a batch: returns (imported, [(line, field, reason)]) ------------------------------------------------
NOT_ON_FILE = {"person": "no person with this ID number is on file",
               "entity": "no entity with this unified social credit code is on file"}


def _skipped(written: bulk.Written, lines: list[int], field: str) -> list[tuple[int, str, str]]:
    return [(lines[i], field, why) for i, why in written.skipped.items()]


def _flush_subjects(write: Callable, field: str) -> Callable[[object, list], tuple[int, list]]:
    def flush(services, batch: list) -> tuple[int, list]:
        written = write(services.bulk, [item for _, item in batch], len(batch))
        return written.created, _skipped(written, [line for line, _ in batch], field)

    return flush


def person_key(person: Person) -> str:
    """The field that keys a person row: its ID number, or a newborn's birth certificate number."""
    return "id_number" if person.id_number else "birth_certificate_number"


def flush_persons(services, batch: list) -> tuple[int, list]:
    written = services.bulk.write_persons([p for _, p in batch], len(batch))
    return written.created, [(batch[i][0], person_key(batch[i][1]), why) for i, why in written.skipped.items()]


def flush_materials(services, batch: list) -> tuple[int, list]:
    ids = {"person": services.bulk.person_ids([m.holder_id for _, (h, m) in batch if h == "person"]),
           "entity": services.bulk.entity_ids([m.holder_id for _, (h, m) in batch if h == "entity"])}
    rejects, lines, materials = [], [], []
    for line, (holder, m) in batch:
        if m.holder_id not in ids[holder]:
            rejects.append((line, "holder_id_number" if holder == "person" else "holder_uscc", NOT_ON_FILE[holder]))
        else:
            lines.append(line)
            materials.append(replace(m, holder_id=ids[holder][m.holder_id]))
    written = services.bulk.write_materials(materials, len(batch))
    return written.created, rejects + _skipped(written, lines, "kind")


def flush_relations(services, batch: list) -> tuple[int, list]:
    numbers = [r.from_id for _, r in batch] + [r.to_id for _, r in batch if r.type in PERSON_RELATIONS]
    pids = services.bulk.person_ids(numbers)
    eids = services.bulk.entity_ids([r.to_id for _, r in batch if r.type not in PERSON_RELATIONS])
    rejects, lines, relations = [], [], []
    for line, r in batch:
        to_person = r.type in PERSON_RELATIONS
        target = (pids if to_person else eids).get(r.to_id)
        if r.from_id not in pids:
            rejects.append((line, "from_id_number", NOT_ON_FILE["person"]))
        elif target is None:
            rejects.append((line, "to_id_number" if to_person else "to_uscc", NOT_ON_FILE["person" if to_person
                                                                                          else "entity"]))
        else:
            lines.append(line)
            relations.append(Relation(pids[r.from_id], target, r.type))
    written = services.bulk.write_relations(relations, len(batch))
    return written.created, rejects + _skipped(written, lines, "type")


@dataclass(frozen=True)
class Kind:
    columns: tuple[str, ...]
    required: tuple[str, ...]
    check: Callable[[dict, date], object]
    key: Callable[[object], object]  # two rows with one key are duplicates
    flush: Callable[[object, list], tuple[int, list]]
    key_field: Callable[[object], str] | None = None  # the field a duplicate is reported under (default: required[0])


KINDS = {
    "persons": Kind(PERSON_COLUMNS, ("name",), person_row, lambda p: p.id_number or p.birth_certificate_number,
                    flush_persons, person_key),
    "entities": Kind(("uscc", "name", "kind", "established_on", "region"), ("uscc", "name", "kind", "established_on"),
                     entity_row, lambda e: e.uscc, _flush_subjects(bulk.Bulk.write_entities, "uscc")),
    "materials": Kind(("holder_id_number", "holder_uscc", "kind", "number", "issued_on", "expires_on", "issuer",
                       "provenance", "fields"), ("kind", "number", "issued_on", "issuer", "provenance"),
                      material_row, lambda hm: (hm[1].holder_id, hm[1].kind, hm[1].issued_on), flush_materials),
    "relations": Kind(("from_id_number", "to_id_number", "to_uscc", "type"), ("from_id_number", "type"),
                      relation_row, lambda r: (r.from_id, r.to_id, r.type), flush_relations),
    "events": Kind(cli_events.COLUMNS, cli_events.REQUIRED, cli_events.event_row, cli_events.event_key,
                   cli_events.flush_events, cli_events.event_key_field),
}


# --- reading the file --------------------------------------------------------------------------------------------
def count_lines(path: Path) -> int:
    """Lines in the file, after checking it is UTF-8 throughout (so a bad byte fails the file before any write)."""
    decoder, lines = codecs.getincrementaldecoder("utf-8")(), 0
    try:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                decoder.decode(block)
                lines += block.count(b"\n")
            decoder.decode(b"", final=True)
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path} is not UTF-8 text (byte {exc.start} of a block)") from None
    return lines


def read_rows(path: Path, kind: Kind) -> Iterator[tuple[int, dict | Rejected]]:
    """(line number, row) for every record; a record that cannot be a row comes as a Rejected to report."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        if FORMATS[path.suffix.lower()] == "jsonl":
            for line, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except ValueError as exc:
                    yield line, Rejected("line", f"not valid JSON: {exc.msg}")
                    continue
                if not isinstance(row, dict):
                    yield line, Rejected("line", "each line must be one JSON object")
                    continue
                unknown = sorted(set(row) - set(kind.columns))
                yield line, (Rejected(unknown[0], "unknown field") if unknown else row)
            return
        reader = csv.DictReader(f, restkey="\x00extra")
        header = reader.fieldnames or []
        missing = [c for c in kind.required if c not in header]
        unknown = [c for c in header if c not in kind.columns]
        if missing or unknown or len(set(header)) != len(header):
            raise click.ClickException(f"{path}: the header must name the columns {', '.join(kind.columns)} "
                                       f"(required: {', '.join(kind.required)}); found {', '.join(header) or 'none'}")
        for row in reader:
            if "\x00extra" in row:
                yield reader.line_num, Rejected("line", f"more values than the {len(header)} columns of the header")
            else:
                yield reader.line_num, {k: (v if v != "" else None) for k, v in row.items()}


def run_import(services, name: str, path: Path, rejects_path: Path, batch: int) -> tuple[int, list]:
    kind, on = KINDS[name], datetime.now(services.settings.zone).date()
    if path.suffix.lower() not in FORMATS:
        raise click.ClickException(f"{path}: give a .csv, .jsonl or .ndjson file")
    total = count_lines(path)
    imported, rejects, pending, first_seen = 0, [], [], {}
    with tqdm(total=total, unit="rows", file=sys.stderr, desc=f"import {name}") as bar:
        for line, row in read_rows(path, kind):
            try:
                if isinstance(row, Rejected):
                    raise row
                item = kind.check(row, on)
                key = kind.key(item)
                if key in first_seen:
                    field = kind.key_field(item) if kind.key_field else kind.required[0]
                    raise Rejected(field, f"duplicate of line {first_seen[key]}")
                first_seen[key] = line
                pending.append((line, item))
            except Rejected as exc:
                rejects.append((line, exc.field, exc.reason))
            if len(pending) >= batch:
                done, failed = kind.flush(services, pending)
                imported, pending = imported + done, []
                rejects.extend(failed)
            bar.update(max(0, line - bar.n))
        if pending:
            done, failed = kind.flush(services, pending)
            imported += done
            rejects.extend(failed)
        bar.update(max(0, total - bar.n))
    rejects.sort()
    with rejects_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("line", "field", "reason"))
        writer.writerows(rejects)
    return imported, rejects


import_group = AppGroup("import", help="Bulk-import persons, entities, materials, relations or life events from CSV or "
                                       "JSON Lines.")


def _import_command(name: str) -> None:
    @import_group.command(name, help=f"Import {name} from FILE (.csv with a header row, or .jsonl); columns: "
                              f"{', '.join(KINDS[name].columns)}.")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--rejects", type=click.Path(path_type=Path), help="where to write rejected rows "
                                                                      "(default: FILE.rejects.csv)")
    @click.option("--batch", type=click.IntRange(1, 100_000), default=bulk.BATCH, show_default=True)
    def command(file: Path, rejects: Path | None, batch: int) -> None:
        services = current_app.extensions["lifecycle"]
        rejects_path = rejects or file.with_name(file.name + ".rejects.csv")
        started = time.monotonic()
        imported, failed = run_import(services, name, file, rejects_path, batch)
        seconds = time.monotonic() - started
        for line, field, reason in failed[:SHOWN_REJECTS]:
            click.echo(f"line {line}: {field}: {reason}", err=True)
        if len(failed) > SHOWN_REJECTS:
            click.echo(f"... and {len(failed) - SHOWN_REJECTS} more", err=True)
        click.echo(f"imported {imported}, rejected {len(failed)} (see {rejects_path})")
        rows = imported + len(failed)
        click.echo(f"{rows} rows in {seconds:.1f} s ({rows / max(seconds, 1e-6):.0f} rows/s)")


for _name in KINDS:
    _import_command(_name)


# --- demo data -----------------------------------------------------------------------------------------------------
demo_group = AppGroup("demo", help="Demo data for development (refused in production).")


def seed_demo(services, n_persons: int, seed: int = 42, *, progress: bool = False) -> dict:
    """Generate and write a demo population in chunks; return counts, rates and the demo logins to print.

    Writing the same seed again on the same day adds nothing (everyone is on file already); on another day the
    population is generated for that day and mostly new, so the run command calls this only on an empty graph.
    """
    if services.settings.production:
        raise RuntimeError("demo data is never loaded in production")
    on = datetime.now(services.settings.zone).date()
    counts, writes, citizens, business = dict.fromkeys(KINDS_WRITTEN, 0), 0, None, None
    started = time.monotonic()
    with tqdm(total=n_persons, unit="persons", file=sys.stderr, desc="demo seed", disable=not progress) as bar:
        for chunk in demo.chunks(n_persons, seed=seed, today=on, size=DEMO_CHUNK):
            for kind, written in services.bulk.write_population(chunk).items():
                counts[kind] += written.created
                writes += written.writes
            if citizens is None:
                citizens, business = demo.showcase(chunk, on)
            bar.update(len(chunk.persons))
    seconds = max(time.monotonic() - started, 1e-6)
    return {**counts, "seconds": seconds, "writes": writes, "persons_per_s": counts["persons"] / seconds,
            "writes_per_s": writes / seconds,
            "citizens": [{"name": p.name, "id_number": p.id_number, "pid": p.pid} for p in citizens or []],
            "business": business and {"name": business.name, "uscc": business.uscc, "eid": business.eid}}


@demo_group.command("seed", help="Load a generated demo population (Foshan and Guangzhou) into the graph.")
@click.option("--persons", "n_persons", type=click.IntRange(1, 10_000_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
def seed_command(n_persons: int, seed: int) -> None:
    services = current_app.extensions["lifecycle"]
    if services.settings.production:
        raise click.ClickException("demo data is never loaded in production")
    r = seed_demo(services, n_persons, seed, progress=True)
    click.echo("created " + ", ".join(f"{r[k]} {k}" for k in KINDS_WRITTEN) + f" in {r['seconds']:.1f} s")
    click.echo(f"{r['persons_per_s']:.0f} persons/s, {r['writes_per_s']:.0f} graph writes/s "
               f"({r['writes']} nodes and relationships)")
    for c in r["citizens"]:
        click.echo(f"demo citizen: {c['name']}  ID number {c['id_number']}  pid {c['pid']}")
    if r["business"]:
        b = r["business"]
        click.echo(f"demo business: {b['name']}  credit code {b['uscc']}  eid {b['eid']}")
