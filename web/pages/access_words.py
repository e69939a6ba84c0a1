"""The access log as its subject reads it, in the reader's language: one line per visit (profiles.access_visits),
saying who (name and department, never an account code), why (an offered purpose translated, a typed one shown as
typed and labelled with its language) and in plain words what they did. The log keeps the fixed English phrase the
reading code wrote (it is hash-chained and never rewritten); it is turned into words here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, tzinfo

from flask_babel import force_locale
from flask_babel import gettext as _

from notifier.delivery_reads import DELIVERY_PURPOSE
from profiles.access_visits import Visit, visits
from profiles.models import DEPARTMENT_FEED, OPERATOR, REMINDER_DELIVERY, AccessRecord
from web.pages.guards import services
from web.pages.i18n import is_chinese
from web.pages.names import material_name, service_name, text
from web.pages.officer import PURPOSES


def _join(names: Iterable[str]) -> str:
    return ("、" if is_chinese() else ", ").join(names)


def _services(codes: str) -> str:
    return _join(service_name(c) for c in codes.split(","))


# --- what was done ----------------------------------------------------------------------------------------------
def _fixed(yours: bool) -> dict[str, str]:
    """Phrases said to the subject ("your profile") or about someone else's record (a parent reading a child's)."""
    if yours:
        return {"search": _("found your record in a search"), "profile": _("looked at your profile"),
                "opened from a link": _("opened your profile from a linked record"),
                "person": _("read your personal details"), "entity": _("read your business details"),
                "materials": _("read your materials"), "events": _("read your recorded events"),
                "due items": _("checked what is coming up for you"), "notices": _("read your messages"),
                "notification preferences": _("read your reminder preferences")}
    return {"search": _("found the record in a search"), "profile": _("looked at the profile"),
            "opened from a link": _("opened the profile from a linked record"),
            "person": _("read the personal details"), "entity": _("read the business details"),
            "materials": _("read the materials"), "events": _("read the recorded events"),
            "due items": _("checked what is coming up"), "notices": _("read the messages"),
            "notification preferences": _("read the reminder preferences")}


def _neutral() -> dict[str, str]:
    return {"access-log": _("read this access log"),
            "person (ID number attached)": _("attached the ID number to the record"),
            "newborn registration form at the window": _("opened the newborn registration form at the window"),
            "registered a newborn child at the window": _("registered a newborn child at the window"),
            "named as the other parent of a newborn registered at the window":
                _("recorded as the other parent of a newborn registered at the window"),
            "ID number form at the window": _("opened the ID number form at the window"),
            "attached the ID number at the window": _("attached the ID number at the window"),
            "services due at the window": _("checked the services due, at the window"),
            "listed in the application queue": _("saw the record in the application queue")}


_PATTERNS = (
    (re.compile(r"^prefill (?P<codes>[\w,]+) \(as (?P<role>parent|legal_rep) of \S+\)$"), "prefill_for"),
    (re.compile(r"^prefill (?P<codes>[\w,]+)$"), "prefill"),
    (re.compile(r"^application (?P<app>\S+) \(decision page\)$"), "deciding"),
    (re.compile(r"^application (?P<app>\S+)$"), "application"),
    (re.compile(r"^decision (?P<outcome>approved|rejected|needs_correction) on application (?P<app>\S+)$"), "decided"),
    (re.compile(r"^receipt of application (?P<apps>.+)$"), "receipt"),
    (re.compile(r"^filed application (?P<codes>[\w,]+) at the window$"), "filed"),
    (re.compile(r"^recorded (?P<thing>material|event) (?P<code>\w+) at the window$"), "recorded"),
    (re.compile(r"^used the (?P<contact>phone number|e-mail address) to send a message about (?P<codes>[\w,]+)$"),
     "sent"),
    (re.compile(r"^named as a possible other parent on the newborn form of \S+$"), "possible_parent"),
    (re.compile(r"^revealed (?P<number>ID|phone) number \(reason: (?P<reason>.*)\)$", re.S), "revealed"),
    # the paper the applicant signs shows their numbers in full (issue 18's print view, web/pages/officer_paper.py)
    (re.compile(r"^printed the (?P<paper>application form|receipt) with the full (?P<numbers>ID number|"
                r"ID number and phone number)$"), "printed"),
)


def _application(token: str) -> str:
    """`application X` names a service code (the API) or an application number (the officer's pages)."""
    if token in services().catalog.services:
        return _("the application for %(service)s", service=service_name(token))
    return _("application %(number)s", number=token)


def _full_number(number: str, yours: bool) -> str:
    if number == "ID":
        return _("your full ID number") if yours else _("the full ID number")
    return _("your full phone number") if yours else _("the full phone number")


def _printed(receipt: bool, id_only: bool, yours: bool) -> str:
    if yours and receipt:
        return _("printed the receipt with your full ID number") if id_only \
            else _("printed the receipt with your full ID number and phone number")
    if yours:
        return _("printed the application form with your full ID number") if id_only \
            else _("printed the application form with your full ID number and phone number")
    if receipt:
        return _("printed the receipt with the full ID number") if id_only \
            else _("printed the receipt with the full ID number and phone number")
    return _("printed the application form with the full ID number") if id_only \
        else _("printed the application form with the full ID number and phone number")


def _event_name(code: str) -> str:
    kind = services().catalog.events.get(code)
    return text(kind.name) if kind else code


def done_said(what: str, yours: bool = True) -> str:
    """What the record says was done, as a verb phrase in the reader's language ("looked at your profile"); a
    phrase this page does not know is shown as it was written."""
    known = _fixed(yours).get(what) or _neutral().get(what)
    if known:
        return known
    for pattern, kind in _PATTERNS:
        found = pattern.match(what)
        if found:
            return _pattern_said(kind, found.groupdict(), yours)
    return what


def _pattern_said(kind: str, g: dict[str, str], yours: bool) -> str:
    if kind == "prefill_for":
        if g["role"] == "parent":
            return _("prepared a form for %(services)s using the parent's details", services=_services(g["codes"]))
        return _("prepared a form for %(services)s using the legal representative's details",
                 services=_services(g["codes"]))
    if kind == "prefill":
        return _("prepared a form prefilled for %(services)s", services=_services(g["codes"]))
    if kind == "deciding":
        return _("opened %(application)s to decide on it", application=_application(g["app"]))
    if kind == "application":
        return _("looked at %(application)s", application=_application(g["app"]))
    if kind == "decided":
        application = _application(g["app"])
        if g["outcome"] == "approved":
            return _("approved %(application)s", application=application)
        if g["outcome"] == "rejected":
            return _("rejected %(application)s", application=application)
        return _("returned %(application)s for correction", application=application)
    if kind == "receipt":
        return _("printed the receipt for %(applications)s",
                 applications=_join(_application(a.strip()) for a in g["apps"].split(",")))
    if kind == "filed":
        return _("filed an application for %(services)s at the window", services=_services(g["codes"]))
    if kind == "recorded":
        name = material_name(g["code"]) if g["thing"] == "material" else _event_name(g["code"])
        return _("recorded %(thing)s at the window", thing=name)
    if kind == "printed":
        return _printed(g["paper"] == "receipt", g["numbers"] == "ID number", yours)
    if kind == "sent":
        if g["contact"] == "phone number":
            return (_("used your phone number to send you a message about %(services)s", services=_services(g["codes"]))
                    if yours else _("used the phone number to send a message about %(services)s",
                                    services=_services(g["codes"])))
        return (_("used your e-mail address to send you a message about %(services)s", services=_services(g["codes"]))
                if yours else _("used the e-mail address to send a message about %(services)s",
                                services=_services(g["codes"])))
    if kind == "possible_parent":
        return _("named as a possible other parent on a newborn's form")
    return _("saw %(number)s (reason: %(reason)s)", number=_full_number(g["number"], yours), reason=g["reason"])


def what_said(what: str) -> str:
    """One record's phrase, said to its subject (kept for pages that list single records)."""
    return done_said(what, yours=True)


# --- who, and why -----------------------------------------------------------------------------------------------
# graph.officers.Officer.actor: "name · department (username)"; the username is an account code, not for citizens.
_OFFICER = re.compile(r"^(?P<name>.+?) · (?P<department>.+) \((?P<username>[^()]*)\)$")


def _role(role: str) -> str:
    return {"officer": _("an officer at the window"), "supervisor": _("a supervisor"),
            "admin": _("an administrator"), "system": _("a department's system"),
            "citizen": _("the person themselves"), "business": _("the business itself")}.get(role, role)


def reader_said(actor: str, role: str) -> dict[str, str | None]:
    """{name, department, role} of who read: an officer's name and department, a system's name as its key was
    named; the command line's own readers in words; a citizen's or a business's account never by its ids."""
    if role in ("citizen", "business", "anonymous"):
        return {"name": _role(role), "department": None, "role": None}
    found = _OFFICER.match(actor)
    if found and role in ("officer", "supervisor", "admin"):
        return {"name": found["name"], "department": found["department"], "role": _role(role)}
    cli = {OPERATOR.name: _("an administrator, from the command line"),
           DEPARTMENT_FEED.name: _("a department's data feed"),
           REMINDER_DELIVERY.name: _("the reminder service")}
    return {"name": cli.get(actor, actor), "department": None, "role": _role(role)}


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")


def written_in(typed: str) -> str | None:
    """"zh" when the text holds Chinese characters, "en" when it holds Latin letters and none, else None."""
    if _CJK.search(typed):
        return "zh"
    return "en" if _LATIN.search(typed) else None


def _offered(purpose: str) -> str | None:
    """A purpose chosen from the officer's list (stored as it read in the officer's language), in the reader's."""
    typed = purpose.strip()
    for choice in PURPOSES:
        for locale in ("zh_CN", "en"):
            with force_locale(locale):
                said = str(choice)
            if said == typed:
                return str(choice)
    return None


def purpose_said(purpose: str) -> dict[str, str | None]:
    """{text, lang, label}: an offered purpose translated; a typed one as typed, labelled with its language (and
    marked with it for screen readers) when that is not the page's."""
    offered = _("to tell you of a service that is due or decided") if purpose == DELIVERY_PURPOSE else _offered(purpose)
    if offered is not None:
        return {"text": offered, "lang": None, "label": None}
    language = written_in(purpose)
    page = "zh" if is_chinese() else "en"
    if language is None or language == page:
        return {"text": purpose, "lang": None, "label": None}
    if language == "zh":
        return {"text": purpose, "lang": "zh-CN", "label": _("typed in Chinese:")}
    return {"text": purpose, "lang": "en", "label": _("typed in English:")}


# --- the lines --------------------------------------------------------------------------------------------------
def when_said(first: datetime, last: datetime) -> str:
    start = first.strftime("%Y-%m-%d %H:%M")
    if last.strftime("%Y-%m-%d %H:%M") == start:
        return start
    if last.date() == first.date():
        return f"{start}–{last:%H:%M}"
    return f"{start} – {last:%Y-%m-%d %H:%M}"


def _sentence(phrases: Iterable[str]) -> str:
    said = ("，" if is_chinese() else ", ").join(phrases)
    return said[:1].upper() + said[1:]


def visit_line(visit: Visit, zone: tzinfo, yours: bool = True) -> dict:
    return {"when": when_said(visit.first.astimezone(zone), visit.last.astimezone(zone)),
            "first": visit.first.astimezone(zone).isoformat(timespec="minutes"),
            "who": reader_said(visit.actor, visit.role), "purpose": purpose_said(visit.purpose),
            "what": _sentence(dict.fromkeys(done_said(w, yours) for w in visit.whats)), "records": visit.records}


def visit_lines(records: Iterable[AccessRecord], zone: tzinfo, yours: bool = True) -> list[dict]:
    """The subject's access records as the lines of its log page, newest visit first."""
    return [visit_line(v, zone, yours) for v in visits(records)]
