"""Provider status callbacks: Twilio's signature checked with its RequestValidator, then the notice moved forward.

Order-tolerant and idempotent by construction (graph.notices.provider_status only moves a notice up its rank): a
repeated callback, or `sent` arriving after `delivered`, changes nothing.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from twilio.request_validator import RequestValidator

from notifier.services import Services

log = structlog.get_logger(__name__)

STATUSES = {"sent": "sent", "delivered": "delivered", "undelivered": "undelivered", "failed": "undelivered"}


def signature_valid(services: Services, url: str, params: dict[str, str], signature: str) -> bool:
    """`url` is the address Twilio was given (PUBLIC_URL + path + query), not the one behind a proxy."""
    if not signature or not services.settings.twilio_auth_token:
        return False
    return RequestValidator(services.settings.twilio_auth_token).validate(url, params, signature)


def apply_status(services: Services, nid: str, params: dict[str, str], now: datetime) -> str:
    """Returns what happened: moved / ignored (already further on, or not ours) / unknown (a status we skip)."""
    status = STATUSES.get(params.get("MessageStatus", ""))
    sid = params.get("MessageSid", "")
    if status is None or not sid or not nid:
        return "unknown"  # queued, accepted, sending, ...: nothing to record
    moved = services.notices.provider_status(nid, sid, status, params.get("ErrorCode") or None, now)
    return "moved" if moved else "ignored"
