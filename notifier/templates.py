"""What a recipient reads: a reminder, an officer's card or a decision rendered for SMS, e-mail or the inbox, in zh-CN
or English.

The wording lives in the Jinja2 files under notifier/templates/ (`<channel>.<language>.txt|html`, shared phrases in
`_phrases.<language>.txt`); this module picks the file, fills it and keeps an SMS within two parts.

Decisions:
- An SMS is the full text if it fits in `SMS_MAX_SEGMENTS` parts, else the short one (how many materials, not their
  names), else the minimal one (service, due date, link), else the minimal one without the name of the person
  concerned. The last is sent even if still too long: a three-part SMS beats no reminder.
- zh-CN SMS open with 【sender】, which Chinese carriers require. English SMS open with "sender: " only when the sender
  is plain GSM-7 (pass e.g. sender="Chancheng Gov"): the default Chinese signature would turn the whole English text
  into UCS-2 and cut two parts from 306 characters to 134.
- On a card, `due_on` is the decision date (the last day of the statutory limit) and `days_left` counts working days,
  negative once overdue; `reference` is the application's number; `bring` and `for_name` are not shown.
- The shared phrases are rendered to plain strings before a template sees them, so an .html template escapes them
  like any other value (a macro imported into an autoescaped template from a .txt file would come out unescaped).
- The link must be an absolute http(s) URL: it is clicked from a phone or a mail client, and lands in an HTML href.
- A decision (`decision_*`) tells what was decided and what to do next; `note` is the officer's note (what to
  correct, why rejected). Its SMS gives up, in turn, the application number, the end of the note (cut with an
  ellipsis), the name of the person concerned, the note itself (then "see the link"). Decisions are worded
  soberly: no greeting with an exclamation mark.
- A rejection names 行政诉讼法 第四十六条 (six months to sue) but cites no article of 行政复议法: its 2023 revision
  renumbered it and we could not check the number against the text; "依法申请行政复议" is said without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.runtime import Macro

from profiles.sms_segments import encoding, segments

CHANNELS = ("sms", "email", "inbox")
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
DECISIONS = ("decision_approved", "decision_rejected", "decision_needs_correction")
KINDS = ("reminder", "bereavement", "yellow_card", "red_card", *DECISIONS)
SMS_MAX_SEGMENTS = 2
MIN_NOTE = 4  # characters of a cut note worth sending; fewer say nothing, and the link has the whole note
TEMPLATE_DIR = Path(__file__).with_name("templates")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Reminder:
    kind: str  # "reminder" (a service becoming due) | "bereavement" (one due after a relative's death: worded
    #          soberly, no countdown) | "yellow_card" | "red_card" (an application near / past its limit)
    #          | "decision_approved" | "decision_rejected" | "decision_needs_correction" (told to the applicant)
    service_zh: str
    service_en: str
    due_on: date
    days_left: int  # due_on - today (0 = today); on cards, working days
    bring: tuple[tuple[str, str], ...]  # (name_zh, name_en) of materials to bring; empty: all on file
    link: str  # absolute URL of the prefilled application (of the application, on cards)
    for_name: str | None = None  # given name of the person concerned when not the recipient (a guardian's child)
    sender: str = "禅城区政务服务"  # the SMS signature
    reference: str | None = None  # the application's number (办件编号), shown on cards and decisions
    note: str | None = None  # decisions: the officer's note (what to correct, why rejected)
    nature: str = "deadline"  # reminders: "offer" (a benefit one may claim) takes the offer_* templates, no deadline
    guide: str | None = None  # reminders: absolute URL of the service's guide (where to go, fee, time); not in an SMS


@dataclass(frozen=True)
class Rendered:
    subject: str  # e-mail subject / inbox title
    text: str  # SMS body / plain-text e-mail / inbox body
    html: str | None  # e-mail HTML (autoescaped), None for sms/inbox


def render(channel: str, language: str, reminder: Reminder) -> Rendered:
    """The message for one channel; an unknown language falls back to zh-CN, an unknown channel raises ValueError."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    if reminder.kind not in KINDS:
        raise ValueError(f"unknown reminder kind {reminder.kind!r}; expected one of {', '.join(KINDS)}")
    for url in (reminder.link, reminder.guide) if reminder.guide is not None else (reminder.link,):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"a link must be an absolute http(s) URL, not {url!r}")
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    context = _context(language, reminder)
    offer = "offer_" if reminder.kind == "reminder" and reminder.nature == "offer" else ""
    subject = _fill(f"{offer}subject.{language}.txt", context)
    if channel == "sms":
        return Rendered(subject=subject, text=_offer_sms(language, context) if offer else _sms(language, context),
                        html=None)
    text = _fill(f"{offer}{channel}.{language}.txt", context)
    html = _fill(f"{offer}email.{language}.html", {**context, "subject": subject}) if channel == "email" else None
    return Rendered(subject=subject, text=text, html=html)


