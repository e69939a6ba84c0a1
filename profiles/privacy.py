"""Privacy: field encryption (AES-256-GCM, versioned keys), the blind index for lookups, and display masking."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
TOKEN_PREFIX = "enc1"

_KEY_ID = re.compile(r"[A-Za-z0-9]+")
_KIND = re.compile(r"[A-Za-z0-9_]+")


class DecryptionError(ValueError):
    """A token cannot be read: wrong key, tampered ciphertext, wrong context, unknown key id or malformed token.

    The message names the key id and context, never the plaintext.
    """


def _check_key(key: object, what: str) -> bytes:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"{what} must be {KEY_BYTES} raw bytes")
    return key


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: only the canonical unpadded urlsafe form we write is accepted, so one token has one spelling."""
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("token body is not valid base64url") from None
    if _b64encode(raw) != text:
        raise DecryptionError("token body is not canonical base64url")
    return raw


def _associated_data(key_id: str, context: str) -> bytes:
    # Binding the key id and context into the tag means a ciphertext copied into another field, or relabelled with
    # another key id, fails authentication. Key ids cannot contain "|", so the encoding is unambiguous.
    return b"enc1|" + key_id.encode("ascii") + b"|" + context.encode("utf-8")


def _check_context(context: str) -> None:
    if not context:
        raise ValueError("context must name the field, e.g. 'person.phone'")


class FieldCipher:
    """AES-256-GCM field encryption with versioned keys; the key id travels with the ciphertext.

    Tokens look like `enc1:<key_id>:<base64url(nonce + ciphertext + tag)>`. New data is encrypted under `active`;
    any key in `keys` can still decrypt, which is what makes rotation possible without a flag day.
    """

    def __init__(self, keys: Mapping[str, bytes], active: str):
        if active not in keys:
            raise ValueError(f"active key id {active!r} is not among the keys")
        self._aead: dict[str, AESGCM] = {}
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"key id {key_id!r} must be alphanumeric")
            self._aead[key_id] = AESGCM(_check_key(key, f"key {key_id!r}"))
        self.active = active

    def encrypt(self, plaintext: str, *, context: str) -> str:
        _check_context(context)
        nonce = os.urandom(NONCE_BYTES)  # random per call: equal plaintexts give unequal tokens
        aad = _associated_data(self.active, context)
        sealed = self._aead[self.active].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{TOKEN_PREFIX}:{self.active}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str) -> str:
        _check_context(context)
        key_id = self.key_id(token)
        aead = self._aead.get(key_id)
        if aead is None:
            raise DecryptionError(f"unknown key id {key_id!r}")
        raw = _b64decode(token.split(":")[2])
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("token body is too short")
        try:
            plain = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(key_id, context))
        except InvalidTag:
            raise DecryptionError(
                f"token under key {key_id!r} does not authenticate in context {context!r}: "
                "wrong key, wrong context or tampered"
            ) from None
        return plain.decode("utf-8")

    @staticmethod
    def key_id(token: str) -> str:
        """Which key encrypted the token, read from its header without decrypting."""
        parts = token.split(":") if isinstance(token, str) else []
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise DecryptionError(f"not an {TOKEN_PREFIX} token (expected {TOKEN_PREFIX}:<key id>:<data>)")
        if not _KEY_ID.fullmatch(parts[1]):
            raise DecryptionError("token key id is not alphanumeric")
        return parts[1]

    def needs_rotation(self, token: str) -> bool:
        return self.key_id(token) != self.active

    def rotate(self, token: str, *, context: str) -> str:
        """Re-encrypt under the active key; a token already under it is returned unchanged (not even decrypted)."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token, context=context), context=context)

    def encrypt_optional(self, plaintext: str | None, *, context: str) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext, context=context)

    def decrypt_optional(self, token: str | None, *, context: str) -> str | None:
        return None if token is None else self.decrypt(token, context=context)


class BlindIndex:
    """Keyed HMAC-SHA256 for equality lookup and uniqueness without storing the value.

    Deterministic by design (that is what makes lookup work), so callers normalise values first (e.g. upper-case
    the trailing 'x' of an ID number). `kind` is domain-separated: one value under two kinds gives unrelated digests,
    so an index of phones cannot be joined against an index of ID numbers.
    """

    def __init__(self, key: bytes):
        self._key = _check_key(key, "blind-index key")

    def __call__(self, kind: str, value: str) -> str:
        if not _KIND.fullmatch(kind):
            raise ValueError(f"kind {kind!r} must be letters, digits and underscores")
        message = b"bidx1|" + kind.encode("ascii") + b"|" + value.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def mask_text(value: str, keep_start: int = 1, keep_end: int = 0) -> str:
    """Replace the middle of `value` with one '*' per character; if nothing would be hidden, hide everything."""
    if keep_start < 0 or keep_end < 0:
        raise ValueError("keep_start and keep_end must not be negative")
    if keep_start + keep_end >= len(value):
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


def mask_id_number(number: str) -> str:
    """'440604199001011234' -> '440604**********34': region code and check digits stay, the birth date never shows.

    The 18-character format is an API contract. Anything else keeps at most the first 2 and last 1 characters.
    """
    if len(number) == 18:
        return number[:6] + "*" * 10 + number[-2:]
    return mask_text(number, 2, 1)


def mask_birth_certificate_number(number: str) -> str:
    """'Q440123456' -> 'Q4******56': as every material number is shown (two characters kept at each end), so the
    number the newborn was put on file by and its certificate on file look alike on every page."""
    return mask_text(number, 2, 2)


def mask_phone(phone: str) -> str:
    """'13812345678' -> '138****5678', '+8613812345678' -> '+86 138****5678'.

    Separators are dropped. Only +86 is split off as a country prefix (other country codes vary in length, so
    another '+' number keeps its '+' and is masked as a whole). 11+ digits keep the first 3 and last 4; 7-10 digits
    keep only the last 4, since 3 + 4 would leave almost nothing hidden; fewer than 7 keep the last 2.
    """
    digits = "".join(c for c in phone if c in "0123456789")
    if not digits:
        return mask_text(phone)
    prefix = ""
    if phone.lstrip().startswith("+"):
        prefix = "+"
        if digits.startswith("86"):
            prefix, digits = "+86 ", digits[2:]
    if len(digits) >= 11:
        return prefix + mask_text(digits, 3, 4)
    if len(digits) >= 7:
        return prefix + mask_text(digits, 0, 4)
    return prefix + mask_text(digits, 0, 2)


def mask_email(email: str) -> str:
    """'zhang.san@example.com' -> 'z********@example.com': the first character, at most 8 stars, the domain.

    The star cap keeps long local parts from giving away their length. Without an '@' it is masked as plain text.
    """
    local, at, domain = email.rpartition("@")
    if not at:
        return mask_text(email)
    return mask_text(local, 1)[:9] + "@" + domain
