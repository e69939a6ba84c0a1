"""Bar charts drawn on the server as inline SVG, no JavaScript: stacked by day, or one bar per category; and the
pure arithmetic behind them (round axis ticks from the data, the window of days a dashboard shows). Each chart has
a <title> and <desc>; the page puts the same data in a table. (A record's relationship picture is laid out by
Graphviz: web/pages/officer_picture.py.)"""

from __future__ import annotations

import math
from datetime import date, timedelta

from markupsafe import Markup, escape

# Distinct at 3:1 or more against white (non-text contrast), told apart in the legend and the table as well.
# The legend shows them as the classes .swatch-0 … .swatch-7 of web/static/site.css: change both together.
PALETTE = ("#0b4f8a", "#1a6b35", "#8a5a00", "#a4161a", "#5b3f8c", "#006d75", "#4a5560", "#9c2f6b")
WINDOWS = (7, 14, 30, 90)  # the dashboard's choice of days, counted back from today
DEFAULT_WINDOW = 14
MIN_TOP = 5  # an axis never ends below 5: one event on a 0..1 axis would fill the chart and look like a flood
TICKS = 5  # about this many steps from 0 to the top


def colour(n: int) -> str:
    return PALETTE[n % len(PALETTE)]


def ticks(top: int, steps: int = TICKS) -> list[int]:
    """Round axis ticks from 0 to at least `top`: whole steps of 1, 2 or 5 × a power of ten, about `steps` of
    them, ending at the first tick at or above the data's maximum (and never below MIN_TOP)."""
    top = max(top, MIN_TOP)
    raw = top / steps
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= raw)
    return list(range(0, math.ceil(top / step) * step + 1, step))


def window_days(today: date, days: int) -> list[date]:
    """The `days` days up to and including today, oldest first: the dashboard's columns, each shown (as zero when
    nothing happened), so a quiet day is visible and a long-gone first record does not stretch the chart."""
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def chosen_window(raw: str | None) -> int:
    """The window the supervisor chose (one of WINDOWS), else the default: a typed URL cannot ask for years."""
    try:
        days = int(raw or "")
    except ValueError:
        return DEFAULT_WINDOW
    return days if days in WINDOWS else DEFAULT_WINDOW


def label_step(count: int, labels: int = 8) -> int:
    """Label every n-th column so about `labels` labels fit under the chart without overlapping."""
    return max(1, math.ceil(count / labels))


def _head(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" xmlns="http://www.w3.org/2000/svg">',
            f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
            f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>']


def stacked_columns(chart_id: str, title: str, desc: str, categories: list[str],
                    series: list[tuple[str, list[int]]], shades: list[int] | None = None) -> Markup:
    """One column per category (e.g. a day), its series stacked, on an axis of round ticks; series n in palette
    colour shades[n] (a meaning kept across charts: failures red), else in palette order."""
    shades = shades or list(range(len(series)))
    width, height, left, right, top, bottom = 720, 300, 44, 10, 14, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    axis = ticks(max(totals, default=0))
    ceiling = axis[-1]
    out = _head(chart_id, title, desc, width, height)
    for tick in axis:
        y = top + plot_h - plot_h * tick / ceiling
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c9d1d9"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#1b1f24">'
                   f'{tick}</text>')
    slot = plot_w / max(len(categories), 1)
    bar = max(min(slot * 0.7, 48), 1)
    every = label_step(len(categories))
    for i, category in enumerate(categories):
        x, base = left + i * slot + (slot - bar) / 2, top + plot_h
        for n, (name, values) in enumerate(series):
            if not values[i]:
                continue
            h = plot_h * values[i] / ceiling
            base -= h
            out.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                       f'fill="{colour(shades[n])}">'
                       f'<title>{escape(category)} · {escape(name)}: {values[i]}</title></rect>')
        if (len(categories) - 1 - i) % every == 0:  # counted from today, so the newest day is always labelled
            out.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="12" '
                       f'fill="#1b1f24">{escape(category)}</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#4a5560"/>')
    out.append("</svg>")
    return Markup("".join(out))


def bars(chart_id: str, title: str, desc: str, rows: list[tuple[str, int]]) -> Markup:
    """One horizontal bar per row, its label above it and its value at its end (labels of any length fit)."""
    width, row_h, top = 720, 42, 8
    height = top + row_h * max(len(rows), 1) + 8
    ceiling = ticks(max((v for _, v in rows), default=0))[-1]
    out = _head(chart_id, title, desc, width, height)
    for i, (name, value) in enumerate(rows):
        y = top + i * row_h
        w = (width - 70) * value / ceiling
        out.append(f'<text x="0" y="{y + 13}" font-size="13" fill="#1b1f24">{escape(name)}</text>'
                   f'<rect x="0" y="{y + 18}" width="{max(w, 1):.1f}" height="14" fill="{colour(0)}"/>'
                   f'<text x="{w + 6:.1f}" y="{y + 30}" font-size="13" fill="#1b1f24">{value}</text>')
    out.append("</svg>")
    return Markup("".join(out))
