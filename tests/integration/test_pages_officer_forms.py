"""The officer window's forms that help (issue 18), with real Neo4j and Redis: an error summary naming each field, the
typed values kept (the ID number too), common purposes and reasons offered as choices, the recording form validated
per kind (another kind's fields ignored, each missing one named), a death written only after its confirmation, and
the words (plurals, no doubled "bundle", labels capitalised, sex in words)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from tests.integration.api_helpers import snapshot
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_person, post
from tests.integration.test_pages_officer import PURPOSE, TODAY, family, officer, search, whats


def written(svc) -> tuple:
    """Every node and relationship but the access log's: the look at a record is recorded, nothing else may be."""
    outside = "NOT {0}:AccessRecord AND NOT {0}:AuditHead"
    nodes = svc.driver.execute_query(f"MATCH (n) WHERE {outside.format('n')} RETURN labels(n) AS l, properties(n) AS p",
                                     database_=svc.settings.neo4j_database)[0]
    rels = svc.driver.execute_query(f"MATCH (a)-[r]->(b) WHERE {outside.format('a')} AND {outside.format('b')} "
                                    "RETURN type(r) AS t, elementId(a) AS a, elementId(b) AS b",
                                    database_=svc.settings.neo4j_database)[0]
    return sorted(repr((sorted(r["l"]), sorted(r["p"].items()))) for r in nodes), sorted(repr(r.values()) for r in rels)


def summary(page: str) -> list[tuple[str, str]]:
    """(link target, text) of each line of the error summary."""
    box = re.search(r'<div class="error-summary".*?</ul>', page, re.S)
    return re.findall(r'<a href="#([^"]+)">([^<]*)</a>', box.group(0)) if box else []


def test_a_search_without_a_purpose_keeps_the_typed_number_and_sums_up_the_error(app, svc):
    person = make_person(svc, name="陈小明")
    client = officer(app, svc)
    answer = search(client, person.id_number, "")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert re.search(rf'id="f-number"[^>]*value="{person.id_number}"', page)  # not wiped
    assert summary(page) == [("f-purpose", "查阅事由：请选择或填写查阅事由")]
    assert person.name not in page and answer.headers["Cache-Control"] == "no-store"
    assert svc.access_log.for_subject(person.pid) == []

    wrong = search(client, person.id_number[:17] + ("0" if person.id_number[17] != "0" else "1"), "")
    lines = summary(wrong.get_data(as_text=True))
    assert [target for target, _text in lines] == ["f-number", "f-purpose"]
    assert lines[0][1].startswith("身份证号码、统一社会信用代码或出生医学证明编号：")


def test_a_purpose_chosen_from_the_list_is_the_one_recorded_and_a_typed_one_needs_other_or_no_choice(app, svc):
    person = make_person(svc)
    client = officer(app, svc)
    home = client.get("/officer").get_data(as_text=True)
    assert 'name="purpose_choice" value="0"' in home and 'for="c-purpose-0">窗口受理办件' in home
    chosen = post(client, "/officer/search", {"number": person.id_number, "purpose_choice": "1",
                                              "purpose": "typed but not used"})
    assert chosen.status_code == 303
    assert whats(svc, person.pid)[0] == ("search", "核验办事材料")  # newest first
    typed = post(client, "/officer/search", {"number": person.id_number, "purpose_choice": "other",
                                             "purpose": "核对户籍地址"})
    assert typed.status_code == 303 and whats(svc, person.pid)[0] == ("search", "核对户籍地址")
    nothing = post(client, "/officer/search", {"number": person.id_number, "purpose_choice": "other"})
    assert nothing.status_code == 422 and 'value="other" checked' in nothing.get_data(as_text=True)


def test_opening_a_linked_record_and_revealing_a_number_offer_choices_too(app, svc):
    father, _mother, baby = family(svc)
    client = officer(app, svc)
    search(client, baby.id_number)
    opened = client.get(f"/officer/persons/{father.pid}/open?from=Person:{baby.pid}").get_data(as_text=True)
    assert 'name="purpose_choice"' in opened and f'value="{PURPOSE}"' in opened
    refused = post(client, f"/officer/persons/{father.pid}/open", {"purpose": ""})
    assert refused.status_code == 422 and summary(refused.get_data(as_text=True))[0][0] == "f-purpose"
    assert post(client, f"/officer/persons/{father.pid}/open", {"purpose_choice": "0"}).status_code == 303

    form = client.get(f"/officer/persons/{father.pid}/reveal").get_data(as_text=True)
    assert 'name="reason_choice" value="2"' in form
    shown = post(client, f"/officer/persons/{father.pid}/reveal", {"what": "id_number", "reason_choice": "2"})
    assert shown.status_code == 200 and father.id_number in shown.get_data(as_text=True)
    assert whats(svc, father.pid)[0][0] == "revealed ID number (reason: 与原件核对号码)"
    none = post(client, f"/officer/persons/{father.pid}/reveal", {"what": "id_number"})
    assert none.status_code == 422 and summary(none.get_data(as_text=True)) == [
        ("f-reason", "查看理由：请选择或填写查看理由")]


