"""Recording at the window what the officer has seen in the original: a material (provenance "verified") or a life
event, checked as the REST API checks them; a bad value re-renders the form with the field named, nothing written."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from profiles.catalog.model import Text
from profiles.errors import NotFound, Rejected
from profiles.materials import MaterialRejected, check_material
from web.pages.applying import form_text
from web.pages.guards import purpose_for, record_view, services, signed_in, today, visitor
from web.pages.officer_common import AUDIENCE, bilingual, bp, label_of, material_name, parse_day, term
from web.usecases.holdings import event_kinds, record_event, record_material
from web.usecases.subjects import SubjectRef

NUMBER = re.compile(r"^[0-9A-Za-z\-/()（）]+$")  # as the REST API accepts them
DETAIL = "detail."  # a material's details are posted as detail.<kind>.<name>


def detail_fields() -> dict[str, dict[str, Text]]:
    """Per material kind, the details the catalog's forms read from it (material[kind].fields.<name>), labelled as
    the first form that asks for them: what is worth typing in from the original."""
    out: dict[str, dict[str, Text]] = {}
    for service in services().catalog.services.values():
        for f in service.fields:
            source = f.source or ""
            if source.startswith("material[") and "].fields." in source:
                kind, _sep, name = source.removeprefix("material[").partition("].fields.")
                out.setdefault(kind, {}).setdefault(name, f.label)
    return out


def _page(kind: str, sid: str, status: int = 200, material_errors: dict | None = None,
          event_errors: dict | None = None, values: Mapping[str, str] | None = None):
    label = label_of(kind)
    holder = AUDIENCE[label]
    kinds = [(code, material_name(code)) for code, spec in services().catalog.materials.items()
             if spec.holder == holder]
    details = {k: [(name, bilingual(t.zh, t.en)) for name, t in names.items()]
               for k, names in detail_fields().items() if any(k == code for code, _name in kinds)}
    codes = event_kinds(services(), label)
    return render_template("officer/window.html", kind=kind, sid=sid, kinds=kinds, details=details,
                           events=[(e, term("event", e)) for e in codes], event_details=event_details(codes),
                           material_errors=material_errors or {}, event_errors=event_errors or {},
                           values=values or {}), status


def event_details(codes) -> list[tuple[str, str, str, str]]:
    """(name, label, hint, type) of every detail the subject's event kinds declare (events.yaml), once per name, in
    the catalog's order; the hint says which kinds ask for it. `year` has its own input."""
    kinds = services().catalog.events
    out: dict[str, tuple[str, list[str]]] = {}
    for code in codes:
        for d in kinds[code].details:
            if d.name != "year":
                out.setdefault(d.name, (d.type, []))[1].append(term("event", code))
    return [(name, term("event_detail", name), _("For: %(kinds)s", kinds=", ".join(used)), kind)
            for name, (kind, used) in out.items()]


def _refusal(refused: Rejected) -> str:
    """The domain's reason for refusing an event (profiles.events, graph.effects), in the visitor's language."""
    reason = refused.reason
    if refused.field == "kind":
        return _("this event is already on file, or the record has ended: nothing more can be recorded")
    if refused.field == "occurred_on":
        return _("the date is before the birth or founding, or after the death or closure on file")
    if reason.startswith("required"):
        return _("required for this kind of event")
    if reason == "this person has died":
        return _("this person has died")
    if reason == "cannot be the subject itself":
        return _("cannot be the person whose record this is")
    return _("not what this kind of event records")


def _typed_details(code: str, form) -> tuple[dict, dict]:
    """The kind's declared details as typed in (a person by their ID number, looked up here), and the errors."""
    details, errors = {}, {}
    for d in services().catalog.events[code].details if code in services().catalog.events else ():
        value = (form.get(d.name) or "").strip()
        if d.name == "year" or not value:
            continue
        if len(value) > 200:
            errors[d.name] = _("at most %(n)d characters", n=200)
        elif d.type == "person":
            try:
                details[d.name] = services().subjects.find_person(value.upper()).pid
            except NotFound:
                errors[d.name] = _("no person with this ID number is on file")
        elif d.type == "integer":
            if value.isdigit():
                details[d.name] = int(value)
            else:
                errors[d.name] = _("must be a whole number")
        else:
            details[d.name] = value
    return details, errors


@bp.get("/<any(persons, entities):kind>/<sid>/record")
@signed_in("officer")
def window(kind: str, sid: str):
    purpose_for(label_of(kind), sid)
    return _page(kind, sid)


