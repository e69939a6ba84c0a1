"""The daily due scan over all subjects: per trigger, an index-seek query for candidates, then the evaluator decides.

Each trigger of the catalog becomes one paged query (`ScanQuery`): expiry seeks `Material.expires_on`, age seeks
`Person.birth_date`, after_event seeks `LifeEvent.occurred_on`, each on a date range computed here from `as_of` and
`within` (widened by a few days where calendar arithmetic makes the bound inexact). Every candidate row carries the
few facts that can change the answer (submitted applications for the service, the trigger's `satisfied_by` materials
or events, guardians or legal representatives), and the due item is computed by `profiles.rules.due_items` itself, on
a partial snapshot of that subject and a catalog reduced to that one trigger: the scan cannot disagree with the
evaluator on 29 February, cut-off days, retirement steps or suppression, because the evaluator decides.

The yearly trigger has no date to seek on: it concerns every subject of the audience, so its query walks the label in
pages of `page` subjects by key (a range seek on the key's unique index, `key > $after_key`), never all at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from typing import Any

import neo4j

from graph.holdings import HOLDER_KEYS
from graph.snapshots import EMPLOYERS
from profiles.catalog import model
from profiles.models import Entity, LifeEvent, Material, Person
from profiles.rules import Applied, DueItem, KinEvent, Snapshot, add_months, due_items

ScanRow = DueItem

LABELS = {"person": "Person", "entity": "Entity"}  # audience -> label; labels and keys only from allow-lists
SLACK = timedelta(days=7)  # covers 29 February -> 1 March and month-end clamping; the evaluator filters exactly

# The anchor a trigger seeks, per kind: (MATCH and WHERE on the seeked node, the date and key it pages by, how the
# subject is reached from it, what of the anchor the evaluator needs). Keyset paging on (date, key): a page starts at
# the last page's date ($lo is moved there) and skips that date's rows already returned by key. The anchor is limited
# before its holder is joined, so a page is exactly `page` anchors, whatever their holders.
_ANCHORS = {
    "expiry": ("MATCH (m:Material) USING INDEX SEEK m:Material(expires_on) "
               "WHERE m.expires_on >= $lo AND m.expires_on <= $hi AND m.kind = $kind "
               "  AND coalesce(m.superseded, false) = false", "m.expires_on", "m.mid",
               "OPTIONAL MATCH (s:{label})-[:HOLDS]->(m) WHERE {alive}",
               "[m.mid, m.kind, m.issued_on, m.expires_on] AS material, null AS event, null AS kin"),
    "after_event": ("MATCH (e:LifeEvent) USING INDEX SEEK e:LifeEvent(occurred_on) "
                    "WHERE e.occurred_on >= $lo AND e.occurred_on <= $hi AND e.kind = $kind",
                    "e.occurred_on", "e.evid",
                    "OPTIONAL MATCH (s:{label})-[:EXPERIENCED]->(e) WHERE {alive}",
                    "null AS material, [e.evid, e.kind, e.occurred_on] AS event, null AS kin"),
    # after_kin_event: the event (a death) happened to `d`; the subjects are d's living spouses, parents and
    # children, one row each with what d is to them (as graph/snapshots.py KIN_DEATHS says it).
    "after_kin_event": ("MATCH (e:LifeEvent) USING INDEX SEEK e:LifeEvent(occurred_on) "
                        "WHERE e.occurred_on >= $lo AND e.occurred_on <= $hi AND e.kind = $kind",
                        "e.occurred_on", "e.evid",
                        "MATCH (d:Person)-[:EXPERIENCED]->(e) "
                        "OPTIONAL MATCH (s:Person)-[r:SPOUSE_OF|PARENT_OF]-(d) WHERE s.deceased_on IS NULL "
                        "WITH e, d, s, collect(DISTINCT CASE WHEN type(r) = 'SPOUSE_OF' THEN 'spouse' "
                        "  WHEN startNode(r) = d THEN 'parent' ELSE 'child' END) AS rels",
                        "null AS material, [e.evid, e.kind, e.occurred_on] AS event, [d.pid, rels] AS kin"),
    "age": ("MATCH (s:Person) USING INDEX SEEK s:Person(birth_date) "
            "WHERE s.birth_date >= $lo AND s.birth_date <= $hi AND s.deceased_on IS NULL "
            "  AND ($sex IS NULL OR s.sex = $sex)", "s.birth_date", "s.pid", "",
            "null AS material, null AS event, null AS kin"),
}
_ALIVE = {"Person": "s.deceased_on IS NULL", "Entity": "true"}
_ATTRIBUTES = {"Person": "s.birth_date AS birth_date, s.sex AS sex, null AS established_on, "
                         "s.id_attached_on AS id_attached_on, null AS closed_on",
               "Entity": "null AS birth_date, null AS sex, s.established_on AS established_on, "
                         "null AS id_attached_on, s.closed_on AS closed_on"}
_RELATED = {
    "Person": "COLLECT { MATCH (g:Person)-[:GUARDIAN_OF|PARENT_OF]->(s) WHERE g.deceased_on IS NULL "
              "RETURN DISTINCT g.pid } AS guardians, "
              "[] AS legal_reps, " + EMPLOYERS,
    "Entity": "[] AS guardians, COLLECT { MATCH (r:Person)-[:LEGAL_REP_OF]->(s) RETURN DISTINCT r.pid } AS legal_reps, "
              "[] AS employers",
}
# The yearly trigger iterates the whole label, in pages by key (seeking the key's unique index from $after_key): the
# only scan query not bounded by a date. Whoever did the year's done_event inside the window is left out here.
_YEARLY_WHERE = {"Person": "s.deceased_on IS NULL", "Entity": "s.established_on < $year_start"}
_YEARLY = (
    "MATCH (s:{label}) USING INDEX s:{label}({key}) WHERE s.{key} > $after_key AND s.{key} >= $part_lo "
    "  AND s.{key} < $part_hi AND {where} "
    "  AND NOT EXISTS {{ MATCH (s)-[:EXPERIENCED]->(x:LifeEvent) "
    "                    WHERE x.kind = $done AND $opens <= x.occurred_on <= $due }} "
    "WITH s ORDER BY s.{key} LIMIT $page "
    "RETURN null AS on, s.{key} AS key, null AS material, null AS event, null AS kin, "
)


def _facts(label: str, material: bool, event: bool) -> str:
    """What the evaluator needs of subject `s` (null when a seeked anchor has no live holder of this label), in the
    column order `_snapshot` unpacks."""
    return (  # a rejected or withdrawn application settles nothing (profiles.matters.NOT_SETTLING)
        f"s.{HOLDER_KEYS[label]} AS sid, {_ATTRIBUTES[label]}, "
        "COLLECT { MATCH (s)-[:APPLIED]->(a:Application) WHERE a.service = $service AND a.submitted_on IS NOT NULL "
        "          AND NOT a.status IN ['rejected', 'withdrawn'] RETURN a.submitted_on } AS submitted, "
        + ("COLLECT { MATCH (s)-[:HOLDS]->(x:Material) WHERE x.kind = $by_material "
           "          RETURN [x.mid, x.kind, x.issued_on, x.superseded] } AS materials, " if material
           else "[] AS materials, ")
        + ("COLLECT { MATCH (s)-[:EXPERIENCED]->(x:LifeEvent) WHERE x.kind = $by_event "
           "          RETURN [x.evid, x.kind, x.occurred_on] } AS events, " if event else "[] AS events, ")
        + _RELATED[label]
    )


@cache
def query_text(kind: str, label: str, material: bool = False, event: bool = False) -> str:
    """The Cypher for one trigger kind and audience label, fetching satisfied_by materials / events when asked."""
    if kind == "yearly":
        return _YEARLY.format(label=label, key=HOLDER_KEYS[label], where=_YEARLY_WHERE[label]) + \
            _facts(label, material, event)
    match, on, key, holder, anchor = _ANCHORS[kind]
    return (f"{match} AND {key} >= $part_lo AND {key} < $part_hi "
            f"AND ($after_on IS NULL OR {on} > $after_on OR {key} > $after_key) "
            f"WITH {key.split('.')[0]} ORDER BY {on}, {key} LIMIT $page "
            f"{holder.format(label=label, alive=_ALIVE[label])} "
            f"RETURN {on} AS on, {key} AS key, {anchor}, " + _facts(label, material, event))


@dataclass(frozen=True)
class ScanQuery:
    """One trigger's candidate query: its text, its parameters, and the catalog reduced to that one trigger."""

    name: str
    text: str
    params: dict[str, Any]
    catalog: model.Catalog = field(repr=False)
    audience: str
    paged_by_label: bool = False  # True: walks every subject of the label in pages (the yearly trigger)
    within: int | None = None  # this query's horizon when narrower than the scan's (the notifier's daily scan)


