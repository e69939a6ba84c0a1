"""What the SMS sandbox accepts and answers: Twilio's API constants, magic numbers, faults, error and Message JSON.

Also the sandbox's settings and their checks, shared by the constructor and PUT /sandbox/config. This module imports no
other sandbox module, so each of them (and `python -m notifier.sandbox`, which runs sandbox.py as `__main__`) sees the
same `ConfigError` class.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import format_datetime

API = "2010-04-01"
MAX_BODY = 64 * 1024
MAGIC = {
    "+15005550001": (400, 21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550004": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (400, 21614, "'To' number {to} is not SMS-capable"),
    "+15005550429": (429, 20429, "Too Many Requests"),
    "+15005550500": (500, 20500, "Internal Server Error"),
}
SLOW, UNDELIVERED = "+15005550555", "+15005550666"
FAULTS = {500: (500, 20500, "Internal Server Error"), 503: (503, 20503, "Service Unavailable"),
          20429: (429, 20429, "Too Many Requests")}
E164 = re.compile(r"\+[1-9]\d{7,14}")
RANK = {"queued": 0, "sent": 1, "delivered": 2, "undelivered": 2}


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


CHECKS = {  # field -> (test, what a good value is); used by the constructor and PUT /sandbox/config alike
    "latency_ms": (lambda v: _number(v) and 0 <= v <= 600_000, "a number of milliseconds from 0 to 600000"),
    "fail_rate": (lambda v: _number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    "fail_codes": (lambda v: isinstance(v, list | tuple) and bool(v) and all(
        isinstance(c, int) and not isinstance(c, bool) and c in FAULTS for c in v), "a non-empty list of 500, 503 and "
                   "20429"),
    "slow_seconds": (lambda v: _number(v) and 0 <= v <= 3600, "a number of seconds from 0 to 3600"),
    "callback_delay_ms": (lambda v: _number(v) and 0 <= v <= 600_000, "a number of milliseconds from 0 to 600000"),
    "duplicate_callbacks": (lambda v: isinstance(v, bool), "true or false"),
    "reverse_callbacks": (lambda v: isinstance(v, bool), "true or false"),
}


class ConfigError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def twilio_error(status: int, code: int, message: str) -> dict:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more, "status": status}


def refusal(to: str, body: str, sender: str | None, service: str | None) -> tuple[int, int, str]:
    """(HTTP status, Twilio code, message template) for a send's fields and magic number; (201, 0, "") if none."""
    if not to:
        return 400, 21604, "A 'To' phone number is required."
    if not body:
        return 400, 21602, "Message body is required."
    if not sender and not service:
        return 400, 21603, "A 'From' phone number is required."
    if not E164.fullmatch(to):
        return 400, 21211, "The 'To' number {to} is not a valid phone number."
    return MAGIC.get(to, (201, 0, ""))


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


def moment(text: str | None) -> datetime | None:
    """A DateSent> / DateSent< filter's ISO 8601 time (UTC if it names no zone); None if absent or unreadable."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


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
