"""Persons, entities and relations: POST to record, GET (with a purpose) to read one."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest import abort as api_abort

from profiles.identifiers import InvalidIdentifier, parse_birth_certificate_number, parse_resident_id, parse_uscc
from profiles.models import Person
from profiles.privacy import mask_birth_certificate_number, mask_email, mask_id_number, mask_phone
from web.api.auth import actor, enforce, no_personal_data, reads_subject, record_read, roles
from web.api.schemas import (
    EntityIn,
    EntityOut,
    EntityQuery,
    IdNumberIn,
    PersonIn,
    PersonOut,
    PersonQuery,
    RelationIn,
    RelationOut,
)
from web.usecases import register

blp = Blueprint("subjects", __name__, url_prefix="/api/v1", description="Persons, entities and their relations")
blp.before_request(enforce)

WRITERS = ("system",)
READERS = ("system", "officer")


def services():
    return current_app.extensions["lifecycle"]


def today() -> date:
    return datetime.now(services().settings.zone).date()


def person_view(p: Person) -> dict:
    view = {"pid": p.pid, "id_number_masked": mask_id_number(p.id_number) if p.id_number else None, "name": p.name,
            "birth_date": p.birth_date, "sex": p.sex, "region": p.region}
    if p.birth_certificate_number:
        view["birth_certificate_number_masked"] = mask_birth_certificate_number(p.birth_certificate_number)
    if p.phone:
        view["phone_masked"] = mask_phone(p.phone)
    if p.email:
        view["email_masked"] = mask_email(p.email)
    if p.deceased_on:  # set by a death event (graph/effects.py)
        view["deceased_on"] = p.deceased_on
    return view


@blp.route("/persons")
class Persons(MethodView):
    @roles(*WRITERS)
    @no_personal_data("the echo of what the caller just wrote (numbers masked)")
    @blp.arguments(PersonIn)
    @blp.response(201, PersonOut)
    def post(self, body: dict):
        """Record a natural person, keyed by resident ID number (stored encrypted, looked up by blind index); or a
        newborn before household registration, keyed by its medical birth certificate number (likewise), with its
        sex and birth date: it must be under one year old, and its birth is recorded with it."""
        if "birth_certificate_number" in body:
            person = register.register_newborn(services(), actor(), body["name"], body["sex"], body["birth_date"],
                                               body["birth_certificate_number"], body.get("phone"),
                                               body.get("email"), today())
        else:
            person = register.register_person(services(), actor(), body["id_number"], body["name"], body.get("phone"),
                                              body.get("email"), today())
        return person_view(person)

    @roles(*READERS)
    @reads_subject
    @blp.arguments(PersonQuery, location="query")
    @blp.response(200, PersonOut)
    def get(self, query: dict):
        """Find a person by ID number, or a newborn by its birth certificate number (both through their blind
        index); the read is recorded in their access log."""
        field = "id_number" if "id_number" in query else "birth_certificate_number"
        try:
            if field == "id_number":
                person = services().subjects.find_person(parse_resident_id(query[field], today()).number)
            else:
                person = services().subjects.find_newborn(parse_birth_certificate_number(query[field]))
        except InvalidIdentifier as exc:
            api_abort(422, message=f"{field}: {exc.reason}", messages={"query": {field: [exc.reason]}})
        record_read("Person", person.pid, "person")
        return person_view(person)


@blp.route("/persons/<string:pid>")
class PersonById(MethodView):
    @roles(*READERS)
    @reads_subject
    @blp.response(200, PersonOut)
    def get(self, pid: str):
        """One person; the read is recorded in their access log."""
        person = services().subjects.get_person(pid)
        record_read("Person", pid, "person")
        return person_view(person)


@blp.route("/persons/<string:pid>/id-number")
class PersonIdNumber(MethodView):
    @roles("system", "officer")  # the police's system, or the officer at the centre's household registration window
    @reads_subject
    @blp.arguments(IdNumberIn)
    @blp.response(200, PersonOut)
    def put(self, body: dict, pid: str):
        """Attach the ID number household registration assigned to a newborn put on file without one: 409 if
        another person holds it; 422 if it is invalid, its birth date or sex is not the person's, or the person has
        one already. The answer shows the person, so this is a recorded read with a purpose (X-Purpose); the
        attach itself settles the newborn's household registration reminder."""
        person = register.attach_id_number(services(), actor(), pid, body["id_number"], today())
        record_read("Person", pid, "person (ID number attached)")
        return person_view(person)


@blp.route("/entities")
class Entities(MethodView):
    @roles(*WRITERS)
    @no_personal_data("the echo of what the caller just wrote (numbers masked)")
    @blp.arguments(EntityIn)
    @blp.response(201, EntityOut)
    def post(self, body: dict):
        """Record a legal entity, keyed by its unified social credit code."""
        return register.register_entity(services(), actor(), body["uscc"], body["name"], body["kind"],
                                        body["established_on"], body.get("region"), today())

    @roles(*READERS)
    @reads_subject
    @blp.arguments(EntityQuery, location="query")
    @blp.response(200, EntityOut)
    def get(self, query: dict):
        """Find an entity by credit code; the read is recorded in its access log."""
        try:
            uscc = parse_uscc(query["uscc"])
        except InvalidIdentifier as exc:
            api_abort(422, message=f"uscc: {exc.reason}", messages={"query": {"uscc": [exc.reason]}})
        entity = services().subjects.find_entity(uscc)
        record_read("Entity", entity.eid, "entity")
        return entity


@blp.route("/entities/<string:eid>")
class EntityById(MethodView):
    @roles(*READERS)
    @reads_subject
    @blp.response(200, EntityOut)
    def get(self, eid: str):
        entity = services().subjects.get_entity(eid)
        record_read("Entity", eid, "entity")
        return entity


@blp.route("/relations")
class Relations(MethodView):
    @roles(*WRITERS)
    @no_personal_data("the two ids and the type the caller just sent")
    @blp.arguments(RelationIn)
    @blp.response(201, RelationOut)
    def post(self, body: dict):
        """Link a person to a person (family) or to an entity (legal representative, shareholder, employee)."""
        return register.relate(services(), actor(), body["from_id"], body["to_id"], body["type"])
