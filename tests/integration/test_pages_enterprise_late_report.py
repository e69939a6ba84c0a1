"""An overdue annual report filed late (补报) from the enterprise page, with real Neo4j, Redis and the SMS sandbox, on
fixed days: the page says what a missed report means and offers to file it; the review form fixes the report year;
the filing goes through the one-matter rule; afterwards the report shows filed late. With last year's report
overdue and this year's due, they are filed one at a time, this year's first."""

from __future__ import annotations

import re
import sys
import uuid
from datetime import date

import pytest

from profiles import matters
from profiles.models import Actor, LifeEvent
from profiles.rules import due_items
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_entity, make_person, post, sign_in_business
from tests.integration.test_pages_enterprise import as_browser_sends, section
from web.usecases.holdings import record_event
from web.usecases.subjects import SubjectRef

REP_PHONE = "+8613712345611"
ANNUAL = "enterprise_annual_report"
APPLY = f"/biz/apply/{ANNUAL}"


@pytest.fixture
def on_day(monkeypatch):
    """Fix the pages' "today" (web.pages.guards.today, and every page module's import of it)."""
    from web.pages import guards

    def fix(day: date) -> None:
        real = guards.today
        for name, module in list(sys.modules.items()):
            if name.startswith("web.pages") and getattr(module, "today", None) is real:
                monkeypatch.setattr(module, "today", lambda: day)
        monkeypatch.setattr(guards, "today", lambda: day)
    return fix


def business(svc, *reports: date):
    """A company set up in 2019 whose register holds annual reports filed on these days."""
    rep = make_person(svc, phone=REP_PHONE, name="陈大文")
    entity = make_entity(svc, name="佛山市禅城区补报示例有限公司", established=date(2019, 5, 1), legal_rep=rep)
    for day in reports:
        svc.holdings.add_event("Entity", LifeEvent(str(uuid.uuid4()), entity.eid, "annual_report", day, {}))
    return entity


def signed_in(app, sandbox, entity):
    client = app.test_client()
    assert sign_in_business(client, sandbox, entity.uscc, REP_PHONE).status_code == 303
    return client


def annual_applications(svc, eid: str) -> list[dict]:
    return [a for a in svc.portal.applications_of("Entity", eid) if a["service"] == ANNUAL]


def file_from_the_page(client, year: int, late: bool) -> str:
    """Open the review form the page links to, check the report year is fixed, submit it: the new application."""
    form = client.get(APPLY)
    page = form.get_data(as_text=True)
    assert form.status_code == 200
    assert re.search(rf'id="f-report_year" type="text" value="{year}" readonly', page)
    assert 'name="report_year"' not in page  # locked: not posted
    assert ('id="late-filing"' in page) is late
    typed = {"postal_address": "禅城区季华五路1号", "email": "chen@example.com", "confirm": "yes",
             "report_year": "1999"}  # a posted year is ignored
    sent = post(client, APPLY, as_browser_sends(page, **typed))
    assert sent.status_code == 303, re.findall(r'id="e-(\w+)"', sent.get_data(as_text=True))
    assert sent.headers["Location"].startswith("/biz/applications/")
    return sent.headers["Location"].rsplit("/", 1)[1]


def test_a_missed_report_is_explained_and_filed_late_from_the_page(app, svc, sandbox, on_day):
    on_day(date(2026, 8, 3))  # the 2026 window (the 2025 report) closed on 30 June
    entity = business(svc, date(2025, 4, 1))  # the 2024 report was filed on time
    client = signed_in(app, sandbox, entity)
    report = section(client.get("/biz").get_data(as_text=True), "annual-report")
    assert 'data-state="missed"' in report and 'id="overdue" data-year="2025"' in report
    assert "2025年度报告应于2026-01-01至2026-06-30期间报送并公示，至今尚未报送" in report
    assert "经营异常名录" in report and "逾期未报的年度报告仍可补报" in report and "申请移出经营异常名录" in report
    assert f'href="{APPLY}"' in report and "立即补报2025年度报告" in report
    assert "不能通过简易注销" in report and "第三十三条" in report  # 市场主体登记管理条例 第三十三条
    client.get("/lang/en")
    english = section(client.get("/biz").get_data(as_text=True), "annual-report")
    assert "list of businesses with abnormal operations" in english and "File the 2025 annual report now" in english
    client.get("/lang/zh_CN")

    aid = file_from_the_page(client, 2025, late=True)
    filed = svc.applications.get(aid)
    assert (filed.status, filed.submitted_on, filed.fields["report_year"]) == ("submitted", date(2026, 8, 3), "2025")
    assert [a["aid"] for a in annual_applications(svc, entity.eid)] == [aid]
    summary = client.get(f"/biz/applications/{aid}").get_data(as_text=True)
    assert f'<dd id="application-number">{filed.number}</dd>' in summary

    report = section(client.get("/biz").get_data(as_text=True), "annual-report")
    assert 'data-state="filed_late"' in report and "2025年度报告已于2026-08-03补报" in report
    assert 'id="overdue"' not in report and "立即补报" not in report and "2027-01-01" in report

    again = client.get(APPLY)  # a second filing is refused, naming the open one
    assert again.status_code == 303 and again.headers["Location"] == f"/biz/applications/{aid}"
    refused = post(client, APPLY, {"postal_address": "x", "report_year": "2025", "confirm": "yes"})
    assert refused.status_code == 303 and refused.headers["Location"] == f"/biz/applications/{aid}"
    assert "已在办理中" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert len(annual_applications(svc, entity.eid)) == 1

    # the late 2025 report does not settle the 2027 window (the 2026 report)
    snapshot = svc.snapshots.load("Entity", entity.eid)
    assert [i.due_on for i in due_items(snapshot, svc.catalog, date(2027, 1, 15)) if i.service == ANNUAL] == \
        [date(2027, 6, 30)]


