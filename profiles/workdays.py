"""Working days (工作日) for statutory time limits: counting and adding working days over the Chinese calendar.

The counting is pure. A day's calendar comes, year by year, from the first of these that has the year:

1. `chinese-calendar` (import `chinese_calendar`): one table per year as published by the General Office of the State
   Council, public holidays and adjusted workdays (调休: weekend days that are worked) -- 2004-2026 in 1.11.0. Exact.
2. An official arrangement on file: `profiles/calendar/<year>.yaml`, the State Council's notice for a year the library
   does not know yet, copied in by an operator (profiles.arrangements; format in docs/CATALOG.md). Exact as copied.
   A file for a year the library knows is not used: the library wins.
3. `holidays` (python-holidays, the China calendar; 1950-2100): the statutory holidays by rule -- lunar ones included
   (Spring Festival with its Eve, Qingming, Dragon Boat, Mid-Autumn) -- and, for a holiday falling on a weekend, the
   next weekdays off, as the library places them; plus the adjusted workdays it has for that year, if any. For a
   year no notice has been published for, this is an APPROXIMATION: the State Council usually joins a holiday to the
   weekend (9 days at Spring Festival) and has weekend days worked instead (调休), which no rule predicts. Around
   those holidays a deadline may be a few days early or late. Measured on 2016-2026 as if no notice had been
   published (python-holidays without its per-year notice data, against chinese-calendar): 20 working days from each
   start day land on the right day for 85 % of start days and within 2 days for 98 %, at worst 4 days early or 7 late
   (the former fallback, fixed-date holidays only: 56 %, 84 %, up to 10 days early, a week early at Spring Festival).
4. Beyond python-holidays' years: Monday to Friday, except the fixed-date holidays of 全国年节及纪念日放假办法 (1 Jan,
   1-2 May, 1-3 Oct). A rough approximation; no deadline reaches these years in practice.

`known_years()` is the unbroken run of years with an official arrangement (1 or 2) from the library's first year:
2004-2026 with chinese-calendar 1.11.0, extended by a file for 2027, and so on. `years_without_arrangement(today)` is
what the health check, /metrics and the supervisors' dashboard warn about: this year, and from 1 October next year
too (`WARN_FROM`: the notice usually comes out in October-December), when neither 1 nor 2 has it.

The arrangements on file are read once per process, the first time a year beyond the library is examined
(`arrangements()`); the web app reads them at start so that a broken file stops it with the file and field named.
`use_arrangements()` installs others (tests). Counting conventions:

* `add_working_days(start, n)` is the nth working day after `start`; `start` itself is not counted. So a deadline
  that would land on a holiday or weekend moves to the next working day. `n == 0` gives `start` if it is a working
  day, else the next working day.
* `subtract_working_days(end, n)` is the nth working day before `end`; `end` is not counted. `n == 0` gives `end`
  if it is a working day, else the previous working day.
* `working_days_between(start, end)` counts the working days in (start, end]; 0 if `end <= start`.
* `n` must be >= 0 (ValueError otherwise).
* `strict=False` (the default) uses 3 and 4 where there is no official arrangement; `strict=True` raises
  `CalendarUnknown` (a ValueError) naming the year as soon as a date that has to be examined lies in a year
  without one (neither chinese-calendar nor a file).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, timedelta

import chinese_calendar
import holidays as python_holidays
from chinese_calendar.constants import holidays as _LIBRARY_HOLIDAYS

from profiles.arrangements import Arrangement, load_arrangements

_LIBRARY_YEARS = range(min(_LIBRARY_HOLIDAYS).year, max(_LIBRARY_HOLIDAYS).year + 1)
_PYTHON_HOLIDAYS_YEARS = range(python_holidays.China.start_year, python_holidays.China.end_year + 1)

# Fixed-date statutory holidays (month, day), used only beyond python-holidays' years.
FALLBACK_FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})
# From this day of the year on, next year's arrangement is expected on file (else: a warning).
WARN_FROM = (10, 1)

_ONE_DAY = timedelta(days=1)
_on_file: Mapping[int, Arrangement] | None = None  # None: not read yet


class CalendarUnknown(ValueError):
    """A date in a year without an official holiday arrangement, while strict mode is on."""

    def __init__(self, year: int) -> None:
        self.year = year
        known = known_years()
        super().__init__(f"No official holiday calendar for {year}; known years are {known.start}-{known.stop - 1}"
                         f" (add profiles/calendar/{year}.yaml when the State Council publishes it).")


def arrangements() -> Mapping[int, Arrangement]:
    """The official arrangements on file by year, read from profiles/calendar/ once per process."""
    global _on_file
    if _on_file is None:
        _on_file = load_arrangements()
    return _on_file


def use_arrangements(found: Mapping[int, Arrangement] | None) -> None:
    """Count with these arrangements from now on; None reads profiles/calendar/ again when next needed."""
    global _on_file
    _on_file = dict(found) if found is not None else None
    _estimated_year.cache_clear()


def is_official(year: int) -> bool:
    """True if `year` has an official arrangement: chinese-calendar's table or a file on record."""
    return year in _LIBRARY_YEARS or year in arrangements()


