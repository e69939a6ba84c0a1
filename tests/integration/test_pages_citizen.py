"""The citizen's personal page with real Neo4j, Redis and the SMS sandbox: what is coming up and why, reviewing and
submitting the prefilled form (issued values locked), a parent acting for a child, the inbox, preferences, the
access log, the reminder's link, and one citizen refused (404, recorded) every way into another's record."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, datetime, timedelta

from graph.notices import NoticeRow
from notifier.scan import start_scan
from notifier.services import install
from profiles.models import Actor, LifeEvent, Material, Relation
from profiles.notices import Preferences, dedupe_key
from profiles.privacy import mask_text
from tests.integration.notify_helpers import NID_IN_LINK, at, material, run_jobs
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_entity, make_person, post, sign_in_citizen
from web.usecases.applications import decide

PHONE_A, PHONE_B = "+8613712340101", "+8613712340102"


def local_today(svc) -> date:
    return datetime.now(svc.settings.zone).date()


def signed_in(app, sandbox, person, phone):
    client = app.test_client()
    assert sign_in_citizen(client, sandbox, person.id_number, phone).status_code == 303
    return client


def section(page: str, anchor: str) -> str:
    """The HTML of one section of the page (from its heading to the next section)."""
    start = page.index(f'id="{anchor}"')
    end = page.find("<section", start)
    return page[start:end if end != -1 else len(page)]


def as_filled(form: str, **changes: str) -> dict[str, str]:
    """What a browser posts from the review form: every text input as shown, then the changes typed."""
    fields = {m.group(1): html.unescape(m.group(2))
              for m in re.finditer(r'<input id="f-\w+" name="(\w+)" type="text" value="([^"]*)"', form)}
    return {**fields, **changes}


def refusals(svc) -> list[str]:
    return [r.path for r in svc.portal.refusals()]


def hukou(svc, pid: str, address: str = "广东省佛山市禅城区祖庙路1号") -> Material:
    m = Material(str(uuid.uuid4()), pid, "hukou", f"H{uuid.uuid4().int % 10**8:08d}", date(2010, 5, 1), None,
                 "佛山市公安局禅城分局", "issued", {"address": address})
    return svc.holdings.add_material("Person", m)


# --- coming up, review, submit ----------------------------------------------------------------------------------
def test_an_expiring_id_card_is_coming_up_with_its_reason_and_leaves_once_the_locked_form_is_submitted(
        app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    today = local_today(svc)
    card = material(svc, me.pid, "id_card", today + timedelta(days=30))
    client = signed_in(app, sandbox, me, PHONE_A)

    page = client.get("/me").get_data(as_text=True)
    coming = section(page, "coming-up")
    assert 'data-service="id_card_renewal"' in coming and "居民身份证有效期满换领" in coming
    expires = today + timedelta(days=30)
    assert f"居民身份证将于 {expires.year}年{expires.month}月{expires.day}日 到期" in coming  # why, in plain words
    assert "剩余 30 天" in coming and "@v1" not in coming and ":expiry" not in coming  # no rule id
    assert "居民户口簿" in coming and "档案中没有：请携带" in coming  # the household register is not on file
    assert me.id_number not in page and card.number not in page  # masked everywhere
    assert f"/me/p/{me.pid}/apply/id_card_renewal" in coming

    form_path = f"/me/p/{me.pid}/apply/id_card_renewal"
    form = client.get(form_path).get_data(as_text=True)
    locked = re.search(r'<input id="f-applicant_id_number"[^>]*>', form).group(0)
    assert "readonly" in locked and me.id_number not in form and me.id_number[:6] + "*" * 10 in locked
    phone_input = re.search(r'<input id="f-phone"[^>]*>', form).group(0)
    assert "readonly" not in phone_input and PHONE_A not in form  # declared: editable, shown masked
    assert 'id="f-confirm"' in form and "本人确认以上信息真实无误" in form

    forged = {"applicant_name": "冒名顶替", "applicant_id_number": "110101199001011234",
              "phone": re.search(r'value="([^"]*)"', phone_input).group(1)}
    refused = post(client, form_path, forged)  # no confirmation, no address
    assert refused.status_code == 422
    assert 'id="e-confirm"' in refused.get_data(as_text=True) and 'id="e-address"' in refused.get_data(as_text=True)
    assert svc.portal.applications_of("Person", me.pid) == []

    done = post(client, form_path, {**forged, "address": "广东省佛山市禅城区岭南大道2号", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == "/me"
    (filed,) = svc.portal.applications_of("Person", me.pid)
    app_ = svc.applications.get(filed["aid"])
    assert app_.fields["applicant_name"] == me.name and app_.fields["applicant_id_number"] == me.id_number
    assert app_.fields["phone"] == PHONE_A  # the masked value sent back stands for the number on file
    assert app_.status == "submitted" and app_.decide_by is not None

    page = client.get("/me").get_data(as_text=True)
    assert "已提交：居民身份证有效期满换领" in page  # the flash
    assert 'data-service="id_card_renewal"' not in section(page, "coming-up")
    row = re.search(rf'<tr data-aid="{filed["aid"]}" data-status="submitted">.*?</tr>',
                    section(page, "applications"), re.S).group(0)
    assert app_.decide_by.isoformat() in row
    assert svc.access_log.for_subject(me.pid) == []  # the citizen's own reads are not logged

    review = client.get(f"/me/p/{me.pid}/applications/{filed['aid']}").get_data(as_text=True)
    assert "已提交，办理中" in review and me.id_number not in review and PHONE_A not in review
    again = post(client, f"/me/p/{me.pid}/applications/{filed['aid']}", {"confirm": "yes"})
    assert again.status_code == 303 and len(svc.portal.applications_of("Person", me.pid)) == 1
    decide(svc, Actor("test officer", "officer"), filed["aid"], "needs_correction", "请补充户口簿", today)
    decided = client.get(f"/me/p/{me.pid}/applications/{filed['aid']}").get_data(as_text=True)
    assert "需补正" in decided and "请补充户口簿" in decided and today.isoformat() in decided


def test_the_reminder_link_signs_in_marks_the_notice_read_and_opens_the_scan_draft(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    today = local_today(svc)
    material(svc, me.pid, "id_card", today + timedelta(days=30))
    hukou(svc, me.pid)
    install(svc)  # the scan's jobs run in this process with the app's services
    start_scan(svc, today, at=at(today, 10))
    run_jobs(svc)
    linked = [m.group(1) for msg in sandbox.messages(to=PHONE_A) if (m := NID_IN_LINK.search(msg["body"]))]
    (nid,) = [n for n in linked if svc.notices.get(n).service == "id_card_renewal"]  # the SMS about the card
    assert svc.notices.get(nid).read_at is None

    client = app.test_client()
    assert client.get(f"/n/{nid}").headers["Location"] == f"/login?next=/n/{nid}"
    answer = sign_in_citizen(client, sandbox, me.id_number, PHONE_A, next_path=f"/n/{nid}")
    assert answer.headers["Location"] == f"/n/{nid}"
    opened = client.get(f"/n/{nid}")
    (draft,) = [a for a in svc.portal.applications_of("Person", me.pid)
                if a["status"] == "draft" and a["service"] == "id_card_renewal"]
    assert opened.status_code == 303
    assert opened.headers["Location"] == f"/me/p/{me.pid}/applications/{draft['aid']}"
    assert svc.notices.get(nid).read_at is not None

    page = client.get("/me").get_data(as_text=True)
    assert f"/me/p/{me.pid}/applications/{draft['aid']}" in section(page, "coming-up")  # the draft, not a new one
    form = client.get(opened.headers["Location"]).get_data(as_text=True)
    address = re.search(r'<input id="f-address"[^>]*>', form).group(0)
    assert "readonly" in address and "祖庙路1号" in address  # issued by the household register: locked
    done = post(client, opened.headers["Location"], as_filled(form, address="别处", confirm="yes"))
    assert done.status_code == 303
    filed = svc.applications.get(draft["aid"])  # the draft became the application: same id
    assert filed.status == "submitted" and filed.fields["address"] == "广东省佛山市禅城区祖庙路1号"
    assert 'data-service="id_card_renewal"' not in section(client.get("/me").get_data(as_text=True), "coming-up")


def test_a_business_reminder_to_its_legal_representative_leads_to_the_enterprise_page(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    company = make_entity(svc, legal_rep=me)
    aid, nid = str(uuid.uuid4()), uuid.uuid4().hex[:18]
    due = date(local_today(svc).year + 1, 6, 30)
    row = NoticeRow(dedupe_key(me.pid, company.eid, "enterprise_annual_report", due, 30, "inbox"), nid, "reminder",
                    "inbox", "Person", me.pid, "Entity", company.eid, "enterprise_annual_report", due, 30,
                    f"draft-{aid}", aid)
    svc.notices.create([row], "test-scan", datetime.now(svc.settings.zone))
    client = signed_in(app, sandbox, me, PHONE_A)
    assert client.get(f"/n/{nid}").headers["Location"] == f"/biz/applications/{aid}"
    inbox = section(client.get("/me").get_data(as_text=True), "inbox")
    assert f"/biz/applications/{aid}" in inbox


# --- a parent and a child ---------------------------------------------------------------------------------------
def school_age_birth_date(today: date) -> date:
    """A child who is 6 by the coming 31 August cut-off: their school entry is due within the year."""
    entry_year = today.year if today <= date(today.year, 8, 31) else today.year + 1
    return date(entry_year - 6, 3, 15)


def test_a_parent_sees_and_acts_for_their_childs_school_entry_and_a_stranger_is_refused(app, svc, sandbox):
    parent = make_person(svc, phone=PHONE_A, name="陈大文")
    stranger = make_person(svc, phone=PHONE_B, name="路人甲")
    child = make_person(svc, born=school_age_birth_date(local_today(svc)), name="陈小宝")
    svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    client = signed_in(app, sandbox, parent, PHONE_A)

    home = client.get("/me").get_data(as_text=True)
    assert f'href="/me/p/{child.pid}"' in section(home, "family") and "陈小宝" in home
    page = client.get(f"/me/p/{child.pid}")
    assert page.status_code == 200
    coming = section(page.get_data(as_text=True), "coming-up")
    assert 'data-service="primary_school_entry"' in coming and "小学一年级入学报名" in coming
    assert "年满 6 周岁" in coming
    form = client.get(f"/me/p/{child.pid}/apply/primary_school_entry")
    assert form.status_code == 200 and child.id_number not in form.get_data(as_text=True)
    assert client.get(f"/me/p/{child.pid}/access-log").status_code == 200

    other = signed_in(app, sandbox, stranger, PHONE_B)
    before = len(refusals(svc))
    for path in (f"/me/p/{child.pid}", f"/me/p/{child.pid}/apply/primary_school_entry",
                 f"/me/p/{child.pid}/access-log"):
        assert other.get(path).status_code == 404
    assert len(refusals(svc)) == before + 3
    assert f"/me/p/{child.pid}" in refusals(svc)


def test_an_unknown_service_or_a_business_service_cannot_be_applied_for(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    client = signed_in(app, sandbox, me, PHONE_A)
    assert client.get(f"/me/p/{me.pid}/apply/no_such_service").status_code == 404
    assert client.get(f"/me/p/{me.pid}/apply/enterprise_annual_report").status_code == 404


# --- materials, life events, family ------------------------------------------------------------------------------
def test_the_vault_shows_status_masked_numbers_long_term_and_replaced_materials_apart(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    spouse = make_person(svc, name="李美丽")
    svc.subjects.relate(Relation(me.pid, spouse.pid, "SPOUSE_OF"))
    today = local_today(svc)
    card = material(svc, me.pid, "id_card", today + timedelta(days=30))
    register = hukou(svc, me.pid)
    old = material(svc, me.pid, "passport", today - timedelta(days=10), issued_on=today - timedelta(days=3660))
    new = material(svc, me.pid, "passport", today + timedelta(days=3640), issued_on=today - timedelta(days=10))
    svc.holdings.add_event("Person", LifeEvent(str(uuid.uuid4()), me.pid, "marriage", date(2012, 10, 1)))
    client = signed_in(app, sandbox, me, PHONE_A)

    vault = section(client.get("/me").get_data(as_text=True), "materials")
    current, replaced = vault.split("<details", 1)
    assert '<span class="badge expiring">即将到期</span>' in current
    assert '<span class="badge valid">有效</span>' in current
    assert "长期" in current and "签发：由发证机关系统直接推送" in replaced  # long-term; provenance explained
    assert mask_text(register.number, 2, 2) in current and register.number not in vault
    for m in (card, old, new):
        assert f">{m.number}<" not in vault
    assert '<span class="badge superseded">已被新证替换</span>' in replaced
    page = client.get("/me").get_data(as_text=True)
    assert "2012-10-01" in section(page, "events") and "结婚" in section(page, "events")
    assert "配偶" in section(page, "family") and "李美丽" in section(page, "family")
    assert f"/me/p/{spouse.pid}" not in page  # an adult spouse is not a ward


# --- inbox ------------------------------------------------------------------------------------------------------
def make_notice(svc, recipient, service: str = "passport_renewal", offset: int = 30) -> str:
    nid = uuid.uuid4().hex[:18]
    due = local_today(svc) + timedelta(days=offset)
    row = NoticeRow(dedupe_key(recipient.pid, recipient.pid, service, due, offset, "inbox"), nid, "reminder", "inbox",
                    "Person", recipient.pid, "Person", recipient.pid, service, due, offset, None, None)
    svc.notices.create([row], "test-scan", datetime.now(svc.settings.zone))
    return nid


def notice_item(page: str, nid: str) -> str:
    return re.search(rf'<li class="[^"]*" id="n-{nid}">', page).group(0)


def test_the_inbox_shows_unread_notices_in_bold_until_read(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    first, second = make_notice(svc, me), make_notice(svc, me, "driving_licence_renewal", 60)
    client = signed_in(app, sandbox, me, PHONE_A)
    inbox = section(client.get("/me").get_data(as_text=True), "inbox")
    assert "unread" in notice_item(inbox, first) and "unread" in notice_item(inbox, second)
    assert inbox.count(">未读<") == 2 and "普通护照换发" in inbox

    answer = post(client, f"/me/notices/{first}/read", {"next": "/me"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/me#inbox"
    inbox = section(client.get("/me").get_data(as_text=True), "inbox")
    assert "unread" not in notice_item(inbox, first) and "unread" in notice_item(inbox, second)
    assert inbox.count(">未读<") == 1
    assert svc.notices.get(first).read_at is not None and svc.notices.get(second).read_at is None


# --- preferences ------------------------------------------------------------------------------------------------
def test_preferences_round_trip_and_bad_values_are_refused_naming_the_field(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    client = signed_in(app, sandbox, me, PHONE_A)
    page = client.get("/me/preferences").get_data(as_text=True)
    assert re.search(r'<select id="f-channel_1".*?<option value="sms" selected>', page, re.S)

    good = {"channel_1": "email", "channel_2": "sms", "language": "en", "quiet_hours": "21:30-07:00"}
    assert post(client, "/me/preferences", good).status_code == 303
    assert svc.preferences.get(me.pid) == Preferences(("email", "sms"), "en", "21:30-07:00", False)
    page = client.get("/me/preferences").get_data(as_text=True)
    assert re.search(r'<select id="f-channel_1".*?<option value="email" selected>', page, re.S)
    assert 'value="21:30-07:00"' in page

    for field, bad in [("quiet_hours", "25:00-07:00"), ("quiet_hours", "9:00-18:00"), ("channel_2", "email"),
                       ("channel_1", "fax"), ("language", "fr")]:
        answer = post(client, "/me/preferences", {**good, "channel_2": "", field: bad})
        assert answer.status_code == 422, (field, bad)
        assert f'id="e-{field}"' in answer.get_data(as_text=True)
        assert svc.preferences.get(me.pid) == Preferences(("email", "sms"), "en", "21:30-07:00", False)

    assert post(client, "/me/preferences", {**good, "sms_opt_out": "yes"}).status_code == 303
    assert svc.preferences.get(me.pid) == Preferences(("email",), "en", "21:30-07:00", True)
    page = client.get("/me/preferences").get_data(as_text=True)
    assert re.search(r'id="f-sms_opt_out"[^>]*checked', page)
    assert post(client, "/me/preferences", {**good, "quiet_hours": ""}).status_code == 303
    assert svc.preferences.get(me.pid) == Preferences(("email", "sms"), "en", None, False)


# --- access log -------------------------------------------------------------------------------------------------
def test_the_access_log_shows_one_line_per_visit_newest_first_and_the_citizens_own_reads_are_not_in_it(app, svc,
                                                                                                        sandbox):
    me = make_person(svc, phone=PHONE_A)
    officer = Actor("李工作 · 禅城区行政服务中心 (window1)", "officer")
    svc.access_log.record(officer, "Person", me.pid, "窗口办理身份证换领", "search")
    svc.access_log.record(officer, "Person", me.pid, "窗口办理身份证换领", "materials")
    svc.access_log.record(Actor("公安局户籍系统", "system"), "Person", me.pid, "户籍核对", "prefill id_card_renewal")
    client = signed_in(app, sandbox, me, PHONE_A)
    client.get("/me")
    page = client.get(f"/me/p/{me.pid}/access-log").get_data(as_text=True)
    assert "谁查看了我的数据" in page and "窗口办理身份证换领" in page and "窗口工作人员" in page
    assert len(re.findall(r"<tr>\s*<td data-label", page)) == 2  # the officer's two records are one visit
    assert "通过检索找到了您的档案，读取了您的证照材料" in page and "禅城区行政服务中心" in page
    assert "window1" not in page  # the officer's account name is not the citizen's business
    assert page.index("公安局户籍系统") < page.index("李工作")  # newest first
    local = svc.access_log.for_subject(me.pid)[0].at.astimezone(svc.settings.zone).strftime("%Y-%m-%d %H:%M")
    assert local in page
    assert len(svc.access_log.for_subject(me.pid)) == 3


# --- one citizen, another's record ------------------------------------------------------------------------------
def test_citizen_a_cannot_reach_bs_pages_applications_or_notices(app, svc, sandbox):
    a = make_person(svc, phone=PHONE_A, name="甲")
    b = make_person(svc, phone=PHONE_B, name="乙")
    today = local_today(svc)
    material(svc, b.pid, "id_card", today + timedelta(days=30))
    b_client = signed_in(app, sandbox, b, PHONE_B)
    b_form = f"/me/p/{b.pid}/apply/id_card_renewal"
    filled = as_filled(b_client.get(b_form).get_data(as_text=True), address="乙的地址", confirm="yes")
    assert post(b_client, b_form, filled).status_code == 303
    (b_app,) = svc.portal.applications_of("Person", b.pid)
    b_notice = make_notice(svc, b)
    client = signed_in(app, sandbox, a, PHONE_A)

    attempts = [("GET", f"/me/p/{b.pid}"), ("GET", f"/me/p/{b.pid}/applications/{b_app['aid']}"),
                ("GET", f"/me/p/{a.pid}/applications/{b_app['aid']}"), ("GET", b_form),
                ("GET", f"/me/p/{b.pid}/access-log"), ("GET", f"/n/{b_notice}"),
                ("POST", f"/me/p/{b.pid}/applications/{b_app['aid']}"), ("POST", b_form),
                ("POST", f"/me/p/{a.pid}/applications/{b_app['aid']}"), ("POST", f"/me/notices/{b_notice}/read")]
    for method, path in attempts:
        before = len(refusals(svc))
        answer = client.get(path) if method == "GET" else post(client, path, {"confirm": "yes", "address": "x"})
        assert answer.status_code == 404, (method, path)
        assert len(refusals(svc)) == before + 1 and refusals(svc)[0] == path, (method, path)
    assert svc.notices.get(b_notice).read_at is None
    assert len(svc.portal.applications_of("Person", b.pid)) == 1 and svc.portal.applications_of("Person", a.pid) == []
    assert "乙" not in client.get("/me").get_data(as_text=True)


def test_the_page_speaks_english_after_the_switch(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    material(svc, me.pid, "id_card", local_today(svc) + timedelta(days=30))
    client = signed_in(app, sandbox, me, PHONE_A)
    client.get("/lang/en?next=/me")
    page = client.get("/me").get_data(as_text=True)
    assert '<html lang="en">' in page and "Resident ID card renewal on expiry" in page
    assert "Resident identity card expires on" in page and "Coming up" in page
