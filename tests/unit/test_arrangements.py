"""The holiday arrangements on file (profiles/calendar/): the format, and each way a file is refused, naming it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from profiles.arrangements import DEFAULT_DIR, ArrangementError, load_arrangements, read_arrangement

SOURCE = "source: {title: 2027 notice (TEST DATA), number: UNVERIFIED, url: UNVERIFIED}\n"


def write(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def refused(folder: Path) -> list[str]:
    with pytest.raises(ArrangementError) as caught:
        load_arrangements(folder)
    assert all(p in str(caught.value) for p in caught.value.problems)
    return caught.value.problems


def test_the_shipped_example_is_the_2026_notice_day_by_day():
    example = read_arrangement(DEFAULT_DIR / "example-2026.yaml")
    assert example is not None and example.year == 2026
    assert example.source.title == "国务院办公厅关于2026年部分节假日安排的通知"
    day = date(2026, 1, 1)
    while day.year == 2026:
        worked = day in example.workdays or (day.weekday() < 5 and day not in example.holidays)
        assert worked is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_the_shipped_folder_has_no_active_arrangement_and_loads():
    """No notice is invented: the folder holds only the example until an operator adds a published one."""
    assert load_arrangements() == {}
    assert sorted(p.name for p in DEFAULT_DIR.iterdir()) == ["example-2026.yaml"]


def test_a_year_file_loads_with_days_and_ranges(tmp_path):
    write(tmp_path, "2027.yaml", "year: 2027\n" + SOURCE +
          "holidays: [2027-01-01, 2027-02-05..2027-02-07, '2027-10-01']\nworkdays: [2027-02-20]\n")
    write(tmp_path, "example-2028.yaml", "not: read")
    (found,) = load_arrangements(tmp_path).values()
    assert found.year == 2027 and found.file == "2027.yaml" and found.source.number == "UNVERIFIED"
    assert found.holidays == {date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7),
                              date(2027, 10, 1)}
    assert found.workdays == {date(2027, 2, 20)}


def test_a_missing_folder_is_no_arrangement(tmp_path):
    assert load_arrangements(tmp_path / "nothing") == {}


@pytest.mark.parametrize(("text", "field", "reason"), [
    ("year: 2027\n" + SOURCE + "holidays: [2026-12-31]\nworkdays: []\n", "holidays[0]", "not in 2027"),
    ("year: 2027\n" + SOURCE + "holidays: [2027-12-31..2028-01-02]\n", "holidays[0]", "not in 2027"),
    ("year: 2027\n" + SOURCE + "holidays: [2027-01-01]\nworkdays: [2028-01-08]\n", "workdays[0]", "not in 2027"),
    ("year: 2027\n" + SOURCE + "holidays: [2027-02-05..2027-02-07]\nworkdays: [2027-02-06]\n",
     "holidays/workdays", "2027-02-06 is both a day off and a workday"),
    ("year: 2027\n" + SOURCE + "holidays: [2027-01-01]\nworkdays: [2027-02-03]\n", "workdays",
     "2027-02-03 is a Wednesday, already a working day"),
    ("year: 2027\nholidays: [2027-01-01]\n", "source", "missing: cite the State Council notice"),
    ("year: 2027\nsource: {title: 通知, number: UNVERIFIED}\nholidays: [2027-01-01]\n", "source.url",
     "missing: the notice's url (or UNVERIFIED)"),
    ("year: 2027\nsource: {number: X, url: UNVERIFIED}\nholidays: [2027-01-01]\n", "source.title", "missing"),
    ("year: 2027\nsource: {title: T, number: X, url: gov.cn}\nholidays: [2027-01-01]\n", "source.url",
     "is not a web address"),
    ("year: 2027\n" + SOURCE + "holidays: []\n", "holidays", "must be a list of dates"),
    ("year: 2027\n" + SOURCE + "holidays: [2027-02-30]\n", "holidays[0]", "is not a date"),
    ("year: 2027\n" + SOURCE + "holidays: [2027-02-07..2027-02-05]\n", "holidays[0]", "ends (2027-02-05) before"),
    ("year: 2028\n" + SOURCE + "holidays: [2028-01-01]\n", "year", "2028 does not match the file name (2027)"),
    ("year: twenty\n" + SOURCE + "holidays: [2027-01-01]\n", "year", "missing or not a year"),
    ("year: 2027\n" + SOURCE + "holidays: [2027-01-01]\nworkday: [2027-02-20]\n", "workday", "unknown key"),
    ("year: 2027\nsource: {title: T, number: X, url: UNVERIFIED, published_on: 2026-11-31}\nholidays: [2027-01-01]\n",
     "source.published_on", "is not a date"),
])
def test_a_broken_file_is_refused_naming_the_file_and_field(tmp_path, text, field, reason):
    problems = refused(write(tmp_path, "2027.yaml", text))
    assert any(p.startswith(f"2027.yaml: {field}: ") and reason in p for p in problems), problems


def test_every_problem_of_every_file_is_reported(tmp_path):
    write(tmp_path, "2027.yaml", "year: 2027\nholidays: [2026-01-01]\n")
    write(tmp_path, "2028.yml", "year: 2028\n")
    write(tmp_path, "2029.yaml", "- just a list\n")
    write(tmp_path, "2030.yaml", "year: 2030\n" + SOURCE.replace("2027", "2030") + "holidays: [2030-01-01\n")
    problems = refused(tmp_path)
    assert any(p.startswith("2027.yaml: source: ") for p in problems)
    assert any(p.startswith("2027.yaml: holidays[0]: ") for p in problems)
    assert any(p.startswith("2028.yml: the file name must be the year") for p in problems)
    assert any(p.startswith("2029.yaml: must be a mapping") for p in problems)
    assert any(p.startswith("2030.yaml: cannot be read") for p in problems)


def test_reading_one_file_raises_its_problems(tmp_path):
    write(tmp_path, "2027.yaml", "year: 2027\n" + SOURCE + "holidays: [2026-12-31]\n")
    with pytest.raises(ArrangementError, match=r"2027\.yaml: holidays\[0\]: 2026-12-31 is not in 2027"):
        read_arrangement(tmp_path / "2027.yaml")
