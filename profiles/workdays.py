"""Working days (工作日) for statutory time limits: counting and adding working days over the Chinese calendar.

Pure functions, no I/O. Public holidays and adjusted workdays (调休, weekend days that are worked) come from the
`chinese-calendar` library (import `chinese_calendar`), which ships one table per year as published by the General
Office of the State Council. `known_years()` is the range it covers (2004-2026 in version 1.11.0); outside it the
library raises NotImplementedError, which never leaks from here.

Counting conventions:

* `add_working_days(start, n)` is the nth working day after `start`; `start` itself is not counted. So a deadline
  that would land on a holiday or weekend moves to the next working day. `n == 0` gives `start` if it is a working
  day, else the next working day.
* `subtract_working_days(end, n)` is the nth working day before `end`; `end` is not counted. `n == 0` gives `end`
  if it is a working day, else the previous working day.
* `working_days_between(start, end)` counts the working days in (start, end]; 0 if `end <= start`.
* `n` must be >= 0 (ValueError otherwise).

Beyond the years the library knows (before 2004, or after its last year, e.g. deadlines running into next year
before the State Council publishes that year's arrangements):

* `strict=False` (the default) falls back to an approximation: Monday to Friday are working days, except the
  fixed-date statutory holidays of 全国年节及纪念日放假办法 (2024 revision, in force from 2025): New Year's Day
  (1 Jan), Labour Day (1-2 May) and National Day (1-3 Oct). The lunar-dated holidays -- Spring Festival (4 days
  including New Year's Eve), Qingming, Dragon Boat and Mid-Autumn -- cannot be placed without a lunar calendar and
  are NOT subtracted, and there are no 调休 days: no weekend day is ever a working day, and no bridging day around a
  holiday is off. Deadlines computed beyond the known years may therefore be a few days EARLY around those
  festivals (and around fixed holidays, whose 调休 arrangement is unknown). The fallback applies the 2025 rules to
  every unknown year, including years before 2004.
* `strict=True` raises `CalendarUnknown` (a ValueError) naming the year, as soon as any date that has to be
  examined lies outside `known_years()`.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import chinese_calendar
from chinese_calendar.constants import holidays as _LIBRARY_HOLIDAYS

_KNOWN_YEARS = range(min(_LIBRARY_HOLIDAYS).year, max(_LIBRARY_HOLIDAYS).year + 1)

# Fixed-date statutory holidays (month, day) used only beyond the known years.
FALLBACK_FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})

_ONE_DAY = timedelta(days=1)


class CalendarUnknown(ValueError):
    """A date outside the years the holiday calendar knows, while strict mode is on."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"No official holiday calendar for {year}; known years are {_KNOWN_YEARS.start}-{_KNOWN_YEARS.stop - 1}."
        )


def known_years() -> range:
    """The years for which the library has the official holidays and adjusted workdays."""
    return _KNOWN_YEARS


# The library validates its argument and looks through its tables on every call: 10 % of a prefill request's CPU
# (py-spy, full-district benchmark), since every decision date walks day by day. A day's answer never changes.
_official_workday = functools.lru_cache(maxsize=16_384)(chinese_calendar.is_workday)


def is_working_day(day: date, *, strict: bool = False) -> bool:
    """True if `day` is a working day: from the official calendar, or the documented fallback beyond it."""
    if day.year in _KNOWN_YEARS:
        return _official_workday(day)
    if strict:
        raise CalendarUnknown(day.year)
    return day.weekday() < 5 and (day.month, day.day) not in FALLBACK_FIXED_HOLIDAYS


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
