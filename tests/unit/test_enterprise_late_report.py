"""The annual report's standing on the enterprise page, on fixed days: an overdue report is offered as a late filing
(补报) when filing it cannot settle this year's window, filings are told apart by year, and the report year of a
filing is fixed by the page; the due rule of this year's window is unchanged by a late filing."""

from __future__ import annotations

from datetime import date

import pytest

from profiles.catalog import load_catalog
from profiles.models import Entity, LifeEvent
from profiles.prefill import prefill
from profiles.rules import Applied, Snapshot, due_items
from web.pages.enterprise_view import ANNUAL_REPORT, annual_report, filing_year, with_report_year

CATALOG = load_catalog()


def company(established: date = date(2019, 5, 1), events=(), submitted=()) -> Snapshot:
    entity = Entity("e1", "91440604MA4W00000X", "示例", "limited_company", established)
    return Snapshot(entity=entity, events=tuple(LifeEvent(f"ev{i}", "e1", "annual_report", d, {})
                                                for i, d in enumerate(events)),
                    applications=tuple(Applied(ANNUAL_REPORT, d) for d in submitted))


def standing(snapshot: Snapshot, day: date):
    return annual_report(snapshot, CATALOG, due_items(snapshot, CATALOG, day), day)


@pytest.mark.parametrize("day, events, submitted, state, overdue, late, queued, filing", [
    # after the window: last year's report missed, the one before filed -> file 2025 late now
    (date(2026, 8, 3), [date(2025, 4, 1)], [], "missed", [2025], 2025, None, 2025),
    # ... filed late since: the missed state is gone
    (date(2026, 8, 3), [date(2025, 4, 1)], [date(2026, 8, 1)], "filed_late", [], None, None, None),
    # both missed: the newest first, the other waits its turn
    (date(2026, 8, 3), [], [], "missed", [2025, 2024], 2025, 2024, 2025),
    (date(2026, 8, 3), [], [date(2026, 8, 1)], "filed_late", [2024], 2024, None, 2024),
    (date(2026, 9, 3), [], [date(2026, 8, 1), date(2026, 9, 1)], "filed_late", [], None, None, None),
    # in the window: this year's report (2026) goes first, the overdue 2025 report waits
    (date(2027, 3, 1), [date(2025, 4, 1)], [], "due", [2025], None, 2025, 2026),
    (date(2027, 3, 1), [date(2025, 4, 1)], [date(2027, 2, 1)], "filed", [2025], 2025, None, 2025),
    (date(2027, 3, 1), [date(2025, 4, 1)], [date(2027, 2, 1), date(2027, 2, 20)], "filed", [], None, None, None),
    # a report filed late last year (2026-08) still counts for 2025 the next spring
    (date(2027, 3, 1), [], [date(2026, 8, 1)], "due", [], None, None, 2026),
    # on time: nothing overdue
    (date(2026, 8, 3), [date(2025, 4, 1), date(2026, 5, 2)], [], "filed", [], None, None, None),
])
def test_the_overdue_report_to_file_now_and_the_one_that_waits(day, events, submitted, state, overdue, late, queued,
                                                               filing):
    got = standing(company(events=events, submitted=submitted), day)
    assert got.state == state
    assert [o.report_year for o in got.overdue] == overdue
    assert (got.late.report_year if got.late else None) == late
    assert (got.queued.report_year if got.queued else None) == queued
    assert filing_year(got) == filing


def test_an_overdue_report_names_its_window():
    got = standing(company(events=[date(2025, 4, 1)]), date(2026, 8, 3))
    assert (got.late.opens_on, got.late.due_on) == (date(2026, 1, 1), date(2026, 6, 30))
    assert got.next_opens_on == date(2027, 1, 1)


def test_a_filing_before_a_window_opens_is_not_that_window_s_report():
    """A filing is for a year whose window had opened: one in 2026 cannot be the 2026 report (window 2027)."""
    got = standing(company(submitted=[date(2026, 8, 1), date(2026, 9, 1)]), date(2027, 3, 1))
    assert got.state == "due" and got.report_year == 2026 and got.overdue == ()


def test_nothing_is_overdue_before_the_first_report_was_owed():
    assert [o.report_year for o in standing(company(established=date(2025, 3, 1)), date(2026, 8, 3)).overdue] == [2025]
    assert standing(company(established=date(2026, 3, 1)), date(2026, 8, 3)).state == "first"
    due = standing(company(established=date(2025, 12, 31)), date(2026, 3, 1))
    assert due.state == "due" and due.overdue == ()


def test_a_late_filing_settles_the_missed_year_but_not_next_year_s_window():
    """The rule (profiles/rules.py) is unchanged: a filing on 2026-08-01 is older than the 2027 window's opening, so
    the 2026 report is still due in 2027, and the page counts the filing for 2025."""
    filed = company(events=[date(2025, 4, 1)], submitted=[date(2026, 8, 1)])
    [item] = [i for i in due_items(filed, CATALOG, date(2027, 1, 15)) if i.service == ANNUAL_REPORT]
    assert (item.opens_on, item.due_on) == (date(2027, 1, 1), date(2027, 6, 30))
    assert standing(filed, date(2027, 1, 15)).state == "due" and standing(filed, date(2027, 1, 15)).overdue == ()


def test_the_form_fixes_the_report_year_and_locks_it():
    form = prefill(company(), CATALOG, [ANNUAL_REPORT], date(2026, 8, 3))
    [year] = [f for f in with_report_year(form, 2025).fields if f.name == "report_year"]
    assert (year.value, year.locked, year.provenance) == ("2025", True, "period")
    assert with_report_year(form, None) is form
    others = {f.name: f for f in form.fields if f.name != "report_year"}
    assert {f.name: f for f in with_report_year(form, 2025).fields if f.name != "report_year"} == others
