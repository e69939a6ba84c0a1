"""The citizen's personal page (市民个人网页): their own record and their wards', what is coming up, the inbox, the
applications they review, submit, withdraw and correct, their notification preferences, who looked at their data;
and `/n/<nid>`, the link in a reminder. Every view is the signed-in citizen's; a pid or id that is not theirs is
refused (404, recorded). The citizen's own reads are not written to the access log: it records officers and systems."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from profiles.errors import NotFound
from profiles.models import Application
from web.pages import citizen_forms as forms
from web.pages import citizen_life as life
from web.pages import citizen_view as view
from web.pages import citizen_words as words
from web.pages.access_words import visit_lines
from web.pages.guards import acting_for, refuse, safe_next, services, signed_in, visitor
from web.usecases.notices import mark_read

bp = Blueprint("citizen", __name__, url_prefix="/me")
links = Blueprint("links", __name__)  # /n/<nid>, outside /me: the short link in an SMS or e-mail
bp.add_app_template_filter(words.long_date, "long_date")  # the citizen's templates show dates in their words


@bp.route("")
@signed_in("citizen")
def home():
    return render_template("citizen/home.html", **view.page(visitor().pid, "self"))


@bp.route("/p/<pid>")
@signed_in("citizen")
def person(pid: str):
    relation = acting_for(pid)
    if relation == "self":
        return redirect(url_for("citizen.home"), code=303)
    return render_template("citizen/home.html", **view.page(pid, relation))


@bp.route("/notices/<nid>/read", methods=["POST"])
@signed_in("citizen")
def read_notice(nid: str):
    """Mark a card read: its notice, and the card's other unread notices of the same matter (`also`)."""
    now = datetime.now(services().settings.zone)
    for one in [nid, *request.form.getlist("also")[:20]]:
        notice = services().notices.get(one)
        if notice is None or notice.recipient_id != visitor().pid:
            refuse(404, f"notice {one} is not addressed to the citizen")
        mark_read(services(), visitor().actor, one, now)
    return redirect(safe_next(request.form.get("next"), url_for("citizen.home")) + "#inbox", code=303)


def own_application(pid: str, aid: str) -> Application:
    """An application of the citizen's or of a ward's, else the attempt is recorded and 404."""
    acting_for(pid)
    try:
        app = services().applications.get(aid)
    except NotFound:
        app = None
    if app is None or app.subject_label != "Person" or app.subject_id != pid:
        refuse(404, f"application {aid} is not person {pid}'s")
    return app  # type: ignore[return-value]


@bp.route("/p/<pid>/applications/<aid>", methods=["GET", "POST"])
@signed_in("citizen")
def review(pid: str, aid: str):
    app = own_application(pid, aid)
    if app.status == "draft":
        return forms.apply_form(pid, app.service, draft=aid)
    if request.method == "POST":
        flash(_("This application has already been submitted."), "error")
        return redirect(view.page_url(pid), code=303)
    return life.page(pid, app)


@bp.route("/p/<pid>/applications/<aid>/withdraw", methods=["GET", "POST"])
@signed_in("citizen")
def withdraw(pid: str, aid: str):
    """While it is open: the reason asked, confirmed, then withdrawn (web.usecases.applications.withdraw)."""
    return life.withdraw(pid, own_application(pid, aid))


@bp.route("/p/<pid>/applications/<aid>/resubmit", methods=["POST"])
@signed_in("citizen")
def resubmit(pid: str, aid: str):
    """Returned for correction: the corrected form, resubmitted (web.usecases.applications.resubmit)."""
    return life.resubmit(pid, own_application(pid, aid))


@bp.route("/p/<pid>/apply/<code>", methods=["GET", "POST"])
@signed_in("citizen")
def apply(pid: str, code: str):
    """A new application for a service, prefilled; the scan's draft for it instead when there is one."""
    acting_for(pid)
    service = services().catalog.services.get(code)
    if service is None or service.audience != "person":
        abort(404)
    draft = next((a["aid"] for a in services().portal.applications_of("Person", pid)
                  if a["status"] == "draft" and a["service"] == code), None)
    if draft is not None and request.method == "GET":
        return redirect(view.review_url(pid, draft), code=303)
    return forms.apply_form(pid, code, draft=draft)


@bp.route("/preferences", methods=["GET", "POST"])
@signed_in("citizen")
def preferences():
    return forms.preferences()


@bp.route("/p/<pid>/access-log")
@signed_in("citizen")
def access_log(pid: str):
    relation = acting_for(pid)
    lines = visit_lines(services().access_log.for_subject(pid), services().settings.zone, yours=relation == "self")
    return render_template("citizen/access_log.html", pid=pid, relation=relation, lines=lines,
                           name=services().subjects.get_person(pid).name, back=view.page_url(pid))


@links.route("/n/<nid>")
@signed_in("citizen")
def notice_link(nid: str):
    """The reminder's link: the notice must be the visitor's; it is marked read and leads to its application."""
    notice = services().notices.get(nid)
    if notice is None or notice.recipient_id != visitor().pid:
        refuse(404, f"notice {nid} is not addressed to the citizen")
    mark_read(services(), visitor().actor, nid, datetime.now(services().settings.zone))
    if not notice.aid:
        return redirect(url_for("citizen.home") + "#inbox", code=303)
    try:
        app = services().applications.get(notice.aid)
    except NotFound:
        return redirect(url_for("citizen.home") + "#inbox", code=303)
    if app.subject_label == "Entity":
        return redirect(f"/biz/applications/{app.aid}", code=303)
    return redirect(view.review_url(app.subject_id, app.aid), code=303)
