"""What the citizen's page shows of one person (themselves or a ward): coming up, inbox, materials, life events,
family and applications, gathered from the repositories and the pure rules. Reads only; nothing is recorded."""

from __future__ import annotations

from datetime import datetime

from flask import url_for

from notifier.delivery import inbox_text
from profiles.errors import NotFound, Rejected
from profiles.notices import DECISION_KINDS
from profiles.prefill import prefill
from profiles.privacy import mask_text
from profiles.rules import due_items
from web.pages import citizen_words as words
from web.pages.access_words import what_said
from web.pages.application_life import numbered
from web.pages.applying import snapshots_for
from web.pages.guards import services, today, visitor
from web.pages.i18n import is_chinese

WITHIN_DAYS = 365


def page_url(pid: str) -> str:
    return url_for("citizen.home") if pid == visitor().pid else url_for("citizen.person", pid=pid)


def review_url(pid: str, aid: str) -> str:
    return url_for("citizen.review", pid=pid, aid=aid)


def page(pid: str, relation: str) -> dict:
    """Everything the page shows of this person, as plain values for the template."""
    s = services()
    as_of = today()
    snapshot, related = snapshots_for("Person", pid)
    applications = s.portal.applications_of("Person", pid)
    wards = services().portal.wards(visitor().pid, as_of)
    return {
        "pid": pid, "relation": relation, "person": snapshot.person, "today": as_of,
        "coming_up": sorted(coming_up(snapshot, related, applications, as_of)
                            + (wards_coming_up(wards, as_of) if relation == "self" else []),
                            key=lambda i: i["due_on"]),
        "inbox": inbox(pid, relation, wards),
        "materials": materials(snapshot, as_of),
        "events": [{"kind": words.event_kind(e.kind), "on": e.occurred_on}
                   for e in sorted(snapshot.events, key=lambda e: (e.occurred_on, e.evid), reverse=True)],
        "family": family(pid, wards),
        "applications": [application_row(pid, a) for a in numbered(applications)],
        "wards": [{"pid": w, "name": _name(w), "url": url_for("citizen.person", pid=w)} for w in wards],
    }


def coming_up(snapshot, related, applications: list[dict], as_of) -> list[dict]:
    """Due items within a year, soonest first, with why, what to bring and where to apply."""
    catalog = services().catalog
    pid = snapshot.subject_id
    drafts = [a for a in applications if a["status"] == "draft"]
    out = []
    named = None if pid == visitor().pid else _name(pid)
    for item in due_items(snapshot, catalog, as_of, within=WITHIN_DAYS):
        draft = next((a for a in drafts if a["service"] == item.service and a.get("due_on") == item.due_on), None) \
            or next((a for a in drafts if a["service"] == item.service), None)
        try:
            checklist = prefill(snapshot, catalog, [item.service], as_of, related).materials
        except Rejected:  # a service the catalog no longer offers to persons: nothing to prefill
            checklist = ()
        offer = catalog.services[item.service].nature == "offer"  # a benefit to claim: no due date, no countdown
        out.append({
            "service": item.service, "name": words.service_name(item.service), "due_on": item.due_on,
            "nature": "offer" if offer else "deadline",
            "days_left": None if offer else words.days_left(item.due_on, as_of),
            "reason": words.offer_reason(item, as_of) if offer else words.due_reason(item, snapshot),
            "for": named, "subject": pid,
            **split_checklist(checklist),
            "url": review_url(pid, draft["aid"]) if draft else url_for("citizen.apply", pid=pid, code=item.service),
            "draft": draft is not None,
        })
    return out


def wards_coming_up(wards: list[str], as_of) -> list[dict]:
    """What is due for each ward, each item naming the ward and leading to the ward's application: a parent sees
    the children's deadlines on their own page, soonest first with their own."""
    out = []
    for ward in wards:
        snapshot, related = snapshots_for("Person", ward)
        out += coming_up(snapshot, related, services().portal.applications_of("Person", ward), as_of)
    return out


def split_checklist(checklist) -> dict:
    """What to bring (missing, or expiring before the decision) apart from what is on file: never an item in the
    bring list saying it need not be brought."""
    def row(m):
        return {"name": m.name_zh if is_chinese() else m.name_en, "state": m.state,
                "said": words.checklist_state(m.state), "expires_on": m.expires_on}
    on_file = [row(m) for m in checklist if m.state == "reusable"]
    return {"bring": [row(m) for m in checklist if m.state != "reusable"], "on_file": on_file,
            "on_file_said": words.listing([m["name"] for m in on_file])}


