"""Notices (DESIGN §5), pure: dedupe key, the owed offset, channels, quiet hours, the daily cap, back-off.

Decisions, each tested:
- One notice per (recipient, subject, service, due date, offset, channel): the dedupe key hashes exactly these. The
  recipient is in it because a minor's reminder goes to each living guardian.
- The owed offset on a day is the latest reminder date not after that day, while the item is still due: a scan that
  failed yesterday is made good today; a reminder whose next offset has come is not sent late besides.
- Every owed offset gets an inbox notice. Push channels follow the person's order (default SMS, then e-mail) among
  those with consent and an address; one push channel at first, one more for each earlier offset whose inbox notice
  is still unread (escalation).
- Quiet hours are local wall-clock times; a window such as 22:00-08:00 crosses midnight. A push inside it waits for
  its end. The inbox is silent and never waits.
- The daily cap counts push messages claimed for a recipient on one local day; past it a push waits for the next
  day's quiet-hours end.
- A decision on an application (approved, rejected, returned for correction) is told once per decision, recipient
  and channel: its key names the application and the decision's place in the application's history, so a second
  decision after a resubmission is new news, and the same decision told again (a retry, the catch-up) is not.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

CHANNELS = ("inbox", "sms", "email")
PUSH_CHANNELS = ("sms", "email")
# An application's outcome (profiles.matters.OUTCOMES) -> the kind of the notice that tells its applicant.
DECISION_KINDS = {"approved": "decision_approved", "rejected": "decision_rejected",
                  "needs_correction": "decision_needs_correction"}
KINDS = ("reminder", "yellow_card", "red_card", *DECISION_KINDS.values())
LANGUAGES = ("zh-CN", "en")

# pending -> sending (claimed by one delivery) -> sent (provider accepted) -> delivered / undelivered (callback);
# pending/sending -> failed (permanent error, or retries spent) / skipped (no longer due, no consent);
# pending -> cancelled (a life event ended it, never sent: the recipient or the subject died, the business closed).
STATUSES = ("pending", "sending", "sent", "delivered", "undelivered", "failed", "skipped", "cancelled")
RANK = {"pending": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3, "skipped": 3,
        "cancelled": 3}
FINAL = frozenset(s for s, r in RANK.items() if r == 3)


def dedupe_key(recipient: str, subject: str, service: str, due_on: date, offset_days: int, channel: str) -> str:
    raw = "\x1f".join(("v1", recipient, subject, service, due_on.isoformat(), str(offset_days), channel))
    return hashlib.sha256(raw.encode()).hexdigest()


def card_key(aid: str, card: str, channel: str = "inbox") -> str:
    return hashlib.sha256("\x1f".join(("card1", aid, card, channel)).encode()).hexdigest()


def decision_key(aid: str, seq: int, outcome: str, recipient: str, channel: str) -> str:
    raw = "\x1f".join(("decision1", aid, str(seq), outcome, recipient, channel))
    return hashlib.sha256(raw.encode()).hexdigest()


def new_nid() -> str:
    """Short (it goes into every SMS link) and unguessable: 72 random bits."""
    return uuid.uuid4().hex[:18]


def owed_offset(due_on: date, notify_on: tuple[date, ...], as_of: date) -> int | None:
    """Days before `due_on` of the reminder owed on `as_of`, or None (not yet, or the matter is past due)."""
    if due_on < as_of:
        return None
    passed = [d for d in notify_on if d <= as_of]
    return (due_on - max(passed)).days if passed else None


@dataclass(frozen=True)
class Preferences:
    channels: tuple[str, ...] = PUSH_CHANNELS  # push channels the person consents to, in order of preference
    language: str = "zh-CN"
    quiet_hours: str | None = None  # "HH:MM-HH:MM"; None: the service's default
    sms_opted_out: bool = False  # the carrier told us (21610), or the person replied TD/STOP

    def __post_init__(self):
        unknown = [c for c in self.channels if c not in PUSH_CHANNELS]
        if unknown:
            raise ValueError(f"unknown channel {unknown[0]!r}")
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language {self.language!r}")


@dataclass(frozen=True)
class Contact:
    """What delivery needs of a recipient: where to reach them and what they allow."""

    recipient_id: str
    phone: str | None = None
    email: str | None = None
    preferences: Preferences = field(default_factory=Preferences)

    def reachable(self, channel: str) -> bool:
        if channel == "inbox":
            return True
        if channel not in self.preferences.channels:
            return False
        if channel == "sms":
            return bool(self.phone) and not self.preferences.sms_opted_out
        return bool(self.email)


def channels_for(contact: Contact, unread_earlier: int) -> tuple[str, ...]:
    """Inbox always; then the first reachable push channel, plus one more per earlier offset left unread."""
    push = [c for c in contact.preferences.channels if contact.reachable(c)]
    return ("inbox", *push[: 1 + max(unread_earlier, 0)])


def parse_quiet_hours(text: str) -> tuple[time, time]:
    start, _, end = text.partition("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def quiet_until(local_now: datetime, quiet_hours: str) -> datetime | None:
    """When the quiet hours around `local_now` end (same tzinfo), or None when it is not quiet now."""
    start, end = parse_quiet_hours(quiet_hours)
    if start == end:
        return None  # an empty window: never quiet
    now = local_now.timetz().replace(tzinfo=None)
    today = local_now.date()
    if start < end:  # within one day, e.g. 12:00-14:00
        inside = start <= now < end
        ends = today
    else:  # across midnight, e.g. 22:00-08:00
        inside = now >= start or now < end
        ends = today + timedelta(days=1) if now >= start else today
    if not inside:
        return None
    return datetime.combine(ends, end, tzinfo=local_now.tzinfo)


def next_day_start(local_now: datetime, quiet_hours: str) -> datetime:
    """The first moment of the next local day that is outside quiet hours (for the daily cap)."""
    midnight = datetime.combine(local_now.date() + timedelta(days=1), time(0), tzinfo=local_now.tzinfo)
    return quiet_until(midnight, quiet_hours) or midnight


def backoff(attempt: int, base_s: float, cap_s: float = 6 * 3600) -> float:
    """Seconds before retry number `attempt` (1-based): base, 2 base, 4 base, ... capped."""
    return min(base_s * 2 ** (max(attempt, 1) - 1), cap_s)


@dataclass(frozen=True)
class Notice:
    nid: str
    dedupe_key: str
    kind: str
    channel: str
    status: str
    recipient_id: str
    subject_id: str
    service: str
    due_on: date
    offset_days: int
    aid: str | None = None  # the prefilled draft (reminders) or the application (cards, decisions)
    provider_id: str | None = None
    error_code: str | None = None
    attempts: int = 0
    created_at: datetime | None = None
    sent_at: datetime | None = None
    read_at: datetime | None = None
    not_before: datetime | None = None
    history: tuple[str, ...] = ()  # "status@ISO time[:detail]", oldest first
    transition_seq: int | None = None  # decisions: the decision's place in the application's history
