"""Daily scan benchmark: every item due on a date for the whole district, against a naive full label scan.

`scan_due` is what the daily scan's partition jobs run (index seeks per trigger, the evaluator on each candidate);
here it runs in one process over all partitions, as the default single worker runs them one after another. The naive
baseline walks every person and entity, loads each one's whole snapshot (`Snapshots.load_many`, 2 000 at a time) and
asks the evaluator, `profiles.rules.due_items`, for the same date and horizon; both must find the same items.

Scaling: a cohort of persons whose ID cards expire on a quiet far-off date (`COHORT_DAY`) is written with the first
tenth of the district, so the scan for that date has the same due items at N/10 and at N.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

from bench.stack import BenchStack
from graph.holdings import HOLDER_KEYS
from graph.scan import scan_due
from notifier.scan import YEARLY_CATCH_UP
from profiles.catalog import model
from profiles.identifiers import resident_id_check_digit
from profiles.models import Material, Person
from profiles.notices import owed_offset
from profiles.rules import due_items

COHORT_DAY = date(2199, 8, 1)  # no yearly window's reminders fall near it; nobody's birthday matters then
NAIVE_PAGE = 2000


def cohort(n: int) -> tuple[list[Person], list[Material]]:
    """`n` persons born in the 1990s with ID cards expiring within 90 days after `COHORT_DAY`; their numbers carry
    the region code 440303 (深圳罗湖区), which the demo generator never uses, so they cannot collide with the
    district's."""
    persons, cards = [], []
    for i in range(n):
        born = date(1990, 1, 1) + timedelta(days=i % 3650)
        first17 = f"440303{born:%Y%m%d}{i // 3650 % 1000:03d}"
        pid = str(uuid.uuid4())
        persons.append(Person(pid, first17 + resident_id_check_digit(first17), "队列", born, "F", "440303",
                              phone=f"+86139{i:08d}"))
        expires = COHORT_DAY + timedelta(days=30 + i % 60)
        cards.append(Material(str(uuid.uuid4()), pid, "id_card", f"Q{i:09d}", expires - timedelta(days=7305),
                              expires, "佛山市公安局禅城分局", "issued", {}))
    return persons, cards


def write_cohort(stack: BenchStack, n: int) -> None:
    persons, cards = cohort(n)
    stack.services.bulk.write_persons(persons)
    stack.services.bulk.write_materials(cards)


def timed_scan(stack: BenchStack, as_of: date) -> dict:
    s = stack.services
    within = s.catalog.max_offset()
    started = time.perf_counter()
    items = list(scan_due(s.driver, s.settings.neo4j_database, s.catalog, as_of, within, catch_up=YEARLY_CATCH_UP))
    seconds = time.perf_counter() - started
    owed = sum(1 for i in items if owed_offset(i.due_on, i.notify_on, as_of) is not None)
    return {"seconds": seconds, "due_items": len(items), "owed_today": owed,
            "keys": sorted((i.service, i.subject_id, i.due_on.isoformat()) for i in items)}


def daily(item, catalog: model.Catalog, as_of: date) -> bool:
    """What the daily scan looks for (`scan_due` with the notifier's catch-up): an item whose earliest reminder date
    has come (each trigger looks only as far ahead as its largest offset), and a yearly item only on the days after
    one of its reminder dates."""
    if item.notify_on and min(item.notify_on) > as_of:
        return False
    if not any(isinstance(t, model.YearlyTrigger) for t in catalog.services[item.service].triggers):
        return True
    return any(as_of - timedelta(days=YEARLY_CATCH_UP) <= d <= as_of for d in item.notify_on)


def naive_scan(stack: BenchStack, as_of: date) -> dict:
    """Every subject of every label, its whole snapshot loaded, the evaluator asked."""
    s = stack.services
    within = s.catalog.max_offset()
    snapshots = s.snapshots
    started, items, subjects = time.perf_counter(), [], 0
    for label, key in HOLDER_KEYS.items():
        after = ""
        while True:
            ids = [r[0] for r in s.driver.execute_query(
                f"MATCH (x:{label}) WHERE x.{key} > $after RETURN x.{key} ORDER BY x.{key} LIMIT $page",
                after=after, page=NAIVE_PAGE, database_=s.settings.neo4j_database)[0]]
            if not ids:
                break
            for snapshot in snapshots.load_many(label, ids).values():
                items += [i for i in due_items(snapshot, s.catalog, as_of, within) if daily(i, s.catalog, as_of)]
            subjects += len(ids)
            after = ids[-1]
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "due_items": len(items), "subjects": subjects,
            "keys": sorted((i.service, i.subject_id, i.due_on.isoformat()) for i in items)}
