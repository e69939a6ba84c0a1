"""Every page a person reaches, in a real browser at 390 px and 1280 px: a citizen (a parent), a business, a window
officer, a supervisor and an admin each sign in and follow every link they are shown, from their first page on,
and each page they land on must fit the screen, clip nothing without a cue and pass axe-core with no serious or
critical violation (tests/e2e/pagecheck.py, through `screenshot`), in Chinese at both widths and in English on the
phone. A last check compares the pages visited with the app's page routes, so a new page is walked or named here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote, urlsplit

from notifier.scan import start_scan
from notifier.services import install
from profiles.models import Actor, Relation
from tests.e2e.browser import DESKTOP_VIEWPORT, PHONE_VIEWPORT, officer_signed_in, open_record, screenshot
from tests.e2e.test_pages_in_browser import hukou, local_today, newborn_family, sign_in
from tests.integration.notify_helpers import at, material, notices, run_jobs
from tests.integration.pages_helpers import make_entity, make_officer, make_person
from web.usecases.accounts import create_api_key
from web.usecases.applications import decide, file_application
from web.usecases.subjects import SubjectRef

PARENT_PHONE = "+8613812340102"  # newborn_family's father
REP_PHONE = "+8613812340301"
MOST_PER_ROUTE = 2  # pages of one route (two applications, two relatives) walked; the rest look the same
# Links not followed: they act (sign out, switch language) or leave the pages (files, the API, the JSON health).
SKIP = re.compile(r"^/(logout|lang/|static/|api/|healthz|metrics|webhooks/)")
# Routes that answer something other than a page.
NOT_PAGES = {"login.favicon": "the icon file", "login.session_left": "JSON for the session warning (session.js)",
             "officer.api_keys": "a redirect to the admin page (walked)"}
# Page routes no link leads to, each with where it is walked instead.
WALKED_ELSEWHERE = {
    "login.code": "the sign-in itself (sign_in), and tests/e2e/test_sign_in_in_browser.py",
    "links.notice_link": "the SMS link: tests/e2e/test_sign_in_in_browser.py",
    "officer.attach_id_number": "a newborn without an ID number: tests/e2e/test_officer_forms_in_browser.py",
    "citizen.resubmit": "a form's POST target: tests/e2e/test_matter_in_browser.py",
    "enterprise.resubmit": "a form's POST target: tests/e2e/test_enterprise_late_report.py",
}


@dataclass
class Walk:
    """What one signed-in visitor saw: each path once, at most MOST_PER_ROUTE per route."""
    site: object
    page: object
    who: str
    seen: dict[str, str] = field(default_factory=dict)  # path → endpoint
    per_route: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # every page's, so one run lists them all

    def endpoint(self, path: str) -> str | None:
        adapter = self.site.app.url_map.bind("127.0.0.1")
        try:
            return adapter.match(path, method="GET")[0]
        except Exception:  # a 404, a redirect rule or a POST-only route: not a page to walk
            return None

    def links(self) -> list[str]:
        hrefs = self.page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        paths = []
        for href in hrefs:
            parts = urlsplit(href)
            if parts.netloc and parts.netloc != urlsplit(self.site.base).netloc:
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path and path.startswith("/") and not SKIP.match(path):
                paths.append(path)
        return paths

    def check(self, path: str, name: str) -> None:
        """The page at both widths in Chinese, then on the phone in English; back to Chinese."""
        for viewport, suffix in ((PHONE_VIEWPORT, "390"), (DESKTOP_VIEWPORT, "1280")):
            self.page.set_viewport_size(viewport)
            response = self.page.goto(self.site.base + path)
            if response.status >= 400:
                self.problems.append(f"{self.who} {path}: HTTP {response.status}")
            self.photograph(f"{name}.zh-CN.{suffix}")
        self.page.set_viewport_size(PHONE_VIEWPORT)
        self.page.goto(f"{self.site.base}/lang/en?next={quote(path)}")
        self.photograph(f"{name}.en.390")
        self.page.goto(f"{self.site.base}/lang/zh_CN?next={quote(path)}")

    def photograph(self, name: str) -> None:
        try:
            screenshot(self.page, name)
        except AssertionError as problem:
            self.problems.append(f"{self.page.url}: {problem}")

    def walk(self, start: str, most: int = 40) -> None:
        queue = [start]
        while queue and len(self.seen) < most:
            path = queue.pop(0)
            endpoint = self.endpoint(path.split("?")[0])
            if path in self.seen or endpoint is None or self.per_route.get(endpoint, 0) >= MOST_PER_ROUTE:
                continue
            self.seen[path] = endpoint
            self.per_route[endpoint] = self.per_route.get(endpoint, 0) + 1
            self.check(path, f"every-{self.who}-{endpoint.replace('.', '-')}-{self.per_route[endpoint]}")
            queue.extend(p for p in self.links() if p not in self.seen)


def a_district(svc, today: date):
    """A family with a newborn, the father's ID card running out, a company he represents, filings made by the
    scan's reminders (drafts) and one at the window."""
    father, mother, baby = newborn_family(svc, today)
    id_card = material(svc, father.pid, "id_card", today + timedelta(days=30))
    elder = make_person(svc, name="陈大明", born=date(2019, 5, 4))
    svc.subjects.relate(Relation(father.pid, elder.pid, "PARENT_OF"))
    svc.subjects.relate(Relation(mother.pid, elder.pid, "PARENT_OF"))
    hukou(svc, elder.pid)
    rep = make_person(svc, name="黄老板", phone=REP_PHONE)
    company = make_entity(svc, legal_rep=rep, established=date(today.year - 5, 3, 1))
    # No annual report since it was set up: last year's is overdue (the late report) and this year's comes up.
    for username, role, name in (("window1", "officer", "李窗口"), ("lead1", "supervisor", "王主管"),
                                 ("root1", "admin", "赵管理")):
        make_officer(svc, username, name=name, role=role)
    install(svc)
    start_scan(svc, today, at=at(today - timedelta(days=1), 10))  # yesterday: before anything on the real clock
    run_jobs(svc)
    window = Actor(name="李窗口", role="officer")
    filed = file_application(svc, window, SubjectRef("Person", father.pid), "id_card_renewal",
                             {"reason": "有效期满换领"}, reuse=(id_card.mid,), on=today)
    report = file_application(svc, window, SubjectRef("Entity", company.eid), "enterprise_annual_report",
                              {"year": today.year - 1}, reuse=(), on=today)
    registration = file_application(svc, window, SubjectRef("Entity", company.eid),
                                    "employee_social_insurance_registration", {}, reuse=(), on=today)
    decide(svc, Actor(name="王主管", role="supervisor"), registration.aid, "approved", "", today)  # told by inbox
    run_jobs(svc)
    create_api_key(svc, Actor(name="赵管理", role="admin"), "人社局业务系统", "system")
    return father, baby, rep, company, filed, report


