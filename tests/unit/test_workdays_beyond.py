"""Working days after chinese-calendar's last year: python-holidays' China calendar (Spring Festival 2027 included),
an official arrangement on file winning over it, strict mode and the warning about a year not on file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import holidays as python_holidays
import pytest

from profiles import workdays
from profiles.arrangements import load_arrangements
from profiles.workdays import (
    CalendarUnknown,
    add_working_days,
    is_working_day,
    known_years,
    source_of,
    subtract_working_days,
    use_arrangements,
    working_days_between,
    years_without_arrangement,
)

LIBRARY_LAST = max(chinese_calendar.constants.holidays).year


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def old_fallback(day: date) -> bool:
    """What the module did beyond the library's years before python-holidays: weekdays minus fixed-date holidays."""
    return day.weekday() < 5 and (day.month, day.day) not in {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


@pytest.fixture(autouse=True)
def nothing_on_file():
    """Whatever profiles/calendar/ holds, these tests start with no arrangement on file and put the folder back."""
    use_arrangements({})
    yield
    use_arrangements(None)


def write_2027(folder: Path, holidays: str, workdays_: str) -> Path:
    (folder / "2027.yaml").write_text(
        "year: 2027\n"
        "source: {title: 国务院办公厅关于2027年部分节假日安排的通知 (TEST DATA), number: UNVERIFIED, url: UNVERIFIED}\n"
        f"holidays: {holidays}\nworkdays: {workdays_}\n", encoding="utf-8")
    return folder


def test_2027_is_beyond_the_library_and_estimated_by_python_holidays():
    assert LIBRARY_LAST == 2026 and known_years() == range(2004, 2027)
    assert source_of(2026) == "chinese-calendar" and source_of(2027) == "python-holidays"
    assert source_of(2200) == "weekdays"


def test_spring_festival_2027_as_python_holidays_places_it():
    china = python_holidays.China(years=2027)
    # Eve Friday 5 Feb, New Year Saturday 6 Feb; the days falling on the weekend are given back on Tue 9 and Wed 10.
    off = [d for d in days(date(2027, 2, 1), date(2027, 2, 14)) if d in china]
    assert off == days(date(2027, 2, 5), date(2027, 2, 10))
    assert all(not is_working_day(d) for d in days(date(2027, 2, 5), date(2027, 2, 10)))
    assert is_working_day(date(2027, 2, 4)) and is_working_day(date(2027, 2, 11))


def test_a_deadline_across_spring_festival_2027_lands_after_the_holiday():
    start = date(2027, 1, 29)  # a Friday
    # 1-4 Feb, then the holiday (5-10 Feb), then Thursday 11 Feb.
    assert add_working_days(start, 5) == date(2027, 2, 11)
    assert working_days_between(start, date(2027, 2, 11)) == 5
    assert subtract_working_days(date(2027, 2, 11), 5) == start
    # 20 working days: 1-4 Feb, 11-12, 15-19, 22-26 Feb, 1-4 Mar.
    assert add_working_days(start, 20) == date(2027, 3, 4)


def test_the_old_fallback_was_almost_a_week_early_there():
    start, day, n = date(2027, 1, 29), date(2027, 1, 29), 5
    while n:
        day += timedelta(days=1)
        n -= old_fallback(day)
    assert day == date(2027, 2, 5)  # the Eve: six days before the real 5th working day
    assert (add_working_days(start, 5) - day).days == 6


def test_lunar_holidays_of_2027_are_off():
    china = python_holidays.China(years=2027)
    for name in ("Tomb-Sweeping Day", "Dragon Boat Festival", "Mid-Autumn Festival"):
        (day,) = china.get_named(name, lookup="exact")
        assert day.weekday() < 5 and not is_working_day(day), (name, day)
        assert old_fallback(day), name  # what the old fallback counted as a working day


@pytest.mark.parametrize("year", [2025, 2026])
def test_python_holidays_agrees_with_chinese_calendar_on_every_day(monkeypatch, year):
    """As if chinese-calendar stopped at 2024: the python-holidays path gives the official answer on every day."""
    monkeypatch.setattr(workdays, "_LIBRARY_YEARS", range(2004, 2025))
    assert source_of(year) == "python-holidays"
    for day in days(date(year, 1, 1), date(year, 12, 31)):
        assert is_working_day(day) is chinese_calendar.is_workday(day), day
    # adjusted workdays included: Sunday 28 Sep 2025 and Saturday 28 Feb 2026 are worked
    assert is_working_day(date(2025, 9, 28)) and is_working_day(date(2026, 2, 28))


def test_an_arrangement_on_file_wins_over_python_holidays(tmp_path):
    assert is_working_day(date(2027, 2, 11)) and not is_working_day(date(2027, 2, 13))  # python-holidays
    use_arrangements(load_arrangements(write_2027(tmp_path, "[2027-02-05..2027-02-12]", "[2027-02-13]")))
    assert source_of(2027) == "file" and known_years() == range(2004, 2028)
    assert not is_working_day(date(2027, 2, 11)) and not is_working_day(date(2027, 2, 12))
    assert is_working_day(date(2027, 2, 13))  # a Saturday the (test) notice has worked
    # The file is the whole truth for its year: days it does not list off are worked, whatever python-holidays says.
    assert is_working_day(date(2027, 10, 1)) and is_working_day(date(2027, 6, 9))  # National Day, Dragon Boat
    assert add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 13)
    assert add_working_days(date(2027, 2, 4), 1, strict=True) == date(2027, 2, 13)
    use_arrangements({})
    assert add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 11)


