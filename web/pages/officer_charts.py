"""Pictures drawn on the server as inline SVG, no JavaScript: bar charts (stacked by day, or one bar per category)
and a record's relationship picture. Each has a <title> and <desc>; the page puts the same data in a table or list."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

# Distinct at 3:1 or more against white (non-text contrast), told apart in the legend and the table as well.
# The legend shows them as the classes .swatch-0 … .swatch-7 of web/static/site.css: change both together.
PALETTE = ("#0b4f8a", "#1a6b35", "#8a5a00", "#a4161a", "#5b3f8c", "#006d75", "#4a5560", "#9c2f6b")
KIND_COLOURS = {"Person": "#0b4f8a", "Entity": "#1a6b35", "Material": "#8a5a00"}


def colour(n: int) -> str:
    return PALETTE[n % len(PALETTE)]


def _nice(top: int) -> int:
    """A round axis maximum at or above `top` (1, 2, 5 × a power of ten)."""
    if top <= 0:
        return 1
    power = 10 ** math.floor(math.log10(top))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= top)


def _head(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" xmlns="http://www.w3.org/2000/svg">',
            f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
            f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>']


def stacked_columns(chart_id: str, title: str, desc: str, categories: list[str],
                    series: list[tuple[str, list[int]]], label_every: int = 5) -> Markup:
    """One column per category (e.g. a day), its series stacked in palette order; an axis with 0, half and top."""
    width, height, left, right, top, bottom = 720, 300, 44, 10, 14, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    ceiling = _nice(max(totals, default=0))
    out = _head(chart_id, title, desc, width, height)
    for tick in (0, ceiling // 2 if ceiling % 2 == 0 else None, ceiling):
        if tick is None:
            continue
        y = top + plot_h - plot_h * tick / ceiling
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c9d1d9"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#1b1f24">'
                   f'{tick}</text>')
    slot = plot_w / max(len(categories), 1)
    bar = max(slot * 0.7, 1)
    for i, category in enumerate(categories):
        x, base = left + i * slot + (slot - bar) / 2, top + plot_h
        for n, (name, values) in enumerate(series):
            if not values[i]:
                continue
            h = plot_h * values[i] / ceiling
            base -= h
            out.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour(n)}">'
                       f'<title>{escape(category)} · {escape(name)}: {values[i]}</title></rect>')
        if i % label_every == 0 or i == len(categories) - 1:
            out.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="12" '
                       f'fill="#1b1f24">{escape(category)}</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#4a5560"/>')
    out.append("</svg>")
    return Markup("".join(out))


def bars(chart_id: str, title: str, desc: str, rows: list[tuple[str, int]]) -> Markup:
    """One horizontal bar per row, its label above it and its value at its end (labels of any length fit)."""
    width, row_h, top = 720, 42, 8
    height = top + row_h * max(len(rows), 1) + 8
    ceiling = _nice(max((v for _, v in rows), default=0))
    out = _head(chart_id, title, desc, width, height)
    for i, (name, value) in enumerate(rows):
        y = top + i * row_h
        w = (width - 70) * value / ceiling
        out.append(f'<text x="0" y="{y + 13}" font-size="13" fill="#1b1f24">{escape(name)}</text>'
                   f'<rect x="0" y="{y + 18}" width="{max(w, 1):.1f}" height="14" fill="{colour(0)}"/>'
                   f'<text x="{w + 6:.1f}" y="{y + 30}" font-size="13" fill="#1b1f24">{value}</text>')
    out.append("</svg>")
    return Markup("".join(out))


@dataclass(frozen=True)
class Node:
    """Something drawn around the record: a person, an entity or a material, and the edge's label."""

    kind: str  # Person | Entity | Material
    name: str
    edge: str  # the relation, as the edge's label
    note: str = ""  # a second line (a material's status, a date)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def relationship_picture(chart_id: str, title: str, desc: str, centre: str, nodes: list[Node],
                         most: int = 16) -> Markup:
    """The record in the centre, up to `most` nodes on an ellipse around it, each edge labelled with its relation.
    Nodes beyond `most` are left out of the drawing (the list under it has them all)."""
    width, height = 720, 470
    cx, cy, rx, ry = width / 2, height / 2, 265, 172
    box_w, box_h = 150, 44
    shown = nodes[:most]
    out = _head(chart_id, title, desc, width, height)
    places = []
    for i in range(len(shown)):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(shown), 1)
        places.append((cx + rx * math.cos(angle), cy + ry * math.sin(angle)))
    for node, (x, y) in zip(shown, places, strict=True):  # edges first, so boxes sit on top of them
        mx, my = cx + (x - cx) * 0.55, cy + (y - cy) * 0.55
        out.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#6b7680" stroke-width="1.5"/>'
                   f'<text x="{mx:.1f}" y="{my:.1f}" text-anchor="middle" font-size="12" fill="#1b1f24" '
                   f'stroke="#fff" stroke-width="4" paint-order="stroke">{escape(_short(node.edge, 14))}</text>')
    for node, (x, y) in zip(shown, places, strict=True):
        stroke = KIND_COLOURS.get(node.kind, "#4a5560")
        dash = ' stroke-dasharray="5 3"' if node.kind == "Material" else ""
        out.append(f'<g><rect x="{x - box_w / 2:.1f}" y="{y - box_h / 2:.1f}" width="{box_w}" height="{box_h}" '
                   f'rx="6" fill="#fff" stroke="{stroke}" stroke-width="2"{dash}/>'
                   f'<text x="{x:.1f}" y="{y - 3 if node.note else y + 5:.1f}" text-anchor="middle" font-size="13" '
                   f'fill="#1b1f24">{escape(_short(node.name, 11))}</text>')
        if node.note:
            out.append(f'<text x="{x:.1f}" y="{y + 14:.1f}" text-anchor="middle" font-size="11" fill="#4a5560">'
                       f'{escape(_short(node.note, 18))}</text>')
        out.append("</g>")
    out.append(f'<rect x="{cx - 80}" y="{cy - 24}" width="160" height="48" rx="8" fill="#0b4f8a"/>'
               f'<text x="{cx}" y="{cy + 6}" text-anchor="middle" font-size="15" font-weight="700" fill="#fff">'
               f'{escape(_short(centre, 10))}</text>')
    out.append("</svg>")
    return Markup("".join(out))
