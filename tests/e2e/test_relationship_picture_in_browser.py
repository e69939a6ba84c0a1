"""In a real browser: the officer's relationship picture of a family (two parents, three children, the father's
company) as Chromium renders Graphviz's SVG under the site's Content-Security-Policy: every label inside its box
with the browser's own fonts, at 1280 px and 390 px, and a box's link leading to the relative's purpose form with
the purpose carried over, then to the relative's profile."""

from __future__ import annotations

import re

from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, officer_signed_in, open_record, screenshot
from tests.integration.pages_helpers import make_officer
from tests.integration.test_pages_officer_picture import PURPOSE, family

# Each box and the extent of its text as drawn (getBBox: the browser's fonts, in the SVG's own units).
_BOXES = """() => [...document.querySelectorAll("#relations g.node")].map((g) => {
  const shape = g.querySelector("path, polygon, ellipse").getBBox();
  const texts = [...g.querySelectorAll("text")].map((t) => t.getBBox());
  return {shape: [shape.x, shape.y, shape.x + shape.width, shape.y + shape.height],
          text: [Math.min(...texts.map((t) => t.x)), Math.min(...texts.map((t) => t.y)),
                 Math.max(...texts.map((t) => t.x + t.width)), Math.max(...texts.map((t) => t.y + t.height))],
          label: [...g.querySelectorAll("text")].map((t) => t.textContent).join(" ")};
})"""


def test_the_picture_fits_its_labels_in_the_browser_and_a_box_opens_the_relative(site, chromium):
    svc = site.services
    father, _mother, children, _company = family(svc)
    make_officer(svc, "window1")
    for viewport, name in ((DESKTOP_VIEWPORT, "desktop"), (PHONE_VIEWPORT, "phone")):
        page = officer_signed_in(chromium, site, "window1", viewport)
        context = page.context
        open_record(page, father.id_number, PURPOSE, f"/officer/persons/{father.pid}")
        for language in ("zh-CN", "en"):
            if language == "en":
                page.get_by_role("link", name="English").click()
                page.wait_for_load_state()
            boxes = page.evaluate(_BOXES)
            assert len(boxes) == 8
            for box in boxes:  # the browser's text stays inside the box dot measured for it (half a unit of slack)
                (x1, y1, x2, y2), (tx1, ty1, tx2, ty2) = box["shape"], box["text"]
                assert x1 - 0.5 <= tx1 and tx2 <= x2 + 0.5 and y1 - 0.5 <= ty1 and ty2 <= y2 + 0.5, box
            screenshot(page, f"officer-relations-{name}.{language}")

        child = children[2]
        page.locator("#relations a", has_text=child.name).click()
        page.wait_for_url(re.compile(rf"/officer/persons/{child.pid}/open\?from=Person"))
        assert page.locator("#f-purpose").input_value() == PURPOSE  # carried over, to confirm
        page.get_by_role("button", name=re.compile("Open the record|打开档案")).click()
        page.wait_for_url(re.compile(rf"/officer/persons/{child.pid}$"))
        assert child.name in page.locator("h1").inner_text()
        context.close()