def _rejected(exc: MaterialRejected, holder: str, expires_on) -> str:
    """The domain's reason, in the visitor's language."""
    if exc.field == "kind":
        return _("this material is held by a business, not a person") if holder == "person" else \
            _("this material is held by a person, not a business")
    if exc.field == "issued_on":
        return _("the issue date is in the future")
    if expires_on is None:
        return _("this material always has an expiry date")
    return _("this material does not expire; leave the expiry date empty") if "does not expire" in exc.reason \
        else _("the expiry date must be after the issue date")


@bp.post("/<any(persons, entities):kind>/<sid>/materials")
@signed_in("officer")
def add_material(kind: str, sid: str):
    label = label_of(kind)
    purpose = purpose_for(label, sid)
    form, holder, errors = request.form, AUDIENCE[label], {}
    code = form.get("kind") or ""
    if code not in services().catalog.materials:
        errors["kind"] = _("choose a kind of material from the list")
    number = (form.get("number") or "").strip().upper()
    if not number:
        errors["number"] = _("required")
    elif len(number) > 64 or not NUMBER.match(number):
        errors["number"] = _("letters, digits and - / ( ) only, at most 64")
    issued_on, error = parse_day(form.get("issued_on"))
    if error:
        errors["issued_on"] = error
    expires_on, error = parse_day(form.get("expires_on"), required=False)
    if error:
        errors["expires_on"] = error
    issuer, error = form_text(form.get("issuer"), limit=100)
    if error:
        errors["issuer"] = error
    details = {}
    for name in detail_fields().get(code, {}):
        value, error = form_text(form.get(f"{DETAIL}{code}.{name}"), required=False)
        if error:
            errors[f"{DETAIL}{code}.{name}"] = error
        elif value:
            details[name] = value
    if not {"kind", "issued_on", "expires_on"} & errors.keys():
        try:
            check_material(services().catalog.materials, holder, code, issued_on, expires_on, today())
        except MaterialRejected as exc:
            errors[exc.field] = _rejected(exc, holder, expires_on)
    if errors:
        return _page(kind, sid, 422, material_errors=errors, values=form)
    try:
        record_material(services(), visitor().actor, SubjectRef(label, sid), code, number, issued_on, expires_on,
                        issuer, "verified", details, today())
    except NotFound:
        abort(404)
    record_view(label, sid, f"recorded material {code} at the window", purpose=purpose)
    flash(_("Recorded at the window: %(material)s (verified against the original).",
            material=material_name(code)), "ok")
    return redirect(url_for(".profile", kind=kind, sid=sid), code=303)


@bp.post("/<any(persons, entities):kind>/<sid>/events")
@signed_in("officer")
def add_event(kind: str, sid: str):
    label = label_of(kind)
    purpose = purpose_for(label, sid)
    form, errors = request.form, {}
    code = form.get("kind") or ""
    if code not in event_kinds(services(), label):
        errors["kind"] = _("choose a kind of event from the list")
    occurred_on, error = parse_day(form.get("occurred_on"))
    if error:
        errors["occurred_on"] = error
    elif occurred_on > today():
        errors["occurred_on"] = _("the date is in the future")
    note, error = form_text(form.get("note"), required=False)
    if error:
        errors["note"] = error
    year = (form.get("year") or "").strip()
    if year and not (year.isdigit() and len(year) == 4 and 1900 <= int(year) <= today().year + 1):
        errors["year"] = _("a year such as %(year)d", year=today().year)
    typed, detail_errors = _typed_details(code, form)  # the kind's own details (events.yaml)
    errors.update(detail_errors)
    if errors:
        return _page(kind, sid, 422, event_errors=errors, values=form)
    details = {**({"note": note} if note else {}), **({"year": int(year)} if year else {}), **typed}
    try:
        record_event(services(), visitor().actor, SubjectRef(label, sid), code, occurred_on, details, today())
    except NotFound:
        abort(404)
    except Rejected as refused:  # the event against the subject's life or the kind's details: nothing written
        return _page(kind, sid, 422, event_errors={refused.field.removeprefix("details."): _refusal(refused)},
                     values=form)
    record_view(label, sid, f"recorded event {code} at the window", purpose=purpose)
    flash(_("Recorded at the window: the event and its date."), "ok")
    return redirect(url_for(".profile", kind=kind, sid=sid), code=303)
