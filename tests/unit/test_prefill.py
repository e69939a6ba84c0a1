"""Prefill (一表通) on the seeded catalog: fields asked once with their provenance, and the materials checklist."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from profiles.applications import decide_by
from profiles.catalog import load_catalog
from profiles.catalog.model import Catalog, RequiredMaterial, Scenario, Text
from profiles.errors import Rejected
from profiles.models import Entity, Material, Person
from profiles.prefill import PrefilledForm, prefill
from profiles.rules import Snapshot

CATALOG = load_catalog()
AS_OF = date(2026, 1, 20)
BIRTH_SERVICES = ("birth_bundle", "newborn_hukou_registration", "newborn_medical_insurance",
                  "social_security_card_application", "vaccination_certificate_application")


def person(pid: str, name: str, id_number: str, born: date, sex: str = "M", phone: str | None = None) -> Person:
    return Person(pid=pid, id_number=id_number, name=name, birth_date=born, sex=sex, region="440604", phone=phone)


def material(mid: str, holder: str, kind: str, issued: date, expires: date | None = None, provenance: str = "issued",
             superseded: bool = False, number: str = "N1", **fields: str) -> Material:
    return Material(mid=mid, holder_id=holder, kind=kind, number=number, issued_on=issued, expires_on=expires,
                    issuer="x", provenance=provenance, fields=fields, superseded=superseded)


def field(form: PrefilledForm, name: str):
    [found] = [f for f in form.fields if f.name == name]
    return found


def item(form: PrefilledForm, kind: str):
    [found] = [m for m in form.materials if m.kind == kind]
    return found


# --- the birth bundle (出生一件事) -----------------------------------------------------------------------------------
CHILD = person("c1", "李小宝", "440604202601100035", date(2026, 1, 10))
MOTHER = person("p-mother", "王芳", "440604199203150026", date(1992, 3, 15), sex="F", phone="13812345678")
BIRTH_CERT = material("bc1", "c1", "birth_certificate", date(2026, 1, 10), number="Q440012345",
                      place_of_birth="广东省佛山市禅城区", father="李明", mother="王芳")
MOTHER_CARD = material("mid-card", "p-mother", "id_card", date(2018, 5, 1), date(2038, 5, 1))
MOTHER_HUKOU = material("mid-hukou", "p-mother", "hukou", date(2015, 6, 1), address="佛山市禅城区祖庙路1号")
NEWBORN = Snapshot(person=CHILD, materials=(BIRTH_CERT,), guardians=("p-father", "p-mother"))
PARENT = Snapshot(person=MOTHER, materials=(MOTHER_CARD, MOTHER_HUKOU))


CHILD_FIELDS = {"address", "child_name", "child_sex", "child_birth_date", "birth_certificate_number", "place_of_birth",
                "father_name", "mother_name", "child_id_number"}
GUARDIAN_FIELDS = {"guardian_name", "guardian_id_number", "guardian_phone"}


def test_the_birth_bundle_is_one_form_with_each_shared_field_once():
    form = prefill(NEWBORN, CATALOG, ["birth_bundle"], AS_OF, related={"parent": PARENT})
    assert form.services == BIRTH_SERVICES
    names = [f.name for f in form.fields]
    assert len(names) == len(set(names))
    assert set(names) == CHILD_FIELDS | GUARDIAN_FIELDS  # the parent applying is guardian_* in every member
    applicant = field(form, "guardian_name")
    assert (applicant.value, applicant.provenance, applicant.locked) == ("王芳", "issued", True)
    assert (applicant.source, applicant.material_id, applicant.material_date) == ("parent.name", "mid-card",
                                                                                  date(2018, 5, 1))
    assert set(applicant.services) >= {"newborn_medical_insurance", "social_security_card_application",
                                       "vaccination_certificate_application"}
    id_number = field(form, "guardian_id_number")
    assert (id_number.value, id_number.provenance, id_number.locked) == ("440604199203150026", "issued", True)
    phone = field(form, "guardian_phone")
    assert (phone.value, phone.provenance, phone.locked) == ("13812345678", "declared", False)
    # the catalog asks the address of the applicant in all five (source: null), so it is asked once, unfilled
    address = field(form, "address")
    assert (address.value, address.provenance, address.source, address.locked) == (None, "missing", None, False)
    assert address.services == BIRTH_SERVICES
    for name, value in (("father_name", "李明"), ("mother_name", "王芳"), ("place_of_birth", "广东省佛山市禅城区"),
                        ("birth_certificate_number", "Q440012345")):
        f = field(form, name)
        assert (f.value, f.provenance, f.locked, f.material_id, f.material_date) == (
            value, "issued", True, "bc1", date(2026, 1, 10))
    assert (field(form, "child_birth_date").value, field(form, "child_sex").value) == ("2026-01-10", "M")
    assert field(form, "child_id_number").services == ("birth_bundle", "newborn_medical_insurance",
                                                       "social_security_card_application")


def test_the_birth_bundle_checklist_reuses_the_birth_certificate_and_the_parents_documents():
    form = prefill(NEWBORN, CATALOG, ["birth_bundle"], AS_OF, related={"parent": PARENT})
    assert [m.kind for m in form.materials] == ["birth_certificate", "hukou", "id_card"]
    cert = item(form, "birth_certificate")
    assert (cert.state, cert.mid, cert.expires_on, cert.name_zh) == ("reusable", "bc1", None, "出生医学证明")
    assert cert.services == ("birth_bundle", "newborn_hukou_registration", "newborn_medical_insurance",
                             "vaccination_certificate_application")
    assert (item(form, "hukou").state, item(form, "hukou").mid) == ("reusable", "mid-hukou")
    assert (item(form, "id_card").state, item(form, "id_card").mid) == ("reusable", "mid-card")
    # the bundle's own promise governs: 10 working days, no shorter than its slowest member (the loader checks)
    assert form.decision_date == decide_by(AS_OF, 10)


def test_the_birth_bundle_without_a_parent_on_file_asks_for_everything_about_the_parent():
    form = prefill(dataclasses.replace(NEWBORN, materials=()), CATALOG, ["birth_bundle"], AS_OF)
    for name in ("guardian_name", "guardian_id_number", "guardian_phone", "father_name", "birth_certificate_number"):
        assert (field(form, name).value, field(form, name).provenance) == (None, "missing")
    assert field(form, "child_name").provenance == "declared"  # the newborn holds no ID card
    assert {m.kind: m.state for m in form.materials} == {"birth_certificate": "missing", "hukou": "missing",
                                                         "id_card": "missing"}


# --- ID card renewal -------------------------------------------------------------------------------------------------
ADULT = person("p1", "张三", "440604198001011234", date(1980, 1, 1))
DECISION = decide_by(AS_OF, 20)
EXPIRING_CARD = material("card1", "p1", "id_card", date(2006, 2, 1), date(2026, 2, 1))


def test_id_card_renewal_reads_the_address_from_the_hukou_with_its_provenance():
    hukou = material("h1", "p1", "hukou", date(2010, 3, 4), provenance="verified", address="佛山市南海区桂城街道1号")
    old = material("h0", "p1", "hukou", date(2000, 1, 1), superseded=True, address="旧地址")
    form = prefill(Snapshot(person=ADULT, materials=(old, hukou, EXPIRING_CARD)), CATALOG, ["id_card_renewal"], AS_OF)
    address = field(form, "address")
    assert (address.value, address.provenance, address.locked) == ("佛山市南海区桂城街道1号", "verified", False)
    assert (address.source, address.material_id, address.material_date) == ("material[hukou].fields.address", "h1",
                                                                             date(2010, 3, 4))
    assert (field(form, "id_card_expires_on").value, field(form, "id_card_expires_on").locked) == ("2026-02-01", True)
    assert (field(form, "applicant_name").provenance, field(form, "applicant_name").material_id) == ("issued", "card1")
    assert (field(form, "applicant_birth_date").value, field(form, "applicant_sex").locked) == ("1980-01-01", True)
    assert (field(form, "phone").value, field(form, "phone").provenance) == (None, "missing")
    assert form.decision_date == DECISION and EXPIRING_CARD.expires_on < DECISION


def test_an_issued_hukou_locks_the_address_and_the_expiring_card_is_reusable_for_its_own_renewal():
    hukou = material("h1", "p1", "hukou", date(2010, 3, 4), address="佛山市南海区桂城街道1号")
    form = prefill(Snapshot(person=ADULT, materials=(hukou, EXPIRING_CARD)), CATALOG, ["id_card_renewal"], AS_OF)
    assert (field(form, "address").provenance, field(form, "address").locked) == ("issued", True)
    card = item(form, "id_card")  # valid_on_decision: false — the old card is handed in, it need not be valid
    assert (card.state, card.mid, card.expires_on) == ("reusable", "card1", date(2026, 2, 1))
    assert (item(form, "hukou").state, item(form, "hukou").mid) == ("reusable", "h1")


def test_a_missing_hukou_leaves_the_address_to_the_applicant():
    form = prefill(Snapshot(person=ADULT, materials=(EXPIRING_CARD,)), CATALOG, ["id_card_renewal"], AS_OF)
    address = field(form, "address")
    assert (address.value, address.provenance, address.material_id, address.locked) == (None, "missing", None, False)
    assert (item(form, "hukou").state, item(form, "hukou").mid) == ("missing", None)


def test_without_an_id_card_the_name_is_only_declared():
    form = prefill(Snapshot(person=ADULT), CATALOG, ["id_card_renewal"], AS_OF)
    assert (field(form, "applicant_name").provenance, field(form, "applicant_name").locked) == ("declared", False)
    assert field(form, "id_card_expires_on").provenance == "missing"
    assert item(form, "id_card").state == "missing"


# --- several services together ---------------------------------------------------------------------------------------
def test_passport_and_id_card_renewal_share_their_fields_and_the_card_must_then_stay_valid():
    passport = material("pp1", "p1", "passport", date(2016, 7, 1), date(2026, 7, 1), number="E12345678")
    snap = Snapshot(person=ADULT, materials=(EXPIRING_CARD, passport))
    form = prefill(snap, CATALOG, ["passport_renewal", "id_card_renewal"], AS_OF)
    assert form.services == ("passport_renewal", "id_card_renewal")
    names = [f.name for f in form.fields]
    assert len(names) == len(set(names))
    for shared in ("applicant_name", "applicant_id_number", "applicant_sex", "applicant_birth_date", "address",
                   "phone"):
        assert field(form, shared).services == ("passport_renewal", "id_card_renewal")
    assert field(form, "passport_number").services == ("passport_renewal",)
    assert field(form, "id_card_expires_on").services == ("id_card_renewal",)
    assert form.decision_date == decide_by(AS_OF, 20)  # the longer of 7 and 20 working days
    # the passport renewal needs the ID card valid on the decision date, so the union does too
    card = item(form, "id_card")
    assert (card.state, card.services) == ("expiring_before_decision", ("passport_renewal", "id_card_renewal"))
    assert item(form, "passport").state == "reusable"  # first scenario ("expiring"): need not be valid


def test_a_shared_name_takes_the_source_that_yields_a_value():
    child = Snapshot(person=person("c2", "李小明", "440604202003040011", date(2020, 3, 4)),
                     materials=(material("h2", "c2", "hukou", date(2020, 4, 1), address="佛山市顺德区大良1号"),))
    form = prefill(child, CATALOG, ["newborn_hukou_registration", "primary_school_entry"], AS_OF)
    address = field(form, "address")  # null in the first, material[hukou].fields.address in the second
    assert (address.value, address.source, address.material_id) == ("佛山市顺德区大良1号",
                                                                     "material[hukou].fields.address", "h2")
    assert address.services == ("newborn_hukou_registration", "primary_school_entry")


def test_a_scenario_named_default_is_preferred_and_an_explicit_decision_date_is_kept():
    service = CATALOG.services["passport_renewal"]
    only_card = Scenario("default", Text("默认", "Default"), (RequiredMaterial("id_card", True),))
    catalog = Catalog(CATALOG.materials, {**CATALOG.services, "passport_renewal": dataclasses.replace(
        service, scenarios=(*service.scenarios, only_card))})
    form = prefill(Snapshot(person=ADULT), catalog, ["passport_renewal"], AS_OF, decision_date=date(2026, 3, 1))
    assert [m.kind for m in form.materials] == ["id_card"]
    assert form.decision_date == date(2026, 3, 1)


# --- entities --------------------------------------------------------------------------------------------------------
COMPANY = Entity(eid="e1", uscc="91440604MA4W000001", name="佛山市示例食品有限公司", kind="limited_company",
                 established_on=date(2019, 5, 6), region="440604")
REP = Snapshot(person=person("p-rep", "陈老板", "440604197505051234", date(1975, 5, 5), phone="13900001111"),
               materials=(material("rep-card", "p-rep", "id_card", date(2021, 1, 1)),))
PERMIT = material("fp1", "e1", "food_business_permit", date(2021, 2, 1), date(2026, 1, 31), number="JY14406040001",
                  premises="佛山市禅城区季华路2号")
LICENCE = material("bl1", "e1", "business_licence", date(2019, 5, 6), None)


def test_an_entity_service_reads_the_register_and_the_legal_representative():
    snap = Snapshot(entity=COMPANY, materials=(PERMIT, LICENCE), legal_reps=("p-rep",))
    form = prefill(snap, CATALOG, ["food_business_permit_renewal"], AS_OF, related={"legal_rep": REP})
    assert (field(form, "entity_name").value, field(form, "entity_name").locked) == ("佛山市示例食品有限公司", True)
    assert (field(form, "uscc").value, field(form, "uscc").provenance) == ("91440604MA4W000001", "issued")
    rep = field(form, "legal_rep_name")
    assert (rep.value, rep.provenance, rep.material_id, rep.locked) == ("陈老板", "issued", "rep-card", True)
    assert (field(form, "legal_rep_id_number").value, field(form, "legal_rep_id_number").locked) == (
        "440604197505051234", True)
    assert (field(form, "phone").value, field(form, "phone").provenance) == ("13900001111", "declared")
    premises = field(form, "premises")
    assert (premises.value, premises.material_id, premises.material_date) == ("佛山市禅城区季华路2号", "fp1",
                                                                              date(2021, 2, 1))
    assert field(form, "food_business_permit_expires_on").value == "2026-01-31"
    assert field(form, "conditions_changed").provenance == "missing"
    assert form.decision_date == decide_by(AS_OF, 10)
    permit = item(form, "food_business_permit")
    assert (permit.state, permit.mid, permit.expires_on) == ("expiring_before_decision", "fp1", date(2026, 1, 31))
    assert (item(form, "business_licence").state, item(form, "business_licence").expires_on) == ("reusable", None)


def test_two_entity_services_share_the_representative_fields():
    snap = Snapshot(entity=COMPANY, materials=(PERMIT, LICENCE))
    form = prefill(snap, CATALOG, ["enterprise_annual_report", "food_business_permit_renewal"], AS_OF)
    both = ("enterprise_annual_report", "food_business_permit_renewal")
    assert field(form, "legal_rep_name").services == both and field(form, "phone").services == both
    assert (field(form, "legal_rep_name").value, field(form, "legal_rep_name").provenance) == (None, "missing")
    assert field(form, "email").services == ("enterprise_annual_report",)
    assert item(form, "business_licence").services == both


# --- rejections ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("snap", "codes", "message"), [
    (Snapshot(person=ADULT), ["id_card_renewal", "no_such_service"], "unknown service code 'no_such_service'"),
    (Snapshot(person=ADULT), ["enterprise_annual_report"], "service 'enterprise_annual_report' is for entities"),
    (Snapshot(entity=COMPANY), ["birth_bundle"], "service 'birth_bundle' is for persons"),
    (Snapshot(person=ADULT), [], "at least one service"),
])
def test_unknown_codes_and_the_wrong_audience_are_rejected(snap, codes, message):
    with pytest.raises(Rejected) as caught:
        prefill(snap, CATALOG, codes, AS_OF)
    assert caught.value.field == "services" and message in caught.value.reason


def test_after_a_household_move_the_form_takes_the_new_address_not_the_old_register_page():
    from profiles.models import LifeEvent

    hukou = material("h3", "c3", "hukou", date(2020, 4, 1), address="佛山市顺德区大良1号")
    child = person("c3", "李小红", "440604201903040028", date(2019, 3, 4))
    before = Snapshot(person=child, materials=(hukou,))
    moved = LifeEvent("mv1", "c3", "household_move", date(2025, 9, 1), {"address": "佛山市禅城区祖庙路8号"})
    older = LifeEvent("mv0", "c3", "household_move", date(2019, 9, 1), {"address": "广州市越秀区1号"})
    address = field(prefill(before, CATALOG, ["primary_school_entry"], AS_OF), "address")
    assert (address.value, address.material_id) == ("佛山市顺德区大良1号", "h3")
    after = dataclasses.replace(before, events=(older, moved))
    address = field(prefill(after, CATALOG, ["primary_school_entry"], AS_OF), "address")
    assert (address.value, address.provenance, address.locked) == ("佛山市禅城区祖庙路8号", "declared", False)
    # a move before the register page was issued is already in it
    only_older = dataclasses.replace(before, events=(older,))
    address = field(prefill(only_older, CATALOG, ["primary_school_entry"], AS_OF), "address")
    assert address.value == "佛山市顺德区大良1号"
