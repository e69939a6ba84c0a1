"""A business's filed application: its number, status, dates and history; withdrawing it while it is open;
correcting and resubmitting it when the department returned it for correction."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from profiles.catalog import model
from profiles.errors import Conflict
from profiles.models import Application
from web.pages import application_life as life
from web.pages import enterprise_words as words
from web.pages.applying import unified_form
from web.pages.enterprise_common import bp, business_id, own_application
from web.pages.enterprise_view import field_rows, keep_on_file, labels, shown
from web.pages.guards import refuse, services, signed_in, today

AGAIN = ("withdrawn", "rejected")  # the matter is open again: the page offers a new application


def summary(eid: str, app: Application, service: model.Service, *, typed: dict[str, str] | None = None,
            errors: dict[str, str] | None = None, refused: str | None = None, status: int = 200):
    """The application's page; `typed` and `errors` re-show the correction form, `refused` says why a withdrawal
    or resubmission was not done (409)."""
    catalog = services().catalog
    asked = {f.name: f for f in service.fields}
    fields = [(asked[name].label if name in asked else None,
               words.worded(asked[name].source if name in asked else None,
                            shown(name, asked[name].source if name in asked else None,
                                  str(value) if value is not None else "")))
              for name, value in app.fields.items()]
    held = {m.mid: m for m in services().holdings.materials("Entity", eid)}
    reused = [(held[mid], catalog.materials.get(held[mid].kind)) for mid in app.reused if mid in held]
    moves = life.history(app.aid, lambda t: t.role == "business")  # on its own page, "you" is the business
    correction = None
    if life.can_resubmit(app):
        form = life.as_filed(unified_form("Entity", eid, [service.code]), app)
        rows = field_rows(form, catalog, typed)
        correction = {"form": form, "rows": rows, "bring": words.to_bring(form.materials),
                      "on_file": words.on_file(form.materials)}
        errors = words.field_errors(errors or {}, labels(rows))
    return render_template("enterprise/submitted.html", app=app, service=service, fields=fields, reused=reused,
                           history=moves, resubmitted=life.resubmitted(moves), correction=correction,
                           errors=errors or {}, refused=refused, can_withdraw=life.can_withdraw(app),
                           confirmed=typed is not None and request.form.get("confirm") == life.CONFIRMED,
                           again=app.status in AGAIN, today=today()), status


@bp.route("/applications/<aid>/withdraw", methods=["GET", "POST"])
@signed_in("business")
def withdraw(aid: str):
    """While it is open: the reason asked, confirmed, then withdrawn (web.usecases.applications.withdraw)."""
    eid = business_id()
    app = own_application(eid, aid)
    service = _service(app)
    if not life.can_withdraw(app):
        if request.method == "POST":
            return summary(eid, app, service, refused=life.withdraw_refused(), status=409)
        flash(life.withdraw_refused(), "error")
        return redirect(url_for("enterprise.application", aid=aid), code=303)
    if request.method == "GET":
        return _withdraw_page(app, service, {}, {})
    reason, errors = life.check_withdrawal(request.form)
    if errors:
        return _withdraw_page(app, service, request.form, errors, 422)
    try:
        life.withdraw(app, reason)
    except Conflict:  # decided (or withdrawn in another tab) since the page was opened
        return summary(eid, services().applications.get(aid), service, refused=life.withdraw_refused(),
                       status=409)
    flash(life.withdrawn_said(), "success")
    return redirect(url_for("enterprise.application", aid=aid), code=303)


def _withdraw_page(app: Application, service: model.Service, typed, errors: dict, status: int = 200):
    said = dict(errors)
    if said.get("reason") == _("required"):
        said["reason"] = _("Say why you withdraw the application")
    elif "reason" in said:
        said["reason"] = _("The reason: %(problem)s", problem=said["reason"])
    return render_template("enterprise/withdraw.html", app=app, service=service, reason=typed.get("reason", ""),
                           confirmed=typed.get("confirm") == life.CONFIRMED, errors=said,
                           limit=life.MAX_REASON), status


@bp.route("/applications/<aid>/resubmit", methods=["POST"])
@signed_in("business")
def resubmit(aid: str):
    """Returned for correction: the corrected form, checked like the first filing and resubmitted
    (web.usecases.applications.resubmit); 422 with the fields marked, 409 when not waiting for a correction."""
    eid = business_id()
    app = own_application(eid, aid)
    service = _service(app)
    if not life.can_resubmit(app):
        return summary(eid, app, service, refused=life.resubmit_refused(), status=409)
    form = life.as_filed(unified_form("Entity", eid, [service.code]), app)
    typed = {k: v for k, v in request.form.items() if k not in ("csrf_token", "confirm")}
    try:
        moved, errors = life.resubmit(app, form, keep_on_file(form.fields, typed), request.form.get("confirm"))
    except Conflict:
        return summary(eid, services().applications.get(aid), service, refused=life.resubmit_refused(), status=409)
    if moved is None:
        return summary(eid, app, service, typed=typed, errors=errors, status=422)
    flash(life.resubmitted_said(moved), "success")
    return redirect(url_for("enterprise.application", aid=aid), code=303)


def _service(app: Application) -> model.Service:
    service = services().catalog.services.get(app.service)
    if service is None:
        refuse(404, f"application {app.aid} is for a service no longer in the catalog")
    return service  # type: ignore[return-value]
