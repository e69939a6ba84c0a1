"""`flask import events FILE`: a department's feed of life events (deaths, closures, hirings …), each recorded with its
effect through the same use case as the API and the window.

Rows name their subject by ID number or credit code, as a registry exports them, and a detail that names a person
(`employee_pid`, `spouse_pid`) may carry that person's ID number instead of a pid. Lookups are batched; each event
is then recorded in its own transaction, because its checks (a second death, a death before birth) and its effects
(notices cancelled, drafts withdrawn, the entity closed) concern one subject and take that subject's lock — a feed
of deaths is small, and one bad row never undoes the others.
"""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime

from profiles.errors import Rejected
from profiles.identifiers import InvalidIdentifier, parse_resident_id, parse_uscc
from profiles.models import DEPARTMENT_FEED
from web.usecases.holdings import record_event
from web.usecases.subjects import SubjectRef

COLUMNS = ("holder_id_number", "holder_uscc", "kind", "occurred_on", "details")
REQUIRED = ("kind", "occurred_on")
FEED = DEPARTMENT_FEED  # who the events' effects are recorded as
NOT_ON_FILE = {"person": "no person with this ID number is on file",
               "entity": "no entity with this unified social credit code is on file"}


def event_row(row: dict, on: date) -> dict:
    """The row checked as far as it can be without the graph: one holder, a known identifier, a date, details."""
    if bool(row.get("holder_id_number")) == bool(row.get("holder_uscc")):
        raise Rejected("holder_id_number", "give exactly one of holder_id_number and holder_uscc")
    holder = "person" if row.get("holder_id_number") else "entity"
    field = "holder_id_number" if holder == "person" else "holder_uscc"
    try:
        key = parse_resident_id(str(row[field]), on).number if holder == "person" else parse_uscc(str(row[field]))
    except InvalidIdentifier as exc:
        raise Rejected(field, exc.reason) from None
    if not row.get("kind"):
        raise Rejected("kind", "Missing data for required field.")
    try:
        occurred_on = date.fromisoformat(str(row.get("occurred_on") or ""))
    except ValueError:
        raise Rejected("occurred_on", "must be a date (YYYY-MM-DD)") from None
    details = row.get("details") or {}
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except ValueError:
            raise Rejected("details", "must be a JSON object") from None
    if not isinstance(details, dict):
        raise Rejected("details", "must be a JSON object")
    return {"holder": holder, "key": key, "kind": str(row["kind"]), "occurred_on": occurred_on, "details": details}


def event_key(event: dict) -> tuple:
    """Two rows with one key are one event given twice (a business hires two people on one day: two keys)."""
    return event["key"], event["kind"], event["occurred_on"], json.dumps(event["details"], sort_keys=True)


def event_key_field(event: dict) -> str:
    """A duplicate row is reported under its holder."""
    return "holder_id_number" if event["holder"] == "person" else "holder_uscc"


def _person_numbers(services, event: dict) -> dict[str, str]:
    """Details naming a person by ID number: detail name -> the normalised number (to resolve to a pid)."""
    kind = services.catalog.events.get(event["kind"])
    out = {}
    for d in kind.details if kind else ():
        value = event["details"].get(d.name)
        if d.type == "person" and isinstance(value, str):
            with contextlib.suppress(InvalidIdentifier):  # a pid, or nonsense: the use case says which
                out[d.name] = parse_resident_id(value, event["occurred_on"]).number
    return out


def flush_events(services, batch: list) -> tuple[int, list]:
    """Record each event of the batch; (imported, [(line, field, reason)])."""
    actor, on = FEED, datetime.now(services.settings.zone).date()
    named = {line: _person_numbers(services, e) for line, e in batch}
    pids = services.bulk.person_ids([e["key"] for _, e in batch if e["holder"] == "person"]
                                    + [n for numbers in named.values() for n in numbers.values()])
    eids = services.bulk.entity_ids([e["key"] for _, e in batch if e["holder"] == "entity"])
    imported, rejects = 0, []
    for line, e in batch:
        subject = (pids if e["holder"] == "person" else eids).get(e["key"])
        if subject is None:
            field = "holder_id_number" if e["holder"] == "person" else "holder_uscc"
            rejects.append((line, field, NOT_ON_FILE[e["holder"]]))
            continue
        details = dict(e["details"])
        missing = [name for name, number in named[line].items() if number not in pids]
        if missing:
            rejects.append((line, f"details.{missing[0]}", NOT_ON_FILE["person"]))
            continue
        details.update({name: pids[number] for name, number in named[line].items()})
        try:
            record_event(services, actor, SubjectRef.of(e["holder"], subject), e["kind"], e["occurred_on"], details,
                         on)
        except Rejected as exc:
            rejects.append((line, exc.field, exc.reason))
            continue
        imported += 1
    return imported, rejects
