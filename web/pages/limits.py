"""Rate limits of the pages (flask-limiter, counted in Redis so every web worker shares them), and how long a
refused visitor has to wait."""

from __future__ import annotations

import math
import time

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(get_remote_address, key_prefix="pages", headers_enabled=True, strategy="fixed-window")


def wait_seconds() -> int | None:
    """Seconds until the limit this request broke lets the next attempt through (its window's reset), or None
    outside a refusal. Read from the limiter itself: the Retry-After header is only added after the error page."""
    breached = limiter.current_limit
    if breached is None:
        return None
    return max(1, int(breached.reset_at - time.time()))  # as flask-limiter's own Retry-After counts it


def plain_wait(seconds: int) -> str:
    """"4 minutes" / "4分钟" in the visitor's language: whole minutes rounded up (so nobody is told to come back
    before the limit lets them in), seconds under a minute."""
    from datetime import timedelta

    from flask_babel import format_timedelta

    wait = timedelta(seconds=seconds) if seconds < 60 else timedelta(minutes=math.ceil(seconds / 60))
    return format_timedelta(wait, threshold=1, add_direction=False)
