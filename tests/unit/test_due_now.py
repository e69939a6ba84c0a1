"""What the window pre-ticks and why a service is not due (profiles/due_now.py) on the seeded catalog: the passport
valid for years, the pension claim at 46, the birth bundle at 15, and the other reasons a due rule gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from profiles.catalog import load_catalog
from profiles.due_now import NotDue, age_on, due_now, why_not_due, with_known_birth
from profiles.models import Entity, LifeEvent, Material, Person
from profiles.rules import Applied, Snapshot, due_items

CATALOG = load_catalog()
TODAY = date(2026, 12, 2)


def person(born: date, sex: str = "M", pid: str = "p1", deceased_on: date | None = None) -> Person:
    return Person(pid=pid, id_number="x", name="测试", birth_date=born, sex=sex, region="440604",
                  deceased_on=deceased_on)


def material(kind: str, expires: date | None, issued: date = date(2019, 1, 1), mid: str = "m1") -> Material:
    return Material(mid=mid, holder_id="p1", kind=kind, number="N1", issued_on=issued, expires_on=expires,
                    issuer="x", provenance="issued")


def entity(established: date) -> Entity:
    return Entity(eid="e1", uscc="x", name="示例公司", kind="limited_company", established_on=established)


ADULT = Snapshot(person=person(date(1980, 5, 6)))


def why(snapshot: Snapshot, code: str, as_of: date = TODAY) -> NotDue | None:
    return why_not_due(snapshot, CATALOG, code, as_of)


# --- the three examples ----------------------------------------------------------------------------------
def test_a_passport_valid_until_2029_is_not_due_and_says_until_when_and_from_when():
    passport = material("passport", date(2029, 5, 1))
    reason = why(replace(ADULT, materials=(passport,)), "passport_renewal")
    assert reason == NotDue("valid_until", "passport_renewal", on=date(2029, 5, 1),
                            since=date(2029, 5, 1) - timedelta(days=183), material="passport")


def test_a_pension_claim_at_46_is_not_due_before_the_retirement_age():
    reason = why(Snapshot(person=person(date(1980, 5, 6))), "retirement_pension_claim")
    assert reason is not None and (reason.why, reason.age) == ("retirement_age", 46)
    assert reason.on == date(2043, 5, 6)  # born after 1977: 63 years


def test_the_birth_bundle_for_a_15_year_old_is_for_newborns():
    teen = Snapshot(person=person(date(2011, 3, 4)), guardians=("mum",))
    reason = why(teen, "birth_bundle")
    assert reason is not None and (reason.why, reason.age, reason.event) == ("newborn_past", 15, "birth")
    assert reason.service == "newborn_hukou_registration"  # the bundle's first service gives the reason
    assert (reason.since, reason.on) == (date(2011, 3, 4), date(2011, 4, 4))  # the birth, and a month after it
    assert "birth_bundle" not in due_now(teen, CATALOG, TODAY)


# --- pre-ticked: due now -----------------------------------------------------------------------------------------
def test_a_newborn_is_due_the_bundle_and_its_services_from_the_birth_date_without_a_birth_event():
    baby = Snapshot(person=person(TODAY - timedelta(days=10)), guardians=("mum", "dad"))
    due = due_now(baby, CATALOG, TODAY)
    assert {"birth_bundle", "newborn_hukou_registration", "newborn_medical_insurance",
            "social_security_card_application", "vaccination_certificate_application"} <= set(due)
    assert why(baby, "birth_bundle") is None and why(baby, "newborn_hukou_registration") is None
    assert [e.kind for e in with_known_birth(baby).events] == ["birth"]
    recorded = replace(baby, events=(LifeEvent("b", "p1", "birth", TODAY - timedelta(days=10)),))
    assert with_known_birth(recorded) is recorded  # a recorded birth is the one read


def test_due_now_is_what_the_evaluator_lists_once_its_matter_has_opened():
    card = material("id_card", TODAY + timedelta(days=30))
    assert "id_card_renewal" in due_now(replace(ADULT, materials=(card,)), CATALOG, TODAY)
    later = material("id_card", TODAY + timedelta(days=150))  # within the horizon, but renewal opens at 90 days
    snapshot = replace(ADULT, materials=(later,))
    assert any(i.service == "id_card_renewal" for i in due_items(snapshot, CATALOG, TODAY, CATALOG.max_offset()))
    assert "id_card_renewal" not in due_now(snapshot, CATALOG, TODAY)
    assert why(snapshot, "id_card_renewal").why == "valid_until"


def test_every_service_due_now_has_no_reason_and_every_other_one_has_one_except_an_expired_material():
    snapshots = [ADULT, replace(ADULT, materials=(material("id_card", TODAY + timedelta(days=20)),
                                                  material("passport", TODAY - timedelta(days=3), mid="m2"))),
                 Snapshot(person=person(TODAY - timedelta(days=40)), guardians=("mum",)),
                 Snapshot(entity=entity(date(2019, 1, 1)), legal_reps=("r1",))]
    for snapshot in snapshots:
        due = due_now(snapshot, CATALOG, TODAY)
        for code, service in CATALOG.services.items():
            if service.audience != snapshot.audience:
                continue
            reason = why(snapshot, code)
            expired = code == "passport_renewal" and bool(snapshot.materials)  # the passport expired 3 days ago
            assert (reason is None) == (code in due or expired), code


# --- the other reasons -------------------------------------------------------------------------------------------
def test_an_expired_material_is_owed_its_renewal_and_needs_no_reason_but_a_missing_one_does():
    assert why(replace(ADULT, materials=(material("passport", TODAY - timedelta(days=3)),)), "passport_renewal") is None
    assert why(ADULT, "passport_renewal") == NotDue("not_on_file", "passport_renewal", material="passport")
    forever = replace(ADULT, materials=(material("id_card", None),))
    assert why(forever, "id_card_renewal") == NotDue("long_term", "id_card_renewal", material="id_card")


def test_a_filed_application_or_a_material_on_file_settles_it():
    card = material("id_card", TODAY + timedelta(days=30))
    filed = replace(ADULT, materials=(card,), applications=(Applied("id_card_renewal", TODAY - timedelta(days=2)),))
    assert why(filed, "id_card_renewal") == NotDue("applied", "id_card_renewal", on=TODAY - timedelta(days=2))
    baby = Snapshot(person=person(TODAY - timedelta(days=10)),
                    materials=(material("hukou", None, issued=TODAY - timedelta(days=2)),))
    assert why(baby, "newborn_hukou_registration") == NotDue(
        "done_material", "newborn_hukou_registration", on=TODAY - timedelta(days=2), material="hukou")
    assert why(baby, "birth_bundle") is None  # its other services are still due


def test_too_young_for_the_first_id_card_and_past_the_age_of_school_entry():
    fifteen = Snapshot(person=person(date(2011, 3, 4)))
    assert why(fifteen, "id_card_first") == NotDue("too_young", "id_card_first", on=date(2027, 3, 4),
                                                   since=date(2027, 2, 2), age=15, at_age=16)
    assert why(fifteen, "primary_school_entry") == NotDue("past_age", "primary_school_entry", on=date(2017, 8, 31),
                                                          age=15, at_age=6)
    schooled = replace(fifteen, events=(LifeEvent("s", "p1", "school_entry", date(2017, 9, 1)),))
    assert why(schooled, "primary_school_entry") == NotDue("done_event", "primary_school_entry",
                                                           on=date(2017, 9, 1), event="school_entry")


def test_past_the_retirement_age_without_a_claim_asks_for_a_confirmation():
    reason = why(Snapshot(person=person(date(1955, 1, 10))), "retirement_pension_claim")
    assert reason is not None and (reason.why, reason.on, reason.age) == ("retirement_past", date(2015, 1, 10), 71)


def test_yearly_windows_the_first_year_of_a_business_and_the_report_done():
    assert why(Snapshot(entity=entity(date(2026, 3, 1))), "enterprise_annual_report", date(2026, 12, 2)) == \
        NotDue("window_ahead", "enterprise_annual_report", on=date(2027, 6, 30), since=date(2027, 1, 1))
    assert why(Snapshot(entity=entity(date(2027, 2, 1))), "enterprise_annual_report", date(2027, 3, 1)) == \
        NotDue("first_year", "enterprise_annual_report", on=date(2027, 2, 1))
    done = Snapshot(entity=entity(date(2019, 1, 1)), events=(LifeEvent("r", "e1", "annual_report", date(2027, 4, 2)),))
    assert why(done, "enterprise_annual_report", date(2027, 5, 1)) == NotDue(
        "done_event", "enterprise_annual_report", on=date(2027, 4, 2), event="annual_report")
    insurance = why(ADULT, "resident_medical_insurance_contribution", date(2026, 6, 1))
    assert insurance == NotDue("window_ahead", "resident_medical_insurance_contribution", on=date(2026, 12, 31),
                               since=date(2026, 9, 1))


def test_the_deceased_and_the_wrong_audience():
    gone = Snapshot(person=person(date(1950, 1, 1), deceased_on=date(2026, 10, 1)),
                    materials=(material("id_card", TODAY + timedelta(days=30)),))
    assert due_now(gone, CATALOG, TODAY) == {}
    assert why(gone, "id_card_renewal") == NotDue("deceased", "id_card_renewal", on=date(2026, 10, 1))
    assert why(ADULT, "enterprise_annual_report") == NotDue("no_rule", "enterprise_annual_report")


@pytest.mark.parametrize(("born", "day", "age"), [(date(2000, 2, 29), date(2026, 2, 28), 25),
                                                  (date(2000, 2, 29), date(2026, 3, 1), 26),
                                                  (date(1980, 5, 6), date(2026, 5, 6), 46)])
def test_age_in_completed_years(born, day, age):
    assert age_on(born, day) == age
