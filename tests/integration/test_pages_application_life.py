"""An application's life on the citizen and enterprise pages (issue 15): its number, status, decision date and
history; returned for correction, corrected and resubmitted; withdrawn with a reason and filed again; nothing offered
and a forged post refused (409/422, nothing changed) once it is decided or withdrawn; a parent for a ward; a business;
and nobody reaching someone else's application (404, the attempt recorded)."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, datetime, timedelta

from profiles.applications import decide_by
from profiles.models import Actor, Material, Relation
from tests.integration.notify_helpers import material
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_entity, make_person, post, sign_in_business, sign_in_citizen
from web.pages import application_life
from web.usecases.applications import decide, file_application, withdraw
from web.usecases.subjects import SubjectRef

PHONE_A, PHONE_B, REP_PHONE = "+8613712349901", "+8613712349902", "+8613712349903"
OFFICER = Actor("李工作 · 禅城区行政服务中心 (window1)", "officer")
ID_CARD, SCHOOL, FOOD = "id_card_renewal", "primary_school_entry", "food_business_permit_renewal"


def local_today(svc) -> date:
    return datetime.now(svc.settings.zone).date()


def citizen(app, sandbox, person, phone):
    client = app.test_client()
    assert sign_in_citizen(client, sandbox, person.id_number, phone).status_code == 303
    return client


def inputs(page: str) -> dict[str, str]:
    """What a browser posts from a form on the page: every named text input as shown."""
    return {m.group(1): html.unescape(m.group(2))
            for m in re.finditer(r'<input id="f-\w+" name="(\w+)" type="text" value="([^"]*)"', page)}


def file_by_page(client, pid: str, code: str, **typed: str) -> None:
    path = f"/me/p/{pid}/apply/{code}"
    answer = post(client, path, {**inputs(client.get(path).get_data(as_text=True)), **typed, "confirm": "yes"})
    assert answer.status_code == 303, answer.get_data(as_text=True)


def the_one(svc, label: str, sid: str, status: str = "submitted") -> str:
    (aid,) = [a["aid"] for a in svc.portal.applications_of(label, sid) if a["status"] == status]
    return aid


def row(page: str, aid: str) -> str:
    return re.search(rf'<tr data-aid="{aid}".*?</tr>', page, re.S).group(0)


def moves(page: str) -> list[str]:
    return re.findall(r'<li data-move="(\w+)">', page)


def state(svc, aid: str):
    app = svc.applications.get(aid)
    return app.status, app.fields, app.decide_by, len(svc.applications.history(aid))


# --- a citizen: returned for correction, corrected, resubmitted -------------------------------------------------
def test_a_citizen_sees_what_to_correct_corrects_a_declared_field_and_resubmits(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    today = local_today(svc)
    material(svc, me.pid, "id_card", today + timedelta(days=30))
    client = citizen(app, sandbox, me, PHONE_A)
    file_by_page(client, me.pid, ID_CARD, address="广东省佛山市禅城区岭南大道2号")
    aid = the_one(svc, "Person", me.pid)
    filed = svc.applications.get(aid)
    assert re.fullmatch(rf"{today:%Y%m%d}-\d{{5}}", filed.number)
    page_path = f"/me/p/{me.pid}/applications/{aid}"
    first = client.get(page_path).get_data(as_text=True)
    assert f'id="application-number">{filed.number}<' in first and "已提交，办理中" in first
    assert f'id="decide-by"><time datetime="{filed.decide_by.isoformat()}">' in first
    assert f"/me/p/{me.pid}/applications/{aid}/withdraw" in first and 'id="correction"' not in first
    assert moves(first) == ["submitted"] and "操作人：您" in first

    decide(svc, OFFICER, aid, "needs_correction", "户籍地址与户口簿不一致，请按户口簿填写", today)
    listed = row(client.get("/me").get_data(as_text=True), aid)
    assert filed.number in listed and "退回补正：请查看需补正的内容" in listed and f"{page_path}#correction" in listed
    page = client.get(page_path).get_data(as_text=True)
    note = re.search(r'id="what-to-correct".*?</div>', page, re.S).group(0)
    assert "户籍地址与户口簿不一致，请按户口簿填写" in note and "需补正" in page
    form = re.search(r'<form method="post" action="([^"]+)".*?</form>', page[page.index('id="correction"'):], re.S)
    assert form.group(1) == f"{page_path}/resubmit"
    locked = re.search(r'<input id="f-applicant_id_number"[^>]*>', form.group(0)).group(0)
    assert "readonly" in locked and me.id_number not in page and PHONE_A not in page  # masked, locked as filed
    assert 'value="广东省佛山市禅城区岭南大道2号"' in form.group(0)  # the declared value as filed, editable
    assert moves(page) == ["submitted", "needs_correction"] and "李工作 · 禅城区行政服务中心 (window1)" in page

    fields = inputs(form.group(0))
    unconfirmed = post(client, f"{page_path}/resubmit", {**fields, "address": "广东省佛山市禅城区祖庙路1号"})
    assert unconfirmed.status_code == 422 and 'id="e-confirm"' in unconfirmed.get_data(as_text=True)
    empty = post(client, f"{page_path}/resubmit", {**fields, "address": " ", "confirm": "yes"})
    assert empty.status_code == 422 and 'id="e-address"' in empty.get_data(as_text=True)
    assert svc.applications.get(aid).status == "needs_correction"

    done = post(client, f"{page_path}/resubmit", {**fields, "address": "广东省佛山市禅城区祖庙路1号",
                                                   "applicant_name": "冒名顶替", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == page_path
    again = svc.applications.get(aid)
    new_date = decide_by(today, again.time_limit_days)
    assert again.status == "submitted" and again.decide_by == new_date and again.submitted_on == today
    assert again.fields["address"] == "广东省佛山市禅城区祖庙路1号"
    assert again.fields["applicant_name"] == me.name and again.fields["phone"] == PHONE_A  # locked; masked kept
    assert again.number == filed.number
    page = client.get(page_path).get_data(as_text=True)
    assert f"已重新提交。承诺办结日期现为 {new_date.isoformat()}。" in page and "重新提交日期" in page
    assert f'id="decide-by"><time datetime="{new_date.isoformat()}">' in page
    assert moves(page) == ["submitted", "needs_correction", "submitted"] and "补正后重新提交" in page
    assert page.count("操作人：您") == 2 and 'id="correction"' not in page
    assert len(svc.applications.history(aid)) == 3


# --- a citizen: withdrawn with a reason, then filed again -------------------------------------------------------
def test_a_citizen_withdraws_with_a_reason_and_can_file_the_service_again(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    material(svc, me.pid, "id_card", local_today(svc) + timedelta(days=30))
    client = citizen(app, sandbox, me, PHONE_A)
    file_by_page(client, me.pid, ID_CARD, address="广东省佛山市禅城区岭南大道2号")
    aid = the_one(svc, "Person", me.pid)
    path = f"/me/p/{me.pid}/applications/{aid}/withdraw"
    form = client.get(path).get_data(as_text=True)
    assert 'id="f-reason"' in form and 'id="f-confirm"' in form and svc.applications.get(aid).number in form

    before = state(svc, aid)
    for typed, field in (({"reason": "", "confirm": "yes"}, "reason"), ({"reason": "  ", "confirm": "yes"}, "reason"),
                         ({"reason": "改\u202e期", "confirm": "yes"}, "reason"),
                         ({"reason": "x" * 501, "confirm": "yes"}, "reason"), ({"reason": "改期办理"}, "confirm")):
        refused = post(client, path, typed)
        assert refused.status_code == 422, typed
        assert f'id="e-{field}"' in refused.get_data(as_text=True), typed
    assert state(svc, aid) == before

    done = post(client, path, {"reason": "下个月回户籍地办理", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == f"/me/p/{me.pid}/applications/{aid}"
    gone = svc.applications.get(aid)
    assert gone.status == "withdrawn" and gone.note == "下个月回户籍地办理"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "已撤回。该事项重新开放" in page and "已撤回：可以再次申请" in page and "下个月回户籍地办理" in page
    assert f'href="/me/p/{me.pid}/apply/{ID_CARD}"' in page and path not in page
    assert moves(page) == ["submitted", "withdrawn"] and "申请人撤回" in page
    assert "已撤回：可以再次申请" in row(client.get("/me").get_data(as_text=True), aid)

    file_by_page(client, me.pid, ID_CARD, address="广东省佛山市禅城区岭南大道2号")
    new = the_one(svc, "Person", me.pid)
    assert new != aid and svc.applications.get(new).number != gone.number
    assert svc.applications.get(aid).status == "withdrawn"


# --- once decided or withdrawn: nothing offered, a forged post refused ------------------------------------------
def test_a_decided_or_withdrawn_application_offers_nothing_and_a_forged_post_changes_nothing(app, svc, sandbox):
    me = make_person(svc, phone=PHONE_A)
    today = local_today(svc)
    material(svc, me.pid, "id_card", today + timedelta(days=30))
    client = citizen(app, sandbox, me, PHONE_A)
    file_by_page(client, me.pid, ID_CARD, address="广东省佛山市禅城区岭南大道2号")
    aid = the_one(svc, "Person", me.pid)
    base = f"/me/p/{me.pid}/applications/{aid}"

    not_returned = post(client, f"{base}/resubmit", {"address": "别处", "confirm": "yes"})  # submitted: nothing to fix
    assert not_returned.status_code == 409 and "并不处于待补正状态" in not_returned.get_data(as_text=True)

    opened = client.get(f"{base}/withdraw")  # the form is open when the department decides meanwhile
    assert opened.status_code == 200
    decide(svc, OFFICER, aid, "approved", "请到窗口领取新证", today)
    before = state(svc, aid)
    late = post(client, f"{base}/withdraw", {"reason": "不想办了", "confirm": "yes"})
    assert late.status_code == 409 and 'id="refused"' in late.get_data(as_text=True)
    assert "这份申请已不能撤回" in late.get_data(as_text=True)
    assert post(client, f"{base}/resubmit", {"address": "别处", "confirm": "yes"}).status_code == 409
    assert state(svc, aid) == before
    page = client.get(base).get_data(as_text=True)
    assert "已批准" in page and "请到窗口领取新证" in page
    assert f"{base}/withdraw" not in page and f"{base}/resubmit" not in page
    assert client.get(f"{base}/withdraw").status_code == 303  # back to the page, which says why

    other = make_person(svc, phone=PHONE_B)
    material(svc, other.pid, "id_card", today + timedelta(days=30))
    theirs = file_application(svc, Actor("test", "system"), SubjectRef("Person", other.pid), ID_CARD,
                              {"address": "x"}, [], today).aid
    withdraw(svc, Actor("test", "system"), theirs, "在别处办理")
    theirs_client = citizen(app, sandbox, other, PHONE_B)
    before = state(svc, theirs)
    page = theirs_client.get(f"/me/p/{other.pid}/applications/{theirs}").get_data(as_text=True)
    assert "/withdraw" not in page and "/resubmit" not in page
    for path, data in (("withdraw", {"reason": "再撤一次", "confirm": "yes"}), ("resubmit", {"confirm": "yes"})):
        answer = post(theirs_client, f"/me/p/{other.pid}/applications/{theirs}/{path}", data)
        assert answer.status_code == 409, path
    assert state(svc, theirs) == before


def test_a_decision_between_the_pages_check_and_the_move_is_a_clear_409(app, svc, sandbox, monkeypatch):
    """The use case's own refusal (the department decided in the very moment): the page says so, nothing changes."""
    me = make_person(svc, phone=PHONE_A)
    today = local_today(svc)
    material(svc, me.pid, "id_card", today + timedelta(days=30))
    client = citizen(app, sandbox, me, PHONE_A)
    file_by_page(client, me.pid, ID_CARD, address="广东省佛山市禅城区岭南大道2号")
    aid = the_one(svc, "Person", me.pid)
    base = f"/me/p/{me.pid}/applications/{aid}"
    decide(svc, OFFICER, aid, "rejected", "不符合换领条件", today)
    monkeypatch.setattr(application_life, "can_withdraw", lambda _app: True)  # as if checked before the decision
    monkeypatch.setattr(application_life, "can_resubmit", lambda _app: True)
    before = state(svc, aid)
    late = post(client, f"{base}/withdraw", {"reason": "不想办了", "confirm": "yes"})
    assert late.status_code == 409 and "这份申请已不能撤回" in late.get_data(as_text=True)
    fields = inputs(client.get(base).get_data(as_text=True))  # the form as the page offered it
    late = post(client, f"{base}/resubmit", {**fields, "confirm": "yes"})
    assert late.status_code == 409 and "并不处于待补正状态" in late.get_data(as_text=True)
    assert state(svc, aid) == before


