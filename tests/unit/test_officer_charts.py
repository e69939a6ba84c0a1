"""The dashboard's arithmetic: round axis ticks scaled to the data, the window of days it shows, its labels."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from web.pages.officer_charts import (
    DEFAULT_WINDOW,
    MIN_TOP,
    bars,
    chosen_window,
    label_step,
    stacked_columns,
    ticks,
    window_days,
)


@pytest.mark.parametrize(("top", "expected"), [
    (0, [0, 1, 2, 3, 4, 5]), (1, [0, 1, 2, 3, 4, 5]), (5, [0, 1, 2, 3, 4, 5]), (7, [0, 2, 4, 6, 8]),
    (10, [0, 2, 4, 6, 8, 10]), (23, [0, 5, 10, 15, 20, 25]), (99, [0, 20, 40, 60, 80, 100]),
    (130, [0, 50, 100, 150]), (1234, [0, 500, 1000, 1500]), (20_001, [0, 5000, 10000, 15000, 20000, 25000]),
])
def test_ticks_are_round_steps_from_zero_to_just_above_the_data(top, expected):
    assert ticks(top) == expected


@pytest.mark.parametrize("top", [1, 3, 6, 17, 48, 101, 777, 4321, 99_999])
def test_ticks_cover_the_data_with_at_most_one_step_to_spare_and_few_lines(top):
    found = ticks(top)
    step = found[1] - found[0]
    assert found[0] == 0 and found[-1] >= top and found[-1] - step < max(top, MIN_TOP)
    assert all(b - a == step for a, b in pairwise(found)) and 3 <= len(found) <= 7
    assert str(step).strip("0") in ("1", "2", "5")


def test_one_event_does_not_fill_the_chart():
    svg = stacked_columns("c", "t", "d", ["12-01", "12-02"], [("SMS", [0, 1])])
    assert ">5</text>" in svg and ">1</text>" in svg  # the axis runs to 5, the column is a fifth of it
    assert 'height="48.0"' in svg  # a fifth of the 240-unit plot


def test_the_axis_follows_the_biggest_day_not_a_fixed_scale():
    svg = stacked_columns("c", "t", "d", ["a", "b"], [("SMS", [30, 10]), ("inbox", [7, 0])])
    assert ">40</text>" in svg and ">50</text>" not in svg  # 37 on the biggest day: ticks of 10 up to 40
    assert ">40</text>" not in bars("b", "t", "d", [("x", 3)])  # bars: their own maximum


def test_the_window_is_the_last_days_up_to_today_oldest_first():
    days = window_days(date(2026, 3, 2), 7)
    assert days[0] == date(2026, 2, 24) and days[-1] == date(2026, 3, 2) and len(days) == 7
    assert all((b - a).days == 1 for a, b in pairwise(days))


@pytest.mark.parametrize(("raw", "days"), [("7", 7), ("30", 30), ("90", 90), (None, DEFAULT_WINDOW),
                                           ("", DEFAULT_WINDOW), ("3650", DEFAULT_WINDOW), ("x", DEFAULT_WINDOW),
                                           ("-7", DEFAULT_WINDOW)])
def test_the_window_is_one_the_form_offers(raw, days):
    assert chosen_window(raw) == days


def test_labels_under_the_columns_stay_few_and_the_newest_day_is_labelled():
    assert label_step(7) == 1 and label_step(14) == 2 and label_step(90) == 12
    svg = stacked_columns("c", "t", "d", [f"d{i}" for i in range(30)], [("SMS", [1] * 30)])
    assert ">d29</text>" in svg and svg.count('text-anchor="middle"') <= 8
