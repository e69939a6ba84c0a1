"""What every officer-console page shares: the blueprint, the record kinds in URLs, loading a record, the words (in
both languages) for the statuses and relations it shows, a purpose or reason picked from a list or typed, and the
error summary's lines. (Free text is checked by web.pages.applying.form_text, as on every page.)"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from profiles.errors import NotFound
from profiles.models import ENTITY_KINDS, Entity, Person
from profiles.privacy import mask_birth_certificate_number, mask_email, mask_id_number, mask_phone, mask_text
from web.pages.applying import form_text
from web.pages.guards import services, today
from web.pages.names import bilingual, material_name, service_name

bp = Blueprint("officer", __name__, url_prefix="/officer")

KINDS = {"persons": "Person", "entities": "Entity"}  # the record kind in a URL -> its graph label
PLURAL = {label: kind for kind, label in KINDS.items()}
AUDIENCE = {"Person": "person", "Entity": "entity"}

TERMS = {
    "provenance": {"issued": _l("issued"), "verified": _l("verified at a window"), "declared": _l("declared"),
                   "missing": _l("missing")},
    "status": {"valid": _l("valid"), "expiring": _l("expiring"), "expired": _l("expired"),
               "superseded": _l("superseded")},
    "state": {"reusable": _l("on file, reused"), "expiring_before_decision": _l("expires before the decision"),
              "missing": _l("missing")},
    "card": {"none": _l("on time"), "yellow": _l("yellow card"), "red": _l("red card"),
             "yellow_card": _l("yellow card"), "red_card": _l("red card")},
    "application": {"draft": _l("draft"), "submitted": _l("submitted"), "approved": _l("approved"),
                    "rejected": _l("rejected"), "needs_correction": _l("needs correction")},
    "event": {"birth": _l("birth"), "school_entry": _l("school entry"), "marriage": _l("marriage"),
              "divorce": _l("divorce"), "household_move": _l("household move"), "retirement": _l("retirement"),
              "death": _l("death"), "medical_insurance_paid": _l("medical insurance paid"),
              "founding": _l("founding"), "change": _l("registration change"), "annual_report": _l("annual report"),
              "closure": _l("closure"), "hiring": _l("hiring")},
    "event_detail": {"employee_pid": _l("Employee's citizen ID number"),
                     "spouse_pid": _l("Spouse's citizen ID number"), "address": _l("New address"),
                     "region": _l("Administrative division code (6 digits)"), "place": _l("Place"),
                     "certificate_number": _l("Certificate number"),
                     "registered_capital": _l("Registered capital (yuan)"), "year": _l("Year it concerns")},
    "sex": {"M": _l("male"), "F": _l("female")},
    "channel": {"inbox": _l("inbox"), "sms": _l("SMS"), "email": _l("e-mail")},
    "notice": {"pending": _l("pending"), "sending": _l("sending"), "sent": _l("sent"), "delivered": _l("delivered"),
               "undelivered": _l("undelivered"), "failed": _l("failed"), "skipped": _l("skipped"),
               "cancelled": _l("cancelled")},
    "rule": {"expiry": _l("a material expires"), "age": _l("an age is reached"), "yearly": _l("a yearly deadline"),
             "after_event": _l("a deadline after an event"),
             "after_kin_event": _l("a deadline after a relative's death")},
    "entity_status": {"active": _l("active"), "closed": _l("closed")},
}
# (relation type, the record is its start node) -> what the other side is to the record
RELATIONS = {
    ("PARENT_OF", True): _l("child"), ("PARENT_OF", False): _l("parent"),
    ("GUARDIAN_OF", True): _l("ward"), ("GUARDIAN_OF", False): _l("guardian"),
    ("SPOUSE_OF", True): _l("spouse"), ("SPOUSE_OF", False): _l("spouse"),
    ("LEGAL_REP_OF", True): _l("legal representative of"), ("LEGAL_REP_OF", False): _l("legal representative"),
    ("SHAREHOLDER_OF", True): _l("shareholder of"), ("SHAREHOLDER_OF", False): _l("shareholder"),
    ("EMPLOYED_BY", True): _l("employed by"), ("EMPLOYED_BY", False): _l("employee"),
}


def label_of(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return KINDS[kind]


def load(label: str, sid: str) -> Person | Entity:
    """The record, or 404 (a missing record is not a refusal: the purpose check came first)."""
    try:
        return services().subjects.get_person(sid) if label == "Person" else services().subjects.get_entity(sid)
    except NotFound:
        abort(404)
        raise AssertionError("unreachable") from None


def parse_day(raw: str | None, required: bool = True) -> tuple[date | None, str | None]:
    text = (raw or "").strip()
    if not text:
        return None, (_("required") if required else None)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, _("not a real calendar date (YYYY-MM-DD)")
    if day.year < 1900:
        return None, _("before 1900")
    return day, None


def term(group: str, value: str | None) -> str:
    return str(TERMS.get(group, {}).get(value or "", value or ""))


def as_label(text: str | None) -> str:
    """A status word shown on its own, as a label: "Submitted", not "submitted" (Chinese is unchanged). The same
    words stay lower-case inside a sentence, so the catalogue keeps one message id for both."""
    text = str(text or "")
    return text[:1].upper() + text[1:]


def labelled(errors: dict, labels: dict) -> dict:
    """The error summary's lines: each error with the label of its field, so a link read out of context still says
    which field it leads to ("Purpose of this look: required")."""
    return {name: _("%(field)s: %(error)s", field=labels[name], error=message) if name in labels else message
            for name, message in errors.items()}


def chosen_text(form, name: str, options, missing: str) -> tuple[str, str | None, str]:
    """A purpose or reason given by a choice among `options` (posted as <name>_choice, its index) or typed in the
    field itself (chosen "other", or no choice at all): (the text, an error or None, the choice as posted)."""
    choice = form.get(f"{name}_choice") or ""
    if choice.isdigit() and int(choice) < len(options):
        return str(options[int(choice)]), None, choice
    text, error = form_text(form.get(name))
    if error and not text:
        error = missing
    return text, error, choice


def relation(type_: str, outgoing: bool) -> str:
    return str(RELATIONS.get((type_, outgoing), type_))


def entity_kind(kind: str) -> str:
    names = ENTITY_KINDS.get(kind)
    return bilingual(*names) if names else kind


def masked(source: str | None, name: str, value: str | None) -> str | None:
    """A form value as the page may show it: ID numbers, phones, e-mails and material numbers masked."""
    if value is None:
        return None
    where = f"{source or ''} {name}"
    if "id_number" in where:
        return mask_id_number(value)
    if "birth_certificate_number" in where:
        return mask_birth_certificate_number(value)
    if "phone" in where:
        return mask_phone(value)
    if "email" in where:
        return mask_email(value)
    if source and source.startswith("material[") and source.endswith("].number"):
        return mask_text(value, 2, 2)
    return value


def days_left(decide_by: date | None) -> int | None:
    return (decide_by - today()).days if decide_by else None


@bp.context_processor
def _words() -> dict:
    return {"term": term, "relation": relation, "service_name": service_name, "material_name": material_name,
            "entity_kind": entity_kind, "bilingual": bilingual, "plural": PLURAL,
            "mask_number": lambda number: mask_text(number, 2, 2), "as_label": as_label, "labelled": labelled,
            "anchored": lambda errors, prefix: {name: f"{prefix}-{name}" for name in errors}}