# --- a parent for a ward ----------------------------------------------------------------------------------------
def school_age_birth_date(today: date) -> date:
    entry_year = today.year if today <= date(today.year, 8, 31) else today.year + 1
    return date(entry_year - 6, 3, 15)


def test_a_parent_corrects_resubmits_and_withdraws_the_childs_application(app, svc, sandbox):
    parent = make_person(svc, phone=PHONE_A, name="陈大文")
    child = make_person(svc, born=school_age_birth_date(local_today(svc)), name="陈小宝")
    svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    client = citizen(app, sandbox, parent, PHONE_A)
    file_by_page(client, child.pid, SCHOOL, address="广东省佛山市禅城区岭南大道2号")
    aid = the_one(svc, "Person", child.pid)
    base = f"/me/p/{child.pid}/applications/{aid}"
    decide(svc, OFFICER, aid, "needs_correction", "请填写户口簿上的地址", local_today(svc))

    page = client.get(base).get_data(as_text=True)
    assert "请填写户口簿上的地址" in page and child.id_number not in page
    fields = inputs(page[page.index('id="correction"'):])
    done = post(client, f"{base}/resubmit", {**fields, "address": "广东省佛山市禅城区祖庙路1号", "confirm": "yes"})
    assert done.status_code == 303
    assert svc.applications.get(aid).status == "submitted"
    assert svc.applications.get(aid).fields["address"] == "广东省佛山市禅城区祖庙路1号"
    page = client.get(base).get_data(as_text=True)
    assert moves(page) == ["submitted", "needs_correction", "submitted"] and page.count("操作人：您") == 2
    assert "退回补正：请查看需补正的内容" not in row(client.get(f"/me/p/{child.pid}").get_data(as_text=True), aid)

    assert post(client, f"{base}/withdraw", {"reason": "孩子转学到外区", "confirm": "yes"}).status_code == 303
    assert svc.applications.get(aid).status == "withdrawn"
    assert [t.actor for t in svc.applications.history(aid)][-1] == f"citizen {parent.pid}"


