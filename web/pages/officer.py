"""The officer console's way in to a record: the search by ID number or credit code with a stated purpose, the
profile (materials, events, due items, applications, relationship picture), revealing a number with a reason, and
opening a linked record (its own purpose). Every page that shows a record writes the access record first."""

from __future__ import annotations

from datetime import date

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from graph.portal import LINKS, Link
from profiles.applications import card
from profiles.due_now import age_on
from profiles.errors import NotFound
from profiles.identifiers import (
    InvalidIdentifier,
    parse_birth_certificate_number,
    parse_resident_id,
    parse_uscc,
    region_name,
)
from profiles.models import Material
from profiles.rules import due_items
from web.pages.guards import purpose_for, record_view, services, signed_in, state_purpose, stated_purpose, today
from web.pages.officer_common import (
    PLURAL,
    bp,
    chosen_text,
    days_left,
    label_of,
    load,
    material_name,
    relation,
    term,
)
from web.pages.officer_picture import Node, is_wide, relationship_picture

__all__ = ["bp"]

# Offered in the purpose field's list; any other text may be typed.
PURPOSES = (_l("Handling an application at the window"), _l("Checking materials for a service"),
            _l("Following up a reminder"), _l("Answering the person's enquiry"),
            _l("Reviewing an application near its time limit"), _l("Correcting a record at the holder's request"))
PICTURE_MOST = 16  # boxes in the relationship picture; the list under it has every one
REVEALABLE = {"id_number": "revealed ID number", "phone": "revealed phone number"}
# Offered as the reason for revealing a number; any other may be typed.
REVEAL_REASONS = (_l("The applicant asked to check the number on file"),
                  _l("A paper form for another authority needs the full number"),
                  _l("Comparing the number with the original document"))


def identify(text: str) -> tuple[str, str]:
    """(kind, canonical number) by shape: a resident ID number ("Person"), a medical birth certificate number
    ("Newborn": a letter and nine digits, the key of a newborn not yet registered), else a credit code ("Entity");
    the error of the likelier."""
    cleaned = "".join(text.split()).replace("-", "").upper()
    if len(cleaned) == 10 and cleaned[:1].isalpha():
        try:
            return "Newborn", parse_birth_certificate_number(text)
        except InvalidIdentifier:
            pass
    try:
        return "Person", parse_resident_id(text, today()).number
    except InvalidIdentifier as id_error:
        try:
            return "Entity", parse_uscc(text)
        except InvalidIdentifier as code_error:
            digits = cleaned[:-1].isdigit() and (cleaned[-1:].isdigit() or cleaned[-1:] == "X")
            # Resident ID numbers never start with 9; most credit codes do (registered by market regulation).
            raise (id_error if digits and not cleaned.startswith("9") else code_error) from None


def _search_page(status: int = 200, errors: dict | None = None, purpose: str = "", typed: str = "",
                 not_found: bool = False, chosen: str = ""):
    """The search form; on a retry the number and the purpose as typed, so nothing is typed twice. The page then
    holds a full ID number the officer typed: it is not kept in any cache."""
    answer = make_response(render_template("officer/home.html", errors=errors or {}, purpose=purpose,
                                           purposes=PURPOSES, typed=typed, not_found=not_found, chosen=chosen),
                           status)
    if typed:
        answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.route("")
@signed_in("officer")
def home():
    return _search_page()