def inbox(pid: str, relation: str, wards: list[str]) -> list[dict]:
    """The visitor's notices (about themselves and their wards; on a ward's page, those about the ward) as one card
    per matter, newest first: the matter's state now (due with a prefilled form, filed, returned, decided, or
    handled by another application), what the latest notice says, and each delivery (inbox, SMS, e-mail) as a
    detail of the card, not a card of its own."""
    me = visitor().pid
    notices = services().notices.for_recipient("Person", me)
    if relation == "ward":
        notices = [n for n in notices if n.subject_id == pid]
    zone = services().settings.zone
    statuses = {a["aid"]: a["status"] for sid in {n.subject_id for n in notices}
                for a in services().portal.applications_of("Person", sid)}
    cards: dict[tuple, list] = {}
    for n in sorted(notices, key=lambda n: -(n.created_at or datetime.min).timestamp()):
        cards.setdefault((n.aid,) if n.aid else (n.subject_id, n.service, n.due_on), []).append(n)
    rows = []
    for group in cards.values():
        latest = next((n for n in group if n.channel == "inbox"), group[0])
        status = statuses.get(latest.aid) if latest.aid else None
        decision = latest.kind in DECISION_KINDS.values()  # a decision's words (its note) are rendered, not stored
        rows.append({
            "nid": latest.nid, "unread_nids": [n.nid for n in group if n.read_at is None and n.channel == "inbox"],
            "offer": _offered(latest), "service": words.service_name(latest.service),
            "kind": words.notice_kind("offer" if _offered(latest) else latest.kind),
            "due_on": latest.due_on, "decision": decision, "status": status,
            "status_said": words.application_status(status) if status else None,
            "tone": words.status_tone(status) if status else "none",
            "about": None if latest.subject_id == me else (_name(latest.subject_id)
                                                           if latest.subject_id in wards else None),
            "url": notice_url(latest, wards) if status != "settled" else None,
            "text": inbox_text(services(), latest, "zh-CN" if is_chinese() else "en").text
            if decision and latest.channel == "inbox" else None,
            "deliveries": [{"channel": words.channel(n.channel), "kind": words.notice_kind(n.kind),
                            "at": n.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if n.created_at else ""}
                           for n in group],
        })
    return rows


def _offered(notice) -> bool:
    """A reminder of an offer (a benefit one may claim): the card names no due date."""
    service = services().catalog.services.get(notice.service)
    return notice.kind == "reminder" and service is not None and service.nature == "offer"


def notice_url(notice, wards: list[str]) -> str | None:
    """The prefilled application a notice leads to: a person's on this page, a business's on the enterprise page."""
    if not notice.aid:
        return None
    if notice.subject_id == visitor().pid or notice.subject_id in wards:
        return review_url(notice.subject_id, notice.aid)
    service = services().catalog.services.get(notice.service)
    if service is not None and service.audience == "entity":
        return f"/biz/applications/{notice.aid}"
    return None


def materials(snapshot, as_of) -> dict:
    """Current materials (valid, expiring, expired) and the superseded ones apart, numbers masked."""
    rows = []
    for m in sorted(snapshot.materials, key=lambda m: (m.kind, -m.version)):
        status = m.status(as_of)
        rows.append({"mid": m.mid, "name": words.material_name(m.kind), "number": mask_text(m.number, 2, 2),
                     "issuer": m.issuer, "issued_on": m.issued_on, "expires_on": m.expires_on, "status": status,
                     "status_said": words.material_status(status), "provenance": m.provenance,
                     "provenance_said": words.provenance(m.provenance), "version": m.version})
    return {"current": [r for r in rows if r["status"] != "superseded"],
            "superseded": [r for r in rows if r["status"] == "superseded"]}


def family(pid: str, wards: list[str]) -> list[dict]:
    """Parents, children, spouse and businesses, each once with every role they have (a mother who is also the
    guardian is one line); a ward of the visitor links to their page."""
    me = visitor().pid
    rows: dict[str, dict] = {}
    order = {"PARENT_OF": 0, "SPOUSE_OF": 1, "GUARDIAN_OF": 2}  # the kinship first, then the legal role
    for link in sorted(services().portal.links("Person", pid), key=lambda k: order.get(k.type, 3)):
        said = words.relation(link.type, link.outgoing)
        known = rows.get(link.other_id)
        if known is not None:
            if said not in known["roles"]:
                known["roles"].append(said)
            continue
        name = link.name if link.other_label == "Entity" else _name(link.other_id)
        url = None
        if link.other_label == "Person" and link.other_id in wards:
            url = url_for("citizen.person", pid=link.other_id)
        elif link.other_label == "Person" and link.other_id == me:
            url = url_for("citizen.home")
        rows[link.other_id] = {"roles": [said], "name": name, "url": url, "born": link.birth_date,
                               "ward": link.other_id in wards}
    return [{**r, "relation": words.roles(r["roles"])} for r in rows.values()]


def application_row(pid: str, a: dict) -> dict:
    return {"aid": a["aid"], "number": a.get("number"), "service": words.service_name(a["service"]),
            "status": a["status"], "status_said": words.application_status(a["status"]),
            "tone": words.status_tone(a["status"]), "created_on": a.get("created_on"),
            "submitted_on": a.get("submitted_on"),
            # the dates that still hold: a return for correction decides nothing, and restarts the time limit
            "decide_by": a.get("decide_by") if a["status"] == "submitted" else None,
            "decided_on": a.get("decided_on") if a["status"] in ("approved", "rejected") else None,
            "url": review_url(pid, a["aid"])}


def access_log(pid: str) -> list[dict]:
    zone = services().settings.zone
    return [{"at": r.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), "actor": r.actor,
             "role": words.role(r.role), "purpose": r.purpose, "what": what_said(r.what)}
            for r in services().access_log.for_subject(pid)]


def _name(pid: str) -> str:
    try:
        return services().subjects.get_person(pid).name
    except NotFound:
        return "—"