# --- someone else's application ---------------------------------------------------------------------------------
def test_b_cannot_withdraw_or_correct_as_application_and_each_attempt_is_recorded(app, svc, sandbox):
    a = make_person(svc, phone=PHONE_A, name="甲")
    b = make_person(svc, phone=PHONE_B, name="乙")
    today = local_today(svc)
    material(svc, a.pid, "id_card", today + timedelta(days=30))
    a_client = citizen(app, sandbox, a, PHONE_A)
    file_by_page(a_client, a.pid, ID_CARD, address="甲的地址")
    aid = the_one(svc, "Person", a.pid)
    decide(svc, OFFICER, aid, "needs_correction", "甲需补正的内容", today)
    before = state(svc, aid)
    client = citizen(app, sandbox, b, PHONE_B)
    attempts = [("GET", f"/me/p/{a.pid}/applications/{aid}/withdraw"),
                ("GET", f"/me/p/{b.pid}/applications/{aid}/withdraw"),
                ("POST", f"/me/p/{a.pid}/applications/{aid}/withdraw"),
                ("POST", f"/me/p/{b.pid}/applications/{aid}/withdraw"),
                ("POST", f"/me/p/{a.pid}/applications/{aid}/resubmit"),
                ("POST", f"/me/p/{b.pid}/applications/{aid}/resubmit"),
                ("GET", f"/me/p/{b.pid}/applications/{aid}")]
    for method, path in attempts:
        count = len(svc.portal.refusals())
        answer = client.get(path) if method == "GET" else post(client, path, {"reason": "乙想撤回", "confirm": "yes",
                                                                               "address": "乙改的"})
        assert answer.status_code == 404, (method, path)
        assert "甲需补正的内容" not in answer.get_data(as_text=True) and "甲的地址" not in answer.get_data(as_text=True)
        refusals = svc.portal.refusals()
        assert len(refusals) == count + 1 and refusals[0].path == path and refusals[0].role == "citizen"
    assert state(svc, aid) == before


