"""The officers' desk: the application queue by decision date with yellow and red cards, who may decide what, and
the departments' card inbox; and the supervisors' dashboard (notices per day, due items per service, materials
reused) as SVG charts, under a warning when this or next year's holiday arrangement is not on file."""

from __future__ import annotations

import time as clock
from collections.abc import Iterable
from datetime import datetime, time, timedelta

from flask import render_template
from flask_babel import gettext as _

from graph.console import Subject
from notifier import due_counts
from profiles.applications import card
from profiles.errors import NotFound
from profiles.notices import CHANNELS, STATUSES
from profiles.workdays import years_without_arrangement
from web.pages.guards import record_view, services, signed_in, today, visitor
from web.pages.officer_charts import bars, colour, stacked_columns
from web.pages.officer_common import bp, days_left, material_name, service_name, term

DAYS = 30


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


def _names(subjects: Iterable[Subject | None]) -> dict[str, str]:
    """Persons' names for the lists, only for the records the officer stated a purpose for (through the
    "open with a purpose" door), each shown name a recorded read under that purpose. The others are shown as
    before, by the masked ID number alone, which reads no record (no purpose is asked for a list)."""
    names: dict[str, str] = {}
    for s in subjects:
        if s is None or s.label != "Person" or s.sid in names or not (purpose := stated("Person", s.sid)):
            continue
        try:
            person = services().subjects.get_person(s.sid)
        except NotFound:
            continue
        record_view("Person", s.sid, "listed in the application queue", purpose=purpose)
        names[s.sid] = person.name
    return names


@bp.get("/queue")
@signed_in("officer")
def queue():
    codes, departments, everything = _scope()
    on = today()
    console = services().console
    rows = [{"row": r, "card": card(r.submitted_on, r.time_limit_days, on), "days_left": days_left(r.decide_by),
             "decides": may_decide(r.service), "opened": stated(r.subject.label, r.subject.sid) is not None}
            for r in console.queue(codes)]
    cards = console.cards(departments)
    names = _names([item["row"].subject for item in rows] + [c.subject for c in cards])
    return render_template("officer/queue.html", rows=rows, cards=cards, names=names,
                           everything=everything, department=visitor().data.get("department"),
                           role=visitor().role)


def _per_day(rows, days, column: int, names: tuple[str, ...]) -> list[tuple[str, list[int]]]:
    """Series by channel (column 1) or status (column 2), one value per day; series with no notice left out."""
    index = {d: i for i, d in enumerate(days)}
    series = {name: [0] * len(days) for name in names}
    for row in rows:
        if row[0] in index and row[column] in series:
            series[row[column]][index[row[0]]] += row[3]
    return [(name, values) for name, values in series.items() if any(values)]


@bp.get("/dashboard")
@signed_in("officer", roles=("supervisor", "admin"))
def dashboard():
    on = today()
    s = services()
    days = [on - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    since = datetime.combine(days[0], time(0), tzinfo=s.settings.zone)
    rows = s.console.notices_per_day(since, s.settings.tz)
    labels = [d.strftime("%m-%d") for d in days]
    charts = []
    for chart_id, column, names, group, title in (
            ("by-channel", 1, CHANNELS, "channel", _("Notices per day by channel, last %(n)d days", n=DAYS)),
            ("by-status", 2, STATUSES, "notice", _("Notices per day by outcome, last %(n)d days", n=DAYS))):
        series = [(term(group, name), values) for name, values in _per_day(rows, days, column, names)]
        total = sum(sum(v) for _n, v in series)
        svg = stacked_columns(chart_id, title, _("%(total)d notices from %(first)s to %(last)s, one column a day.",
                                                 total=total, first=days[0].isoformat(), last=on.isoformat()),
                              labels, series)
        charts.append({"id": chart_id, "title": title, "svg": svg, "days": days, "total": total,
                       "legend": [(name, colour(n)) for n, (name, _v) in enumerate(series)], "series": series})
    counted = due_counts.counted(s, on)  # counted by a job once a day: a walk over the whole district
    if counted is None:
        due_counts.ask(s, on)
    due = sorted((counted or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    due_rows = [(service_name(code), n) for code, n in due]
    due_title = _("Due items per service, next %(n)d days", n=due_counts.DUE_HORIZON)
    due_svg = bars("due", due_title, _("%(total)d due items in %(services)d services.",
                                       total=sum(n for _c, n in due), services=len(due)), due_rows)
    reuse = [(material_name(kind), reuses, materials) for kind, reuses, materials in s.console.reuse_by_kind()]
    reuse_title = _("Materials reused instead of handed in again, by kind")
    reuse_svg = bars("reuse", reuse_title, _("%(total)d documents nobody had to hand in again.",
                                             total=sum(r for _k, r, _m in reuse)),
                     [(name, r) for name, r, _m in reuse])
    return render_template("officer/dashboard.html", charts=charts, due_rows=due_rows, due_title=due_title,
                           due_svg=due_svg, due_counted=counted is not None, reuse=reuse, reuse_title=reuse_title,
                           reuse_svg=reuse_svg, on=on, calendar_missing=years_without_arrangement(on))
