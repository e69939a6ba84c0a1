"""一表通 at the window: the unified form for the services chosen (pre-ticked with those due for the subject now), from
the record and from the one person at the window (which parent or guardian, which legal representative); a warning
with its reason for each service not due, which is filed only when the officer confirms it; its print view; and
filing the ticked services at once, under one receipt. Reads of the record and of the person whose data fills the
form are recorded with the officer's purpose."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from profiles.due_now import NotDue, due_now, why_not_due
from profiles.errors import NotFound, Rejected
from profiles.matters import OPEN, MatterOpen
from profiles.prefill import PrefilledForm, prefill
from profiles.rules import Snapshot
from web.pages.applying import check_declared
from web.pages.guards import purpose_for, record_view, services, signed_in, today, visitor
from web.pages.officer_common import (
    AUDIENCE,
    as_label,
    bilingual,
    bp,
    label_of,
    labelled,
    masked,
    material_name,
    relation,
    service_name,
    term,
)
from web.pages.officer_paper import print_view
from web.usecases import applications as usecases
from web.usecases.subjects import SubjectRef

FIELD = "field."  # form inputs of the unified form are named field.<name>, apart from the page's own inputs
FILLED_BY = ("parent", "entity.legal_rep")  # source heads whose values come from the person at the window
WHY = {  # profiles.due_now.NotDue.why -> the reason in plain words
    "deceased": _l("the person died on %(on)s"),
    "applied": _l("an application for it was filed on %(on)s"),
    "done_material": _l("the %(material)s is already on file (issued on %(on)s)"),
    "done_event": _l("already done: %(event)s on %(on)s"),
    "valid_until": _l("the %(material)s is valid until %(on)s; it can be renewed from %(since)s"),
    "long_term": _l("the %(material)s on file is valid long-term"),
    "not_on_file": _l("there is no %(material)s on file to renew"),
    "too_young": _l("the person is %(age)s; this is for the age of %(at_age)s, from %(on)s"),
    "retirement_age": _l("the person is %(age)s; the claim is from the statutory retirement age, on %(on)s"),
    "past_age": _l("the person is %(age)s; this was due at the age of %(at_age)s, on %(on)s"),
    "retirement_past": _l("the statutory retirement age was reached on %(on)s; check that no claim was made"),
    "newborn_past": _l("the child is %(age)s; this is for newborns, due by %(on)s after the birth on %(since)s"),
    "newborn_late": _l("this was due by %(on)s, after the birth on %(since)s"),
    "event_past": _l("the %(event)s was on %(since)s; this was due by %(on)s"),
    "no_event": _l("no %(event)s is on file"),
    "window_ahead": _l("it is done from %(since)s to %(on)s"),
    "first_year": _l("the business was established on %(on)s; this is due from the following year"),
    "no_rule": _l("nothing on file makes it due"),
}


def choices(audience: str) -> list:
    """The services for this audience: bundles (一件事) first, then by name."""
    found = [s for s in services().catalog.services.values() if s.audience == audience]
    return sorted(found, key=lambda s: (not s.bundle, service_name(s.code)))


def pre_ticked(due: Mapping, offered: list) -> list[str]:
    """The services due now, a bundle in place of the due services it files together."""
    codes = [s.code for s in offered if s.code in due]
    covered = {c for s in offered if s.code in due for c in s.bundle}
    return [c for c in codes if c not in covered]


def reason_words(code: str, reason: NotDue) -> str:
    why = "newborn_late" if reason.why == "newborn_past" and not reason.age else reason.why
    words = str(WHY[why]) % {
        "on": reason.on.isoformat() if reason.on else "—", "since": reason.since.isoformat() if reason.since else "—",
        "material": material_name(reason.material or ""), "event": term("event", reason.event),
        "age": reason.age, "at_age": reason.at_age}
    if reason.service != code:  # a bundle: the reason its service gives
        return _("%(service)s: %(reason)s", service=service_name(reason.service), reason=words)
    return words


def source_text(source: str | None) -> str:
    if source is None:
        return _("asked of the applicant")
    if source.startswith("material["):
        return material_name(source.removeprefix("material[").partition("]")[0])
    head = source.rpartition(".")[0]
    return {"person": _("the record"), "parent": _("the parent's record"), "spouse": _("the spouse's record"),
            "entity": _("the business register"),
            "entity.legal_rep": _("the legal representative's record")}.get(head, head)


def field_rows(form: PrefilledForm, posted: Mapping[str, str] | None, kinds: Mapping[str, str]) -> list[dict]:
    """Each field as the page shows it: masked where it is a number, the applicant's typed value kept on a retry;
    `kinds` names the material (by id) a value was read off when its source is a record (a name off the ID card)."""
    rows = []
    for f in form.fields:
        shown = masked(f.source, f.name, f.value)
        typed = None if f.locked or posted is None else posted.get(f.name)
        source = source_text(f.source)
        if f.material_id in kinds and not (f.source or "").startswith("material["):
            source = f"{source} · {material_name(kinds[f.material_id])}"
        rows.append({"name": f.name, "label": bilingual(f.label_zh, f.label_en),
                     "value": as_label(term("sex", shown)) if (f.source or "").endswith(".sex") else shown or "",
                     "input": typed if typed is not None else (shown or ""), "provenance": f.provenance,
                     "source": source, "origin": _("from %(source)s", source=source) if f.source else source,
                     "date": f.material_date, "locked": f.locked,
                     "services": [service_name(c) for c in f.services]})
    return rows


def unmask(form: PrefilledForm, posted: dict[str, str]) -> dict[str, str]:
    """A declared value shown masked (a phone on file) and sent back unchanged means "keep the value on file"."""
    out = dict(posted)
    for f in form.fields:
        if not f.locked and f.value is not None and masked(f.source, f.name, f.value) != f.value \
                and (posted.get(f.name) or "").strip() == masked(f.source, f.name, f.value):
            out[f.name] = f.value
    return out


def record_reads(label: str, sid: str, what: str, related: Mapping[str, Snapshot], purpose: str) -> None:
    record_view(label, sid, what, purpose=purpose)
    for role, other in related.items():  # their data fills the form: their log shows it, under this purpose
        record_view("Person", other.subject_id, f"{what} (as {role} of {sid})", purpose=purpose)


def load(label: str, sid: str, applicant: str | None, errors: dict) -> tuple[Snapshot, dict[str, Snapshot]]:
    """The subject's snapshot and the person at the window's (`applicant`, else the first); an applicant who is not
    the subject's parent, guardian or legal representative is named in `errors` and the first is taken."""
    try:
        try:
            return services().snapshots.load_with_applicant(label, sid, applicant)
        except Rejected:
            errors["applicant"] = _("choose who is at the window from the list")
            return services().snapshots.load_with_applicant(label, sid, None)
    except NotFound:
        abort(404)
        raise AssertionError("unreachable") from None


