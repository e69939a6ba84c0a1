"""Putting a subject on file: a natural person by resident ID number, a legal entity by unified social credit code,
and the relations between them (family, legal representative, shareholder, employee)."""

from __future__ import annotations

import uuid
from datetime import date

from profiles.errors import Rejected
from profiles.identifiers import InvalidIdentifier, parse_resident_id, parse_uscc, region_ever_existed
from profiles.models import Actor, Entity, Person, Relation


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
