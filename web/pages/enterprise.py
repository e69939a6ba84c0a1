"""The enterprise page (企业专属网页): a business's register entry, licences, annual report, what is coming up,
its reminders, the people linked to it and who looked at its data. A business sees only itself: every id in a path
is checked against the signed-in business, and a miss is recorded and answered 404."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from profiles.models import ENTITY_KINDS
from profiles.rules import due_items
from web.pages.access_words import visit_lines
from web.pages.application_life import numbered
from web.pages.enterprise_common import bp, business_id, own_notice
from web.pages.enterprise_view import (
    ANNUAL_REPORT,
    WITHIN_DAYS,
    annual_report,
    coming_up,
    mask_number,
    yearly_trigger,
)
from web.pages.enterprise_words import yearly_window
from web.pages.guards import services, signed_in, today, visitor
from web.usecases.notices import mark_read

LINK_ORDER = ("LEGAL_REP_OF", "SHAREHOLDER_OF", "EMPLOYED_BY")


@bp.route("")
@signed_in("business")
def home():
    eid = business_id()
    s, on = services(), today()
    snapshot = s.snapshots.load("Entity", eid)
    entity = snapshot.entity
    items = due_items(snapshot, s.catalog, on, WITHIN_DAYS)
    materials = s.holdings.materials("Entity", eid)
    applications = s.portal.applications_of("Entity", eid)
    links = sorted((link for link in s.portal.links("Entity", eid) if link.type in LINK_ORDER),
                   key=lambda link: (LINK_ORDER.index(link.type), link.name or ""))
    store = s.enterprise_reads
    notices = store.notices_about(eid)
    names = store.person_names([link.other_id for link in links if link.other_label == "Person"] +
                                 [n.recipient_id for n in notices if n.recipient_id != eid])
    return render_template(
        "enterprise/home.html", entity=entity, kind_names=ENTITY_KINDS, today=on,
        report=annual_report(snapshot, s.catalog, items, on),
        coming=coming_up(items, s.catalog, materials, applications, on),
        licences=[m for m in materials if not m.superseded], superseded=[m for m in materials if m.superseded],
        applications=numbered([a for a in applications if a["status"] != "draft"]), notices=notices, names=names,
        links=links, catalog=s.catalog, mask_number=mask_number, report_window=report_window(s.catalog))


def report_window(catalog) -> str | None:
    """The annual report's window as every year has it ("every year from 1 January to 30 June"), from the catalog."""
    service = catalog.services.get(ANNUAL_REPORT)
    return yearly_window(yearly_trigger(service)) if service is not None else None


@bp.route("/notices/<nid>/read", methods=["POST"])
@signed_in("business")
def notice_read(nid: str):
    own_notice(business_id(), nid)
    mark_read(services(), visitor().actor, nid, datetime.now(services().settings.zone))
    flash(_("Marked as read."), "success")
    return redirect(url_for("enterprise.home", _anchor="notices"), code=303)


@bp.route("/notices/<nid>")
@signed_in("business")
def notice_open(nid: str):
    """Where a reminder's link lands for a business: read now, on to the prefilled application it is about."""
    notice = own_notice(business_id(), nid)
    mark_read(services(), visitor().actor, nid, datetime.now(services().settings.zone))
    if notice.aid:
        return redirect(url_for("enterprise.application", aid=notice.aid), code=303)
    return redirect(url_for("enterprise.home", _anchor="notices"), code=303)


@bp.route("/access-log")
@signed_in("business")
def access_log():
    lines = visit_lines(services().access_log.for_subject(business_id()), services().settings.zone)
    return render_template("enterprise/access_log.html", lines=lines)


from web.pages import enterprise_apply, enterprise_life  # noqa: E402,F401  (their routes join this blueprint)