def at_the_window(label: str, sid: str, snapshot: Snapshot, form: PrefilledForm) -> list[dict]:
    """Who may stand at the window for the subject, when the form has fields they fill and there is a choice."""
    people = snapshot.guardians or snapshot.legal_reps
    if len(people) < 2 or not any((f.source or "").rpartition(".")[0] in FILLED_BY for f in form.fields):
        return []
    links = {link.other_id: link for link in services().portal.links(label, sid) if not link.outgoing}
    return [{"pid": pid, "name": links[pid].name if pid in links else "—",
             "relation": relation(links[pid].type, False) if pid in links else ""} for pid in people]


def warnings(label: str, sid: str, snapshot: Snapshot, codes: tuple[str, ...], due: dict) -> dict[str, dict]:
    """For each service not due: the reason, and the open application's number when one is (it is not filed
    again, so there is nothing to confirm)."""
    catalog, on = services().catalog, today()
    reasons = {c: r for c in codes if (r := why_not_due(snapshot, catalog, c, on, due)) is not None}
    if not reasons:
        return {}
    open_ = {a["service"]: a["number"] or a["aid"] for a in services().portal.applications_of(label, sid)
             if a["status"] in OPEN}
    return {c: {"reason": reason_words(c, r), "open": open_.get(c)} for c, r in reasons.items()}


