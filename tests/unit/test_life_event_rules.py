"""Life events' effects on what is due, pure (profiles.rules): a death, a closure, a hiring; and the event checks
(profiles.events): each refusal names its field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from profiles.catalog import load_catalog
from profiles.errors import Rejected
from profiles.events import SubjectState, check_event
from profiles.models import Entity, LifeEvent, Material, Person
from profiles.rules import KinEvent, Snapshot, due_items

CATALOG = load_catalog()
AS_OF = date(2026, 10, 1)


def person(born=date(1980, 1, 1), pid="p1", deceased_on=None) -> Person:
    return Person(pid, "x", "测试", born, "M", "440604", deceased_on=deceased_on)


def services(snapshot, as_of=AS_OF):
    return sorted({i.service for i in due_items(snapshot, CATALOG, as_of)})


CARD = Material("m1", "p1", "id_card", "N", date(2006, 11, 1), AS_OF + timedelta(days=30), "x", "issued")


def test_a_deceased_person_owes_nothing_not_even_an_expiring_card_or_the_yearly_insurance():
    alive = Snapshot(person=person(), materials=(CARD,))
    assert {"id_card_renewal", "resident_medical_insurance_contribution"} <= set(services(alive))
    dead = Snapshot(person=person(deceased_on=AS_OF - timedelta(days=2)), materials=(CARD,))
    assert services(dead) == []


def death(on=date(2026, 9, 20), relative="d1", evid="ev1") -> LifeEvent:
    return LifeEvent(evid, relative, "death", on)


@pytest.mark.parametrize("relation", ["spouse", "parent", "child"])
def test_the_next_of_kin_owe_the_after_death_bundle_within_28_days(relation):
    kin = Snapshot(person=person(), kin_events=(KinEvent("d1", relation, death()),))
    [item] = [i for i in due_items(kin, CATALOG, AS_OF) if i.service == "after_death_bundle"]
    assert item.due_on == date(2026, 10, 18) and item.recipients == ("p1",)
    assert item.notify_on == (date(2026, 9, 20), date(2026, 10, 11))  # the day of the death, a week before
    assert item.reason.source == "event:ev1"


def test_a_minor_child_is_not_told_nor_an_unrelated_event_and_one_death_is_one_item():
    minor = Snapshot(person=person(born=date(2012, 1, 1)), kin_events=(KinEvent("d1", "parent", death()),))
    assert "after_death_bundle" not in services(minor)
    twice = Snapshot(person=person(), kin_events=(KinEvent("d1", "parent", death()),
                                                  KinEvent("d1", "child", death())))
    assert [i.service for i in due_items(twice, CATALOG, AS_OF)].count("after_death_bundle") == 1
    wedding = Snapshot(person=person(), kin_events=(KinEvent("d1", "spouse", LifeEvent("w", "d1", "marriage",
                                                                                     date(2026, 9, 20))),))
    assert "after_death_bundle" not in services(wedding)


def company(closed_on=None) -> Entity:
    return Entity("e1", "u", "公司", "limited_company", date(2015, 3, 1),
                  status="closed" if closed_on else "active", closed_on=closed_on)


PERMIT = Material("m2", "e1", "food_business_permit", "JY1", date(2021, 10, 1), AS_OF + timedelta(days=60), "x",
                  "issued")


def test_a_closed_business_owes_only_the_deregistrations_that_follow_its_closure():
    on = date(2026, 9, 25)
    hired = LifeEvent("h1", "e1", "hiring", date(2026, 9, 10), {"employee_pid": "p1"})
    open_ = Snapshot(entity=company(), materials=(PERMIT,), events=(hired,), legal_reps=("r1",))
    assert {"food_business_permit_renewal", "employee_social_insurance_registration",
            "employee_housing_fund_registration"} <= set(services(open_))
    closed = Snapshot(entity=company(on), materials=(PERMIT,), legal_reps=("r1",),
                      events=(hired, LifeEvent("c1", "e1", "closure", on)))
    assert services(closed) == ["closure_housing_fund_deregistration", "closure_social_insurance_deregistration"]
    assert {i.due_on for i in due_items(closed, CATALOG, AS_OF)} == {on + timedelta(days=30)}
    assert {i.recipients for i in due_items(closed, CATALOG, AS_OF)} == {("r1",)}
    # the annual report too: in its window, the closed business is not asked for it
    assert services(Snapshot(entity=company(on)), date(2027, 3, 1)) == []
    assert "enterprise_annual_report" in services(Snapshot(entity=company()), date(2027, 3, 1))


def test_a_hiring_makes_the_employer_owe_the_registrations_within_30_days():
    hired = LifeEvent("h1", "e1", "hiring", date(2026, 9, 10), {"employee_pid": "p1"})
    items = {i.service: i for i in due_items(Snapshot(entity=company(), events=(hired,)), CATALOG, AS_OF)}
    for code in ("employee_social_insurance_registration", "employee_housing_fund_registration"):
        assert items[code].due_on == date(2026, 10, 10) and items[code].reason.source == "event:h1"


def test_an_employed_person_does_not_owe_the_residents_medical_insurance():
    free = Snapshot(person=person())
    assert "resident_medical_insurance_contribution" in services(free)
    employed = Snapshot(person=person(), employers=("e1",))
    assert "resident_medical_insurance_contribution" not in services(employed)


# --- the checks when an event is recorded --------------------------------------------------------------------------
BORN = SubjectState("person", date(1980, 1, 1), None, frozenset({"birth"}))
DEAD = SubjectState("person", date(1980, 1, 1), date(2026, 5, 1), frozenset({"birth", "death"}))
FOUNDED = SubjectState("entity", date(2015, 3, 1), None)
CLOSED = SubjectState("entity", date(2015, 3, 1), date(2026, 5, 1), frozenset({"closure"}))
TODAY = date(2026, 10, 1)


@pytest.mark.parametrize(("state", "kind", "on", "details", "field"), [
    (DEAD, "death", date(2026, 6, 1), {}, "kind"),  # a second death
    (BORN, "death", date(1979, 12, 31), {}, "occurred_on"),  # a death before the birth
    (BORN, "death", date(2026, 10, 2), {}, "occurred_on"),  # a death in the future
    (DEAD, "marriage", date(2026, 6, 1), {}, "occurred_on"),  # after the death
    (CLOSED, "closure", date(2026, 6, 1), {}, "kind"),  # a second closure
    (FOUNDED, "closure", date(2015, 2, 28), {}, "occurred_on"),  # a closure before the founding
    (CLOSED, "hiring", date(2026, 6, 1), {"employee_pid": "p"}, "occurred_on"),
    (FOUNDED, "hiring", date(2026, 6, 1), {}, "details.employee_pid"),
    (FOUNDED, "hiring", date(2026, 6, 1), {"employee_pid": 5}, "details.employee_pid"),
    (BORN, "household_move", date(2026, 6, 1), {}, "details.address"),
    (BORN, "founding", date(2026, 6, 1), {}, "kind"),
    (BORN, "birth", date(1980, 1, 1), {}, "kind"),  # once
])
def test_an_event_is_refused_naming_the_field(state, kind, on, details, field):
    with pytest.raises(Rejected) as refused:
        check_event(CATALOG.events, state, kind, on, details, TODAY)
    assert refused.value.field == field


def test_a_sound_event_passes_and_undeclared_details_are_free_notes():
    assert check_event(CATALOG.events, BORN, "death", date(2026, 9, 1), {"note": "医院"}, TODAY).effect == "deceased"
    assert check_event(CATALOG.events, FOUNDED, "closure", date(2026, 9, 1), {}, TODAY).effect == "closed"
    assert check_event(CATALOG.events, FOUNDED, "hiring", date(2026, 9, 1), {"employee_pid": "p"},
                       TODAY).effect == "employed"
