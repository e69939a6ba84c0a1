"""Applying from the enterprise page: reviewing a prefilled application (the scan's draft, or a due item that has
none yet) with issued values locked, declared ones editable and the materials checklist, and submitting it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from profiles.catalog import model
from profiles.errors import NotFound, Rejected
from profiles.matters import MatterOpen
from profiles.models import Application
from profiles.prefill import PrefilledForm
from profiles.rules import due_items
from web.pages.applying import check_declared, submit, unified_form
from web.pages.enterprise import bp, business_id
from web.pages.enterprise_view import WITHIN_DAYS, draft_for, keep_on_file, masker, shown, source_text
from web.pages.guards import refuse, services, signed_in, today

CONFIRMED = "yes"


@dataclass(frozen=True)
class FieldRow:
    """One form field as the review shows it."""

    name: str
    label_zh: str
    label_en: str
    locked: bool
    provenance: str
    source: str  # in words
    material_date: str | None
    value: str  # locked: the (masked) value on file; editable: what goes in the input
    on_file: str | None  # editable and masked: the value on file, masked, kept when the input is left empty


def own_application(eid: str, aid: str) -> Application:
    """One of this business's applications, else the attempt is recorded and 404."""
    try:
        app = services().applications.get(aid)
    except NotFound:
        app = None
    if app is None or app.subject_label != "Entity" or app.subject_id != eid:
        refuse(404, f"application {aid} is not business {eid}'s")
    return app  # type: ignore[return-value]


@bp.route("/applications/<aid>", methods=["GET", "POST"])
@signed_in("business")
def application(aid: str):
    eid = business_id()
    app = own_application(eid, aid)
    service = services().catalog.services.get(app.service)
    if service is None:
        refuse(404, f"application {aid} is for a service no longer in the catalog")
    if app.status != "draft":
        if request.method == "POST":
            flash(_("This application has already been submitted."), "error")
            return redirect(url_for("enterprise.application", aid=aid), code=303)
        return _summary(eid, app, service)
    if request.method == "POST":
        return _submit(eid, service, draft=aid)
    return _review(eid, service, unified_form("Entity", eid, [service.code]), draft=app)


@bp.route("/apply/<code>", methods=["GET", "POST"])
@signed_in("business")
def apply(code: str):
    """A due item without a prepared draft (the daily scan has not reached it yet): the same review, then filing."""
    eid = business_id()
    service = services().catalog.services.get(code)
    if service is None or service.audience != "entity":
        refuse(404, f"no service {code!r} for businesses")
    snapshot = services().snapshots.load("Entity", eid)
    item = next((i for i in due_items(snapshot, services().catalog, today(), WITHIN_DAYS) if i.service == code), None)
    if item is None or item.opens_on > today():
        return render_template("enterprise/not_open.html", service=service, item=item), \
            409 if request.method == "POST" else 200
    draft = draft_for(services().portal.applications_of("Entity", eid), code, item.due_on)
    if request.method == "POST":
        return _submit(eid, service, draft=draft)
    if draft is not None:
        return redirect(url_for("enterprise.application", aid=draft), code=303)
    return _review(eid, service, unified_form("Entity", eid, [code]), item=item)


def _submit(eid: str, service: model.Service, draft: str | None):
    typed = {k: v for k, v in request.form.items() if k not in ("csrf_token", "confirm")}
    form = unified_form("Entity", eid, [service.code])
    posted = keep_on_file(form.fields, typed)
    if request.form.get("confirm") != CONFIRMED:
        _values, errors = check_declared(form, posted)
        errors["confirm"] = _("please confirm the application before submitting it")
        return _review(eid, service, form, typed=typed, errors=errors, status=422)
    try:
        filed, form, errors = submit("Entity", eid, service.code, posted, draft=draft)
    except MatterOpen as exc:  # filed meanwhile, here or at the window: the one open application is shown instead
        flash(_("An application for this service is already being handled, so it cannot be filed again. Here it "
                "is."), "error")
        return redirect(url_for("enterprise.application", aid=exc.aid), code=303)
    except Rejected as exc:
        if exc.field == "draft":  # submitted meanwhile (another tab, a second click)
            flash(_("This application has already been submitted."), "error")
            return redirect(url_for("enterprise.application", aid=draft), code=303)
        # a material on file was replaced while the form was open: the checklist must be looked at again
        flash(_("The records changed while the form was open. Please review it again."), "error")
        return redirect(request.path, code=303)
    if errors or filed is None:
        return _review(eid, service, form, typed=typed, errors=errors, status=422)
    flash(_("Submitted. The decision is due by %(day)s.", day=filed.decide_by.isoformat() if filed.decide_by
            else "-"), "success")
    return redirect(url_for("enterprise.application", aid=filed.aid), code=303)


def _review(eid: str, service: model.Service, form: PrefilledForm, *, draft: Application | None = None,
            item=None, typed: dict[str, str] | None = None, errors: dict[str, str] | None = None, status: int = 200):
    catalog = services().catalog
    rows = []
    for f in form.fields:
        mask = masker(f.name, f.source)
        if f.locked:
            value, on_file = shown(f.name, f.source, f.value), None
        elif mask is not None:  # never echoed in clear: left empty it keeps the value on file
            value, on_file = "", (mask(f.value) if f.value else None)
        else:
            value, on_file = (typed.get(f.name, "") if typed is not None else f.value or ""), None
        rows.append(FieldRow(f.name, f.label_zh, f.label_en, f.locked, f.provenance, source_text(f.source, catalog),
                             f.material_date.isoformat() if f.material_date else None, value, on_file))
    action = url_for("enterprise.application", aid=draft.aid) if draft else url_for("enterprise.apply",
                                                                                    code=service.code)
    return render_template("enterprise/application.html", service=service, form=form, rows=rows,
                           errors=errors or {}, draft=draft, item=item, action=action, today=today()), status


def _summary(eid: str, app: Application, service: model.Service):
    catalog = services().catalog
    labels = {f.name: f for f in service.fields}
    fields = [(labels[name].label if name in labels else None, name,
               shown(name, labels[name].source if name in labels else None, str(value) if value is not None else ""))
              for name, value in app.fields.items()]
    held = {m.mid: m for m in services().holdings.materials("Entity", eid)}
    reused = [(held[mid], catalog.materials.get(held[mid].kind)) for mid in app.reused if mid in held]
    return render_template("enterprise/submitted.html", app=app, service=service, fields=fields, reused=reused)