def test_every_page_fits_a_phone_and_a_desk_and_passes_axe(site, chromium):
    svc = site.services
    today = local_today(svc)
    father, baby, _rep, company, filed, report = a_district(svc, today)
    walks = []

    officer = officer_signed_in(chromium, site, "lead1")
    open_record(officer, father.id_number, "核对材料")
    walks.append(Walk(site, officer, "officer"))
    walks[-1].walk(f"/officer/persons/{father.pid}")
    officer.goto(site.base + "/officer")
    open_record(officer, baby.id_number, "办理新生儿出生一件事")
    walks[-1].walk(f"/officer/persons/{baby.pid}")
    officer.goto(site.base + "/officer")
    open_record(officer, company.uscc, "办理企业年报")
    walks[-1].walk(f"/officer/entities/{company.eid}")
    walks[-1].walk("/officer")
    walks[-1].walk(f"/officer/persons/{father.pid}/reveal")

    admin = officer_signed_in(chromium, site, "root1")
    walks.append(Walk(site, admin, "admin"))
    walks[-1].walk("/officer")

    citizen = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN").new_page()
    sign_in(citizen, site, "/login", "id_number", father.id_number, PARENT_PHONE)
    citizen.wait_for_url(re.compile(r"/me$"))
    walks.append(Walk(site, citizen, "citizen"))
    walks[-1].walk("/me")
    # Pages this family's links do not lead to today: a form for a service not yet due, and withdrawing.
    walks[-1].walk(f"/me/p/{father.pid}/apply/passport_renewal")
    walks[-1].walk(f"/me/p/{father.pid}/applications/{filed.aid}/withdraw")

    business = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN").new_page()
    sign_in(business, site, "/biz/login", "uscc", company.uscc, REP_PHONE)
    business.wait_for_url(re.compile(r"/biz$"))
    walks.append(Walk(site, business, "business"))
    walks[-1].walk("/biz")
    walks[-1].walk(f"/biz/applications/{report.aid}")
    walks[-1].walk("/biz/apply/food_business_permit_renewal")
    walks[-1].walk(f"/biz/applications/{report.aid}/withdraw")
    for notice in [n for n in notices(svc) if n["to"] == company.eid][:1]:
        walks[-1].walk(f"/biz/notices/{notice['nid']}")

    visitor = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN").new_page()
    walks.append(Walk(site, visitor, "visitor"))
    walks[-1].walk("/")

    problems = [p for w in walks for p in w.problems]
    walked = {endpoint for w in walks for endpoint in w.seen.values()}
    pages = {rule.endpoint for rule in site.app.url_map.iter_rules()
             if "GET" in rule.methods and not SKIP.match(rule.rule) and rule.endpoint != "static"
             and not rule.endpoint.startswith(("api", "health", "webhooks", "metrics"))}
    missing = sorted(pages - walked - set(WALKED_ELSEWHERE) - set(NOT_PAGES))
    if missing:
        problems.append(f"page routes no walk reached (link them, or say where they are walked): {missing}")
    assert not problems, "\n".join(problems)
