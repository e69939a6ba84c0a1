"""The paper the applicant signs (the 一表通 print view and the receipt): its header (centre, window, officer,
application number, date), the applicant's own numbers in full — each printing recorded as a reveal in the access
log the person reads — and a QR code (segno, inlined SVG) leading to the application's page for the applicant."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from flask import render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from profiles.models import Person
from web.pages.guards import record_view, services, today, visitor
from web.pages.officer_common import load, masked

# What the access log keeps (fixed English, hash-chained); web/pages/access_words.py says it in the reader's words.
PRINTED = "printed the {paper} with the full {numbers}"
PAPERS = {"form": "application form", "receipt": "receipt"}


@dataclass(frozen=True)
class FullNumbers:
    """The applicant's own numbers as the paper shows them: in full (the applicant signs under them)."""

    id_number: str | None
    phone: str | None


def qr_svg(url: str, alt: str) -> Markup:
    """The QR code of `url` as inline SVG: no style attribute or element (the CSP allows no inline style; segno
    writes presentation attributes only), a viewBox without a fixed size (site.css sizes it), and `alt` as its text
    alternative (role=img with a label, and a <title>)."""
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr-code", lineclass=None, title=alt)
    if "style" in svg:  # a segno upgrade that styled its output would break the CSP silently: fail loudly instead
        raise ValueError("segno's SVG carries a style; the Content-Security-Policy would drop it")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(alt)}" ', 1))


def status_url(label: str, sid: str, aid: str | None) -> str:
    """The applicant's own page of the application (after signing in), or of their applications when none is filed
    yet; from PUBLIC_URL, as the reminders' links are."""
    base = services().settings.public_url.rstrip("/")
    if label == "Person":
        path = url_for("citizen.review", pid=sid, aid=aid) if aid else url_for("citizen.person", pid=sid)
    else:
        path = url_for("enterprise.application", aid=aid) if aid else url_for("enterprise.home")
    return base + path


def full_numbers(label: str, sid: str) -> FullNumbers:
    if label != "Person":  # a business's credit code is public and already shown in full
        return FullNumbers(None, None)
    person = load("Person", sid)
    assert isinstance(person, Person)
    return FullNumbers(person.id_number, person.phone)


def record_printing(label: str, sid: str, paper: str, numbers: FullNumbers, purpose: str) -> None:
    """Each printing with a full number is a reveal: written to the person's access log before the page answers."""
    shown = [name for name, value in (("ID number", numbers.id_number), ("phone number", numbers.phone)) if value]
    if shown:
        record_view(label, sid, PRINTED.format(paper=PAPERS[paper], numbers=" and ".join(shown)), purpose=purpose)


def window_header() -> dict:
    """The centre, the window and the officer printing now (the receipt names who received the filing instead)."""
    v = visitor()
    return {"centre": v.data.get("department") or "—", "window": v.username or "—", "officer": v.name,
            "on": today()}


def print_view(page: dict, label: str, sid: str, form, purpose: str):
    """The 一表通 print view: the form as the window filled it, the applicant's own numbers in full (recorded), the
    numbers of the applications open for these services (once filed) and a QR code to follow them."""
    numbers = full_numbers(label, sid)
    record_printing(label, sid, "form", numbers, purpose)
    # the applicant's own numbers (the record's, not a parent's or a legal representative's) in full
    own = {f.name for f in form.fields if (f.source or "").startswith("person.") and f.value
           and masked(f.source, f.name, f.value) != f.value}
    rows = [dict(row, value=f.value) if f.name in own else row
            for row, f in zip(page["rows"], form.fields, strict=True)]
    filed = [a for a in services().portal.applications_of(label, sid)
             if a["service"] in form.services and a["status"] in ("submitted", "needs_correction") and a["number"]]
    url = status_url(label, sid, filed[0]["aid"] if len(filed) == 1 else None)
    return render_template("officer/print.html", **dict(page, rows=rows), numbers=numbers, header=window_header(),
                           filed=filed, status_url=url, qr=qr_svg(url, _qr_alt(bool(filed))))


def receipt_qr(label: str, sid: str, aid: str, number: str | None) -> dict:
    """One application's link and QR code on the receipt."""
    url = status_url(label, sid, aid)
    return {"url": url, "svg": qr_svg(url, _("QR code: the link below, to follow application %(number)s on your "
                                              "own page", number=number or "—"))}


def _qr_alt(filed: bool) -> str:
    return _("QR code: the link below, to follow the application on your own page") if filed \
        else _("QR code: the link below, to your own page, where the application appears once filed")
