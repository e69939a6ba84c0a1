"""Putting a subject on file: a natural person by resident ID number (a newborn, before household registration, by
its medical birth certificate number, the ID number attached later), a legal entity by unified social credit code,
and the relations between them (family, legal representative, shareholder, employee).

A newborn without an ID number must be under one year old: household registration is due within one month of birth
(户口登记条例 第七条), and someone older without a number is not a newborn but a person without household registration
(无户口人员), registered by another procedure (国办发〔2015〕96号) that this service does not cover. A year leaves room
for late registrations while keeping that line.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from profiles.errors import Rejected
from profiles.identifiers import (
    InvalidIdentifier,
    parse_birth_certificate_number,
    parse_resident_id,
    parse_uscc,
    region_ever_existed,
)
from profiles.models import Actor, Entity, LifeEvent, Person, Relation
from profiles.rules import birthday

SEXES = ("M", "F")


def normalise_phone(phone: str | None) -> str | None:
    """Mainland mobiles are kept in E.164 (+86…), as the SMS provider wants them."""
    if phone and not phone.startswith("+"):
        return "+86" + phone
    return phone


def register_person(services, actor: Actor, id_number: str, name: str, phone: str | None, email: str | None,
                    on: date) -> Person:
    """A new person, keyed by the parsed ID number (birth date, sex and region read off it); `Conflict` if the
    number is on file, `Rejected` naming `id_number` if it does not parse."""
    try:
        rid = parse_resident_id(id_number, on)
    except InvalidIdentifier as exc:
        raise Rejected("id_number", exc.reason) from None
    person = Person(pid=str(uuid.uuid4()), id_number=rid.number, name=name.strip(), birth_date=rid.birth_date,
                    sex=rid.sex, region=rid.region, phone=normalise_phone(phone), email=email)
    return services.subjects.add_person(person)


def newborn(name: str, sex: str, birth_date: date, birth_certificate_number: str, phone: str | None,
            email: str | None, on: date) -> Person:
    """A newborn without an ID number, checked: the certificate number parsed, the sex M or F, the birth date neither
    in the future nor a year or more ago; `Rejected` names the field. Shared by the API and the import."""
    try:
        number = parse_birth_certificate_number(birth_certificate_number)
    except InvalidIdentifier as exc:
        raise Rejected("birth_certificate_number", exc.reason) from None
    if sex not in SEXES:
        raise Rejected("sex", "M or F")
    if birth_date > on:
        raise Rejected("birth_date", "the birth date is in the future")
    if birthday(birth_date, 1) <= on:
        raise Rejected("birth_date", "a person without an ID number is put on file only as a newborn, under one year "
                                     "old; give the ID number")
    return Person(pid=str(uuid.uuid4()), id_number=None, name=name.strip(), birth_date=birth_date, sex=sex,
                  region=None, phone=normalise_phone(phone), email=email, birth_certificate_number=number)


def register_newborn(services, actor: Actor, name: str, sex: str, birth_date: date, birth_certificate_number: str,
                     phone: str | None, email: str | None, on: date) -> Person:
    """A newborn put on file by its medical birth certificate, before household registration gives it an ID number;
    its birth is recorded with it (the event the birth bundle's services follow). `Conflict` if the certificate
    number is on file."""
    person = newborn(name, sex, birth_date, birth_certificate_number, phone, email, on)
    birth = LifeEvent(evid=str(uuid.uuid4()), subject_id=person.pid, kind="birth", occurred_on=birth_date,
                      details={"recorded_with": "birth_certificate"})
    return services.subjects.add_person(person, birth)


def register_child(services, actor: Actor, parents: Sequence[str], name: str, sex: str, birth_date: date,
                   birth_certificate_number: str, on: date) -> Person:
    """A newborn put on file at the window by its medical birth certificate (as `register_newborn`), each of its
    `parents` then related to it as parent and as guardian: parents are the guardians of their minor children
    (民法典 第二十七条), and the newborn's services (its household registration first) are due to them. The
    parents are checked before anything is written: `NotFound` for an unknown pid, `Rejected` naming `parent` for
    one who has died."""
    for pid in dict.fromkeys(parents):
        if services.subjects.get_person(pid).deceased_on is not None:
            raise Rejected("parent", "this person has died")
    child = register_newborn(services, actor, name, sex, birth_date, birth_certificate_number, None, None, on)
    for pid in dict.fromkeys(parents):
        relate(services, actor, pid, child.pid, "PARENT_OF")
        relate(services, actor, pid, child.pid, "GUARDIAN_OF")
    return child


def attach_id_number(services, actor: Actor, pid: str, id_number: str, on: date) -> Person:
    """The ID number household registration assigned (户口登记条例 第七条), given to a person put on file without
    one. `Rejected` naming `id_number` when it does not parse, the person has one already, or the number's birth
    date or sex is not the person's; `Conflict` when another person holds it; `NotFound` for an unknown pid."""
    try:
        rid = parse_resident_id(id_number, on)
    except InvalidIdentifier as exc:
        raise Rejected("id_number", exc.reason) from None
    person = services.subjects.get_person(pid)
    if person.id_number is not None:
        raise Rejected("id_number", "this person has an ID number already")
    if rid.birth_date != person.birth_date:
        raise Rejected("id_number", "the birth date in the ID number is not the person's birth date on file")
    if rid.sex != person.sex:
        raise Rejected("id_number", "the sex the ID number encodes is not the person's sex on file")
    return services.subjects.attach_id_number(pid, rid.number, on)


def register_entity(services, actor: Actor, uscc: str, name: str, kind: str, established_on: date,
                    region: str | None, on: date) -> Entity:
    """A new legal entity, keyed by its parsed credit code; its region defaults to the code's."""
    try:
        code = parse_uscc(uscc)
    except InvalidIdentifier as exc:
        raise Rejected("uscc", exc.reason) from None
    if established_on > on:
        raise Rejected("established_on", "the founding date is in the future")
    region = region or code[2:8]
    if not region_ever_existed(region):
        raise Rejected("region", "no such administrative division code has ever existed")
    entity = Entity(eid=str(uuid.uuid4()), uscc=code, name=name.strip(), kind=kind, established_on=established_on,
                    region=region)
    return services.subjects.add_entity(entity)


def relate(services, actor: Actor, from_id: str, to_id: str, kind: str) -> Relation:
    return services.subjects.relate(Relation(from_id, to_id, kind))
