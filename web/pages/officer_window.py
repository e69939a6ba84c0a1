"""Recording at the window what the officer has seen in the original: a material (provenance "verified") or a life
event, checked as the REST API checks them and per kind (only the chosen kind's details are read; each one it needs
and lacks is named); a bad value re-renders the form with the field named, nothing written. A death is written only
after a second, confirming step that says what it will do."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from profiles.catalog.model import Text
from profiles.errors import NotFound, Rejected
from profiles.events import SubjectState, check_event
from profiles.materials import MaterialRejected, check_material
from web.pages.applying import form_text
from web.pages.guards import purpose_for, record_view, services, signed_in, today, visitor
from web.pages.officer_common import AUDIENCE, bilingual, bp, label_of, labelled, material_name, parse_day, term
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


MATERIAL_LABELS = {"kind": _l("Kind of material"), "number": _l("Number on the document"), "issued_on": _l("Issued on"),
                   "expires_on": _l("Expires on"), "issuer": _l("Issued by")}
EVENT_LABELS = {"kind": _l("Kind of event"), "occurred_on": _l("Date"), "note": _l("Note (optional)")}


def _page(kind: str, sid: str, status: int = 200, material_errors: dict | None = None,
          event_errors: dict | None = None, values: Mapping[str, str] | None = None):
    label = label_of(kind)
    holder = AUDIENCE[label]
    kinds = [(code, material_name(code)) for code, spec in services().catalog.materials.items()
             if spec.holder == holder]
    details = {k: [(name, bilingual(t.zh, t.en)) for name, t in names.items()]
               for k, names in detail_fields().items() if any(k == code for code, _name in kinds)}
    codes = event_kinds(services(), label)
    detail_rows = event_details(codes)
    # The error summary names each field as its label does (a material's details by their own labels).
    material_labels = {**MATERIAL_LABELS, **{f"{DETAIL}{k}.{name}": text for k, rows in details.items()
                                             for name, text in rows}}
    event_labels = {**EVENT_LABELS, **{row["name"]: row["label"] for row in detail_rows}}
    return render_template("officer/window.html", kind=kind, sid=sid, kinds=kinds, details=details,
                           events=[(e, term("event", e)) for e in codes], event_details=detail_rows,
                           material_errors=material_errors or {}, event_errors=event_errors or {},
                           material_summary=labelled(material_errors or {}, material_labels),
                           event_summary=labelled(event_errors or {}, event_labels),
                           values=values or {}), status


def event_details(codes) -> list[dict]:
    """Every detail the subject's event kinds declare (events.yaml), once per name, in the catalog's order: its name,
    label, input type, the kinds that ask for it (the page shows it only for those, with script; without, its hint
    names them) and whether one of them requires it."""
    kinds = services().catalog.events
    out: dict[str, dict] = {}
    for code in codes:
        for d in kinds[code].details:
            row = out.setdefault(d.name, {"name": d.name, "label": term("event_detail", d.name), "type": d.type,
                                          "kinds": [], "words": []})
            row["kinds"].append(code)
            row["words"].append(term("event", code) if not d.required else
                                _("%(event)s (required)", event=term("event", code)))
    for row in out.values():
        row["hint"] = _("For: %(kinds)s", kinds=", ".join(row.pop("words")))
    return list(out.values())


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
    """The chosen kind's declared details as typed in (a person by their ID number, looked up here), and the errors:
    each one the kind requires and lacks is named. Whatever was typed for another kind's details is ignored."""
    details, errors = {}, {}
    for d in services().catalog.events[code].details if code in services().catalog.events else ():
        value = (form.get(d.name) or "").strip()
        if not value:
            if d.required:
                errors[d.name] = _("required for %(event)s", event=term("event", code))
            continue
        if len(value) > 200:
            errors[d.name] = _("at most %(n)d characters", n=200)
        elif d.name == "year":
            if value.isdigit() and len(value) == 4 and 1900 <= int(value) <= today().year + 1:
                details[d.name] = int(value)
            else:
                errors[d.name] = _("a year such as %(year)d", year=today().year)
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


def _death_refused(sid: str, occurred_on, details: dict) -> Rejected | None:
    """The domain's check of a death against the record as it is now, before the confirming step is shown (the
    write checks again in its own transaction)."""
    snapshot = services().snapshots.load("Person", sid)
    person = snapshot.person
    state = SubjectState("person", person.birth_date, person.deceased_on, frozenset(e.kind for e in snapshot.events))
    try:
        check_event(services().catalog.events, state, "death", occurred_on, details, today())
    except Rejected as refused:
        return refused
    return None


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
    """The event, checked for its kind; a death first shows what it will do and is written only when confirmed
    (`confirm=1`); `back=1` from that step returns to the form as it was typed."""
    label = label_of(kind)
    purpose = purpose_for(label, sid)
    form, errors = request.form, {}
    if form.get("back"):
        return _page(kind, sid, values=form)
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
    typed, detail_errors = _typed_details(code, form)  # the kind's own details (events.yaml)
    errors.update(detail_errors)
    if errors:
        return _page(kind, sid, 422, event_errors=errors, values=form)
    details = {**({"note": note} if note else {}), **typed}
    if code == "death" and form.get("confirm") != "1":
        refused = _death_refused(sid, occurred_on, details)
        if refused is not None:
            return _page(kind, sid, 422, event_errors={refused.field.removeprefix("details."): _refusal(refused)},
                         values=form)
        person = services().snapshots.load("Person", sid).person
        record_view(label, sid, "death confirmation at the window", purpose=purpose)
        carried = {k: v for k, v in form.items() if k not in ("csrf_token", "confirm", "back")}
        return render_template("officer/confirm_death.html", kind=kind, sid=sid, name=person.name,
                               occurred_on=occurred_on, carried=carried)
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