def test_this_years_report_due_is_still_shown_due(app, svc, sandbox, on_day):
    on_day(date(2027, 3, 1))
    entity = business(svc, date(2025, 4, 1), date(2026, 5, 2))  # nothing overdue
    client = signed_in(app, sandbox, entity)
    report = section(client.get("/biz").get_data(as_text=True), "annual-report")
    assert 'data-state="due"' in report and "2026" in report and "2027-06-30" in report
    assert 'id="overdue"' not in report and "立即补报" not in report
    aid = file_from_the_page(client, 2026, late=False)
    assert svc.applications.get(aid).fields["report_year"] == "2026"
    assert 'data-state="filed"' in section(client.get("/biz").get_data(as_text=True), "annual-report")


def test_last_years_overdue_report_and_this_years_are_filed_one_at_a_time(app, svc, sandbox, on_day):
    on_day(date(2027, 3, 1))  # the 2025 report was missed in 2026; the 2026 report is due by 2027-06-30
    entity = business(svc, date(2025, 4, 1))
    client = signed_in(app, sandbox, entity)
    report = section(client.get("/biz").get_data(as_text=True), "annual-report")
    assert 'data-state="due"' in report and 'id="overdue-queued"' in report and 'id="overdue"' not in report
    assert "请先报送2026年度报告，之后即可在本页补报2025年度报告" in report

    first = file_from_the_page(client, 2026, late=False)  # this year's first
    report = section(client.get("/biz").get_data(as_text=True), "annual-report")
    assert 'data-state="filed"' in report and 'id="overdue" data-year="2025"' in report
    assert 'id="file-late"' not in report and 'id="report-handled"' in report  # one at a time: after the decision
    waiting = client.get(APPLY)
    assert waiting.status_code == 303 and waiting.headers["Location"] == f"/biz/applications/{first}"

    svc.applications.move(first, Actor("李工作 (window1)", "officer"),
                          lambda a: matters.decide(a, "approved", "", date(2027, 3, 1)))
    report = section(client.get("/biz").get_data(as_text=True), "annual-report")
    assert 'id="file-late"' in report and "立即补报2025年度报告" in report
    second = file_from_the_page(client, 2025, late=True)

    report = section(client.get("/biz").get_data(as_text=True), "annual-report")
    assert 'data-state="filed"' in report and 'id="overdue"' not in report and 'id="overdue-queued"' not in report
    assert {svc.applications.get(a).fields["report_year"] for a in (first, second)} == {"2026", "2025"}
    snapshot = svc.snapshots.load("Entity", entity.eid)
    assert [i for i in due_items(snapshot, svc.catalog, date(2027, 3, 1)) if i.service == ANNUAL] == []


def test_a_deregistered_business_is_owed_no_report_and_offered_no_late_filing(app, svc, sandbox, on_day):
    on_day(date(2026, 8, 3))  # as above: the 2025 report missed; then the business was deregistered
    entity = business(svc, date(2025, 4, 1))
    record_event(svc, Actor("市场监督管理局 (feed)", "system"), SubjectRef.of("entity", entity.eid), "closure",
                 date(2026, 7, 20), {}, date(2026, 8, 3))
    client = signed_in(app, sandbox, entity)
    report = section(client.get("/biz").get_data(as_text=True), "annual-report")
    assert 'data-state="closed"' in report and "本企业已于2026-07-20注销登记，无需再报送年度报告" in report
    assert 'id="overdue"' not in report and "立即补报" not in report and "经营异常名录" not in report
