"""The due-rule evaluator on the seeded catalog, with the edge cases the law and the calendar produce."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from profiles.applications import card, decide_by
from profiles.catalog import load_catalog
from profiles.models import Entity, LifeEvent, Material, Person
from profiles.rules import Applied, Snapshot, add_months, birthday, due_items

CATALOG = load_catalog()


def person(born: date, sex: str = "M", pid: str = "p1") -> Person:
    return Person(pid=pid, id_number="x", name="测试", birth_date=born, sex=sex, region="440604")


def material(kind: str, issued: date, expires: date | None, mid: str = "m1", superseded: bool = False) -> Material:
    return Material(mid=mid, holder_id="p1", kind=kind, number="N1", issued_on=issued, expires_on=expires,
                    issuer="x", provenance="issued", superseded=superseded)


def due(snapshot: Snapshot, as_of: date, service: str, within: int = 365):
    return [i for i in due_items(snapshot, CATALOG, as_of, within) if i.service == service]


# --- ID card renewal (expiry) ------------------------------------------------------------------------------------
AS_OF = date(2026, 11, 22)


def test_an_id_card_expiring_in_30_days_is_due_with_its_reminders():
    card_ = material("id_card", date(2006, 12, 22), AS_OF + timedelta(days=30))
    [item] = due(Snapshot(person=person(date(1980, 1, 1)), materials=(card_,)), AS_OF, "id_card_renewal")
    assert item.due_on == date(2026, 12, 22)
    assert item.notify_on == (date(2026, 9, 23), date(2026, 11, 22), date(2026, 12, 15))
    assert item.recipients == ("p1",)
    assert item.reason.rule == "id_card_renewal@v1:expiry" and item.reason.source == "material:m1"


def test_a_renewed_card_suppresses_the_reminder():
    old = material("id_card", date(2006, 12, 22), AS_OF + timedelta(days=30), superseded=True)
    new = material("id_card", AS_OF, date(2046, 11, 22), mid="m2")
    assert due(Snapshot(person=person(date(1980, 1, 1)), materials=(old, new)), AS_OF, "id_card_renewal") == []


def test_a_submitted_renewal_application_suppresses_it_but_a_draft_does_not():
    card_ = material("id_card", date(2006, 12, 22), AS_OF + timedelta(days=30))
    base = Snapshot(person=person(date(1980, 1, 1)), materials=(card_,))
    draft = Snapshot(**{**base.__dict__, "applications": (Applied("id_card_renewal", None),)})
    filed = Snapshot(**{**base.__dict__, "applications": (Applied("id_card_renewal", AS_OF),)})
    assert len(due(draft, AS_OF, "id_card_renewal")) == 1
    assert due(filed, AS_OF, "id_card_renewal") == []


def test_long_term_cards_and_dates_outside_the_horizon_are_not_due():
    forever = material("id_card", date(2010, 1, 1), None)
    later = material("id_card", date(2010, 1, 1), AS_OF + timedelta(days=400))
    past = material("id_card", date(2000, 1, 1), AS_OF - timedelta(days=1))
    for m in (forever, later, past):
        assert due(Snapshot(person=person(date(1960, 1, 1)), materials=(m,)), AS_OF, "id_card_renewal") == []


# --- ages ----------------------------------------------------------------------------------------------------------
def test_29_february_birthdays():
    assert birthday(date(2024, 2, 29), 1) == date(2025, 3, 1)
    assert birthday(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    child = person(date(2010, 2, 28))
    leap = person(date(2012, 2, 29))
    assert due(Snapshot(person=child), date(2026, 1, 1), "id_card_first")[0].due_on == date(2026, 2, 28)
    assert due(Snapshot(person=leap), date(2028, 1, 1), "id_card_first")[0].due_on == date(2028, 2, 29)


def test_first_id_card_at_16_goes_to_the_guardians_and_stops_once_a_card_is_held():
    teen = Snapshot(person=person(date(2010, 12, 20)), guardians=("mum", "dad"))
    [item] = due(teen, AS_OF, "id_card_first")
    assert item.due_on == date(2026, 12, 20) and item.recipients == ("dad", "mum")
    holding = Snapshot(**{**teen.__dict__, "materials": (material("id_card", date(2020, 1, 1), date(2025, 1, 1)),)})
    assert due(holding, AS_OF, "id_card_first") == []


@pytest.mark.parametrize(("born", "due_on"), [
    (date(2020, 8, 31), date(2026, 8, 31)),   # six on the cut-off day: this year
    (date(2020, 9, 1), date(2027, 8, 31)),    # one day later: next year
    (date(2020, 2, 29), date(2026, 8, 31)),   # leap-day child
])
def test_school_entry_cut_off(born, due_on):
    [item] = due(Snapshot(person=person(born), guardians=("mum",)), date(2026, 1, 10), "primary_school_entry", 600)
    assert item.due_on == due_on and item.recipients == ("mum",)
    assert all(d >= date(due_on.year, 3, 1) for d in item.notify_on), "guardians are reminded in spring, not before"


def test_school_entry_is_settled_by_the_event():
    kid = Snapshot(person=person(date(2020, 5, 1)), guardians=("mum",),
                   events=(LifeEvent("e1", "p1", "school_entry", date(2026, 6, 1)),))
    assert due(kid, date(2026, 1, 10), "primary_school_entry") == []


@pytest.mark.parametrize(("sex", "born", "due_on", "parameter"), [
    ("M", date(1964, 12, 15), date(2024, 12, 15), "male-2025"),        # before the reform: 60
    ("M", date(1965, 1, 15), date(2025, 2, 15), "male-2025"),          # first cohort: 60 years 1 month
    ("M", date(1965, 5, 10), date(2025, 7, 10), "male-2025"),          # 4 months later: 60 years 2 months
    ("M", date(1976, 9, 1), date(2039, 9, 1), "male-2025"),            # the ceiling: 63
    ("F", date(1975, 1, 20), date(2025, 2, 20), "female-worker-2025"),  # earliest female step: 50 years 1 month
    ("F", date(1974, 12, 20), date(2024, 12, 20), "female-worker-2025"),  # just before: 50
])
def test_retirement_steps_of_the_2024_decision(sex, born, due_on, parameter):
    items = due(Snapshot(person=person(born, sex)), due_on - timedelta(days=10), "retirement_pension_claim", 30)
    assert [(i.due_on, i.reason.parameter) for i in items] == [(due_on, parameter)]


# --- events and years ----------------------------------------------------------------------------------------------
def test_birth_bundle_items_go_to_the_parents_and_a_household_register_settles_one():
    newborn = Snapshot(person=person(date(2026, 11, 10)), guardians=("mum", "dad"),
                       events=(LifeEvent("b1", "p1", "birth", date(2026, 11, 10)),))
    items = {i.service: i for i in due_items(newborn, CATALOG, AS_OF, 365)}
    assert items["newborn_hukou_registration"].due_on == date(2026, 12, 10)
    assert items["newborn_hukou_registration"].recipients == ("dad", "mum")
    assert set(CATALOG.services["birth_bundle"].bundle) <= set(items)
    registered = Snapshot(**{**newborn.__dict__, "materials": (material("hukou", date(2026, 11, 20), None),)})
    assert "newborn_hukou_registration" not in {i.service for i in due_items(registered, CATALOG, AS_OF, 365)}


def entity(established: date) -> Entity:
    return Entity(eid="e1", uscc="x", name="公司", kind="limited_company", established_on=established)


def test_annual_report_due_until_filed_and_not_in_the_founding_year():
    company = Snapshot(entity=entity(date(2020, 5, 1)), legal_reps=("boss",))
    [item] = due(company, date(2027, 3, 1), "enterprise_annual_report")
    assert item.due_on == date(2027, 6, 30) and item.recipients == ("boss",)
    assert item.notify_on == (date(2027, 5, 1), date(2027, 5, 31), date(2027, 6, 23))
    filed = Snapshot(**{**company.__dict__, "events": (LifeEvent("r", "e1", "annual_report", date(2027, 4, 2)),)})
    assert due(filed, date(2027, 5, 1), "enterprise_annual_report") == []
    last_year = Snapshot(**{**company.__dict__, "events": (LifeEvent("r", "e1", "annual_report", date(2026, 4, 2)),)})
    assert len(due(last_year, date(2027, 5, 1), "enterprise_annual_report")) == 1
    assert due(Snapshot(entity=entity(date(2027, 2, 1))), date(2027, 3, 1), "enterprise_annual_report") == []


def test_the_dead_are_not_reminded():
    gone = Person(pid="p1", id_number="x", name="故人", birth_date=date(1950, 1, 1), sex="M", region="440604",
                  deceased_on=date(2026, 1, 1))
    card_ = material("id_card", date(2006, 12, 22), AS_OF + timedelta(days=30))
    assert due_items(Snapshot(person=gone, materials=(card_,)), CATALOG, AS_OF) == []


# --- processing limits in working days -----------------------------------------------------------------------------
def test_a_deadline_across_national_day_counts_working_days_and_the_adjusted_saturday():
    # Submitted Fri 26 Sep 2025; Sun 28 Sep and Sat 11 Oct were worked, 1-8 Oct were holidays.
    assert decide_by(date(2025, 9, 26), 1) == date(2025, 9, 28)  # the adjusted Sunday counts
    assert decide_by(date(2025, 9, 26), 3) == date(2025, 9, 30)
    assert decide_by(date(2025, 9, 26), 4) == date(2025, 10, 9)  # 1-8 October skipped


def test_cards():
    submitted = date(2025, 3, 3)  # a Monday; the 10th working day after it is Mon 17 March
    assert decide_by(submitted, 10) == date(2025, 3, 17)
    assert card(submitted, 10, date(2025, 3, 10)) == "none"
    assert card(submitted, 10, date(2025, 3, 13)) == "yellow"
    assert card(submitted, 10, date(2025, 3, 18)) == "red"
    assert card(submitted, 10, date(2025, 3, 18), decided=True) == "none"


def test_a_woman_past_fifty_is_still_reminded_before_fifty_five():
    # Born 1971-06-15: the worker step (50) passed in 2021; the cadre step gives 55 years 5 months: 2026-11-15.
    woman = Snapshot(person=person(date(1971, 6, 15), "F"))
    [item] = due(woman, date(2026, 6, 1), "retirement_pension_claim")
    assert (item.due_on, item.reason.parameter) == (date(2026, 11, 15), "female-cadre-2025")
    assert "category not on file" in item.reason.detail


def test_recipients_for_minors_and_entities_without_a_representative():
    child_card = material("id_card", date(2022, 1, 1), date(2027, 1, 1))
    child = Snapshot(person=person(date(2012, 5, 1)), materials=(child_card,), guardians=("mum",))
    assert due(child, AS_OF, "id_card_renewal")[0].recipients == ("mum",)
    alone = Snapshot(entity=entity(date(2020, 1, 1)))
    assert due(alone, date(2027, 2, 1), "enterprise_annual_report")[0].recipients == ("e1",)


# --- every remaining seeded service, with the case that matters for it -------------------------------------------
@pytest.mark.parametrize(("service", "kind", "days_left", "offsets"), [
    ("passport_renewal", "passport", 150, (183, 90, 30)),              # under 6 months left: already in the window
    ("driving_licence_renewal", "driving_licence", 80, (90, 30, 7)),
    ("residence_permit_endorsement", "residence_permit", 20, (30, 7)),
])
def test_person_expiry_services(service, kind, days_left, offsets):
    expires = AS_OF + timedelta(days=days_left)
    m = material(kind, date(2020, 1, 1), expires)
    [item] = due(Snapshot(person=person(date(1985, 3, 3)), materials=(m,)), AS_OF, service)
    assert item.due_on == expires and item.notify_on == tuple(expires - timedelta(days=o) for o in offsets)
    newer = material(kind, AS_OF, expires + timedelta(days=3650), mid="m2")
    renewed = Snapshot(person=person(date(1985, 3, 3)),
                       materials=(material(kind, date(2020, 1, 1), expires, superseded=True), newer))
    assert due(renewed, AS_OF, service) == []


def test_food_business_permit_renewal_goes_to_the_legal_representative():
    permit = Material(mid="f1", holder_id="e1", kind="food_business_permit", number="JY1", issued_on=date(2022, 1, 10),
                      expires_on=date(2027, 1, 9), issuer="佛山市禅城区市场监督管理局", provenance="issued")
    shop = Snapshot(entity=entity(date(2015, 1, 1)), materials=(permit,), legal_reps=("boss",))
    [item] = due(shop, AS_OF, "food_business_permit_renewal")
    assert (item.due_on, item.recipients) == (date(2027, 1, 9), ("boss",))
    assert item.notify_on == (date(2026, 10, 11), date(2026, 11, 10), date(2026, 12, 10))


def test_resident_medical_insurance_contribution_window_and_payment():
    adult = Snapshot(person=person(date(1990, 1, 1)))
    [item] = due(adult, date(2026, 9, 15), "resident_medical_insurance_contribution")
    assert item.due_on == date(2026, 12, 31) and item.opens_on == date(2026, 9, 1)
    paid = Snapshot(**{**adult.__dict__, "events": (LifeEvent("x", "p1", "medical_insurance_paid",
                                                               date(2026, 9, 20)),)})
    assert due(paid, date(2026, 10, 1), "resident_medical_insurance_contribution") == []
    assert due(paid, date(2027, 9, 2), "resident_medical_insurance_contribution")[0].due_on == date(2027, 12, 31)


@pytest.mark.parametrize(("service", "deadline", "settling_kind"), [
    ("newborn_medical_insurance", date(2027, 1, 30), None),            # 90 days after a 1 November birth
    ("social_security_card_application", date(2027, 1, 30), "social_security_card"),
    ("vaccination_certificate_application", date(2026, 12, 1), "vaccination_certificate"),  # one month
])
def test_birth_follow_ups(service, deadline, settling_kind):
    born = date(2026, 11, 1)
    baby = Snapshot(person=person(born), guardians=("dad", "mum"), events=(LifeEvent("b", "p1", "birth", born),))
    [item] = due(baby, AS_OF, service)
    assert (item.due_on, item.recipients) == (deadline, ("dad", "mum"))
    if settling_kind:
        held = Snapshot(**{**baby.__dict__, "materials": (material(settling_kind, date(2026, 11, 15), None),)})
        assert due(held, AS_OF, service) == []
    else:
        filed = Snapshot(**{**baby.__dict__, "applications": (Applied(service, date(2026, 11, 20)),)})
        assert due(filed, AS_OF, service) == []


def test_the_birth_bundle_itself_has_no_trigger_but_bundles_the_follow_ups():
    bundle = CATALOG.services["birth_bundle"]
    assert bundle.triggers == () and set(bundle.bundle) == {
        "newborn_hukou_registration", "newborn_medical_insurance", "social_security_card_application",
        "vaccination_certificate_application"}
