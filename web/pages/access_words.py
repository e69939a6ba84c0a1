"""What the access log's "what" says, in the reader's language: the log keeps the fixed English phrase the reading
code wrote (it is hash-chained and never rewritten); citizens and businesses read it translated here."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from web.pages.i18n import is_chinese
from web.pages.names import service_name


def _services(codes: str) -> str:
    names = [service_name(c) for c in codes.split(",")]
    return "、".join(names) if is_chinese() else ", ".join(names)


def _fixed() -> dict[str, str]:
    return {"search": _("found by a search"), "profile": _("the record's page"),
            "opened from a link": _("opened from a linked record"), "person": _("personal details"),
            "entity": _("business details"), "materials": _("materials"), "events": _("life events"),
            "due items": _("what is coming up"), "notices": _("messages"), "access-log": _("this access log"),
            "notification preferences": _("reminder preferences"), "revealed ID number": _("the full ID number"),
            "revealed phone number": _("the full phone number")}


_PATTERNS = (
    (re.compile(r"^prefill (?P<codes>[\w,]+) \(as (?P<role>parent|legal_rep) of \S+\)$"), "prefill_for"),
    (re.compile(r"^prefill (?P<codes>[\w,]+)$"), "prefill"),
    (re.compile(r"^application (?P<codes>\w+)$"), "application"),
    (re.compile(r"^filed application (?P<codes>\w+) at the window$"), "filed"),
    (re.compile(r"^recorded (?P<thing>material|event) (?P<code>\w+) at the window$"), "recorded"),
    (re.compile(r"^(?P<what>revealed (?:ID|phone) number) \(reason: (?P<reason>.*)\)$", re.S), "revealed"),
    (re.compile(r"^printed the (?P<paper>application form|receipt) with the full (?P<numbers>.+)$"), "printed"),
)


def what_said(what: str) -> str:
    """The phrase in the visitor's language; a phrase this page does not know is shown as it was written."""
    fixed = _fixed()
    if what in fixed:
        return fixed[what]
    for pattern, kind in _PATTERNS:
        found = pattern.match(what)
        if not found:
            continue
        g = found.groupdict()
        if kind == "prefill_for":
            role = _("as a parent") if g["role"] == "parent" else _("as the legal representative")
            return _("a form prefilled for %(services)s (%(role)s)", services=_services(g["codes"]), role=role)
        if kind == "prefill":
            return _("a form prefilled for %(services)s", services=_services(g["codes"]))
        if kind == "application":
            return _("the application for %(service)s", service=_services(g["codes"]))
        if kind == "filed":
            return _("an application for %(service)s filed at the window", service=_services(g["codes"]))
        if kind == "recorded":
            thing = _("a material") if g["thing"] == "material" else _("a life event")
            return _("%(thing)s recorded at the window (%(code)s)", thing=thing, code=g["code"])
        if kind == "printed":  # web/pages/officer_paper.py: the paper the applicant signs, their numbers in full
            receipt = g["paper"] == "receipt"
            if g["numbers"] == "ID number":
                return _("printed the receipt with your full ID number") if receipt \
                    else _("printed the application form with your full ID number")
            if g["numbers"] == "phone number":
                return _("printed the receipt with your full phone number") if receipt \
                    else _("printed the application form with your full phone number")
            return _("printed the receipt with your full ID number and phone number") if receipt \
                else _("printed the application form with your full ID number and phone number")
        return _("%(what)s (reason: %(reason)s)", what=fixed[g["what"]], reason=g["reason"])
    return what