ALL_KEYS = ("", "\uffff")


def partition(k: int, of: int) -> tuple[str, str]:
    """Key range [lo, hi) of partition `k` of `of` (a power of two up to 16): keys are uuids, so their first hex
    digit splits every anchor (material, event, person, entity) evenly."""
    if of == 1:
        return ALL_KEYS
    width = 16 // of
    lo = "" if k == 0 else format(k * width, "x")
    hi = "\uffff" if k == of - 1 else format((k + 1) * width, "x")
    return lo, hi


def scan_due(driver: neo4j.Driver, database: str, catalog: model.Catalog, as_of: date, within: int = 365,
             page: int = 5000, part: tuple[str, str] = ALL_KEYS, catch_up: int | None = None) -> Iterator[ScanRow]:
    """Every subject's due items in [as_of, as_of + within], as `profiles.rules.due_items` lists them; streamed
    query by query and page by page (items of one subject come from several queries, in no particular order).

    `part` limits the scan to anchors (the seeked material, event, person or entity) whose key is in [lo, hi): the
    partitions of `partition(k, of)` together cover every anchor exactly once.

    `catch_up` (the notifier's daily scan): leave out a yearly trigger unless one of its reminder dates falls in the
    last `catch_up` days. A yearly trigger concerns every subject of its audience, so walking them all every day
    would make the daily scan cost grow with the population instead of with what is owed; what it owes was owed on
    the reminder date and made then (or by a scan catching up within those days)."""
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        for query in scan_queries(catalog, as_of, within, catch_up):
            for row in _pages(session, query, page, part):
                if row[5] is not None:  # the anchor's holder (or the relative it concerns) is of this audience, alive
                    yield from due_items(_snapshot(row, query), query.catalog, as_of, query.within or within)


