"""The officers' desk: the application queue by decision date with yellow and red cards, who may decide what, and
the departments' card inbox; and the supervisors' dashboard (notices per day, failed deliveries with the provider's
reason, due items per service, materials reused) as SVG charts over a chosen window of days, each count a link to
the list behind it (web/pages/officer_lists.py), under a warning when a holiday arrangement is not on file."""

from __future__ import annotations

import time as clock
from collections.abc import Iterable
from datetime import datetime, time

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from graph.console import Subject
from notifier import due_counts
from profiles.applications import card
from profiles.errors import NotFound
from profiles.notices import CHANNELS, STATUSES
from profiles.workdays import years_without_arrangement
from web.pages import officer_lists  # noqa: F401  (the lists behind the dashboard's counts join bp)
from web.pages.applying import form_text
from web.pages.guards import record_view, services, signed_in, state_purpose, stated_purpose, today, visitor
from web.pages.officer_charts import WINDOWS, bars, chosen_window, stacked_columns, window_days
from web.pages.officer_common import bp, days_left, material_name, service_name
from web.pages.officer_desk_words import (
    FAILED,
    LIST_PURPOSES,
    card_label,
    channel_label,
    notice_status,
    reason,
    status_label,
    time_left,
    working_days,
)

# A notice's outcome keeps its colour (officer_charts.PALETTE index) whatever else is charted: failures red.
SHADES = {"sent": 0, "delivered": 1, "undelivered": 2, "failed": 3, "cancelled": 4, "sending": 5, "pending": 6,
          "skipped": 7}
QUEUE = "queue"  # the key of the purpose stated for the queue's names (guards.state_purpose("List", QUEUE, …))


def _scope() -> tuple[list[str] | None, list[str] | None, bool]:
    """(service codes, department names, everything?) the signed-in officer's desk shows. Supervisors and admins
    see every department; an officer the services of their own department, or every one when their department
    (a one-stop centre) handles none of the catalog's services itself."""
    v = visitor()
    catalog = services().catalog
    mine = sorted(code for code, s in catalog.services.items() if s.department.zh == v.data.get("department"))
    if v.role in ("supervisor", "admin") or not mine:
        return None, None, True
    return mine, sorted({catalog.services[c].department.zh for c in mine}), False


def may_decide(code: str) -> bool:
    """An application is decided by an officer of its service's department; supervisors and admins, whose desk
    shows every department's, decide any. A one-stop centre's officer sees every queue but decides none."""
    v = visitor()
    if v.role in ("supervisor", "admin"):
        return True
    service = services().catalog.services.get(code)
    return service is not None and service.department.zh == v.data.get("department")


def stated(label: str, sid: str) -> str | None:
    """The purpose this officer stated for the record and still in force, or None (nothing is refused or recorded:
    guards.purpose_for is the check for a page of the record)."""
    found = visitor().data.get("purposes", {}).get(f"{label}:{sid}")
    return found["purpose"] if found and found["until"] >= clock.time() else None


def _names(subjects: Iterable[Subject | None], for_list: str | None) -> dict[str, str]:
    """Persons' names for the queue, only under a stated purpose: the record's own (through "open with a purpose")
    or the one stated for the queue's names (`for_list`); each shown name is a recorded read under it. Without
    either a person is shown by the masked ID number alone, which reads no record."""
    names: dict[str, str] = {}
    for s in subjects:
        if s is None or s.label != "Person" or s.sid in names or not (purpose := stated("Person", s.sid) or for_list):
            continue
        try:
            person = services().subjects.get_person(s.sid)
        except NotFound:
            continue
        record_view("Person", s.sid, "listed in the application queue", purpose=purpose)
        names[s.sid] = person.name
    return names


@bp.route("/queue", methods=["GET", "POST"])
@signed_in("officer")
def queue():
    """The queue; a POST states the purpose for showing the applicants' names (kept, as a record's, for a while)."""
    errors, typed = {}, ""
    if request.method == "POST":
        typed, error = form_text(request.form.get("purpose"))
        if error is None:
            state_purpose("List", QUEUE, typed)
            return redirect(url_for(".queue"), code=303)
        errors = {"purpose": error}
    codes, departments, everything = _scope()
    on = today()
    console = services().console
    rows = []
    for r in console.queue(codes):
        shown_card = card(r.submitted_on, r.time_limit_days, on)
        rows.append({"row": r, "card": shown_card, "card_label": card_label(shown_card),
                     "time_left": time_left(days_left(r.decide_by)), "limit": working_days(r.time_limit_days),
                     "decides": may_decide(r.service), "opened": stated(r.subject.label, r.subject.sid) is not None})
    cards = console.cards(departments)
    for_list = stated_purpose("List", QUEUE)
    names = _names([item["row"].subject for item in rows] + [c.subject for c in cards], for_list)
    return render_template("officer/queue.html", rows=rows, cards=cards, names=names, names_purpose=for_list,
                           purposes=LIST_PURPOSES, typed=typed, errors=errors, submitted=status_label("submitted"),
                           everything=everything, department=visitor().data.get("department"),
                           role=visitor().role), 422 if errors else 200


