"""Applying from the enterprise page: reviewing a prefilled application (the scan's draft, or a due item that has
none yet) with issued values locked, declared ones editable and the materials checklist, and submitting it. An
overdue annual report is filed late (补报) the same way, its report year fixed by the page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from profiles.catalog import model
from profiles.errors import Rejected
from profiles.matters import OPEN, MatterOpen
from profiles.models import Application
from profiles.prefill import PrefilledForm
from profiles.rules import due_items
from web.pages import enterprise_life as life
from web.pages import enterprise_words as words
from web.pages.applying import check_declared, submit, unified_form
from web.pages.enterprise_common import bp, business_id, own_application
from web.pages.enterprise_view import (
    ANNUAL_REPORT,
    REPORT_YEAR,
    WITHIN_DAYS,
    AnnualReport,
    annual_report,
    draft_for,
    field_rows,
    filing_year,
    keep_on_file,
    labels,
    with_report_year,
)
from web.pages.guards import refuse, services, signed_in, today

CONFIRMED = "yes"


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
        return life.summary(eid, app, service)
    if request.method == "POST":
        return _submit(eid, service, draft=aid)
    return _review(eid, service, unified_form("Entity", eid, [service.code]), draft=app)


@bp.route("/apply/<code>", methods=["GET", "POST"])
@signed_in("business")
def apply(code: str):
    """A due item without a prepared draft (the daily scan has not reached it yet), or an overdue annual report
    filed late: the same review, then filing."""
    eid = business_id()
    service = services().catalog.services.get(code)
    if service is None or service.audience != "entity":
        refuse(404, f"no service {code!r} for businesses")
    snapshot = services().snapshots.load("Entity", eid)
    item = next((i for i in due_items(snapshot, services().catalog, today(), WITHIN_DAYS) if i.service == code), None)
    open_now = item is not None and item.opens_on <= today()
    report = annual_report(snapshot, services().catalog, [], today()) if code == ANNUAL_REPORT else None
    late = report.late if report is not None and not open_now else None
    applications = services().portal.applications_of("Entity", eid)
    handled = next((a for a in applications if a["service"] == code and a["status"] in OPEN), None)
    if handled is not None:  # one open application per service (the one-matter rule): it is shown, not a form
        year = filing_year(report)
        if year is not None:
            flash(_("An annual report is being handled. Annual reports are filed one at a time: the %(year)s "
                    "report can be filed once this one is decided.", year=year), "error")
        else:
            flash(_("An application for this service is already being handled, so it cannot be filed again. Here "
                    "it is."), "error")
        return redirect(url_for("enterprise.application", aid=handled["aid"]), code=303)
    if not open_now and late is None:
        return render_template("enterprise/not_open.html", service=service, item=item), \
            409 if request.method == "POST" else 200
    draft = draft_for(applications, code, late.due_on if late else item.due_on)  # type: ignore[union-attr]
    if request.method == "POST":
        return _submit(eid, service, draft=draft)
    if draft is not None:
        return redirect(url_for("enterprise.application", aid=draft), code=303)
    return _review(eid, service, unified_form("Entity", eid, [code]), item=None if late else item)


def _report(eid: str, service: model.Service) -> AnnualReport | None:
    """The annual report's standing today (None for other services): which report year a filing is for."""
    if service.code != ANNUAL_REPORT:
        return None
    return annual_report(services().snapshots.load("Entity", eid), services().catalog, [], today())


def _submit(eid: str, service: model.Service, draft: str | None):
    typed = {k: v for k, v in request.form.items() if k not in ("csrf_token", "confirm")}
    year = filing_year(_report(eid, service))
    if year is not None:  # fixed by the page whatever was posted
        typed[REPORT_YEAR] = str(year)
    form = unified_form("Entity", eid, [service.code])
    posted = keep_on_file(form.fields, typed)
    if request.form.get("confirm") != CONFIRMED:
        _values, errors = check_declared(form, posted)
        errors["confirm"] = _("Tick the box to confirm the application before submitting it")
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
    report = _report(eid, service)
    form = with_report_year(form, filing_year(report))
    rows = field_rows(form, services().catalog, typed)
    action = url_for("enterprise.application", aid=draft.aid) if draft else url_for("enterprise.apply",
                                                                                    code=service.code)
    return render_template("enterprise/application.html", service=service, form=form, rows=rows,
                           errors=words.field_errors(errors or {}, labels(rows)), draft=draft, item=item,
                           action=action, today=today(), confirmed=request.form.get("confirm") == CONFIRMED,
                           bring=words.to_bring(form.materials), on_file=words.on_file(form.materials),
                           late=report.late if report is not None else None), status