@bp.post("/search")
@signed_in("officer")
def search():
    """Find a record by its number; the stated purpose comes first: without it nothing is looked up."""
    raw = (request.form.get("number") or "").strip()
    purpose, purpose_error, chosen = chosen_text(request.form, "purpose", PURPOSES, _("choose a purpose or type one"))
    errors = {}  # in the page's order, as the error summary lists them
    label = number = None
    if not raw:
        errors["number"] = _("required")
    elif len(raw) > 40:
        errors["number"] = _("at most %(n)d characters", n=40)
    else:
        try:
            label, number = identify(raw)
        except InvalidIdentifier as exc:
            errors["number"] = _(exc.reason)
    if purpose_error:
        errors["purpose"] = purpose_error
    typed = raw[:40]
    if errors:
        return _search_page(422, errors, purpose, typed, chosen=chosen)
    subjects = services().subjects
    try:
        found = subjects.find_person(number) if label == "Person" else subjects.find_newborn(number) \
            if label == "Newborn" else subjects.find_entity(number)
    except NotFound:
        return _search_page(404, {}, purpose, typed, not_found=True, chosen=chosen)
    label = "Entity" if label == "Entity" else "Person"
    sid = found.pid if label == "Person" else found.eid
    state_purpose(label, sid, purpose)
    record_view(label, sid, "search", purpose=purpose)
    return redirect(url_for(".profile", kind=PLURAL[label], sid=sid), code=303)


def _age(born: date | None, on: date) -> str:
    return _("age %(age)d", age=age_on(born, on)) if born else ""


def _picture_nodes(label: str, sid: str, relatives: list[Link], materials: list[Material], on: date) -> list[Node]:
    """Each related person or business once, with every relation it has to the record, then the materials on file.
    Its link opens that record through its own purpose form, offered the purpose stated for this one."""
    grouped: dict[str, tuple[Link, list[str]]] = {}
    for r in sorted(relatives, key=lambda r: LINKS.index(r.type)):  # kin first, so "child, ward", not "ward, child"
        roles = grouped.setdefault(r.other_id, (r, []))[1]
        if (role := relation(r.type, r.outgoing)) not in roles:
            roles.append(role)
    nodes = [Node(r.other_label, r.name or "—", tuple(roles),
                  _age(r.birth_date, on) if r.other_label == "Person" else "",
                  url_for(".open_record", kind=PLURAL[r.other_label], sid=other, **{"from": f"{label}:{sid}"}),
                  # left of the record: where it comes from (parents, guardians) and its spouse
                  before=r.type == "SPOUSE_OF" or (not r.outgoing and r.type in ("PARENT_OF", "GUARDIAN_OF")))
             for other, (r, roles) in grouped.items()]
    return nodes + [Node("Material", material_name(m.kind), (_("holds"),), term("status", m.status(on)), before=True)
                    for m in materials]


@bp.get("/<any(persons, entities):kind>/<sid>")
@signed_in("officer")
def profile(kind: str, sid: str):
    label = label_of(kind)
    purpose = purpose_for(label, sid)
    try:
        snapshot = services().snapshots.load(label, sid)
    except NotFound:
        abort(404)
    record_view(label, sid, "profile", purpose=purpose)
    on = today()
    catalog = services().catalog
    relatives = services().portal.links(label, sid)
    materials = sorted(snapshot.materials, key=lambda m: (m.kind, -m.version))
    events = sorted(snapshot.events, key=lambda e: (e.occurred_on, e.evid), reverse=True)
    applications = []
    for a in services().portal.applications_of(label, sid):
        service = catalog.services.get(a["service"])
        colour = "none"
        if a["status"] == "submitted" and a.get("submitted_on") and service:
            colour = card(a["submitted_on"], service.time_limit_days, on)
        applications.append({**a, "card": colour, "days_left": days_left(a.get("decide_by"))})
    record = snapshot.person or snapshot.entity
    picture_nodes = _picture_nodes(label, sid, relatives, [m for m in materials if not m.superseded], on)
    people = sum(node.kind != "Material" for node in picture_nodes)
    desc = _("%(name)s in the centre; around it %(people)s and %(materials)s.", name=record.name,
             people=ngettext("%(num)d related person or business", "%(num)d related people and businesses", people),
             materials=ngettext("%(num)d material on file", "%(num)d materials on file",
                                len(picture_nodes) - people))
    if len(picture_nodes) > PICTURE_MOST:
        desc += " " + _("The picture shows the first %(most)d; the list under it has all %(all)d.",
                        most=PICTURE_MOST, all=len(picture_nodes))
    picture = relationship_picture(
        "relations", _("Relationship picture of %(name)s", name=record.name), desc, record.name, picture_nodes,
        centre_note=_age(snapshot.person.birth_date, on) if snapshot.person else "", most=PICTURE_MOST)
    return render_template(
        "officer/profile.html", kind=kind, label=label, sid=sid, purpose=purpose, person=snapshot.person,
        entity=snapshot.entity, region=region_name(record.region) if record.region else None, materials=materials,
        events=events, due=due_items(snapshot, catalog, on, 365), applications=applications,
        picture=picture, picture_wide=is_wide(picture), picture_nodes=picture_nodes, on=on, errors={},
        reasons=REVEAL_REASONS)


