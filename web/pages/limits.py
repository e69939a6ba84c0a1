"""Rate limits of the pages (flask-limiter, counted in Redis so every web worker shares them)."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(get_remote_address, key_prefix="pages", headers_enabled=True, strategy="fixed-window")
