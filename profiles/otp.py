"""One-time login codes, pure: a six-digit code from the OS's CSPRNG and its keyed digest (only the digest is kept)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

DIGITS = 6
MAX_ATTEMPTS = 5  # wrong codes before the code is thrown away; the sender must ask for a new one


def new_code() -> str:
    return f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"


def digest(key: bytes, login: str, code: str) -> str:
    """Bound to the login it was sent for, so a code for one account never opens another."""
    return hmac.new(key, f"otp\x00{login}\x00{code}".encode(), hashlib.sha256).hexdigest()


def matches(key: bytes, login: str, code: str, stored: str) -> bool:
    code = code.strip()
    if len(code) != DIGITS or not code.isdigit():
        return False
    return hmac.compare_digest(digest(key, login, code), stored)
