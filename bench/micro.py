"""`python -m bench.micro`: before/after of two hot spots the full-district profile found, in one process, alternating
rounds (so both sides see the same noise): the working-day cache and Jinja2's auto_reload for SMS templates.

"Before" is the code as it was, put back for the round: chinese-calendar asked for every day, and Jinja2 checking
each template file's mtime on every render.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

import chinese_calendar

from notifier import templates
from notifier.templates import Reminder, render
from profiles import workdays
from profiles.applications import decide_by

ROUNDS, CALLS = 5, 2000
DAYS = [date(2026, 1, 1) + timedelta(days=i % 300) for i in range(CALLS)]
REMINDER = Reminder(kind="reminder", service_zh="居民身份证有效期满换领", service_en="ID card renewal",
                    due_on=date(2026, 12, 22), days_left=30, bring=(("户口簿", "household register"),),
                    link="http://127.0.0.1:8000/n/0123456789abcdef01")


def per_call_us(fn: Callable[[int], object]) -> float:
    started = time.perf_counter()
    for i in range(CALLS):
        fn(i)
    return (time.perf_counter() - started) / CALLS * 1e6


def main() -> None:
    cached = workdays._official_workday
    out: dict[str, list[float]] = {name: [] for name in (
        "decide_by(day, 20), before", "decide_by(day, 20), after", "SMS render, before", "SMS render, after")}
    for _ in range(ROUNDS):
        workdays._official_workday = chinese_calendar.is_workday
        out["decide_by(day, 20), before"].append(per_call_us(lambda i: decide_by(DAYS[i], 20)))
        workdays._official_workday = cached
        out["decide_by(day, 20), after"].append(per_call_us(lambda i: decide_by(DAYS[i], 20)))
        templates._environment().auto_reload = True
        out["SMS render, before"].append(per_call_us(lambda _i: render("sms", "zh-CN", REMINDER)))
        templates._environment().auto_reload = False
        out["SMS render, after"].append(per_call_us(lambda _i: render("sms", "zh-CN", REMINDER)))
    for name, values in out.items():
        print(f"{name}: median {statistics.median(values):.1f} µs per call "
              f"(min {min(values):.1f}, max {max(values):.1f}; {ROUNDS} rounds of {CALLS})")


if __name__ == "__main__":
    main()