def test_strict_mode_accepts_a_year_on_file_and_names_the_year_without_one(tmp_path):
    with pytest.raises(CalendarUnknown, match="2027") as caught:
        add_working_days(date(2026, 12, 20), 30, strict=True)
    assert caught.value.year == 2027 and "profiles/calendar/2027.yaml" in str(caught.value)
    use_arrangements(load_arrangements(write_2027(tmp_path, "[2027-01-01]", "[]")))
    assert add_working_days(date(2026, 12, 30), 2, strict=True) == date(2027, 1, 4)
    with pytest.raises(CalendarUnknown, match="2028"):
        add_working_days(date(2027, 12, 20), 30, strict=True)


def test_the_warning_covers_this_year_and_from_october_the_next(tmp_path):
    assert years_without_arrangement(date(2026, 9, 30)) == []
    assert years_without_arrangement(date(2026, 10, 1)) == [2027]
    assert years_without_arrangement(date(2026, 12, 31)) == [2027]
    assert years_without_arrangement(date(2027, 3, 1)) == [2027]
    assert years_without_arrangement(date(2027, 11, 1)) == [2027, 2028]
    use_arrangements(load_arrangements(write_2027(tmp_path, "[2027-01-01]", "[]")))
    assert years_without_arrangement(date(2026, 12, 1)) == []
    assert years_without_arrangement(date(2027, 11, 1)) == [2028]


def test_the_folder_is_read_once_and_lazily(monkeypatch, tmp_path):
    reads = []

    def load():
        reads.append(1)
        return load_arrangements(write_2027(tmp_path, "[2027-02-05..2027-02-12]", "[2027-02-13]"))

    monkeypatch.setattr(workdays, "load_arrangements", load)
    use_arrangements(None)
    assert is_working_day(date(2026, 2, 28)) and reads == []  # a library year reads nothing
    assert is_working_day(date(2027, 2, 13)) and is_working_day(date(2027, 2, 13)) and reads == [1]


def test_years_beyond_python_holidays_keep_the_fixed_date_fallback():
    assert not is_working_day(date(2200, 1, 1)) and not is_working_day(date(2200, 10, 3))
    assert date(2200, 10, 6).weekday() == 0 and is_working_day(date(2200, 10, 6))
