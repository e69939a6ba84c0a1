"""Working days: official holidays and 调休 from chinese-calendar, deadlines, and the fallback beyond known years."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.workdays import (
    CalendarUnknown,
    add_working_days,
    is_working_day,
    known_years,
    subtract_working_days,
    use_arrangements,
    working_days_between,
)


@pytest.fixture(autouse=True, scope="module")
def nothing_on_file():
    """chinese-calendar's years and the estimate beyond them, whatever profiles/calendar/ holds (a file for the year
    after the library's would extend known_years()); tests/unit/test_workdays_beyond.py has the files."""
    use_arrangements({})
    yield
    use_arrangements(None)

FIRST, LAST = known_years().start, known_years().stop - 1
BEYOND = 2030  # a year the library does not know (asserted below)
# Away from the edges of the known range, so walking up to 60 working days never leaves it.
INNER = st.dates(min_value=date(FIRST, 1, 1) + timedelta(days=120), max_value=date(LAST, 12, 31) - timedelta(days=120))
KNOWN = st.dates(min_value=date(FIRST, 1, 1), max_value=date(LAST, 12, 31))


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_known_years_match_the_library_and_include_2025() -> None:
    assert known_years() == range(2004, LAST + 1)
    assert 2025 in known_years()
    assert BEYOND not in known_years()
    with pytest.raises(NotImplementedError):  # what the library itself does beyond its years
        chinese_calendar.is_workday(date(LAST + 1, 3, 3))


def test_every_known_day_agrees_with_the_library() -> None:
    for day in days(date(FIRST, 1, 1), date(LAST, 12, 31)):
        assert is_working_day(day, strict=True) is chinese_calendar.is_workday(day), day


def test_national_day_2025() -> None:
    assert all(not is_working_day(d) for d in days(date(2025, 10, 1), date(2025, 10, 8)))
    assert is_working_day(date(2025, 9, 28))  # Sunday, adjusted workday
    assert is_working_day(date(2025, 10, 11))  # Saturday, adjusted workday
    assert is_working_day(date(2025, 10, 9))
    assert not is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # (26 Sep, 12 Oct]: 28 Sep (Sun), 29, 30 Sep, 9, 10, 11 Oct (Sat).
    assert working_days_between(date(2025, 9, 26), date(2025, 10, 12)) == 6
    assert len(chinese_calendar.get_workdays(date(2025, 9, 27), date(2025, 10, 12))) == 6
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 11)) == 3  # 9, 10, 11 Oct


def test_spring_festival_2025() -> None:
    assert all(not is_working_day(d) for d in days(date(2025, 1, 28), date(2025, 2, 4)))
    assert is_working_day(date(2025, 1, 26))  # Sunday, adjusted workday
    assert is_working_day(date(2025, 2, 8))  # Saturday, adjusted workday
    assert is_working_day(date(2025, 1, 27)) and is_working_day(date(2025, 2, 5))


def test_deadline_landing_on_a_holiday_moves_to_the_next_working_day() -> None:
    # 1 working day after Monday 27 Jan 2025 would be the Eve (28 Jan): the holiday runs to 4 Feb.
    assert add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 9)  # n == 0 snaps forward
    assert add_working_days(date(2025, 10, 9), 0) == date(2025, 10, 9)
    assert subtract_working_days(date(2025, 10, 5), 0) == date(2025, 9, 30)  # and backwards


def test_an_adjusted_saturday_counts_as_a_working_day() -> None:
    assert date(2025, 2, 8).weekday() == 5
    assert add_working_days(date(2025, 2, 7), 1) == date(2025, 2, 8)
    assert working_days_between(date(2025, 2, 7), date(2025, 2, 9)) == 1
    assert subtract_working_days(date(2025, 2, 10), 1) == date(2025, 2, 8)
    assert add_working_days(date(2025, 10, 10), 1) == date(2025, 10, 11)


