"""Which queries the daily scan plans for a date (pure: the query texts and parameters, no database)."""

from datetime import date, timedelta

from graph.scan import scan_queries
from notifier.scan import YEARLY_CATCH_UP
from profiles.catalog import load_catalog
from profiles.models import Person
from profiles.rules import Snapshot, due_items

CATALOG = load_catalog()
HORIZON = CATALOG.max_offset()


def yearly(as_of: date, catch_up: int | None) -> list[str]:
    return [q.name.split(":")[0] for q in scan_queries(CATALOG, as_of, HORIZON, catch_up) if q.paged_by_label]


def reminder_dates(service: str, as_of: date) -> tuple[date, ...]:
    probe = Snapshot(person=Person("p", "", "", date(1980, 1, 1), "F", "440604"))
    return next(i for i in due_items(probe, CATALOG, as_of, HORIZON) if i.service == service).notify_on


def test_without_catch_up_the_yearly_trigger_is_planned_every_day_as_the_evaluator_sees_it():
    # the horizon is the largest offset: 365 days since the offers (a year of age offered from its first day), so
    # next June's annual report window is in it too
    assert HORIZON == 365
    assert yearly(date(2026, 11, 22), None) == ["enterprise_annual_report", "resident_medical_insurance_contribution"]


def test_with_catch_up_the_yearly_trigger_is_planned_only_from_a_reminder_date_for_a_week():
    service = "resident_medical_insurance_contribution"
    dates = reminder_dates(service, date(2026, 9, 1))
    assert len(dates) == 3
    for day in dates:
        for late in range(YEARLY_CATCH_UP + 1):
            assert yearly(day + timedelta(days=late), YEARLY_CATCH_UP) == [service], (day, late)
    assert yearly(dates[0] + timedelta(days=YEARLY_CATCH_UP + 1), YEARLY_CATCH_UP) == []
    assert yearly(date(2026, 11, 22), YEARLY_CATCH_UP) == []  # seven weeks after the first reminder
    assert yearly(date(2199, 8, 1), YEARLY_CATCH_UP) == []  # the benchmark's quiet day


def test_with_catch_up_each_trigger_looks_only_as_far_ahead_as_its_own_earliest_reminder():
    as_of = date(2026, 11, 22)
    queries = {q.name: q for q in scan_queries(CATALOG, as_of, HORIZON, YEARLY_CATCH_UP)}
    renewal = next(q for name, q in queries.items() if name.startswith("id_card_renewal:") and ":expiry" in name)
    largest = max(max(t.offsets) for t in CATALOG.services["id_card_renewal"].triggers if getattr(t, "offsets", None))
    assert largest < HORIZON
    assert renewal.within == largest and renewal.params["hi"] == as_of + timedelta(days=largest)
    offer = next(q for name, q in queries.items() if name.startswith("childcare_subsidy_claim:"))
    assert offer.within == HORIZON  # the year-long offer keeps its year
    whole = {q.name: q for q in scan_queries(CATALOG, as_of, HORIZON, None)}  # scan_due for the evaluator's horizon
    assert whole[renewal.name].params["hi"] == as_of + timedelta(days=HORIZON)
