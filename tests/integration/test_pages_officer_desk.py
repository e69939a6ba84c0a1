"""The officers' desk of issue 18 with real Neo4j and Redis: the dashboard's failed deliveries with the provider's
reason, each count a link to the list behind it that opens only under a stated purpose and lists exactly what was
counted (each listed person a recorded read); the window of days; the queue's names under a purpose, its time words;
the decision page's error summary with the typed note kept."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from graph.notices import NoticeRow
from profiles.applications import decide_by
from profiles.models import Actor, Application, Material
from profiles.privacy import mask_id_number
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_officer, make_person, post, sign_in_officer

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the app's day (LIFECYCLE_TZ default)
PURPOSE = "核查未送达的提醒"


def officer(app, svc, username="boss", role="supervisor", department="禅城区行政服务中心"):
    make_officer(svc, username=username, role=role, department=department, name="张督办")
    client = app.test_client()
    assert sign_in_officer(client, username).status_code == 303
    return client


def notice(svc, person, channel="sms", status="pending", code=None, key=None):
    nid = str(uuid.uuid4())
    svc.notices.create([NoticeRow(key or nid, nid, "reminder", channel, "Person", person.pid, "Person", person.pid,
                                  "id_card_renewal", TODAY + timedelta(days=30), 30, None, None)],
                       "scan-1", datetime.now(UTC))
    if status != "pending":
        assert svc.notices.move([{"nid": nid, "from": ["pending"], "to": status, "error_code": code}],
                                datetime.now(UTC)) == [nid]
    return nid


def links(page: str, path: str) -> list[tuple[str, str]]:
    """(href, shown count) of every link to `path` on the page."""
    return [(unescape(h), n) for h, n in re.findall(rf'<a href="({re.escape(path)}[^"]*)"[^>]*>(\d+)</a>', page)]


def world(svc):
    failed = [make_person(svc, seq=301 + n, name=f"失败{n}") for n in range(2)]
    fine = make_person(svc, seq=310, name="顺利")
    for person in failed:
        notice(svc, person, status="failed", code="21211")
    notice(svc, fine, status="delivered")
    notice(svc, fine, channel="inbox", status="sent")
    notice(svc, fine, channel="email", status="failed", code="550")
    return failed, fine


def test_failed_deliveries_show_the_providers_reason_and_each_count_leads_to_its_list_after_a_purpose(app, svc):
    failed, _fine = world(svc)
    boss = officer(app, svc)
    page = boss.get("/officer/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)
    section = page[page.index('id="h-failed"'):page.index('id="h-due"')]
    assert "not a valid phone number (code 21211)" in section and "the mail server refused it (code 550)" in section
    failures = links(section, "/officer/dashboard/notices")
    assert sorted(n for _h, n in failures) == ["1", "2"]
    href = next(h for h, n in failures if n == "2")
    assert "failed=1" in href and "code=21211" in href and "channel=sms" in href

    # the list asks for a purpose first: nobody is shown or recorded before it is stated
    asked = boss.get(href, headers={"Accept-Language": "en"})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="f-purpose"' in text and "失败0" not in text
    assert all(svc.access_log.for_subject(p.pid) == [] for p in failed)
    refused = post(boss, href, {"purpose": "  "})
    assert refused.status_code == 422 and 'class="error-summary"' in refused.get_data(as_text=True)
    stated = post(boss, href, {"purpose": PURPOSE})
    assert stated.status_code == 303 and stated.headers["Location"].endswith(href)
    listed = boss.get(href).get_data(as_text=True)
    rows = re.findall(r"<tr><td class=\"status\"", listed)
    assert len(rows) == 2 and "失败0" in listed and "失败1" in listed and "顺利" not in listed
    assert "不是有效的电话号码（代码 21211）" in listed
    assert all(p.id_number not in listed and mask_id_number(p.id_number) in listed for p in failed)
    for person in failed:  # each listed person: a read under the stated purpose, which they will see
        assert [(r.what, r.purpose) for r in svc.access_log.for_subject(person.pid)] == [
            (f"listed on the dashboard: notices of {TODAY.isoformat()}", PURPOSE)]


def test_every_count_of_the_dashboard_matches_the_length_of_its_list(app, svc):
    world(svc)
    applicant = make_person(svc, seq=320, name="复用人")
    hukou = svc.holdings.add_material("Person", Material(str(uuid.uuid4()), applicant.pid, "hukou", "HK1234567",
                                                         TODAY - timedelta(days=900), None, "佛山市公安局", "issued",
                                                         {}))
    for service in ("passport_renewal", "id_card_renewal"):
        limit = svc.catalog.services[service].time_limit_days
        svc.applications.file(Application(str(uuid.uuid4()), "Person", applicant.pid, service, "submitted", TODAY,
                                          TODAY, limit, decide_by(TODAY, limit), {}, (hukou.mid,)),
                              Actor("test", "system"))
    boss = officer(app, svc)
    page = boss.get("/officer/dashboard").get_data(as_text=True)
    counted = links(page, "/officer/dashboard/notices") + links(page, "/officer/dashboard/reuse")
    assert len(counted) >= 10 and ("/officer/dashboard/reuse?kind=hukou", "2") in counted
    post(boss, counted[0][0], {"purpose": PURPOSE})  # one purpose covers the dashboard's lists
    for href, n in counted:
        listed = boss.get(href).get_data(as_text=True)
        assert len(re.findall(r'<tr><td class="status"', listed)) == int(n), href
        assert re.search(r'id="list-count">[^<]*' + n + "[^<]*<", listed), href


def test_the_window_is_chosen_in_a_form_and_quiet_days_inside_it_are_zero(app, svc):
    person = make_person(svc, seq=330)
    notice(svc, person)
    boss = officer(app, svc)
    page = boss.get("/officer/dashboard?days=7", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Notices per day by channel, last 7 days" in page and '<option value="7" selected>' in page
    svg = page[page.index('<svg class="chart" id="by-channel"'):]
    svg = svg[:svg.index("</svg>")]
    assert svg.count("<rect") == 1 and ">5</text>" in svg  # one notice: one column on an axis up to 5, not 1
    assert svg.count('text-anchor="middle"') == 7  # seven days labelled, the quiet ones too
    assert (TODAY - timedelta(days=6)).isoformat() in page and (TODAY - timedelta(days=7)).isoformat() not in page
    assert "last 14 days" in boss.get("/officer/dashboard?days=5000", headers={"Accept-Language": "en"}) \
        .get_data(as_text=True)
    assert "Reuse: when an application needs a document" in page
    assert boss.get(f"/officer/dashboard/notices?day={(TODAY + timedelta(days=1)).isoformat()}").status_code == 404
    assert boss.get("/officer/dashboard/notices?day=nonsense").status_code == 404
    plain = officer(app, svc, "window1", role="officer")
    assert plain.get(f"/officer/dashboard/notices?day={TODAY.isoformat()}").status_code == 403


def test_the_queue_names_applicants_under_a_purpose_stated_for_it_and_says_the_time_plainly(app, svc):
    people = [make_person(svc, seq=340 + n, name=f"申请人{n}") for n in range(2)]
    limit = svc.catalog.services["id_card_renewal"].time_limit_days
    for person in people:
        svc.applications.file(Application(str(uuid.uuid4()), "Person", person.pid, "id_card_renewal", "submitted",
                                          TODAY, TODAY, limit, decide_by(TODAY, limit), {}, ()),
                              Actor("test", "system"))
    client = officer(app, svc, "window1", role="officer")
    page = client.get("/officer/queue", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "申请人0" not in page and 'id="f-purpose"' in page and ">Submitted<" in page
    assert f"{limit} working days" in page and "days left" in page and "1 working days" not in page
    assert svc.access_log.for_subject(people[0].pid) == []
    refused = post(client, "/officer/queue", {"purpose": ""})
    assert refused.status_code == 422 and 'href="#f-purpose"' in refused.get_data(as_text=True)
    assert post(client, "/officer/queue", {"purpose": "办理本部门的申请"}).status_code == 303
    page = client.get("/officer/queue").get_data(as_text=True)
    for person in people:
        assert f"申请人{person.name[-1]} <span class=\"aside\">({mask_id_number(person.id_number)})</span>" in page
        assert [(r.what, r.purpose) for r in svc.access_log.for_subject(person.pid)] == [
            ("listed in the application queue", "办理本部门的申请")]


def test_a_decision_without_its_reason_shows_the_error_summary_and_keeps_what_was_typed(app, svc):
    person = make_person(svc, seq=350, name="欧阳明")
    limit = svc.catalog.services["id_card_renewal"].time_limit_days
    filed = svc.applications.file(Application(str(uuid.uuid4()), "Person", person.pid, "id_card_renewal",
                                              "submitted", TODAY, TODAY, limit, decide_by(TODAY, limit), {}, ()),
                                  Actor("test", "system"))
    client = officer(app, svc, "police1", role="officer", department="公安机关（户籍派出所）")
    assert post(client, f"/officer/persons/{person.pid}/open", {"purpose": "审批"}).status_code == 303
    url = f"/officer/applications/{filed.aid}/decision"
    answer = post(client, url, {"outcome": "rejected", "note": ""}, headers={"Accept-Language": "en"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and page.index('class="error-summary"') < page.index("<h1")
    assert re.search(r'<a href="#f-note-rejected">Give the reason for rejecting the application</a>', page)
    long = "照片不符合要求" * 80  # over 500 characters: refused, and kept for the officer to shorten
    page = post(client, url, {"outcome": "needs_correction", "note": long}).get_data(as_text=True)
    assert 'href="#f-note-needs_correction"' in page and f">{long}</textarea>" in page
    assert svc.applications.get(filed.aid).status == "submitted"
