"""Sign-in codes by SMS for citizens and businesses: the pending sign-in kept in Redis, the job that finds the account
and sends its code, and the check of a typed code.

The request that asks for a code only stores the pending sign-in and queues `send_code`; it never looks the number
up. So its answer, its cookie and its time are the same whether the number is on file or not, and only the job
(after the answer) learns whether there is anyone to send a code to. Every count is kept per account — the parsed,
canonical identifier, not what was typed — so spelling a number another way buys no fresh tries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass

import structlog

from graph.subjects import ID_KIND
from notifier.sending import send_one_sms
from notifier.services import Services, current
from notifier.sms import SmsError
from notifier.throttle import Throttled
from profiles.errors import NotFound
from profiles.otp import MAX_ATTEMPTS, digest, matches, new_code
from profiles.privacy import mask_phone

log = structlog.get_logger(__name__)

PENDING = "pages:pending:"  # token -> the pending sign-in (no personal data: hashes and ids only)
CODE = "pages:otp:"  # account -> the code's keyed digest and whom it signs in
TRIES = "pages:otp-tries:"  # account -> wrong codes typed, across every code sent to it
TRIES_WINDOW_S = 30 * 60  # wrong tries are forgotten this long after the last one
QUEUE = "login"
TEXTS = {
    "zh_CN": "【{sender}】您的登录验证码为{code}，{minutes}分钟内有效。请勿告诉任何人，包括工作人员。",
    "en": "[{sender}] Your sign-in code is {code}. It is valid for {minutes} minutes; never tell it to anyone, "
          "staff included.",
}
_NO_DIGEST = "0" * 64  # compared against when there is no code, so a check costs the same either way


@dataclass(frozen=True)
class PendingSignIn:
    token: str
    kind: str  # citizen | business
    account: str  # "citizen:<blind index of the ID number>" | "business:<credit code>"
    next: str  # where to go after signing in (a path on this site, checked by the caller)
    lang: str  # the language of the SMS


def citizen_account(services: Services, id_number: str) -> str:
    """The account of a parsed, canonical ID number: its keyed blind index, never the number."""
    return "citizen:" + services.blind_index(ID_KIND, id_number)


def business_account(uscc: str) -> str:
    """The account of a parsed credit code (public, and stored in clear in the graph too)."""
    return "business:" + uscc


def begin(services: Services, kind: str, account: str, next_path: str, lang: str) -> PendingSignIn:
    """Store the pending sign-in and queue its code; the same two Redis writes for every account."""
    pending = PendingSignIn(secrets.token_urlsafe(32), kind, account, next_path, lang)
    record = asdict(pending)
    del record["token"]
    services.redis.set(PENDING + pending.token, json.dumps(record), ex=2 * services.settings.otp_ttl_s)
    services.queues[QUEUE].enqueue(send_code, pending.token, result_ttl=0, failure_ttl=3600,
                                   ttl=services.settings.otp_ttl_s)  # a code asked for long ago is not sent late
    return pending


def pending(services: Services, token: object) -> PendingSignIn | None:
    if not isinstance(token, str) or not token:
        return None
    raw = services.redis.get(PENDING + token)
    return PendingSignIn(token=token, **json.loads(raw)) if raw is not None else None


def tries_left(services: Services, account: str) -> int:
    return max(0, MAX_ATTEMPTS - int(services.redis.get(TRIES + account) or 0))


def send_code(token: str) -> None:
    """The job: find who the pending sign-in is for and text them a new code (an older one stops working).
    Nothing is sent for an unknown account, or one that has used up its wrong tries."""
    services = current()
    found = pending(services, token)
    if found is None or tries_left(services, found.account) == 0:
        return
    holder = _holder(services, found)
    if holder is None:
        return
    login, phone = holder
    code, ttl = new_code(), services.settings.otp_ttl_s
    key = CODE + found.account
    with services.redis.pipeline() as pipe:
        pipe.hset(key, mapping={"digest": digest(_key(services), found.account, code), "login": login})
        pipe.expire(key, ttl)
        pipe.execute()
    text = TEXTS.get(found.lang, TEXTS["zh_CN"]).format(sender=services.settings.sms_sender, code=code,
                                                        minutes=ttl // 60)
    try:
        send_one_sms(services, phone, text)
    except (SmsError, Throttled) as exc:
        services.redis.delete(key)
        log.warning("login_code_not_sent", to=mask_phone(phone), code=getattr(exc, "code", None) or str(exc))
        return
    log.info("login_code_sent", kind=found.kind, to=mask_phone(phone))


def check(services: Services, found: PendingSignIn, typed: str) -> str | None:
    """The login ("citizen:<pid>" or "business:<eid>:<pid>") for the right code, once; None otherwise. A wrong code
    counts against the account whatever code it was meant for; at MAX_ATTEMPTS the code is thrown away and none is
    accepted (or sent) until TRIES_WINDOW_S after the last wrong one."""
    redis, key = services.redis, CODE + found.account
    if tries_left(services, found.account) == 0:
        return None
    stored = redis.hgetall(key)
    right = matches(_key(services), found.account, typed, stored.get(b"digest", _NO_DIGEST.encode()).decode())
    if right and stored and redis.delete(key) == 1:  # two requests with the same code: only one gets the 1
        redis.delete(TRIES + found.account, PENDING + found.token)
        return stored[b"login"].decode()
    with redis.pipeline() as pipe:
        pipe.incr(TRIES + found.account)
        pipe.expire(TRIES + found.account, TRIES_WINDOW_S)
        tries, _ = pipe.execute()
    if tries >= MAX_ATTEMPTS:
        redis.delete(key)
    return None


def forget(services: Services, found: PendingSignIn) -> None:
    services.redis.delete(PENDING + found.token)


def _holder(services: Services, found: PendingSignIn) -> tuple[str, str] | None:
    """(login, phone) of whoever the code goes to, or None: a citizen's own mobile; for a business, the first
    legal representative with a mobile on file."""
    kind, _, identifier = found.account.partition(":")
    try:
        if kind == "citizen":
            person = services.subjects.find_person_by_index(identifier)
            return (f"citizen:{person.pid}", person.phone) if person.phone else None
        entity = services.subjects.find_entity(identifier)
        for pid in services.snapshots.load("Entity", entity.eid).legal_reps:
            rep = services.subjects.get_person(pid)
            if rep.phone:
                return f"business:{entity.eid}:{pid}", rep.phone
    except NotFound:
        pass
    return None


def _key(services: Services) -> bytes:
    """The codes' digest key, derived from the blind-index key (configured in every process, web and worker)."""
    return hmac.new(services.settings.index_key, b"login codes", hashlib.sha256).digest()