def scan_queries(catalog: model.Catalog, as_of: date, within: int = 365, catch_up: int | None = None
                 ) -> list[ScanQuery]:
    """The queries `scan_due` runs for this date and horizon, one or more per trigger (for EXPLAIN and for jobs that
    fan the scan out); `catch_up` as in `scan_due`."""
    out = []
    for service in catalog.services.values():
        for n, trigger in enumerate(service.triggers):
            one = model.Catalog(catalog.materials, {service.code: replace(service, triggers=(trigger,))},
                                catalog.events)
            # The notifier's scan makes what is owed today: an item further off than the trigger's own earliest
            # reminder owes nothing yet, so each trigger looks only as far ahead as its largest offset (an offer's
            # year-long offset would otherwise widen every trigger's range to a year).
            here = min(within, one.max_offset() or within) if catch_up is not None else within
            out += [ScanQuery(f"{service.code}:{n}:{trigger.kind}{suffix}", text, params, one, service.audience,
                              isinstance(trigger, model.YearlyTrigger), here)
                    for suffix, text, params in _plan(service, trigger, one, as_of, here, catch_up)]
    return out


def _plan(service: model.Service, t, one: model.Catalog, as_of: date, within: int,
          catch_up: int | None = None) -> list[tuple[str, str, dict]]:
    label = LABELS[service.audience]
    by = getattr(t, "satisfied_by", None)
    by_material, by_event = (by.material, by.event) if by else (None, None)
    base = {"service": service.code, "by_material": by_material, "by_event": by_event}
    if t.kind not in ("expiry", "after_event", "after_kin_event", "age", "yearly"):
        return []  # processing: the officers' yellow and red cards, not a reminder to the subject
    text = query_text(t.kind, label, by_material is not None, by_event is not None)
    end = as_of + timedelta(days=within)
    if isinstance(t, model.ExpiryTrigger):  # due on expires_on exactly
        return [("", text, {**base, "kind": t.material, "lo": as_of, "hi": end})]
    if isinstance(t, model.AfterEventTrigger | model.AfterKinEventTrigger):
        if t.within_days:
            lo, hi = as_of - timedelta(days=t.within_days), end - timedelta(days=t.within_days)
        else:
            lo, hi = _anchors(as_of, end, t.within_months or 0, t.within_months or 0)
        return [("", text, {**base, "kind": t.event, "lo": lo, "hi": hi})]
    if isinstance(t, model.AgeTrigger) and label == "Person":
        return [(f":{sex or 'any'}", text, {**base, "sex": sex, "lo": lo, "hi": hi})
                for sex, (lo, hi) in _age_ranges(t, as_of, end)]
    if isinstance(t, model.YearlyTrigger):
        probe = Snapshot(person=Person("", None, "", date.min, "", None)) if label == "Person" else \
            Snapshot(entity=Entity("", "", "", "", date.min))
        window = due_items(probe, one, as_of, within)  # the evaluator's window for this as_of, if due in the horizon
        if not window:
            return []
        if catch_up is not None and not any(as_of - timedelta(days=catch_up) <= d <= as_of
                                            for d in window[0].notify_on):
            return []  # no reminder of this window falls due now: nothing new is owed to anyone
        opens, due = window[0].opens_on, window[0].due_on
        return [("", text, {**base, "done": t.done_event, "opens": opens, "due": due,
                            "year_start": date(due.year, 1, 1)})]
    return []  # an age trigger on an entity service: the evaluator gives nothing either