def _summary(page: dict) -> dict:
    """The error summary's lines and the id each links to: a form field by its label, a confirmation by its
    service, the choices by their first box."""
    errors, rows = page["errors"], page.get("rows") or []
    labels = {"services": _("Services to fill in together"), "service": _("File applications for"),
              "applicant": _("Who is at the window"), **{r["name"]: r["label"] for r in rows}}
    anchors = {r["name"]: f"p-{r['name']}" for r in rows}
    first = page["offered"][0].code if page["offered"] else ""
    anchors |= {"services": f"s-{first}", "applicant": f"a-{page['people'][0]['pid']}" if page["people"] else "main"}
    if page.get("form"):
        anchors["service"] = f"f-service-{page['form'].services[0]}"
    for name in errors:
        if name.startswith("confirm-"):
            code = name.removeprefix("confirm-")
            labels[name], anchors[name] = service_name(code), f"f-confirm-{code}"
    return {"summary": labelled(errors, labels), "anchors": anchors}


def _show(template: str, page: dict, status: int):
    return render_template(template, **page, **_summary(page)), status


def render(kind: str, sid: str, purpose: str, codes: list[str], *, applicant: str | None = None,
           pretick: bool = False, printing: bool = False, status: int = 200, errors: dict | None = None,
           posted: Mapping[str, str] | None = None, chosen: list[str] | None = None,
           confirmed: set[str] | None = None):
    label = label_of(kind)
    errors = dict(errors or {})
    offered = choices(AUDIENCE[label])
    page = {"kind": kind, "sid": sid, "offered": offered, "selected": codes, "errors": errors, "form": None,
            "due": {}, "pretick": False, "people": [], "applicant": None}
    if not codes and not pretick:
        return _show("officer/prefill.html", page, status)
    snapshot, related = load(label, sid, applicant, errors)
    status = 422 if "applicant" in errors else status
    due = due_now(snapshot, services().catalog, today())
    if pretick:
        codes = pre_ticked(due, offered)
    page.update(selected=codes, due=due, pretick=pretick and bool(codes))
    if not codes:  # nothing due: the chooser says so much about the record
        record_view(label, sid, "services due at the window", purpose=purpose)
        return _show("officer/prefill.html", page, status)
    try:
        form = prefill(snapshot, services().catalog, codes, today(), related)
    except Rejected as exc:
        errors["services"] = _("choose services from the list for this record") if exc.field == "services" \
            else exc.reason
        return _show("officer/prefill.html", page, 422)
    record_reads(label, sid, "prefill " + ",".join(form.services), related, purpose)
    kinds = {m.mid: m.kind for snap in (snapshot, *related.values()) for m in snap.materials}
    ticked = [c for c in form.services if c in (chosen or codes)] or [form.services[0]]  # to file: as chosen
    filler = related.get("parent") or related.get("legal_rep")
    page.update(form=form, rows=field_rows(form, posted, kinds), chosen=ticked, confirmed=confirmed or set(),
                checklist=[{"name": material_name(m.kind), "state": m.state, "expires_on": m.expires_on,
                            "services": [service_name(c) for c in m.services]} for m in form.materials],
                related={role: other.subject_id for role, other in related.items()},
                people=at_the_window(label, sid, snapshot, form), applicant=filler.subject_id if filler else None,
                warnings=warnings(label, sid, snapshot, form.services, due),
                title=(snapshot.person or snapshot.entity).name)
    page.update(_summary(page))
    if printing:  # the paper the applicant signs: their own numbers in full, recorded as a reveal (officer_paper)
        return print_view(page, label, sid, form, purpose), status
    return render_template("officer/prefill.html", **page), status


@bp.get("/<any(persons, entities):kind>/<sid>/prefill")
@signed_in("officer")
def prefill_form(kind: str, sid: str):
    """Opened without a choice, the services due now are pre-ticked and filled in; `pick=1` marks the officer's own
    choice (even of nothing)."""
    purpose = purpose_for(label_of(kind), sid)
    codes = request.args.getlist("services")
    return render(kind, sid, purpose, codes, applicant=request.args.get("applicant") or None,
                  pretick=not codes and request.args.get("pick") != "1", printing=request.args.get("print") == "1")


