"""Officer passwords: argon2id hashes (argon2-cffi), the rules a new password obeys, and re-hashing on login."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from profiles.errors import Rejected

MIN_LENGTH = 12
_HASHER = PasswordHasher()  # argon2id with the library's current (RFC 9106 low-memory) parameters
# Verified against when the user name is unknown, so an unknown name takes as long as a wrong password.
_DUMMY = _HASHER.hash("not-a-password-anyone-has")


def check_new(password: str) -> None:
    """Reject a password too short or too uniform to survive a guessing attack at the login rate limit."""
    if len(password) < MIN_LENGTH:
        raise Rejected("password", f"at least {MIN_LENGTH} characters")
    if len(set(password)) < 5:
        raise Rejected("password", "use at least 5 different characters")


def hash_password(password: str) -> str:
    check_new(password)
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True when `password` matches; an unknown user (stored None) costs the same time and fails."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)
