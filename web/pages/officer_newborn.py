"""A newborn at the window: registered from a parent's record by its medical birth certificate, before household
registration gives it an ID number (the parent, and the other parent when the spouse on file is chosen, become its
parents and guardians), and the ID number attached once household registration has assigned it (户口登记条例 第七条).
Both need the officer's stated purpose for the record they start from; bad input re-renders the form with the field
named, nothing written."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from profiles.errors import Conflict, NotFound, Rejected
from profiles.models import Person
from profiles.privacy import mask_id_number
from profiles.rules import birthday
from web.pages.applying import form_text
from web.pages.guards import purpose_for, record_view, services, signed_in, state_purpose, today, visitor
from web.pages.officer_common import bp, load, parse_day
from web.usecases import register

MAX_NAME = 50
SEX_WORDS = ("M", "F")


def may_register_child(person: Person | None) -> bool:
    """A living adult: the officer registers a newborn from a parent's record."""
    return bool(person and person.deceased_on is None and birthday(person.birth_date, 18) <= today())


@bp.context_processor
def _newborn_words() -> dict:
    return {"may_register_child": may_register_child}


def spouses(pid: str) -> list[tuple[str, str]]:
    """(pid, name) of the living spouses on file, who may be named as the newborn's other parent."""
    out = {}
    for link in services().portal.links("Person", pid):
        if link.type == "SPOUSE_OF" and link.other_label == "Person" and link.other_id not in out:
            try:
                other = services().subjects.get_person(link.other_id)
            except NotFound:
                continue
            if other.deceased_on is None:
                out[link.other_id] = link.name or "—"
    return list(out.items())


def _parent(sid: str) -> Person:
    parent = load("Person", sid)
    if not may_register_child(parent):  # no link leads here: the form is for a living adult's record
        abort(404)
    return parent


def _form(sid: str, parent: Person, status: int = 200, errors: dict | None = None,
          values: Mapping[str, str] | None = None):
    values = dict(values or {})  # kept as typed, the certificate number too: nothing is typed twice
    others = spouses(sid)
    purpose = purpose_for("Person", sid)  # the form shows the parent's record and names the spouses: each a read
    record_view("Person", sid, "newborn registration form at the window", purpose=purpose)
    for other, _name in others:
        record_view("Person", other, f"named as a possible other parent on the newborn form of {sid}", purpose=purpose)
    answer = make_response(render_template("officer/newborn.html", sid=sid, parent=parent, spouses=others,
                                           errors=errors or {}, values=values), status)
    answer.headers["Cache-Control"] = "no-store"  # a number typed in it is not kept in a cache
    return answer


def _refusal(refused: Rejected) -> str:
    """The use case's reason for refusing a newborn, in the visitor's language."""
    if refused.field == "birth_certificate_number":
        return _("a medical birth certificate number is one letter and nine digits, such as Q440123456")
    if refused.field == "sex":
        return _("choose male or female")
    if refused.field == "parent":
        return _("this person has died")
    if "future" in refused.reason:
        return _("the date is in the future")
    return _("a child is registered here only as a newborn, under one year old; a person without household "
             "registration is registered by another procedure")


@bp.get("/persons/<sid>/newborn")
@signed_in("officer")
def newborn_form(sid: str):
    purpose_for("Person", sid)
    return _form(sid, _parent(sid))


