"""What every page must pass in the browser, at whatever width the test opened it: nothing wider than the viewport
(outside a frame that shows it scrolls), no content clipped without a cue, and axe-core (from npm, run inside the
page) reporting no serious or critical violation. `browser.screenshot` runs these on every page it photographs."""

from __future__ import annotations

import json
from functools import cache

from profiles.config import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")

# An element may be wider than the viewport only inside a frame marked `.scroll-frame` that, when it scrolls, shows a
# `.scroll-cue` (a sentence saying it scrolls); the frame itself must fit. Content cut by overflow hidden/clip or
# by an ellipsis counts as clipped.
_WIDTH = """() => {
  const width = window.innerWidth, problems = [];
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "")
    + " «" + (el.innerText || el.textContent || "").trim().slice(0, 40) + "»";
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  for (const el of document.body.querySelectorAll("*")) {
    if (!visible(el) || el.closest(".visually-hidden, .skip")) continue;
    const frame = el.parentElement && el.parentElement.closest(".scroll-frame");
    if (frame) {
      const cue = frame.querySelector(".scroll-cue");
      const scrolls = frame.scrollWidth > frame.clientWidth + 1;
      if (scrolls && !(cue && visible(cue))) problems.push("scrolls without a visible cue: " + describe(frame));
      continue;
    }
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 || r.left < -1) problems.push("wider than the viewport: " + describe(el));
    const style = getComputedStyle(el);
    const cuts = ["hidden", "clip"].includes(style.overflowX) || style.textOverflow === "ellipsis";
    if (cuts && el.scrollWidth > el.clientWidth + 1 && !el.classList.contains("scroll-frame"))
      problems.push("content clipped: " + describe(el));
  }
  return [...new Set(problems)].slice(0, 12);
}"""


@cache
def _axe_source() -> str:
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `npm ci` in the project (make test does)")
    return AXE.read_text()


def too_wide(page) -> list[str]:
    """What on the page is wider than the viewport or clipped without a cue."""
    return page.evaluate(_WIDTH)


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())  # evaluated by the browser's debugger, so the page's CSP does not block it
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ["violations"]});
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
    return [f"{v['impact']} {v['id']}: {v['help']} at {json.dumps(v['nodes'], ensure_ascii=False)}"
            for v in result if v["impact"] in SEVERE]


def page_problems(page) -> list[str]:
    return too_wide(page) + axe_violations(page)
