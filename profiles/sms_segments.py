"""SMS length arithmetic: the encoding a text needs (GSM 03.38 or UCS-2), its length and how many parts it takes."""

from __future__ import annotations

from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet. ESC (0x1B) is left out: it introduces the extension table and is not a character a
# text can carry. Only the capital Ç is in the table; a text with ç needs UCS-2 (some handsets would substitute).
_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as ESC + code, so each costs two septets and the pair may not be split across parts.
_EXTENSION = frozenset("^{}\\[~]|€\f")

_SINGLE = {"GSM-7": 160, "UCS-2": 70}
_PART = {"GSM-7": 153, "UCS-2": 67}  # the rest of each part is taken by the concatenation header (UDH)


def encoding(text: str) -> Encoding:
    """GSM-7 when every character is in the default alphabet or its extension table, else UCS-2."""
    return "GSM-7" if all(c in _BASIC or c in _EXTENSION for c in text) else "UCS-2"


def _units(text: str, enc: Encoding) -> list[int]:
    """The size of each character in the encoding's units; a character is never split across parts."""
    if enc == "GSM-7":
        return [2 if c in _EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]  # outside the BMP: a surrogate pair


def length(text: str) -> int:
    """Septets for a GSM-7 text, UTF-16 code units for a UCS-2 one."""
    return sum(_units(text, encoding(text)))


def segments(text: str) -> int:
    """How many parts the text is sent in: 0 for an empty text, 1 if it fits a single message, else packed greedily."""
    if not text:
        return 0
    enc = encoding(text)
    units = _units(text, enc)
    if sum(units) <= _SINGLE[enc]:
        return 1
    limit = _PART[enc]
    parts, used = 1, 0
    for size in units:
        if used + size > limit:  # an escape or a surrogate pair that does not fit whole starts the next part
            parts, used = parts + 1, 0
        used += size
    return parts