@bp.post("/persons/<sid>/newborn")
@signed_in("officer")
def register_newborn(sid: str):
    """Put the newborn on file and make the parent (and the other parent, if chosen) its parents and guardians; then
    its profile, under the same purpose."""
    purpose = purpose_for("Person", sid)
    parent = _parent(sid)
    form, errors = request.form, {}
    name, error = form_text(form.get("name"), limit=MAX_NAME)
    if error:
        errors["name"] = error
    sex = form.get("sex") or ""
    if sex not in SEX_WORDS:
        errors["sex"] = _("choose male or female")
    born, error = parse_day(form.get("birth_date"))
    if error:
        errors["birth_date"] = error
    certificate = (form.get("birth_certificate_number") or "").strip()
    if not certificate:
        errors["birth_certificate_number"] = _("required")
    elif len(certificate) > 20:
        errors["birth_certificate_number"] = _("at most %(n)d characters", n=20)
    other = form.get("other_parent") or ""
    if other and other not in dict(spouses(sid)):
        errors["other_parent"] = _("choose the other parent from the list, or no one")
    if errors:
        return _form(sid, parent, 422, errors, form)
    parents = [sid, other] if other else [sid]
    try:
        child = register.register_child(services(), visitor().actor, parents, name, sex, born, certificate, today())
    except Rejected as refused:  # checked before anything is written
        field = "other_parent" if refused.field == "parent" else refused.field
        return _form(sid, parent, 422, {field: _refusal(refused)}, form)
    except Conflict:
        return _form(sid, parent, 409, {"birth_certificate_number": _(
            "a person with this birth certificate number is already on file: search for it instead")}, form)
    record_view("Person", sid, "registered a newborn child at the window", purpose=purpose)
    if other:
        record_view("Person", other, "named as the other parent of a newborn registered at the window",
                    purpose=purpose)
    state_purpose("Person", child.pid, purpose)  # the officer goes on with the child's record
    flash(_("Registered: %(name)s, by the medical birth certificate. Household registration is due within a month "
            "of the birth; attach the ID number here once it is assigned.", name=child.name), "ok")
    return redirect(url_for(".profile", kind="persons", sid=child.pid), code=303)


def _attach_page(sid: str, person: Person, status: int, errors: dict, typed: str):
    record_view("Person", sid, "ID number form at the window", purpose=purpose_for("Person", sid))
    answer = make_response(render_template("officer/attach_id.html", sid=sid, person=person, errors=errors,
                                           typed=typed), status)  # kept as typed, to correct a digit
    answer.headers["Cache-Control"] = "no-store"  # the full number typed is not kept in a cache
    return answer


def _attach_refusal(refused: Rejected) -> str:
    reason = refused.reason
    if "already" in reason:
        return _("this person has an ID number already")
    if reason.startswith("the birth date"):
        return _("the birth date in this ID number is not the person's birth date on file: check the number")
    if reason.startswith("the sex"):
        return _("the sex this ID number encodes is not the person's sex on file: check the number")
    return _(reason)  # why the number does not parse (profiles.identifiers), translated in the common catalogue


@bp.route("/persons/<sid>/id-number", methods=["GET", "POST"])
@signed_in("officer")
def attach_id_number(sid: str):
    """The ID number household registration assigned, attached to a person on file without one; then the profile,
    which shows it masked."""
    purpose = purpose_for("Person", sid)
    person = load("Person", sid)
    if request.method == "GET":
        return _attach_page(sid, person, 200, {}, "")
    typed = "".join((request.form.get("id_number") or "").split()).upper()
    if not typed:
        return _attach_page(sid, person, 422, {"id_number": _("required")}, typed)
    if len(typed) > 18:
        return _attach_page(sid, person, 422, {"id_number": _("at most %(n)d characters", n=18)}, typed[:18])
    try:
        register.attach_id_number(services(), visitor().actor, sid, typed, today())
    except Rejected as refused:
        return _attach_page(sid, person, 422, {"id_number": _attach_refusal(refused)}, typed)
    except Conflict:
        return _attach_page(sid, person, 409, {"id_number": _(
            "another person on file holds this ID number: check the number")}, typed)
    except NotFound:
        abort(404)
    record_view("Person", sid, "attached the ID number at the window", purpose=purpose)
    flash(_("ID number attached: %(number)s.", number=mask_id_number(typed)), "ok")
    return redirect(url_for(".profile", kind="persons", sid=sid), code=303)