def _per_day(rows, days, column: int, names: tuple[str, ...]) -> list[tuple[str, list[int]]]:
    """Series by channel (column 1) or status (column 2), one value per day; series with no notice left out."""
    index = {d: i for i, d in enumerate(days)}
    series = {name: [0] * len(days) for name in names}
    for row in rows:
        if row[0] in index and row[column] in series:
            series[row[column]][index[row[0]]] += row[3]
    return [(name, values) for name, values in series.items() if any(values)]


def _failures(s, since) -> list[dict]:
    """Failed and undelivered notices per day, channel and provider's reason, newest day first."""
    return [{"day": day, "channel": channel, "channel_label": channel_label(channel), "code": code or "",
             "reason": reason(code), "n": n}
            for day, channel, code, n in sorted(s.console.failures_per_day(since, s.settings.tz),
                                                key=lambda r: (-r[0].toordinal(), r[1], r[2] or ""))]


@bp.get("/dashboard")
@signed_in("officer", roles=("supervisor", "admin"))
def dashboard():
    on = today()
    s = services()
    window = chosen_window(request.args.get("days"))
    days = window_days(on, window)
    since = datetime.combine(days[0], time(0), tzinfo=s.settings.zone)
    rows = s.console.notices_per_day(since, s.settings.tz)
    labels = [d.strftime("%m-%d") for d in days]
    charts = []
    for chart_id, column, names, words, key, title in (
            ("by-channel", 1, CHANNELS, channel_label, "channel",
             _("Notices per day by channel, last %(n)d days", n=window)),
            ("by-status", 2, STATUSES, notice_status, "status",
             _("Notices per day by outcome, last %(n)d days", n=window))):
        series = [(words(name), name, values) for name, values in _per_day(rows, days, column, names)]
        shades = [SHADES.get(name, n) for n, (_w, name, _v) in enumerate(series)]
        total = sum(sum(v) for _w, _n, v in series)
        svg = stacked_columns(chart_id, title, _("Notices from %(first)s to %(last)s, one column a day: %(total)d.",
                                                 total=total, first=days[0].isoformat(), last=on.isoformat()),
                              labels, [(word, values) for word, _n, values in series], shades)
        charts.append({"id": chart_id, "title": title, "svg": svg, "days": list(enumerate(days)),
                       "total": total, "key": key, "series": series,
                       "legend": [(word, shade) for shade, (word, _n, _v) in zip(shades, series, strict=True)]})
    failures = _failures(s, since)
    counted = due_counts.counted(s, on)  # counted by a job once a day: a walk over the whole district
    if counted is None:
        due_counts.ask(s, on)
    due = sorted((counted or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    due_rows = [(service_name(code), n) for code, n in due]
    due_title = _("Due items per service, next %(n)d days", n=due_counts.DUE_HORIZON)
    due_svg = bars("due", due_title, _("%(total)d due items in %(services)d services.",
                                       total=sum(n for _c, n in due), services=len(due)), due_rows)
    reuse = [(kind, material_name(kind), reuses, materials) for kind, reuses, materials in s.console.reuse_by_kind()]
    reuse_title = _("Materials reused instead of handed in again, by kind")
    reuse_svg = bars("reuse", reuse_title, _("Documents nobody had to hand in again: %(total)d.",
                                             total=sum(r for _k, _n, r, _m in reuse)),
                     [(name, r) for _k, name, r, _m in reuse])
    return render_template("officer/dashboard.html", charts=charts, failures=failures, window=window,
                           windows=WINDOWS, first=days[0], due_rows=due_rows, due_title=due_title, due_svg=due_svg,
                           due_counted=counted is not None, reuse=reuse, reuse_title=reuse_title,
                           reuse_svg=reuse_svg, reuses=sum(r for _k, _n, r, _m in reuse), on=on,
                           failed_statuses=FAILED, calendar_missing=years_without_arrangement(on))