def _anchors(start: date, end: date, min_months: int, max_months: int) -> tuple[date, date]:
    """Anchor dates whose due date, `min_months`..`max_months` calendar months later, can fall in [start, end]."""
    return add_months(start, -max_months) - SLACK, add_months(end, -min_months) + SLACK


def _age_ranges(t: model.AgeTrigger, start: date, end: date) -> list[tuple[str | None, tuple[date, date]]]:
    """Birth-date ranges to seek, one per sex when the schedule's steps are by sex (None: any sex)."""
    if not t.schedule:  # reached_by moves the due date up to a year past the birthday
        months = 12 * (t.age or 0)
        return [(None, _anchors(start, end, months, months + (12 if t.reached_by else 0)))]

    def bounds(st: model.AgeStep) -> tuple[int, int]:  # a step gives base..max months (max may be below base)
        return min(st.base_age_months, st.max_age_months), max(st.base_age_months, st.max_age_months)

    if any(st.sex == "any" for st in t.schedule):  # one wide range for everyone; the evaluator picks the steps
        spans = [bounds(st) for st in t.schedule]
        return [(None, _anchors(start, end, min(lo for lo, _ in spans), max(hi for _, hi in spans)))]
    out = []
    for sex in sorted({st.sex for st in t.schedule}):  # any of the sex's steps may apply: the widest span
        spans = [bounds(st) for st in t.schedule if st.sex == sex]
        out.append((sex, _anchors(start, end, min(lo for lo, _ in spans), max(hi for _, hi in spans))))
    return out


def _pages(session: neo4j.Session, query: ScanQuery, page: int, part: tuple[str, str] = ALL_KEYS) -> Iterator[tuple]:
    """The query's rows, page after page; each page is its own read (a page is short, and nothing is held open
    while the caller works through it)."""
    params = {**query.params, "page": page, "after_on": None, "after_key": "", "part_lo": part[0], "part_hi": part[1]}
    while True:
        rows = [tuple(r) for r in session.run(query.text, params)]
        yield from rows
        anchors = {(row[0], row[1]) for row in rows}
        if len(anchors) < page:
            return
        after_on, after_key = max(anchors, key=lambda a: (_native(a[0]) or date.min, a[1]))
        params.update(after_on=after_on, after_key=after_key)
        if after_on is not None:
            params["lo"] = after_on


def _native(value):
    return value.to_native() if value is not None else None


def _snapshot(row: tuple, query: ScanQuery) -> Snapshot:
    """The part of one subject's snapshot that can change this trigger's answer (see `_facts`)."""
    (_on, _key, material, event, kin, sid, born, sex, established, attached, closed, submitted, materials, events,
     guardians, reps, employers) = row
    held = {mid: Material(mid, sid, kind, "", _native(issued), None, "", "", superseded=superseded)
            for mid, kind, issued, superseded in materials}
    if material is not None:
        mid, kind, issued, expires = material
        held[mid] = Material(mid, sid, kind, "", _native(issued), _native(expires), "", "")
    own = [event] if event is not None and kin is None else []  # a kin row's anchor is the relative's event
    happened = {evid: LifeEvent(evid, sid, kind, _native(on)) for evid, kind, on in [*events, *own]}
    kin_events = ()
    if kin is not None:
        relative, relations = kin
        evid, kind, on = event
        kin_events = tuple(KinEvent(relative, r, LifeEvent(evid, relative, kind, _native(on)))
                           for r in sorted(relations))
    return Snapshot(
        person=Person(sid, None, "", _native(born), sex, None, id_attached_on=_native(attached))
        if query.audience == "person" else None,
        entity=Entity(sid, "", "", "", _native(established), status="closed" if closed else "active",
                      closed_on=_native(closed)) if query.audience == "entity" else None,
        materials=tuple(held.values()), events=tuple(happened.values()),
        guardians=tuple(sorted(guardians)), legal_reps=tuple(sorted(reps)), employers=tuple(sorted(employers)),
        kin_events=kin_events,
        applications=tuple(Applied(query.params["service"], _native(on)) for on in submitted))
