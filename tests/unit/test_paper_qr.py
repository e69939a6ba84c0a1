"""The QR code on the paper the applicant signs (web/pages/officer_paper.py): inline SVG the CSP allows (no style
attribute or element), with a text alternative, and encoding exactly the status URL — read back module by module
from the SVG path and compared with segno's own matrix for that URL."""

from __future__ import annotations

import re

import segno

from web.pages.officer_paper import qr_svg

URL = "https://lifecycle.example.gov.cn/me/p/5b0c1e52-8f55-4a4e-9d4b-0c7f0e1e2a11/applications/a-42"
BORDER = 4


def modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules (column, row) the path draws: segno writes horizontal runs, 'M x y' then 'h n' (dark) and
    'm dx dy' (a move), relative after the first, each run on its row's centre line (y + .5)."""
    [path] = re.findall(r'\sd="([^"]+)"', svg)
    x = y = 0.0
    dark = set()
    for op, args in re.findall(r"([MmHh])([^MmHh]*)", path):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif op == "h":
            dark |= {(int(x) + i, int(y - .5)) for i in range(int(numbers[0]))}
            x += numbers[0]
    return {(c - BORDER, r - BORDER) for c, r in dark}


def test_the_qr_svg_has_no_style_and_a_text_alternative():
    svg = str(qr_svg(URL, 'QR code: "follow" <it>'))
    assert "style" not in svg.lower()
    assert svg.startswith('<svg role="img" aria-label="QR code: &#34;follow&#34; &lt;it&gt;"') or \
        svg.startswith('<svg role="img" aria-label="QR code: &quot;follow&quot; &lt;it&gt;"')
    assert "<title>" in svg and "<script" not in svg and "viewBox" in svg and ' width="' not in svg.split(">")[0]


def test_the_qr_code_encodes_the_status_url():
    expected = segno.make(URL, error="m", micro=False)
    want = {(c, r) for r, row in enumerate(expected.matrix) for c, bit in enumerate(row) if bit}
    assert modules(str(qr_svg(URL, "x"))) == want
    other = segno.make(URL + "x", error="m", micro=False)
    assert {(c, r) for r, row in enumerate(other.matrix) for c, bit in enumerate(row) if bit} != want
