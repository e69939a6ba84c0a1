"""What the SMS sandbox accepts and answers: Twilio's auth, refusals, magic numbers, faults, list filters, JSON.

Also the sandbox's settings and their checks, shared by the constructor and PUT /sandbox/config. This module imports no
other sandbox module, so each of them (and `python -m notifier.sandbox`, which runs sandbox.py as `__main__`) sees the
same `ConfigError` class.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode, urlsplit

from profiles.sms_segments import length

API = "2010-04-01"
MAX_BODY = 64 * 1024  # bytes of a request body, not Twilio's limit on the message text
MAX_TEXT = 1600  # Twilio's limit on Body, in encoded characters (a GSM-7 escape or a surrogate pair counts two)
MAX_CALLBACK = 4000  # Twilio's limit on a StatusCallback URL
# Twilio's test-credential magic 'To' numbers with their codes; the texts are Twilio's as its API answers them, as
# far as public reports quote them (sender: the From number, or the Messaging Service sid when there is none)
MAGIC = {
    "+15005550001": (400, 21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550002": (400, 21612, "The 'To' phone number: {to}, is not currently reachable using the 'From' phone "
                                 "number: {sender} via SMS."),
    "+15005550003": (400, 21408, "Permission to send an SMS has not been enabled for the region indicated by the "
                                 "'To' number: {to}."),
    "+15005550004": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (400, 21614, "To number: {to}, is not a mobile number"),
    "+15005550429": (429, 20429, "Too Many Requests"),
    "+15005550500": (500, 20500, "Internal Server Error"),
}
SLOW, UNDELIVERED = "+15005550555", "+15005550666"
FAULTS = {500: (500, 20500, "Internal Server Error"), 503: (503, 20503, "Service Unavailable"),
          20429: (429, 20429, "Too Many Requests")}
BUSY = FAULTS[20429]  # the answer past max_concurrency
DATE_FILTERS = ("DateSent", "DateSent<", "DateSent>")
E164 = re.compile(r"\+[1-9]\d{7,14}")
RANK = {"queued": 0, "sent": 1, "delivered": 2, "undelivered": 2}


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


CHECKS = {  # field -> (test, what a good value is); used by the constructor and PUT /sandbox/config alike
    "latency_ms": (lambda v: _number(v) and 0 <= v <= 600_000, "a number of milliseconds from 0 to 600000"),
    "jitter_ms": (lambda v: _number(v) and 0 <= v <= 600_000, "a number of milliseconds from 0 to 600000"),
    "max_concurrency": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100_000,
                        "a whole number from 0 (no cap) to 100000"),
    "fail_rate": (lambda v: _number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    "fail_codes": (lambda v: isinstance(v, list | tuple) and bool(v) and all(
        isinstance(c, int) and not isinstance(c, bool) and c in FAULTS for c in v), "a non-empty list of 500, 503 and "
                   "20429"),
    "slow_seconds": (lambda v: _number(v) and 0 <= v <= 3600, "a number of seconds from 0 to 3600"),
    "callback_delay_ms": (lambda v: _number(v) and 0 <= v <= 600_000, "a number of milliseconds from 0 to 600000"),
    "duplicate_callbacks": (lambda v: isinstance(v, bool), "true or false"),
    "reverse_callbacks": (lambda v: isinstance(v, bool), "true or false"),
}


class FilterError(ValueError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class ConfigError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def authorized(header: str | None, account: str, account_sid: str, auth_token: str) -> bool:
    """Basic auth with the account's SID and token, and the request's path naming that account."""
    if not header:
        return False
    try:  # decode and compare the pair rather than the header bytes: base64 padding and case may vary
        scheme, _, encoded = header.partition(" ")
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    good = hmac.compare_digest(user.encode(), account_sid.encode())
    good &= hmac.compare_digest(password.encode(), auth_token.encode())
    return good and scheme.lower() == "basic" and account == account_sid


def twilio_error(status: int, code: int, message: str) -> dict:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more, "status": status}


def refusal(to: str, body: str, sender: str | None, service: str | None,
            callback: str | None) -> tuple[int, int, str]:
    """(HTTP status, Twilio code, message template) for a send's fields and magic number; (201, 0, "") if none."""
    if not to:
        return 400, 21604, "A 'To' phone number is required."
    if not body:
        return 400, 21602, "Message body is required."
    if not sender and not service:
        return 400, 21603, "A 'From' phone number is required."
    if not E164.fullmatch(to):
        return 400, 21211, "The 'To' number {to} is not a valid phone number."
    if to == sender:
        return 400, 21266, "'To' and 'From' numbers cannot be the same"
    if length(body) > MAX_TEXT:
        return 400, 21617, "The concatenated message body exceeds the 1600 character limit."
    if callback is not None and not callback_url(callback):
        return 400, 21609, "Invalid 'StatusCallback'"
    return MAGIC.get(to, (201, 0, ""))


