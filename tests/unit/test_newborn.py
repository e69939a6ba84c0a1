"""A newborn before its ID number, in the pure parts: the birth certificate number, the Person without an ID number,
the newborn and attach use cases (against fakes), the unified form's child fields, and the household registration
due until the number is attached."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import pytest
from marshmallow import ValidationError

from profiles.catalog import load_catalog
from profiles.catalog.schemas import SatisfiedBySchema
from profiles.errors import Rejected
from profiles.identifiers import InvalidIdentifier, parse_birth_certificate_number, resident_id_check_digit
from profiles.models import LifeEvent, Material, Person
from profiles.prefill import prefill
from profiles.privacy import mask_birth_certificate_number
from profiles.rules import Snapshot, due_items
from web.usecases.register import attach_id_number, register_newborn

CATALOG = load_catalog()
ON = date(2026, 3, 10)
BORN = date(2026, 3, 1)


def number(born: date = BORN, seq: int = 123) -> str:
    first17 = f"440604{born:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_digit(first17)


@pytest.mark.parametrize(("typed", "canonical"), [
    ("Q440123456", "Q440123456"), ("q440123456", "Q440123456"), (" Q 440-123-456 ", "Q440123456"),
    ("Ｑ４４０１２３４５６", "Q440123456"),  # full width, as some forms send it
])
def test_a_birth_certificate_number_is_normalised(typed, canonical):
    assert parse_birth_certificate_number(typed) == canonical


@pytest.mark.parametrize("typed", ["440123456", "Q44012345", "Q4401234567", "QQ40123456", "Q44012345X", "", "Q-"])
def test_a_malformed_birth_certificate_number_is_refused(typed):
    with pytest.raises(InvalidIdentifier):
        parse_birth_certificate_number(typed)


def test_the_birth_certificate_number_is_masked_like_a_material_number():
    assert mask_birth_certificate_number("Q440123456") == "Q4******56"


def test_a_person_may_have_no_id_number_nor_region():
    baby = Person("p1", None, "陈小宝", BORN, "F", None, birth_certificate_number="Q440123456")
    assert baby.id_number is None and baby.region is None and baby.id_attached_on is None


@dataclass
class FakeSubjects:
    people: dict = field(default_factory=dict)
    births: list = field(default_factory=list)

    def add_person(self, person: Person, birth: LifeEvent | None = None) -> Person:
        self.people[person.pid] = person
        self.births += [birth] if birth else []
        return person

    def get_person(self, pid: str) -> Person:
        return self.people[pid]

    def attach_id_number(self, pid: str, id_number: str, on: date) -> Person:
        self.people[pid] = replace(self.people[pid], id_number=id_number, region=id_number[:6], id_attached_on=on)
        return self.people[pid]


@dataclass
class FakeServices:
    subjects: FakeSubjects = field(default_factory=FakeSubjects)


def test_a_newborn_is_put_on_file_with_its_birth():
    services = FakeServices()
    baby = register_newborn(services, None, " 陈小宝 ", "M", BORN, "q440123456", "13812345678", None, ON)
    assert (baby.id_number, baby.region, baby.birth_certificate_number, baby.name, baby.phone) == (
        None, None, "Q440123456", "陈小宝", "+8613812345678")
    [birth] = services.subjects.births
    assert (birth.kind, birth.occurred_on, birth.subject_id) == ("birth", BORN, baby.pid)


@pytest.mark.parametrize(("sex", "born", "certificate", "field_at_fault"), [
    ("M", BORN, "123", "birth_certificate_number"),
    ("X", BORN, "Q440123456", "sex"),
    ("M", date(2026, 3, 11), "Q440123456", "birth_date"),  # tomorrow
    ("M", date(2025, 3, 10), "Q440123456", "birth_date"),  # one year old today: no longer a newborn
])
def test_a_bad_newborn_is_refused_naming_the_field(sex, born, certificate, field_at_fault):
    services = FakeServices()
    with pytest.raises(Rejected) as refused:
        register_newborn(services, None, "陈小宝", sex, born, certificate, None, None, ON)
    assert refused.value.field == field_at_fault and services.subjects.people == {}


def test_a_newborn_just_under_a_year_is_still_a_newborn():
    assert register_newborn(FakeServices(), None, "陈小宝", "M", date(2025, 3, 11), "Q440123456", None, None, ON)


def test_the_id_number_is_attached_when_it_fits_the_record():
    services = FakeServices()
    baby = register_newborn(services, None, "陈小宝", "M", BORN, "Q440123456", None, None, ON)
    for wrong, reason in ((number(seq=122), "sex"), (number(born=date(2026, 3, 2)), "birth date"),
                          ("440604", "18 characters")):
        with pytest.raises(Rejected) as refused:
            attach_id_number(services, None, baby.pid, wrong, ON)
        assert refused.value.field == "id_number" and reason in refused.value.reason
        assert services.subjects.people[baby.pid].id_number is None
    named = attach_id_number(services, None, baby.pid, number(), ON)
    assert (named.id_number, named.region, named.id_attached_on) == (number(), "440604", ON)
    with pytest.raises(Rejected, match="has an ID number already"):
        attach_id_number(services, None, baby.pid, number(seq=125), ON)


# --- the form and the reminder ------------------------------------------------------------------------------------
BABY = Person("c1", None, "陈小宝", BORN, "F", None, birth_certificate_number="Q440123456")
MOTHER = Person("m1", number(date(1992, 3, 15), 124), "王芳", date(1992, 3, 15), "F", "440604", phone="+8613812345678")
BIRTH = LifeEvent("b1", "c1", "birth", BORN)


def values(snapshot: Snapshot, services: list[str]) -> dict:
    form = prefill(snapshot, CATALOG, services, ON, related={"parent": Snapshot(person=MOTHER)})
    return {f.name: (f.value, f.provenance, f.material_id) for f in form.fields}


def test_the_child_fields_come_from_the_birth_certificate_without_an_id_number():
    got = values(Snapshot(person=BABY, events=(BIRTH,)), ["birth_bundle"])
    assert got["birth_certificate_number"] == ("Q440123456", "issued", None)  # the number it was put on file by
    assert got["child_birth_date"][:2] == ("2026-03-01", "issued") and got["child_sex"][:2] == ("F", "issued")
    assert got["child_id_number"] == (None, "missing", None)  # assigned at the registration: never "None"
    certificate = Material("bc1", "c1", "birth_certificate", "Q440123456", BORN, None, "妇幼保健院", "verified",
                           {"place_of_birth": "佛山"})
    got = values(Snapshot(person=BABY, materials=(certificate,)), ["newborn_hukou_registration"])
    assert got["birth_certificate_number"] == ("Q440123456", "verified", "bc1")  # the certificate itself
    assert got["child_birth_date"] == ("2026-03-01", "issued", "bc1")  # read off it


def hukou_due(snapshot: Snapshot):
    return [i for i in due_items(snapshot, CATALOG, ON, 365) if i.service == "newborn_hukou_registration"]


def test_the_registration_is_due_to_the_parents_until_the_id_number_is_attached():
    waiting = Snapshot(person=BABY, events=(BIRTH,), guardians=("m1",))
    [item] = hukou_due(waiting)
    assert (item.due_on, item.recipients) == (date(2026, 4, 1), ("m1",))
    attached = replace(waiting, person=replace(BABY, id_number=number(seq=122), region="440604", id_attached_on=ON))
    assert hukou_due(attached) == []
    # a child put on file with its ID number from the start: the attach rule does not settle it, the hukou does
    with_number = replace(waiting, person=replace(BABY, id_number=number(seq=122), region="440604"))
    assert len(hukou_due(with_number)) == 1


def test_satisfied_by_takes_the_attach_alone_or_with_one_other():
    assert SatisfiedBySchema().load({"id_number_attached": True}).id_number_attached
    assert SatisfiedBySchema().load({"material": "hukou", "id_number_attached": True}).material == "hukou"
    for bad in ({}, {"material": "hukou", "event": "birth"}, {"id_number_attached": False}):
        with pytest.raises(ValidationError):
            SatisfiedBySchema().load(bad)