# --- a business -------------------------------------------------------------------------------------------------
def food_business(svc):
    on = local_today(svc)
    rep = make_person(svc, phone=REP_PHONE, name="陈老板")
    entity = make_entity(svc, name="佛山市禅城区示例餐饮有限公司", established=date(on.year - 6, 3, 1), legal_rep=rep)
    for kind, number, expires in (("food_business_permit", "JY14406040012345", on + timedelta(days=60)),
                                  ("business_licence", "914406047788990011", None)):
        svc.holdings.add_material("Entity", Material(str(uuid.uuid4()), entity.eid, kind, number,
                                                     on - timedelta(days=1000), expires, "佛山市禅城区市场监督管理局",
                                                     "issued", {"premises": "禅城区季华五路1号"}))
    return rep, entity


def business(app, sandbox, entity):
    client = app.test_client()
    assert sign_in_business(client, sandbox, entity.uscc, REP_PHONE).status_code == 303
    return client


def test_a_business_corrects_and_resubmits_then_withdraws_and_applies_again(app, svc, sandbox):
    rep, entity = food_business(svc)
    today = local_today(svc)
    earlier = today - timedelta(days=10)  # filed ten days ago: the resubmission's decision date is a new one
    filed = file_application(svc, Actor(f"business {entity.eid} (by {rep.pid})", "business"),
                             SubjectRef("Entity", entity.eid), FOOD,
                             {"entity_name": entity.name, "conditions_changed": "是", "phone": REP_PHONE,
                              "legal_rep_name": "陈老板"}, [], earlier)
    decide(svc, OFFICER, filed.aid, "needs_correction", "经营条件已变化的，请说明变化内容", today)
    client = business(app, sandbox, entity)
    base = f"/biz/applications/{filed.aid}"

    listed = row(client.get("/biz").get_data(as_text=True), filed.aid)
    assert filed.number in listed and "退回补正：请查看需补正的内容" in listed and f"{base}#correction" in listed
    page = client.get(base).get_data(as_text=True)
    assert f'id="application-number">{filed.number}<' in page and "需补正" in page
    assert "经营条件已变化的，请说明变化内容" in re.search(r'id="what-to-correct".*?</div>', page, re.S).group(0)
    assert re.search(rf'id="f-entity_name" type="text" value="{entity.name}" readonly', page)  # issued: locked
    assert 'name="conditions_changed" type="text" value="是"' in page  # as filed, editable
    assert REP_PHONE not in page and rep.id_number not in page
    assert moves(page) == ["submitted", "needs_correction"] and "操作人：您" in page

    fields = {k: v for k, v in inputs(page).items() if k != "reason"}
    assert post(client, f"{base}/resubmit", {**fields, "conditions_changed": ""}).status_code == 422
    done = post(client, f"{base}/resubmit", {**fields, "conditions_changed": "否，经营场所未变", "phone": "",
                                             "confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == base
    again = svc.applications.get(filed.aid)
    assert again.status == "submitted" and again.decide_by == decide_by(today, again.time_limit_days) != filed.decide_by
    assert again.fields["conditions_changed"] == "否，经营场所未变" and again.fields["phone"] == REP_PHONE
    page = client.get(base).get_data(as_text=True)
    assert f"承诺办结日期现为 {again.decide_by.isoformat()}" in page
    assert moves(page) == ["submitted", "needs_correction", "submitted"]

    form = client.get(f"{base}/withdraw").get_data(as_text=True)
    assert 'id="f-reason"' in form
    assert post(client, f"{base}/withdraw", {"reason": "", "confirm": "yes"}).status_code == 422
    done = post(client, f"{base}/withdraw", {"reason": "门店暂停营业", "confirm": "yes"})
    assert done.status_code == 303 and svc.applications.get(filed.aid).status == "withdrawn"
    page = client.get(base).get_data(as_text=True)
    assert "已撤回：可以再次申请" in page and f'href="/biz/apply/{FOOD}"' in page and f"{base}/withdraw" not in page
    before = state(svc, filed.aid)
    assert post(client, f"{base}/withdraw", {"reason": "再撤", "confirm": "yes"}).status_code == 409
    assert post(client, f"{base}/resubmit", {**fields, "confirm": "yes"}).status_code == 409
    assert state(svc, filed.aid) == before

    form = client.get(f"/biz/apply/{FOOD}").get_data(as_text=True)
    fresh = post(client, f"/biz/apply/{FOOD}", {**inputs(form), "conditions_changed": "否", "confirm": "yes"})
    assert fresh.status_code == 303 and fresh.headers["Location"] != base
    assert [a["status"] for a in svc.portal.applications_of("Entity", entity.eid)].count("submitted") == 1


def test_another_business_cannot_withdraw_or_correct_it(app, svc, sandbox):
    _rep, entity = food_business(svc)
    filed = file_application(svc, Actor("test", "system"), SubjectRef("Entity", entity.eid), FOOD,
                             {"conditions_changed": "是"}, [], local_today(svc))
    decide(svc, OFFICER, filed.aid, "needs_correction", "请说明变化", local_today(svc))
    other_rep = make_person(svc, phone=PHONE_B, name="李四")
    other = make_entity(svc, name="佛山市南海区另一家有限公司", legal_rep=other_rep)
    client = app.test_client()
    assert sign_in_business(client, sandbox, other.uscc, PHONE_B).status_code == 303
    before = state(svc, filed.aid)
    for method, path in (("GET", f"/biz/applications/{filed.aid}/withdraw"),
                         ("POST", f"/biz/applications/{filed.aid}/withdraw"),
                         ("POST", f"/biz/applications/{filed.aid}/resubmit")):
        count = len(svc.portal.refusals())
        answer = client.get(path) if method == "GET" else post(client, path, {"reason": "x", "confirm": "yes"})
        assert answer.status_code == 404 and "请说明变化" not in answer.get_data(as_text=True)
        assert len(svc.portal.refusals()) == count + 1 and svc.portal.refusals()[0].path == path
    assert state(svc, filed.aid) == before