@bp.post("/<any(persons, entities):kind>/<sid>/apply")
@signed_in("officer")
def apply(kind: str, sid: str):
    """File an application for each service ticked on the unified form, each through the use case (one matter
    each), then show the one receipt of them all; the window collects the declared values, and the person at the
    window fills the applicant fields. A ticked service that is not due is filed only when its confirmation is
    ticked too; nothing is filed while one is missing. A service whose matter already has an open application is
    reported next to the receipt while the others are filed."""
    label = label_of(kind)
    purpose = purpose_for(label, sid)
    codes = list(dict.fromkeys(c for c in request.form.getlist("service") if c))
    selected = [c for c in request.form.getlist("selected") if c] or codes
    posted = {k.removeprefix(FIELD): v for k, v in request.form.items() if k.startswith(FIELD)}
    applicant, confirmed = request.form.get("applicant") or None, set(request.form.getlist("confirm"))
    again = {"applicant": applicant, "status": 422, "posted": posted, "chosen": codes, "confirmed": confirmed}
    catalog = services().catalog
    if not codes or any(c not in catalog.services or catalog.services[c].audience != AUDIENCE[label] for c in codes):
        return render(kind, sid, purpose, selected, errors={"service": _("choose a service from the list")}, **again)
    errors: dict[str, str] = {}
    snapshot, related = load(label, sid, applicant, errors)
    due = due_now(snapshot, catalog, today())
    for code, warning in warnings(label, sid, snapshot, tuple(codes), due).items():
        if not warning["open"] and code not in confirmed:
            errors[f"confirm-{code}"] = _("not due: tick the confirmation to file it all the same")
    # The values as the one form showed them (a field several services ask is asked once, from its first source:
    # the parent's name for every guardian_name of a newborn's services), each service taking the fields it asks.
    shown = prefill(snapshot, catalog, list(dict.fromkeys(c for c in (*selected, *codes) if c in catalog.services
                                                          and catalog.services[c].audience == AUDIENCE[label])),
                    today(), related)
    every, field_errors = check_declared(shown, unmask(shown, posted))
    values, forms = {}, {}
    for code in codes:
        forms[code] = prefill(snapshot, catalog, [code], today(), related)
        values[code] = {f.name: every[f.name] for f in forms[code].fields}
        errors.update({f.name: field_errors[f.name] for f in forms[code].fields if f.name in field_errors})
    if errors:  # nothing is filed while any ticked service's form is incomplete or unconfirmed
        return render(kind, sid, purpose, selected, errors=errors, **again)
    filed, notes = [], []
    for code in codes:
        reuse = [m.mid for m in forms[code].materials if m.state == "reusable" and m.mid]
        try:
            filed.append(usecases.file_application(services(), visitor().actor, SubjectRef.of(label, sid), code,
                                                   values[code], reuse, today()))
        except MatterOpen as exc:  # one open application per matter, whoever filed it: the officer is shown which
            notes.append(_("Not filed: an application for %(service)s is already open (%(number)s).",
                           service=service_name(code), number=services().applications.get(exc.aid).number or exc.aid))
        except Rejected as exc:
            if exc.field != "reuse":
                raise
            if not filed:  # a reused material was superseded between the form and the filing: the form, as it is now
                return render(kind, sid, purpose, selected, **again,
                              errors={"service": _("the materials on file changed meanwhile; check the form again")})
            notes.append(_("Not filed: %(service)s; the materials on file changed meanwhile, check the form again.",
                           service=service_name(code)))
    for note in notes:
        flash(note, "error")
    if not filed:
        return redirect(url_for(".profile", kind=kind, sid=sid) + "#h-applications", code=303)
    record_reads(label, sid, f"filed application {','.join(a.service for a in filed)} at the window", related,
                 purpose)
    return redirect(url_for(".receipt", aid=filed[0].aid, also=[a.aid for a in filed[1:]]), code=303)