def callback_url(text: str) -> bool:
    """A StatusCallback Twilio takes: an http(s) URL with a host (no underscore), at most MAX_CALLBACK characters.

    Anything else is refused at the send, so no message is stored with a callback that could never be posted.
    """
    if len(text) > MAX_CALLBACK or any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError on a port out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "_" not in parts.hostname


_last_stamp: tuple[int, str] = (0, "")


def rfc2822(moment: datetime | None) -> str | None:
    """RFC 2822 as Twilio writes dates; whole seconds, so the last one is kept (most messages share it)."""
    global _last_stamp
    if moment is None:
        return None
    second, stamp = int(moment.timestamp()), _last_stamp  # one read: another thread may swap it meanwhile
    if stamp[0] != second:
        stamp = _last_stamp = (second, format_datetime(moment.replace(microsecond=0)))
    return stamp[1]


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def sent_window(name: str, text: str) -> tuple[datetime | None, datetime | None]:
    """The [start, end) of date_sent a DateSent filter keeps, per Twilio's spec; ValueError if `text` is no date.

    `YYYY-MM-DD` is a whole day in GMT: `DateSent` that day, `DateSent<` on or before it, `DateSent>` on or after it.
    An ISO 8601 datetime (what the official client sends for a datetime or a date: `YYYY-MM-DDTHH:MM:SSZ`; UTC if it
    names no zone) is a second: `DateSent` that second, `DateSent<` up to and including it, `DateSent>` from it on.
    """
    if _DAY.fullmatch(text):
        start = datetime.combine(date.fromisoformat(text), time(), UTC)
        end = start + timedelta(days=1)
    else:
        if "T" not in text and " " not in text:
            raise ValueError(text)
        start = datetime.fromisoformat(text)
        start = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)
        end = start + timedelta(seconds=1)
    return {"DateSent": (start, end), "DateSent<": (None, end), "DateSent>": (start, None)}[name]


def list_filter(query: dict[str, str]) -> Callable[[dict], bool]:
    """Whether a stored message passes the list's From and DateSent filters; FilterError names a malformed date."""
    windows = []
    for name in DATE_FILTERS:
        if name in query:
            try:
                windows.append(sent_window(name, query[name]))
            except ValueError:
                raise FilterError(name) from None
    sender = query.get("From")

    def kept(m: dict) -> bool:  # a message not sent yet has no date_sent, so no DateSent filter keeps it
        return (not sender or m["from"] == sender) and all(
            m["sent"] is not None and (start is None or m["sent"] >= start) and (end is None or m["sent"] < end)
            for start, end in windows)
    return kept


def page_numbers(query: dict[str, str]) -> tuple[int, int]:
    """(PageSize, Page) of a list request: 50 and 0 unless given, the size at most 1000."""
    def number(name: str, default: int, top: int) -> int:
        value = query.get(name, "")
        return min(max(int(value), 0), top) if value.isdigit() else default
    return number("PageSize", 50, 1000) or 50, number("Page", 0, 10**9)


def list_page(account_sid: str, query: dict[str, str], records: list[dict], more: bool) -> dict:
    """Twilio's JSON for one list page; its links keep the request's filters."""
    size, index = page_numbers(query)
    base = f"/{API}/Accounts/{account_sid}/Messages.json"
    keep = {k: v for k, v in query.items() if k in ("To", "From", *DATE_FILTERS)}
    link = lambda n: f"{base}?{urlencode({**keep, 'PageSize': size, 'Page': n})}"  # noqa: E731
    return {"messages": records, "page": index, "page_size": size, "start": index * size,
            "end": index * size + max(len(records) - 1, 0), "first_page_uri": link(0), "uri": link(index),
            "next_page_uri": link(index + 1) + f"&PageToken=PA{index + 1}" if more else None,
            "previous_page_uri": link(index - 1) if index else None}


def message_json(account_sid: str, m: dict) -> dict:
    """Twilio's JSON for one stored message."""
    uri = f"/{API}/Accounts/{account_sid}/Messages/{m['sid']}"
    return {"account_sid": account_sid, "api_version": API, "body": m["body"],
            "date_created": rfc2822(m["created"]), "date_sent": rfc2822(m["sent"]),
            "date_updated": rfc2822(m["updated"]), "direction": "outbound-api", "error_code": m["error_code"],
            "error_message": "Unreachable destination handset" if m["error_code"] else None, "from": m["from"],
            "messaging_service_sid": m["service"], "num_media": "0", "num_segments": str(m["segments"]),
            "price": None, "price_unit": "USD", "sid": m["sid"], "status": m["status"], "to": m["to"],
            "uri": uri + ".json", "subresource_uris": {"media": uri + "/Media.json",
                                                      "feedback": uri + "/Feedback.json"}}
