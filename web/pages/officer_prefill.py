"""一表通 at the window: the unified form for the services chosen (values, provenance, source, locked issued values,
the materials checklist, the decision date), its print view, and filing the ticked services' applications from it,
which leads to their receipt. Reads of the record and of the relatives whose data fills the form are recorded with
the officer's purpose."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from profiles.errors import NotFound, Rejected
from profiles.matters import MatterOpen
from profiles.prefill import PrefilledForm, prefill
from profiles.rules import Snapshot
from web.pages.applying import check_declared, snapshots_for, submit
from web.pages.guards import purpose_for, record_view, services, signed_in, today
from web.pages.officer_common import AUDIENCE, bilingual, bp, label_of, masked, material_name, service_name, term

FIELD = "field."  # form inputs of the unified form are named field.<name>, apart from the page's own inputs


def choices(audience: str) -> list:
    """The services for this audience: bundles (一件事) first, then by name."""
    found = [s for s in services().catalog.services.values() if s.audience == audience]
    return sorted(found, key=lambda s: (not s.bundle, service_name(s.code)))


def source_text(source: str | None) -> str:
    if source is None:
        return _("asked of the applicant")
    if source.startswith("material["):
        return material_name(source.removeprefix("material[").partition("]")[0])
    head = source.rpartition(".")[0]
    return {"person": _("the record"), "parent": _("the parent's record"), "spouse": _("the spouse's record"),
            "entity": _("the business register"),
            "entity.legal_rep": _("the legal representative's record")}.get(head, head)


def field_rows(form: PrefilledForm, posted: Mapping[str, str] | None, kinds: Mapping[str, str]) -> list[dict]:
    """Each field as the page shows it: masked where it is a number, the applicant's typed value kept on a retry;
    `kinds` names the material (by id) a value was read off when its source is a record (a name off the ID card)."""
    rows = []
    for f in form.fields:
        shown = masked(f.source, f.name, f.value)
        typed = None if f.locked or posted is None else posted.get(f.name)
        source = source_text(f.source)
        if f.material_id in kinds and not (f.source or "").startswith("material["):
            source = f"{source} · {material_name(kinds[f.material_id])}"
        rows.append({"name": f.name, "label": bilingual(f.label_zh, f.label_en),
                     "value": term("sex", shown) if (f.source or "").endswith(".sex") else shown or "",
                     "input": typed if typed is not None else (shown or ""), "provenance": f.provenance,
                     "source": source, "origin": _("from %(source)s", source=source) if f.source else source,
                     "date": f.material_date, "locked": f.locked,
                     "services": [service_name(c) for c in f.services]})
    return rows


def unmask(form: PrefilledForm, posted: dict[str, str]) -> dict[str, str]:
    """A declared value shown masked (a phone on file) and sent back unchanged means "keep the value on file"."""
    out = dict(posted)
    for f in form.fields:
        if not f.locked and f.value is not None and masked(f.source, f.name, f.value) != f.value \
                and (posted.get(f.name) or "").strip() == masked(f.source, f.name, f.value):
            out[f.name] = f.value
    return out


def record_reads(label: str, sid: str, what: str, related: Mapping[str, Snapshot], purpose: str) -> None:
    record_view(label, sid, what, purpose=purpose)
    for role, other in related.items():  # their data fills the form: their log shows it, under this purpose
        record_view("Person", other.subject_id, f"{what} (as {role} of {sid})", purpose=purpose)


def render(kind: str, sid: str, purpose: str, codes: list[str], *, printing: bool = False, status: int = 200,
           errors: dict | None = None, posted: Mapping[str, str] | None = None, chosen: list[str] | None = None):
    label = label_of(kind)
    errors = dict(errors or {})
    offered = choices(AUDIENCE[label])
    page = {"kind": kind, "sid": sid, "offered": offered, "selected": codes, "errors": errors, "form": None}
    if not codes:
        return render_template("officer/prefill.html", **page), status
    try:
        snapshot, related = snapshots_for(label, sid)
    except NotFound:
        abort(404)
    try:
        form = prefill(snapshot, services().catalog, codes, today(), related)
    except Rejected as exc:
        errors["services"] = _("choose services from the list for this record") if exc.field == "services" \
            else exc.reason
        return render_template("officer/prefill.html", **page), 422
    record_reads(label, sid, "prefill " + ",".join(form.services), related, purpose)
    kinds = {m.mid: m.kind for snap in (snapshot, *related.values()) for m in snap.materials}
    ticked = [c for c in form.services if c in (chosen or codes)] or [form.services[0]]  # to file: as chosen
    page.update(form=form, rows=field_rows(form, posted, kinds), chosen=ticked,
                checklist=[{"name": material_name(m.kind), "state": m.state, "expires_on": m.expires_on,
                            "services": [service_name(c) for c in m.services]} for m in form.materials],
                related={role: other.subject_id for role, other in related.items()},
                title=(snapshot.person or snapshot.entity).name)
    return render_template("officer/print.html" if printing else "officer/prefill.html", **page), status


@bp.get("/<any(persons, entities):kind>/<sid>/prefill")
@signed_in("officer")
def prefill_form(kind: str, sid: str):
    purpose = purpose_for(label_of(kind), sid)
    return render(kind, sid, purpose, request.args.getlist("services"), printing=request.args.get("print") == "1")


@bp.post("/<any(persons, entities):kind>/<sid>/apply")
@signed_in("officer")
def apply(kind: str, sid: str):
    """File an application for each service ticked on the unified form, each through the use case (one matter
    each), then show the one receipt of them all; the window collects the declared values. A service whose matter
    already has an open application is reported next to the receipt while the others are filed."""
    label = label_of(kind)
    purpose = purpose_for(label, sid)
    codes = list(dict.fromkeys(c for c in request.form.getlist("service") if c))
    selected = [c for c in request.form.getlist("selected") if c] or codes
    posted = {k.removeprefix(FIELD): v for k, v in request.form.items() if k.startswith(FIELD)}
    catalog = services().catalog
    if not codes or any(c not in catalog.services or catalog.services[c].audience != AUDIENCE[label] for c in codes):
        return render(kind, sid, purpose, selected, status=422, posted=posted, chosen=codes,
                      errors={"service": _("choose a service from the list")})
    try:
        snapshot, related = snapshots_for(label, sid)
    except NotFound:
        abort(404)
    values = {}
    for code in codes:
        own = prefill(snapshot, catalog, [code], today(), related)
        values[code] = unmask(own, posted)
        errors = check_declared(own, values[code])[1]
        if errors:  # nothing is filed while any ticked service's form is incomplete
            return render(kind, sid, purpose, selected, status=422, errors=errors, posted=posted, chosen=codes)
    filed, notes = [], []
    for code in codes:
        try:
            application, _form, errors = submit(label, sid, code, values[code])
        except MatterOpen as exc:  # one open application per matter, whoever filed it: the officer is shown which
            notes.append(_("Not filed: an application for %(service)s is already open (%(number)s).",
                           service=service_name(code), number=services().applications.get(exc.aid).number or exc.aid))
            continue
        except Rejected as exc:
            if exc.field != "reuse":
                raise
            errors = {"service": _("the materials on file changed meanwhile; check the form again")}
        if errors and not filed:
            # a reused material was superseded between the form and the filing: the form again, as it is now
            return render(kind, sid, purpose, selected, status=422, posted=posted, chosen=codes, errors=errors)
        if errors:
            notes.append(_("Not filed: %(service)s; the materials on file changed meanwhile, check the form again.",
                           service=service_name(code)))
            continue
        filed.append(application)
    if not filed:
        for note in notes:
            flash(note, "error")
        return redirect(url_for(".profile", kind=kind, sid=sid) + "#h-applications", code=303)
    record_reads(label, sid, f"filed application {','.join(a.service for a in filed)} at the window", related,
                 purpose)
    for note in notes:
        flash(note, "error")
    return redirect(url_for(".receipt", aid=filed[0].aid, also=[a.aid for a in filed[1:]]), code=303)
