"""Applications (办件) against their statutory time limit: the decision date in working days and the card shown.

A yellow card when the share of the limit already used reaches `yellow_at` (80 % by default), red once the decision
date has passed without a decision. Working days follow the Chinese calendar with adjusted workdays (profiles.workdays).
"""

from __future__ import annotations

from datetime import date

from profiles.workdays import add_working_days, working_days_between

YELLOW_AT = 0.8


def decide_by(submitted_on: date, time_limit_days: int) -> date:
    """The last day of the limit: the n-th working day after the day of submission."""
    return add_working_days(submitted_on, time_limit_days)


def card(submitted_on: date, time_limit_days: int, as_of: date, *, decided: bool = False,
         yellow_at: float = YELLOW_AT) -> str:
    if decided:
        return "none"
    if as_of > decide_by(submitted_on, time_limit_days):
        return "red"
    used = working_days_between(submitted_on, as_of)
    return "yellow" if used >= yellow_at * time_limit_days else "none"
