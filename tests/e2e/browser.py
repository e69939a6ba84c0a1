"""Browser-test harness: the app served over real HTTP (werkzeug, threaded) wired to the in-process SMS sandbox,
driven by Debian's Chromium through Playwright; full-page screenshots saved as test artifacts."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from graph.processes import free_port
from notifier.sandbox import Sandbox
from profiles.config import PROJECT_ROOT
from tests.e2e.pagecheck import page_problems
from tests.integration.pages_helpers import OFFICER_PASSWORD, SID, TOKEN, pages_app, send_codes

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Where screenshots land; CI keeps this folder as the run's artifacts.
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", PROJECT_ROOT / "var" / "test-artifacts")) / "screenshots"
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}


@dataclass
class Site:
    base: str
    app: object
    sandbox: Sandbox

    @property
    def services(self):
        return self.app.extensions["lifecycle"]

    def code_for(self, phone: str) -> str:
        """The newest login code the sandbox received for this phone (after running the queued code jobs, as the
        worker would)."""
        send_codes(self.app)
        bodies = [m["body"] for m in self.sandbox.messages(to=phone)]
        assert bodies, f"no SMS reached {phone}"
        return re.search(r"(\d{6})", bodies[-1]).group(1)


@pytest.fixture(scope="session")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install chromium "
                    "fonts-noto-cjk; `make test` installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield WatchedBrowser(browser)
        browser.close()


def officer_signed_in(chromium, site: Site, username: str = "window1", viewport=DESKTOP_VIEWPORT):
    """A new browser context with an officer signed in (the sign-in page in Chinese), on "Find a record"."""
    page = chromium.new_context(viewport=viewport, locale="zh-CN").new_page()
    page.goto(site.base + "/officer/login")
    page.get_by_label(re.compile("用户名")).fill(username)
    page.get_by_label(re.compile("^密码")).fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/officer$"))
    return page


def open_record(page, number: str, purpose: str, path: str = r"/officer/(persons|entities)/[^/]+") -> None:
    """On "Find a record": look a number up with a typed purpose and wait for the profile (at `path`, a pattern)."""
    page.locator("#f-number").fill(number)
    page.locator("#f-purpose").fill(purpose)
    page.get_by_role("button", name=re.compile("打开|Open")).click()
    page.wait_for_url(re.compile(path + "$"))


# Every page records what its Content-Security-Policy blocked (an inline style or script, a foreign source), and
# `screenshot` fails on any: the pages must work under the policy they are served with.
_CSP_WATCH = """window.__cspBlocked = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspBlocked.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile));"""


class WatchedBrowser:
    """The browser, whose contexts watch every page for Content-Security-Policy violations."""

    def __init__(self, browser):
        self.browser = browser

    def new_context(self, **kwargs):
        context = self.browser.new_context(**kwargs)
        context.add_init_script(_CSP_WATCH)
        return context


@contextmanager
def served(live_environ, **config) -> Iterator[Site]:
    """The app (with `config` on top of the test defaults) served on a free loopback port, with its SMS sandbox."""
    sandbox = Sandbox("127.0.0.1", 0, SID, TOKEN, callback_delay_ms=0).start()
    port = free_port()
    app = pages_app(live_environ, sandbox.url, PUBLIC_URL=f"http://127.0.0.1:{port}", QUIET_HOURS="00:00-00:00",
                    **config)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Site(f"http://127.0.0.1:{port}", app, sandbox)
    finally:
        server.shutdown()
        app.extensions["lifecycle"].close()
        sandbox.stop()


@pytest.fixture
def site(live_environ, clean) -> Iterator[Site]:
    with served(live_environ) as served_site:
        yield served_site


# What a screen reader and a keyboard need, checked on every page a browser test photographs: a language, one h1,
# every visible control with a label, every image-like SVG with a title, no sideways scrolling on a phone.
_ACCESSIBILITY = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    if (!named) problems.push("unlabelled " + el.outerHTML.slice(0, 80));
  }
  for (const svg of document.querySelectorAll("svg[role=img]")) {
    if (!svg.querySelector("title") && !svg.getAttribute("aria-label")) problems.push("svg without a title");
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) problems.push("page scrolls sideways");
  return problems;
}"""


# The README shows these photographs; `make screenshots` runs the browser tests with README_SCREENSHOTS=1, which
# writes them to docs/screenshots as well (a normal run leaves the tree alone).
README_SHOTS = {"every-citizen-citizen-home-1.zh-CN.390", "every-officer-officer-profile-1.zh-CN.1280"}
README_DIR = PROJECT_ROOT / "docs" / "screenshots"


def screenshot(page, name: str) -> Path:
    problems = page.evaluate(_ACCESSIBILITY) + page.evaluate("window.__cspBlocked || []") + page_problems(page)
    assert not problems, f"{name}: {problems}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if name in README_SHOTS and os.environ.get("README_SCREENSHOTS") == "1":
        README_DIR.mkdir(parents=True, exist_ok=True)
        (README_DIR / path.name).write_bytes(path.read_bytes())
    return path