def _reveal_page(sid: str, status: int = 200, errors: dict | None = None, reason: str = "", what: str = "id_number",
                 chosen: str = "", **shown):
    return make_response(render_template("officer/reveal.html", sid=sid, errors=errors or {}, reason=reason,
                                         what=what, chosen=chosen, reasons=REVEAL_REASONS, **shown), status)


@bp.route("/persons/<sid>/reveal", methods=["GET", "POST"])
@signed_in("officer")
def reveal(sid: str):
    """Show one full number once, for a stated reason that goes into the access log; never kept anywhere."""
    purpose = purpose_for("Person", sid)
    if request.method == "GET":
        return _reveal_page(sid)
    what = request.form.get("what") or "id_number"
    reason, error, chosen = chosen_text(request.form, "reason", REVEAL_REASONS, _("choose a reason or type one"))
    errors = {"reason": error} if error else {}
    if what not in REVEALABLE:
        errors["what"] = _("choose the ID number or the phone number")
    if errors:
        return _reveal_page(sid, 422, errors, reason, what, chosen)
    person = load("Person", sid)
    value = person.id_number if what == "id_number" else person.phone
    if not value:
        missing = _("no phone number on file") if what == "phone" else _("no ID number on file yet")
        return _reveal_page(sid, 422, {"what": missing}, reason, what, chosen)
    record_view("Person", sid, f"{REVEALABLE[what]} (reason: {reason})", purpose=purpose)
    answer = _reveal_page(sid, 200, {}, reason, what, chosen, value=value)
    answer.headers["Cache-Control"] = "no-store"  # the clear number must not linger in a cache
    return answer


@bp.route("/<any(persons, entities):kind>/<sid>/open", methods=["GET", "POST"])
@signed_in("officer")
def open_record(kind: str, sid: str):
    """A record reached by a link (a relative, the queue): it needs its own stated purpose, never inherited."""
    label = label_of(kind)
    if request.method == "GET":
        # Reached from another record's picture or list: its stated purpose is offered, to confirm or change.
        source_label, _sep, source_id = (request.args.get("from") or "").partition(":")
        offered = stated_purpose(source_label, source_id) if source_label in PLURAL else None
        return render_template("officer/open.html", kind=kind, sid=sid, purpose=offered or "", purposes=PURPOSES,
                               errors={}, chosen="")
    purpose, error, chosen = chosen_text(request.form, "purpose", PURPOSES, _("choose a purpose or type one"))
    if error:
        return render_template("officer/open.html", kind=kind, sid=sid, purpose=purpose, purposes=PURPOSES,
                               errors={"purpose": error}, chosen=chosen), 422
    load(label, sid)
    state_purpose(label, sid, purpose)
    record_view(label, sid, "opened from a link", purpose=purpose)
    return redirect(url_for(".profile", kind=kind, sid=sid), code=303)


from web.pages import (  # noqa: E402,F401  (their routes join bp)
    officer_admin,
    officer_decide,
    officer_desk,
    officer_newborn,
    officer_prefill,
    officer_window,
)
