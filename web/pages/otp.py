"""Login codes by SMS: issued through the notifier's SMS client, kept in Redis as a keyed digest, single-use,
expiring, thrown away after too many wrong tries."""

from __future__ import annotations

import structlog
from flask import current_app
from flask_babel import gettext as _

from notifier.sms import SmsError
from profiles.otp import MAX_ATTEMPTS, digest, matches, new_code
from profiles.privacy import mask_phone

log = structlog.get_logger(__name__)
_PREFIX = "pages:otp:"


def _key() -> bytes:
    return current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key


def send(login: str, phone: str) -> bool:
    """Send a new code for `login` (e.g. "citizen:<pid>") to `phone`; an older code stops working. False if the
    SMS provider refused or did not answer."""
    services = current_app.extensions["lifecycle"]
    code = new_code()
    ttl = services.settings.otp_ttl_s
    text = _("[%(sender)s] Your sign-in code is %(code)s. It is valid for %(minutes)d minutes; never tell it to "
             "anyone, staff included.", sender=services.settings.sms_sender, code=code, minutes=ttl // 60)
    services.redis.hset(_PREFIX + login, mapping={"digest": digest(_key(), login, code), "attempts": 0})
    services.redis.expire(_PREFIX + login, ttl)
    try:
        services.sms.send(phone, text)
    except SmsError as exc:
        services.redis.delete(_PREFIX + login)
        log.warning("login_code_not_sent", to=mask_phone(phone), code=exc.code)
        return False
    log.info("login_code_sent", login=login.split(":")[0], to=mask_phone(phone))
    return True


def check(login: str, code: str) -> bool:
    """True once for the right code within its time; a wrong one counts against MAX_ATTEMPTS."""
    redis = current_app.extensions["lifecycle"].redis
    stored = redis.hget(_PREFIX + login, "digest")
    if stored is None:
        return False
    if matches(_key(), login, code, stored.decode()):
        return redis.delete(_PREFIX + login) == 1  # two requests with the same code: only one gets the 1
    if redis.hincrby(_PREFIX + login, "attempts", 1) >= MAX_ATTEMPTS:
        redis.delete(_PREFIX + login)
    return False
