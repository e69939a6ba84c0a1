"""The supervisors' dashboard says when this or next year's holiday arrangement is not on file (working-day deadlines
there are estimated), and stops saying it once the notice is on file."""

from __future__ import annotations

from datetime import date

import pytest

from profiles import workdays
from profiles.arrangements import load_arrangements
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_officer, sign_in_officer
from web.pages import officer_desk


@pytest.fixture
def on_day(monkeypatch):
    workdays.use_arrangements({})
    yield lambda day: monkeypatch.setattr(officer_desk, "today", lambda: day)
    workdays.use_arrangements(None)


def supervisor(app, svc):
    make_officer(svc, username="boss", role="supervisor", department="禅城区行政服务中心")
    client = app.test_client()
    assert sign_in_officer(client, "boss").status_code == 303
    return client


def test_the_dashboard_warns_about_next_years_calendar_from_october(app, svc, on_day, tmp_path):
    boss = supervisor(app, svc)
    on_day(date(2026, 9, 30))
    page = boss.get("/officer/dashboard").get_data(as_text=True)
    assert 'id="calendar-warning"' not in page

    on_day(date(2026, 12, 2))
    page = boss.get("/officer/dashboard").get_data(as_text=True)
    assert 'id="calendar-warning"' in page
    assert "尚未录入 2027 年的国务院节假日安排" in page and "不含调休上班日" in page
    english = boss.get("/officer/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No official holiday arrangement is on file for 2027: working-day deadlines" in english

    (tmp_path / "2027.yaml").write_text("year: 2027\nsource: {title: TEST DATA, number: UNVERIFIED, url: UNVERIFIED}\n"
                                        "holidays: [2027-01-01]\n", encoding="utf-8")
    workdays.use_arrangements(load_arrangements(tmp_path))
    assert 'id="calendar-warning"' not in boss.get("/officer/dashboard").get_data(as_text=True)