def test_twenty_working_days_from_before_spring_festival_2025() -> None:
    # 21-24 Jan, 26 Jan (Sun), 27 Jan, then 5-8 Feb (8 Feb a Saturday), 10-14 Feb, 17-21 Feb.
    start = date(2025, 1, 20)
    assert add_working_days(start, 20) == date(2025, 2, 21)
    assert chinese_calendar.find_workday(20, start) == date(2025, 2, 21)
    assert working_days_between(start, date(2025, 2, 21)) == 20
    assert subtract_working_days(date(2025, 2, 21), 20) == start


@pytest.mark.skipif(2026 not in known_years(), reason="the installed chinese-calendar does not know 2026")
def test_spring_festival_2026() -> None:
    assert all(not is_working_day(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert is_working_day(date(2026, 2, 14))  # Saturday, adjusted workday
    assert is_working_day(date(2026, 2, 28))  # Saturday, adjusted workday
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


@given(KNOWN, st.integers(min_value=0, max_value=60))
def test_subtract_undoes_add(day: date, n: int) -> None:
    end = add_working_days(day, n)
    back = subtract_working_days(end, n)
    assert is_working_day(end)
    if n:
        assert back <= day
        assert working_days_between(day, end) == n
    else:  # n == 0 only snaps forward onto a working day, which undoing cannot move back before
        assert back == end >= day
        assert working_days_between(day, end) == (0 if is_working_day(day) else 1)
    assert working_days_between(back, end) == n


@given(INNER, st.integers(min_value=1, max_value=60))
def test_agrees_with_the_library_find_workday(day: date, n: int) -> None:
    # find_workday first snaps a non-working day forward and counts from there; we count from the day itself.
    expected = chinese_calendar.find_workday(n, day)
    if is_working_day(day):
        assert add_working_days(day, n, strict=True) == expected
    assert add_working_days(add_working_days(day, 0), n, strict=True) == expected
    assert subtract_working_days(day, n, strict=True) == chinese_calendar.find_workday(-n, day)


def test_fallback_beyond_the_known_years() -> None:
    assert not is_working_day(date(BEYOND, 10, 1))  # a Tuesday: National Day
    assert not is_working_day(date(BEYOND, 10, 3))
    assert is_working_day(date(BEYOND, 10, 4))  # in reality likely still a holiday (调休): the estimate is early
    assert not is_working_day(date(BEYOND, 1, 1)) and not is_working_day(date(BEYOND, 5, 2))
    assert date(BEYOND, 3, 6).weekday() == 2 and is_working_day(date(BEYOND, 3, 6))  # a Wednesday in March
    assert date(BEYOND, 3, 9).weekday() == 5 and not is_working_day(date(BEYOND, 3, 9))  # a Saturday
    assert add_working_days(date(BEYOND, 9, 30), 1) == date(BEYOND, 10, 4)
    assert not is_working_day(date(2003, 10, 1))  # before the known years too


def test_walking_out_of_the_known_years_uses_the_fallback() -> None:
    start = date(LAST, 12, 31)
    after = add_working_days(start, 3)
    assert after.year == LAST + 1
    assert working_days_between(start, after) == 3


def test_strict_mode_raises_calendar_unknown_naming_the_year() -> None:
    with pytest.raises(CalendarUnknown, match=str(BEYOND)) as caught:
        is_working_day(date(BEYOND, 3, 6), strict=True)
    assert caught.value.year == BEYOND
    assert isinstance(caught.value, ValueError)
    with pytest.raises(CalendarUnknown, match=str(LAST + 1)):
        add_working_days(date(LAST, 12, 20), 30, strict=True)
    with pytest.raises(CalendarUnknown, match=str(FIRST - 1)):
        subtract_working_days(date(FIRST, 1, 10), 30, strict=True)
    with pytest.raises(CalendarUnknown):
        working_days_between(date(LAST, 12, 1), date(LAST + 1, 1, 5), strict=True)
    assert is_working_day(date(2025, 10, 11), strict=True)


def test_edge_cases() -> None:
    assert working_days_between(date(2025, 10, 9), date(2025, 10, 9)) == 0
    assert working_days_between(date(2025, 10, 10), date(2025, 10, 9)) == 0
    with pytest.raises(ValueError):
        add_working_days(date(2025, 10, 9), -1)
    with pytest.raises(ValueError):
        subtract_working_days(date(2025, 10, 9), -1)
