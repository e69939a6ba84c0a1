"""The public guide of each service (/services/<code>), from the catalog, in Chinese and English without signing in;
404 for an unknown service; the prefilled forms and the reminder link to it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from notifier.delivery import inbox_text
from tests.integration.notify_helpers import material
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_entity, make_officer, make_person, post, sign_in_officer
from tests.integration.test_pages_citizen import signed_in as citizen_signed_in
from tests.integration.test_pages_enterprise import REP_PHONE, remind
from tests.integration.test_pages_enterprise import signed_in as business_signed_in

PHONE = "+8613712340201"


def english(client):
    assert client.get("/lang/en").status_code == 303
    return client


def text(page: str) -> str:
    """The page's words, without tags, on one line per block."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_id_card_guide_says_where_what_in_person_fee_time_and_online_in_chinese(app, svc):
    answer = app.test_client().get("/services/id_card_renewal")
    assert answer.status_code == 200
    page = text(answer.get_data(as_text=True))
    guide = svc.catalog.services["id_card_renewal"].guide
    assert "<h1>居民身份证有效期满换领</h1>" in answer.get_data(as_text=True)
    assert guide.purpose.zh in page and guide.who.zh in page
    assert "居民身份证" in page and "居民户口簿" in page  # what to bring: the scenario's materials by name
    assert guide.where.department.zh in page and guide.where.place.zh in page
    assert "现场采集指纹信息" in page and "交回原居民身份证" in page
    assert "20元" in page and "依据： 国家发展改革委" in page and "发改价格〔2003〕2322号" in page
    assert "20个工作日内办结" in page
    assert "不能，须到窗口办理" in page
    assert "中华人民共和国居民身份证法 第十一条、第十条" in page  # the legal sources, by title
    assert "UNVERIFIED" not in page  # maintainers' notes stay in the catalog


def test_the_same_guide_in_english(app, svc):
    client = english(app.test_client())
    page = text(client.get("/services/id_card_renewal").get_data(as_text=True))
    guide = svc.catalog.services["id_card_renewal"].guide
    assert "Resident ID card renewal on expiry" in page and guide.where.place.en in page
    assert "Your fingerprints are taken" in page and "20 yuan" in page
    assert "Decided within 20 working days" in page and "No: it is done at the window." in page


def test_a_business_guide_is_free_online_and_says_one_working_day_in_the_singular(app):
    client = english(app.test_client())
    answer = client.get("/services/enterprise_annual_report")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Decided within 1 working day<" in page and "1 working days" not in page
    assert "Free" in text(page) and '<a href="https://www.gsxt.gov.cn/">' in page
    assert "免费" in text(app.test_client().get("/services/enterprise_annual_report").get_data(as_text=True))


def test_a_bundle_links_the_guides_of_what_it_bundles(app):
    page = app.test_client().get("/services/birth_bundle").get_data(as_text=True)
    assert 'href="/services/newborn_hukou_registration"' in page and "新生儿出生户口登记" in page


def test_an_unknown_service_is_404(app):
    for path in ("/services/no_such_service", "/services/ID_CARD_RENEWAL"):
        answer = app.test_client().get(path)
        assert answer.status_code == 404 and "页面不存在" in answer.get_data(as_text=True)


def test_the_citizens_prefilled_form_links_the_guide(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    today = datetime.now(svc.settings.zone).date()
    material(svc, me.pid, "id_card", today + timedelta(days=30))
    client = citizen_signed_in(app, sandbox, me, PHONE)
    form = client.get(f"/me/p/{me.pid}/apply/id_card_renewal").get_data(as_text=True)
    assert '<a href="/services/id_card_renewal">办事指南：居民身份证有效期满换领（办理地点、收费、时限）</a>' in form


def test_the_business_form_and_the_officers_unified_form_link_each_guide(app, svc, sandbox):
    rep = make_person(svc, phone=REP_PHONE, name="陈大文")
    entity = make_entity(svc, legal_rep=rep)
    client = business_signed_in(app, sandbox, entity)
    form = client.get("/biz/apply/enterprise_annual_report").get_data(as_text=True)
    assert 'href="/services/enterprise_annual_report"' in form

    make_officer(svc)
    desk = app.test_client()
    assert sign_in_officer(desk, "window1").status_code == 303
    assert post(desk, "/officer/search", {"number": rep.id_number, "purpose": "窗口受理"}).status_code == 303
    page = desk.get(f"/officer/persons/{rep.pid}/prefill?services=id_card_renewal&services=passport_renewal"
                    ).get_data(as_text=True)
    assert 'href="/services/id_card_renewal"' in page and 'href="/services/passport_renewal"' in page


def test_the_reminder_in_the_inbox_links_the_guide(app, svc):
    rep = make_person(svc, phone=REP_PHONE, name="陈大文")
    entity = make_entity(svc, legal_rep=rep)
    today = datetime.now(svc.settings.zone).date()
    _, [inbox] = remind(svc, entity, rep, "enterprise_annual_report", today + timedelta(days=30), 30, ("inbox",))
    guide = f"{svc.settings.public_url}/services/enterprise_annual_report"
    assert f"办事指南（办理地点、收费、时限）：{guide}" in inbox_text(svc, svc.notices.get(inbox)).text
    assert f"How to do it (where to go, fee, time): {guide}" in inbox_text(svc, svc.notices.get(inbox), "en").text


def test_every_service_has_a_guide_page_in_both_languages(app, svc):
    chinese, client = app.test_client(), english(app.test_client())
    for code, service in svc.catalog.services.items():
        zh, en = chinese.get(f"/services/{code}"), client.get(f"/services/{code}")
        assert (zh.status_code, en.status_code) == (200, 200), code
        assert service.guide.where.place.zh in text(zh.get_data(as_text=True)), code
        assert service.guide.where.place.en in text(en.get_data(as_text=True)).replace("&#39;", "'"), code


def test_on_an_english_page_a_chinese_source_title_is_marked_as_chinese(app):
    page = english(app.test_client()).get("/services/id_card_renewal").get_data(as_text=True)
    assert '<li lang="zh-CN">中华人民共和国居民身份证法 第十一条、第十条</li>' in page
    assert 'Based on: <span lang="zh-CN">国家发展改革委' in page
    assert '<li lang=' not in app.test_client().get("/services/id_card_renewal").get_data(as_text=True)