def known_years() -> range:
    """The unbroken run of years with an official arrangement, from chinese-calendar's first year."""
    last = _LIBRARY_YEARS.stop - 1
    while is_official(last + 1):
        last += 1
    return range(_LIBRARY_YEARS.start, last + 1)


def source_of(year: int) -> str:
    """Where `year`'s working days come from: chinese-calendar, file, python-holidays or weekdays (see above)."""
    if year in _LIBRARY_YEARS:
        return "chinese-calendar"
    if year in arrangements():
        return "file"
    return "python-holidays" if year in _PYTHON_HOLIDAYS_YEARS else "weekdays"


def years_without_arrangement(today: date) -> list[int]:
    """This year, and from `WARN_FROM` next year too, if it has no official arrangement: what to warn about."""
    years = [today.year] + ([today.year + 1] if (today.month, today.day) >= WARN_FROM else [])
    return [year for year in years if not is_official(year)]


# The library validates its argument and looks through its tables on every call: 10 % of a prefill request's CPU
# (py-spy, full-district benchmark), since every decision date walks day by day. A day's answer never changes.
_official_workday = functools.lru_cache(maxsize=16_384)(chinese_calendar.is_workday)


@functools.lru_cache(maxsize=256)
def _estimated_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, weekend days worked) of a year without an official arrangement: python-holidays, else fixed dates."""
    if year not in _PYTHON_HOLIDAYS_YEARS:
        return frozenset(date(year, m, d) for m, d in FALLBACK_FIXED_HOLIDAYS), frozenset()
    # The neighbouring years too: a notice may have a day of the next or previous year worked or off.
    china = python_holidays.China(years=range(year - 1, year + 2))
    off = frozenset(day for day in china if day.year == year)
    worked = frozenset(day for day in china.weekend_workdays if day.year == year)
    return off, worked


def _year(year: int, strict: bool) -> tuple[frozenset[date], frozenset[date]]:
    found = arrangements().get(year)
    if found is not None:
        return found.holidays, found.workdays
    if strict:
        raise CalendarUnknown(year)
    return _estimated_year(year)


def is_working_day(day: date, *, strict: bool = False) -> bool:
    """True if `day` is a working day: from the official calendar, or the documented estimate beyond it."""
    if day.year in _LIBRARY_YEARS:
        return _official_workday(day)
    off, worked = _year(day.year, strict)
    return day in worked or (day.weekday() < 5 and day not in off)


def _check_n(n: int) -> None:
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")


def _walk(day: date, n: int, step: timedelta, strict: bool) -> date:
    """Move by `step` until `n` working days have been passed (`day` not counted); n == 0 snaps onto a working day."""
    if n == 0:
        while not is_working_day(day, strict=strict):
            day += step
        return day
    while n:
        day += step
        if is_working_day(day, strict=strict):
            n -= 1
    return day


def add_working_days(start: date, n: int, *, strict: bool = False) -> date:
    """The nth working day after `start` (not counting `start`); n == 0: `start` or the next working day."""
    _check_n(n)
    return _walk(start, n, _ONE_DAY, strict)


def subtract_working_days(end: date, n: int, *, strict: bool = False) -> date:
    """The nth working day before `end` (not counting `end`); n == 0: `end` or the previous working day."""
    _check_n(n)
    return _walk(end, n, -_ONE_DAY, strict)


def working_days_between(start: date, end: date, *, strict: bool = False) -> int:
    """The number of working days in (start, end]; 0 if `end <= start`."""
    count, day = 0, start
    while day < end:
        day += _ONE_DAY
        count += is_working_day(day, strict=strict)
    return count
