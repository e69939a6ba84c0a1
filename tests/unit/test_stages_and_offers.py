"""The catalog covers both lifecycles of 国办发〔2025〕24号, each service with its stage and nature; offers are pushed
once per period of their scheme and never worded as a deadline; a child under 16 is not asked for an ID card; a
long-term expiry is not missing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from notifier.templates import CHANNELS, LANGUAGES, Reminder, render
from profiles.catalog import load_catalog
from profiles.catalog.model import coverage
from profiles.models import Material, Person
from profiles.notices import dedupe_key, owed_offset
from profiles.prefill import prefill
from profiles.rules import Applied, Snapshot, due_items

CATALOG = load_catalog()
OFFERS = {"childcare_subsidy_claim", "senior_allowance_claim", "unemployment_insurance_benefit_claim",
          "minimum_living_allowance_application"}


# --- stages --------------------------------------------------------------------------------------------------------
def test_the_two_lifecycles_are_those_of_the_document_in_its_order():
    said = {a: [s.name.zh for s in life.stages] for a, life in CATALOG.lifecycles.items()}
    assert said == {"person": ["出生", "教育", "就业", "生活", "置业", "出行", "就医", "救助", "养老", "身后"],
                    "entity": ["准入准营", "招聘用工", "纳税缴费", "经营发展", "工程建设", "注销退出"]}
    for life in CATALOG.lifecycles.values():
        assert any("国办发〔2025〕24号" in s.title for s in life.sources)


def test_every_stage_is_covered_by_a_service_with_a_cited_rule():
    missing = {st.key for rows in coverage(CATALOG).values() for st, carried in rows if not carried}
    assert not missing, f"stages without a service: {sorted(missing)}"
    for rows in coverage(CATALOG).values():
        for _stage, carried in rows:
            assert all(s.sources for s in carried)


def test_every_service_has_a_stage_of_its_own_audience_and_a_nature():
    for service in CATALOG.services.values():
        assert CATALOG.lifecycles[service.audience].find(service.stage) is not None, service.code
        assert service.nature in ("deadline", "offer")
    assert {c for c, s in CATALOG.services.items() if s.nature == "offer"} >= OFFERS


# --- offers: pushed once per period, never a deadline ---------------------------------------------------------------
MUM = "p-mum"


def baby(born: date, applications=()) -> Snapshot:
    return Snapshot(person=Person("p-baby", "", "李小宝", born, "M", "440604"), guardians=(MUM,),
                    applications=tuple(applications))


def offers(snapshot: Snapshot, as_of: date, within: int = 365) -> list:
    return [i for i in due_items(snapshot, CATALOG, as_of, within) if i.service == "childcare_subsidy_claim"]


def test_the_childcare_subsidy_is_offered_each_year_of_age_until_three_from_the_day_the_year_opens():
    born = date(2026, 3, 10)
    [first] = offers(baby(born), born)
    assert (first.opens_on, first.notify_on, first.due_on) == (born, (born,), date(2027, 3, 10))
    assert first.recipients == (MUM,)  # a parent claims for the child
    # owed every day of the year at the same offset: one dedupe key, so one push whatever day the scan finds it
    keys = {dedupe_key(MUM, "p-baby", first.service, first.due_on,
                       owed_offset(first.due_on, first.notify_on, born + timedelta(days=d)), "sms")
            for d in (0, 1, 40, 300)}
    assert len(keys) == 1
    claimed = baby(born, [Applied("childcare_subsidy_claim", date(2026, 4, 1))])
    assert offers(claimed, date(2026, 4, 2)) == []  # this year's claim settles this year
    [second] = offers(claimed, date(2027, 3, 12))  # ... not the next one
    assert second.due_on == date(2028, 3, 10) and second.notify_on[0] in (date(2027, 3, 10), date(2027, 3, 11))
    [third] = offers(claimed, date(2028, 3, 12))
    assert third.due_on == date(2029, 3, 10)
    assert offers(baby(born), date(2029, 3, 11), within=3650) == []  # three years old: nothing more


def test_the_old_age_allowance_is_offered_once_from_the_eightieth_birthday():
    elder = Snapshot(person=Person("p-old", "", "王老", date(1946, 5, 1), "F", "440604"))
    pick = [i for i in due_items(elder, CATALOG, date(2026, 5, 1)) if i.service == "senior_allowance_claim"]
    assert [(i.notify_on, i.recipients) for i in pick] == [((date(2026, 5, 1),), ("p-old",))]
    for later in (date(2027, 5, 2), date(2030, 1, 1)):
        assert not [i for i in due_items(elder, CATALOG, later, 3650) if i.service == "senior_allowance_claim"]


def offer(**changes) -> Reminder:
    values = {"kind": "reminder", "service_zh": "育儿补贴", "service_en": "Childcare subsidy",
              "due_on": date(2027, 3, 10), "days_left": 300, "bring": (("户口簿", "Household register"),),
              "link": "https://gov.example/n/abc", "for_name": "小宝", "nature": "offer"}
    return Reminder(**{**values, **changes})


DEADLINE_WORDS = re.compile(r"请于|截止|期限|已过|还有\d|天|due|overdue|days? left|deadline|by \d|2027|3月10日|Mar",
                            re.IGNORECASE)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_an_offer_says_you_can_claim_and_threatens_no_deadline(channel, language):
    for days_left in (300, 0, -5):  # whatever the date, an offer names none
        out = render(channel, language, offer(days_left=days_left))
        for text in (out.subject, out.text, out.html or ""):
            assert not DEADLINE_WORDS.search(text), text
        english = "You can claim: Childcare subsidy for 小宝"
        assert ("您可为小宝申领育儿补贴" if language == "zh-CN" else english) in out.text
        assert out.subject == ("可申领：小宝的育儿补贴" if language == "zh-CN" else english)
    reminder = render(channel, language, offer(nature="deadline"))  # the same item as a duty keeps its date
    assert DEADLINE_WORDS.search(reminder.subject)


# --- materials: under 16, long-term ---------------------------------------------------------------------------------
def material(mid, holder, kind, issued, expires=None, **fields):
    return Material(mid, holder, kind, "N1", issued, expires, "x", "issued", fields)


def checklist(snapshot, services, as_of=date(2026, 6, 1), related=None):
    return {m.kind: m for m in prefill(snapshot, CATALOG, services, as_of, related).materials}


def test_a_child_under_16_is_asked_for_the_household_register_not_an_id_card():
    hukou = material("h1", "c1", "hukou", date(2016, 5, 1), address="佛山市禅城区1号")
    child = Snapshot(person=Person("c1", "", "李小明", date(2016, 4, 1), "M", "440604"), materials=(hukou,))
    kinds = checklist(child, ["resident_medical_insurance_contribution"])  # its first scenario asks an ID card
    assert set(kinds) == {"hukou"} and kinds["hukou"].state == "reusable"
    teen = Snapshot(person=Person("c2", "", "李大明", date(2010, 4, 1), "M", "440604"), materials=(hukou,))
    assert checklist(teen, ["resident_medical_insurance_contribution"])["id_card"].state == "missing"  # 16: owed
    card = material("k1", "c1", "id_card", date(2024, 1, 1), date(2029, 1, 1))  # applied for voluntarily: reused
    voluntary = Snapshot(person=child.person, materials=(hukou, card))
    assert checklist(voluntary, ["resident_medical_insurance_contribution"])["id_card"].mid == "k1"


def test_a_service_a_parent_files_still_asks_the_parents_id_card():
    mum = Snapshot(person=Person(MUM, "", "王芳", date(1992, 3, 15), "F", "440604"),
                   materials=(material("mc", MUM, "id_card", date(2018, 5, 1), date(2038, 5, 1)),))
    kinds = checklist(baby(date(2026, 3, 10)), ["childcare_subsidy_claim"], related={"parent": mum})
    assert (kinds["id_card"].state, kinds["id_card"].mid) == ("reusable", "mc")


def test_a_long_term_expiry_is_on_file_not_missing():
    adult = Person("p1", "440604196001011234", "张三", date(1960, 1, 1), "M", "440604")
    card = material("k1", "p1", "id_card", date(2010, 1, 1), None)  # 长期
    form = prefill(Snapshot(person=adult, materials=(card,)), CATALOG, ["id_card_renewal"], date(2026, 6, 1))
    [expiry] = [f for f in form.fields if f.name == "id_card_expires_on"]
    assert (expiry.value, expiry.provenance, expiry.material_id, expiry.locked) == ("长期", "issued", "k1", True)
    assert [m.state for m in form.materials if m.kind == "id_card"] == ["reusable"]