def _offer_sms(language: str, context: dict[str, Any]) -> str:
    """An offer's SMS (offer_sms*, no date and no countdown: an offer has no deadline), shortened like a reminder's."""
    for values, name in ((context, "offer_sms"), (context, "offer_sms_minimal"),
                         ({**context, "for_name": None}, "offer_sms_minimal")):
        text = _fill(f"{name}.{language}.txt", values)
        if segments(text) <= SMS_MAX_SEGMENTS:
            break
    return text


def zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def en_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code; checking each file's mtime per render was 15 % of delivery
    )
    env.filters["zh_date"] = zh_date
    env.filters["en_date"] = en_date
    return env


def _context(language: str, reminder: Reminder) -> dict[str, Any]:
    english = language == "en"
    return {
        "language": language,
        "kind": reminder.kind,
        "service": reminder.service_en if english else reminder.service_zh,
        "due_on": reminder.due_on,
        "days_left": reminder.days_left,
        "bring": tuple(en if english else zh for zh, en in reminder.bring),
        "link": reminder.link,
        "guide": reminder.guide,
        "for_name": reminder.for_name,
        "sender": reminder.sender,
        "gsm_sender": reminder.sender if encoding(reminder.sender) == "GSM-7" else None,
        "reference": reminder.reference,
        "decision": reminder.kind in DECISIONS,
        "note": _one_line(reminder.note),
        "ellipsis": "…" if language == "zh-CN" else "...",  # an English SMS stays GSM-7, which has no "…"
    }


def _one_line(note: str | None) -> str | None:
    """The note as one line without its closing stop: the templates end the sentence themselves."""
    text = " ".join((note or "").split()).rstrip("。.；;，,")
    return text or None


def _fill(name: str, context: dict[str, Any]) -> str:
    return _environment().get_template(name).render(context, p=_phrases(context)).strip()


def _phrases(context: dict[str, Any]) -> dict[str, str]:
    """The shared phrases, called from here so they are plain strings that an .html template escapes like any value."""
    module = _environment().get_template(f"_phrases.{context['language']}.txt").make_module(context)
    return {key: str(value()) for key, value in vars(module).items()  # a reminder's need not pay for decisions'
            if isinstance(value, Macro) and (context["decision"] or not key.startswith("decision_"))}


def _sms(language: str, context: dict[str, Any]) -> str:
    attempts = _decision_attempts(language, context) if context["decision"] else (
        ("sms", context),
        ("sms_short", context),
        ("sms_minimal", context),
        ("sms_minimal", {**context, "for_name": None}),
    )
    for name, values in attempts:
        text = _fill(f"{name}.{language}.txt", values)
        if segments(text) <= SMS_MAX_SEGMENTS:
            break
    return text


def _decision_attempts(language: str, context: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The note is what the applicant needs (what to correct, why): the number is given up first, then the end of
    the note, then the name of the person concerned (in an English SMS a Chinese name makes the whole text UCS-2),
    and only then the note (the link has it)."""
    bare = {**context, "reference": None}
    yield "sms", context
    for values in (bare, {**bare, "for_name": None}) if bare["for_name"] else (bare,):
        yield "sms", values
        if note := values["note"]:
            cut = _longest_cut(language, values, note)
            if cut is not None:
                yield "sms", cut
    yield "sms", {**bare, "note": None}
    yield "sms_minimal", bare
    yield "sms_minimal", {**bare, "for_name": None}


def _longest_cut(language: str, values: dict[str, Any], note: str) -> dict[str, Any] | None:
    """`values` with the longest start of the note (and an ellipsis) that keeps the SMS within its parts."""
    def cut(k: int) -> dict[str, Any]:
        return {**values, "note": note[:k].rstrip() + values["ellipsis"]}

    lo, hi = 0, len(note) - 1  # a shorter text never takes more parts, so the fitting cuts are all below one length
    while lo < hi:
        mid = (lo + hi + 1) // 2
        fits = segments(_fill(f"sms.{language}.txt", cut(mid))) <= SMS_MAX_SEGMENTS
        lo, hi = (mid, hi) if fits else (lo, mid - 1)
    return cut(lo) if lo >= MIN_NOTE else None
