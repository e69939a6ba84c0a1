"""An application at the officer's desk: the decision page (approve, return for correction, reject; officers of the
service's department only) and the receipt (受理回执) of a filing, printable and reachable again later. Both need the
purpose stated for the applicant's record and record the read before they answer."""

from __future__ import annotations

import re

from flask import abort, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from profiles.applications import card
from profiles.errors import Conflict, NotFound
from profiles.matters import OUTCOMES
from profiles.models import Application, Transition
from profiles.text import RefusedText, clean_text
from web.pages import officer_paper as paper
from web.pages.guards import purpose_for, record_view, refuse, services, signed_in, today, visitor
from web.pages.identity import person_number
from web.pages.officer_common import PLURAL, bilingual, bp, days_left, load, masked, term
from web.pages.officer_desk import may_decide
from web.pages.officer_desk_words import card_label, status_label, time_left
from web.usecases import applications as usecases

NOTE_LIMIT = 500
NOTE_REQUIRED = ("needs_correction", "rejected")
MISSING_NOTE = {"needs_correction": _l("Say which fields or materials the applicant must correct"),
                "rejected": _l("Give the reason for rejecting the application")}
BADGE = {"approved": "ok", "rejected": "bad", "needs_correction": "warn"}  # site.css badge colours; others muted
DECIDED = {"approved": _l("approved"), "needs_correction": _l("returned for correction"),
           "rejected": _l("rejected")}  # what the flash after a decision says was done
# How graph.officers.Officer.actor names an officer in a Transition: "name · department (username)".
OFFICER_ACTOR = re.compile(r"^(?P<name>.+) · (?P<centre>.+) \((?P<window>[^()\s]+)\)$")


def status_word(status: str | None) -> str:
    """An application's status as a label ("Submitted"), the same on every officer page."""
    return status_label(status)


@bp.context_processor
def _status_words() -> dict:
    """An application's status in words and its badge's colour on every officer page, and who decides it."""
    return {"application_status": status_word, "status_badge": lambda status: BADGE.get(status, "none"),
            "may_decide": may_decide}


def application(aid: str) -> Application:
    """The application, or 404: an unknown id says nothing about anyone."""
    try:
        return services().applications.get(aid)
    except NotFound:
        abort(404)
        raise AssertionError("unreachable") from None


def note_text(raw: str | None, required: bool) -> tuple[str, str | None]:
    """The decision's note: several lines allowed, else checked as every free text of the pages is."""
    try:
        text = clean_text(raw or "", multiline=True).strip()
    except RefusedText as exc:
        return (raw or "").strip(), _("contains an invisible control character (%(code)s)", code=exc.code)
    if not text:
        return text, (_("required") if required else None)
    if len(text) > NOTE_LIMIT:
        return text, _("at most %(n)d characters", n=NOTE_LIMIT)
    return text, None


def applicant(app: Application) -> dict:
    """Whom the application is for, as the officer's pages show it: the name, the ID number masked or the code."""
    record = load(app.subject_label, app.subject_id)
    detail = person_number(record) if app.subject_label == "Person" else getattr(record, "uscc", None)
    return {"name": record.name, "detail": detail or "—", "kind": PLURAL[app.subject_label], "sid": app.subject_id}


def _field_rows(app: Application) -> list[dict]:
    service = services().catalog.services.get(app.service)
    spec = {f.name: f for f in service.fields} if service else {}
    rows = []
    for name, value in app.fields.items():
        f = spec.get(name)
        source = f.source if f else None
        shown = masked(source, name, str(value)) if value not in (None, "") else "—"
        rows.append({"label": bilingual(f.label.zh, f.label.en) if f else name,
                     "value": term("sex", shown) if (source or "").endswith(".sex") else shown})
    return rows


def _decision_page(app: Application, purpose: str, status: int = 200, *, errors: dict | None = None,
                   outcome: str = "", note: str = "", conflict: str | None = None):
    record_view(app.subject_label, app.subject_id, f"application {app.number or app.service} (decision page)",
                purpose=purpose)
    on = today()
    shown_card = card(app.submitted_on, app.time_limit_days, on) \
        if app.status == "submitted" and app.submitted_on else "none"
    history = [(t.at.astimezone(services().settings.zone), t) for t in services().applications.history(app.aid)]
    return render_template("officer/decision.html", app=app, applicant=applicant(app), purpose=purpose,
                           errors=errors or {}, outcome=outcome, note=note, conflict=conflict,
                           fields=_field_rows(app), history=history, card=shown_card, card_label=card_label(shown_card),
                           time_left=time_left(days_left(app.decide_by)), anchors=_anchors(outcome)), status


