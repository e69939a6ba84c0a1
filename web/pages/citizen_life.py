"""A citizen's filed application (their own or a ward's): its number, status, dates and history; withdrawing it while
it is open; correcting and resubmitting it when the department returned it for correction."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from profiles.errors import Conflict
from profiles.models import Application
from profiles.prefill import prefill
from web.pages import application_life as life
from web.pages import citizen_words as words
from web.pages.applying import snapshots_for
from web.pages.citizen_forms import checklist, explained, field_rows, shown, unmasked
from web.pages.citizen_view import page_url, review_url
from web.pages.guards import services, today, visitor
from web.pages.i18n import is_chinese

AGAIN = ("withdrawn", "rejected")  # the matter is open again: the page offers a new application


def page(pid: str, app: Application, *, correction=None, raw: dict | None = None, errors: dict | None = None,
         refused: str | None = None, status: int = 200):
    """The application's page; `correction` the form being corrected (when re-shown with errors), `refused` why a
    withdrawal or resubmission was not done (409)."""
    service = services().catalog.services.get(app.service)
    labels = {f.name: (f.label.zh if is_chinese() else f.label.en, f.source) for f in (service.fields if service
                                                                                      else ())}
    rows = [{"label": labels.get(k, (k, None))[0],
             "value": words.as_shown(shown(str(v), labels.get(k, (k, None))[1]), labels.get(k, (k, None))[1])}
            for k, v in app.fields.items()]
    me = visitor().actor.name
    moves = life.history(app.aid, lambda t: t.actor == me)
    shown_form = None
    if life.can_resubmit(app) and service is not None:
        form, snapshot, related = correction or correction_form(pid, app)
        fields = field_rows(form, snapshot, related, raw or {})
        errors = explained(errors or {}, fields)
        shown_form = {"fields": fields, "materials": checklist(form),
                      "promise": _("Correct the form below and resubmit it. The decision is then due within "
                                   "%(days)s: by %(day)s if you resubmit today.",
                                   days=words.working_days(service.time_limit_days),
                                   day=words.long_date(form.decision_date))}
    again = url_for("citizen.apply", pid=pid, code=app.service) \
        if app.status in AGAIN and service is not None and service.audience == "person" else None
    return render_template(
        "citizen/filed.html", pid=pid, app=app, name=words.service_name(app.service),
        status=words.application_status(app.status), rows=rows, history=moves, resubmitted=life.resubmitted(moves),
        correction=shown_form, errors=errors or {}, confirmed=(raw or {}).get("confirm") == life.CONFIRMED,
        refused=refused, can_withdraw=life.can_withdraw(app), again=again, back=page_url(pid)), status


def correction_form(pid: str, app: Application):
    """The service's form as filed (issued values locked, as on file), with the snapshots it was filled from."""
    snapshot, related = snapshots_for("Person", pid)
    form = prefill(snapshot, services().catalog, [app.service], today(), related)
    return life.as_filed(form, app), snapshot, related


def withdraw(pid: str, app: Application):
    """GET: the reason and the confirmation asked. POST: withdrawn, back to the page; 409 when no longer open."""
    if not life.can_withdraw(app):
        if request.method == "POST":
            return page(pid, app, refused=life.withdraw_refused(), status=409)
        flash(life.withdraw_refused(), "error")
        return redirect(review_url(pid, app.aid), code=303)
    if request.method == "GET":
        return _withdraw_page(pid, app, {}, {})
    reason, errors = life.check_withdrawal(request.form)
    if errors:
        return _withdraw_page(pid, app, request.form, errors, 422)
    try:
        life.withdraw(app, reason)
    except Conflict:  # decided (or withdrawn in another tab) since the page was opened
        return page(pid, services().applications.get(app.aid), refused=life.withdraw_refused(), status=409)
    flash(life.withdrawn_said(), "success")
    return redirect(review_url(pid, app.aid), code=303)


def _withdraw_page(pid: str, app: Application, typed, errors: dict, status: int = 200):
    if "reason" in errors:  # "required" alone does not say what is asked once it is a link in the summary
        errors = {**errors, "reason": _("Please say why you withdraw the application")
                  if errors["reason"] == _("required") else _("The reason: %(error)s", error=errors["reason"])}
    return render_template("citizen/withdraw.html", pid=pid, app=app, name=words.service_name(app.service),
                           status=words.application_status(app.status), reason=typed.get("reason", ""),
                           confirmed=typed.get("confirm") == life.CONFIRMED, errors=errors,
                           limit=life.MAX_REASON, back=review_url(pid, app.aid)), status


def resubmit(pid: str, app: Application):
    """The corrected form: checked like the first filing, resubmitted, back to the page with the new decision date;
    422 with the fields marked, 409 when the application is not waiting for a correction."""
    if not life.can_resubmit(app):
        return page(pid, app, refused=life.resubmit_refused(), status=409)
    form, snapshot, related = correction_form(pid, app)
    raw = {k: request.form.get(k, "") for k in request.form}
    try:
        moved, errors = life.resubmit(app, form, unmasked(form.fields, raw), raw.get("confirm"))
    except Conflict:
        return page(pid, services().applications.get(app.aid), refused=life.resubmit_refused(), status=409)
    if moved is None:
        return page(pid, app, correction=(form, snapshot, related), raw=raw, errors=errors, status=422)
    flash(life.resubmitted_said(moved), "success")
    return redirect(review_url(pid, app.aid), code=303)
