"""The lists behind the supervisors' dashboard counts (the notices of a day, by channel, outcome or failure reason;
the applications that reused a kind of material): people's data, so each opens only under a purpose the
supervisor states (it covers the dashboard's lists for guards.PURPOSE_TTL_S) and every listed record is a recorded
read under it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, redirect, render_template, request
from flask_babel import gettext as _

from profiles.notices import CHANNELS, STATUSES
from web.pages.applying import form_text
from web.pages.guards import record_view, services, signed_in, state_purpose, stated_purpose, today
from web.pages.officer_common import PLURAL, bp, material_name, service_name
from web.pages.officer_desk_words import (
    FAILED,
    LIST_PURPOSES,
    channel_label,
    notice_status,
    reason,
    status_label,
)

LIST = "dashboard"  # one purpose for every list of the dashboard: guards.state_purpose("List", LIST, …)
OLDEST_DAYS = 366  # a list reaches back no further than the dashboard's windows, with room to spare


def _purpose_or_form(what: str):
    """(the stated purpose, None), or (None, the page asking for one): a POST states it and comes back here."""
    if request.method == "POST":
        typed, error = form_text(request.form.get("purpose"))
        if error is None:
            state_purpose("List", LIST, typed)
            return None, redirect(request.full_path.rstrip("?"), code=303)
        return None, (render_template("officer/list_purpose.html", what=what, typed=typed, errors={"purpose": error},
                                      purposes=LIST_PURPOSES), 422)
    purpose = stated_purpose("List", LIST)
    if purpose is None:
        return None, render_template("officer/list_purpose.html", what=what, typed="", errors={},
                                     purposes=LIST_PURPOSES)
    return purpose, None


def _record(subjects, what: str, purpose: str) -> None:
    """Each person and business on the list (once), a read under the stated purpose; departments are not people."""
    for label, sid in dict.fromkeys((s.label, s.sid) for s in subjects if s.label in PLURAL and s.sid):
        record_view(label, sid, what, purpose=purpose)


def _day(raw: str | None) -> date:
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        abort(404)
    if not timedelta(0) <= today() - day <= timedelta(days=OLDEST_DAYS):
        abort(404)
    return day


@bp.route("/dashboard/notices", methods=["GET", "POST"])
@signed_in("officer", roles=("supervisor", "admin"))
def notice_list():
    """The notices behind a count: ?day=…[&channel=…][&status=…], or &failed=1&code=… for a failure reason."""
    day = _day(request.args.get("day"))
    channel = request.args.get("channel") or None
    status = request.args.get("status") or None
    failed = request.args.get("failed") == "1"
    if (channel and channel not in CHANNELS) or (status and status not in STATUSES):
        abort(404)
    code = (request.args.get("code") or None) if failed else None
    parts = [day.isoformat()] + [channel_label(channel)] * bool(channel) + [notice_status(status)] * bool(status)
    if failed:
        parts += [_("failed or not delivered"), reason(code)]
    what = _("Notices: %(what)s", what=" · ".join(parts))
    purpose, page = _purpose_or_form(what)
    if page is not None:
        return page
    s = services()
    since = datetime.combine(day, time(0), tzinfo=s.settings.zone)
    items = s.console.notices_on(day, since, since + timedelta(days=1), s.settings.tz, channel=channel,
                                 statuses=list(FAILED) if failed else ([status] if status else None),
                                 code=code, by_code=failed)
    _record([i.recipient for i in items], f"listed on the dashboard: notices of {day.isoformat()}", purpose)
    return render_template("officer/notice_list.html", what=what, purpose=purpose, items=items,
                           channel_label=channel_label, notice_status=notice_status, reason=reason,
                           failed_statuses=FAILED, zone=s.settings.zone)


@bp.route("/dashboard/reuse", methods=["GET", "POST"])
@signed_in("officer", roles=("supervisor", "admin"))
def reuse_list():
    """The applications behind a reuse count: ?kind=<material kind>."""
    kind = request.args.get("kind") or ""
    if not kind:
        abort(404)
    what = _("Applications that reused: %(material)s", material=material_name(kind))
    purpose, page = _purpose_or_form(what)
    if page is not None:
        return page
    items = services().console.reuses_of(kind)
    _record([i.subject for i in items], f"listed on the dashboard: applications reusing {kind}", purpose)
    return render_template("officer/reuse_list.html", what=what, purpose=purpose, items=items,
                           status_label=status_label, service_name=service_name)