def _anchors(outcome: str) -> dict[str, str]:
    """Where the error summary's links go: the note of the form that was sent (three forms share the name)."""
    sent = outcome if outcome in OUTCOMES else "approved"
    return {"note": f"f-note-{sent}", "outcome": f"f-note-{sent}"}


@bp.route("/applications/<aid>/decision", methods=["GET", "POST"])
@signed_in("officer")
def decision(aid: str):
    """Decide an application from the queue: approve; return it for correction (the note says which fields or
    materials); reject (the note is the reason). Once per submission: a second decision is refused, naming why."""
    app = application(aid)
    if not may_decide(app.service):  # before the purpose: a refused officer reads nothing of the applicant
        refuse(403, f"{app.service} is decided by its own department, not {visitor().data.get('department')}")
    purpose = purpose_for(app.subject_label, app.subject_id)
    if request.method == "GET":
        return _decision_page(app, purpose)
    outcome = request.form.get("outcome") or ""
    note, note_error = note_text(request.form.get("note"), required=outcome in NOTE_REQUIRED)
    if note_error is not None and not note:  # said as what to do, in the summary and at the field alike
        note_error = str(MISSING_NOTE.get(outcome, note_error))
    errors = {"note": note_error} if note_error else {}
    if outcome not in OUTCOMES:
        errors = {"outcome": _("choose to approve, to return for correction or to reject")}
    if errors:
        return _decision_page(app, purpose, 422, errors=errors, outcome=outcome, note=note)
    try:
        decided = usecases.decide(services(), visitor().actor, aid, outcome, note, today())
    except NotFound:
        abort(404)
    except Conflict:  # decided, withdrawn or returned meanwhile, in another tab or by a colleague
        now = application(aid)
        return _decision_page(now, purpose, 409, conflict=_(
            "This application was not decided again: its status is now “%(status)s”. Nothing was changed.",
            status=status_word(now.status)))
    record_view(decided.subject_label, decided.subject_id,
                f"decision {outcome} on application {decided.number or decided.service}", purpose=purpose)
    flash(_("Application %(number)s: %(outcome)s.", number=decided.number or decided.aid,
            outcome=DECIDED[outcome]), "ok")
    return redirect(url_for(".queue"), code=303)


# --- the receipt (受理回执) ------------------------------------------------------------------------------------------
def received_by(history: list[Transition]) -> dict:
    """Who received the filing, from its first move to "submitted": the officer's centre, window and name, or the
    channel when it was not filed at a window."""
    filing = next((t for t in history if t.after == "submitted" and t.before in ("", "draft")), None)
    if filing is None:
        return {"centre": "—", "window": "—", "officer": "—", "on": None}
    on = filing.at.astimezone(services().settings.zone).date()
    found = OFFICER_ACTOR.match(filing.actor) if filing.role in ("officer", "supervisor", "admin") else None
    if found:
        return {"centre": found["centre"], "window": found["window"], "officer": found["name"], "on": on}
    channel = _("filed online by the applicant") if filing.role in ("citizen", "business") \
        else _("filed by a department's system")
    return {"centre": "—", "window": "—", "officer": channel, "on": on}


@bp.get("/applications/<aid>/receipt")
@signed_in("officer")
def receipt(aid: str):
    """The receipt of a filing (one or several applications filed together: `also`), to print for the applicant."""
    first = application(aid)
    purpose = purpose_for(first.subject_label, first.subject_id)
    filed = [first]
    for other in dict.fromkeys(request.args.getlist("also")):
        found = application(other) if other != aid else None
        if found is not None:
            if found.subject_id != first.subject_id:
                abort(404)
            filed.append(found)
    if any(a.status in ("draft", "settled") for a in filed):  # prepared by the scan: nothing was filed
        abort(404)
    record_view(first.subject_label, first.subject_id,
                "receipt of application " + ", ".join(a.number or a.service for a in filed), purpose=purpose)
    # The receipt is the applicant's paper: their own numbers in full, recorded as a reveal (officer_paper).
    numbers = paper.full_numbers(first.subject_label, first.subject_id)
    paper.record_printing(first.subject_label, first.subject_id, "receipt", numbers, purpose)
    rows = [{"app": a, "by": received_by(services().applications.history(a.aid)),
             "qr": paper.receipt_qr(a.subject_label, a.subject_id, a.aid, a.number)} for a in filed]
    return render_template("officer/receipt.html", rows=rows, by=rows[0]["by"], applicant=applicant(first),
                           numbers=numbers, notes=get_flashed_messages(with_categories=True))