def test_the_recording_form_is_checked_per_kind(app, svc):
    person = make_person(svc, name="黄大山", born=date(1960, 3, 1))
    client = officer(app, svc)
    search(client, person.id_number)
    form = client.get(f"/officer/persons/{person.pid}/record").get_data(as_text=True)
    assert 'data-for-kinds="household_move"' in form  # the address, shown with script for a move only
    assert re.search(r'data-for-kinds="[^"]*medical_insurance_paid[^"]*"', form)  # the year

    before = snapshot(svc.driver, svc.settings.neo4j_database)
    moved = post(client, f"/officer/persons/{person.pid}/events",
                 {"form": "event", "kind": "household_move", "occurred_on": TODAY.isoformat(), "region": "440604"})
    page = moved.get_data(as_text=True)
    assert moved.status_code == 422 and 'id="e-e-address"' in page
    assert ("e-address", "新住址：户口迁移必须填写此项") in summary(page)
    assert 'value="440604"' in page  # typed values kept
    assert snapshot(svc.driver, svc.settings.neo4j_database) == before

    # another kind's fields are ignored: an address or a bad year typed for a marriage is not read
    married = post(client, f"/officer/persons/{person.pid}/events",
                   {"kind": "marriage", "occurred_on": TODAY.isoformat(), "address": "禅城区祖庙路1号",
                    "year": "abc"})
    assert married.status_code == 303, married.get_data(as_text=True)
    (event,) = [e for e in svc.holdings.events("Person", person.pid) if e.kind == "marriage"]
    assert "address" not in event.details and "year" not in event.details
    paid = post(client, f"/officer/persons/{person.pid}/events",
                {"kind": "medical_insurance_paid", "occurred_on": TODAY.isoformat(), "year": "abc"})
    assert paid.status_code == 422 and summary(paid.get_data(as_text=True))[0][0] == "e-year"

    material = post(client, f"/officer/persons/{person.pid}/materials", {"form": "material", "kind": "id_card"})
    lines = summary(material.get_data(as_text=True))
    assert ("m-number", "证照号码：必填") in lines
    assert all(target.startswith("m-") for target, _text in lines)


def test_a_death_is_written_only_after_its_confirmation(app, svc):
    person = make_person(svc, name="黄大山", born=date(1950, 3, 1))
    client = officer(app, svc)
    search(client, person.id_number)
    on = TODAY - timedelta(days=1)
    typed = {"form": "event", "kind": "death", "occurred_on": on.isoformat(), "place": "佛山市第一人民医院"}
    before = written(svc)
    asked = post(client, f"/officer/persons/{person.pid}/events", typed)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "<h1>确认登记死亡</h1>" in page
    assert f"黄大山 于 {on.isoformat()} 死亡" in page and "提醒都将停止" in page
    assert 'name="confirm" value="1"' in page and 'name="back" value="1"' in page
    assert svc.subjects.get_person(person.pid).deceased_on is None
    assert list(svc.holdings.events("Person", person.pid)) == []
    assert svc.access_log.for_subject(person.pid)[0].what == "death confirmation at the window"
    assert written(svc) == before  # nothing else

    back = post(client, f"/officer/persons/{person.pid}/events", {**typed, "back": "1"})
    form = back.get_data(as_text=True)
    assert back.status_code == 200 and 'value="佛山市第一人民医院"' in form
    assert re.search(r'<option value="death" selected>', form)
    assert svc.subjects.get_person(person.pid).deceased_on is None

    done = post(client, f"/officer/persons/{person.pid}/events", {**typed, "confirm": "1"})
    assert done.status_code == 303
    assert svc.subjects.get_person(person.pid).deceased_on == on


def test_a_death_the_record_refuses_is_refused_before_the_confirmation(app, svc):
    person = make_person(svc, name="黄大山", born=date(1950, 3, 1))
    client = officer(app, svc)
    search(client, person.id_number)
    refused = post(client, f"/officer/persons/{person.pid}/events", {"kind": "death", "occurred_on": "1949-01-01"})
    assert refused.status_code == 422 and "确认登记死亡" not in refused.get_data(as_text=True)


def test_the_words_plurals_bundles_labels_and_sex(app, svc):
    _father, mother, baby = family(svc)
    client = officer(app, svc)
    search(client, baby.id_number)
    client.get("/lang/en?next=/officer")
    form = client.get(f"/officer/persons/{baby.pid}/prefill").get_data(as_text=True)
    assert "bundle bundle" not in form.replace("</span>", "").replace('<span class="badge ok">', "")
    assert re.search(r"Files \d+ services together", form)
    search(client, mother.id_number)
    profile = client.get(f"/officer/persons/{mother.pid}").get_data(as_text=True)
    assert f"<dd>{'Female' if mother.sex == 'F' else 'Male'}</dd>" in profile
    assert re.search(r'class="badge [a-z]+">Issued</span>', profile)
    assert "1 related person or business and 2 materials on file" in profile
    assert 'class="picture scroll-frame" tabindex="0" role="region"' in profile
