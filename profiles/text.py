"""Free text as people and systems may send it: refused with an invisible or control character, kept NFC-normalised.

Control characters (a NUL) break pages and exports; format characters (bidi overrides, zero-width spaces) and line
separators let a text read differently from what it is, e.g. a purpose typed as `核查\u202e改篡` shows on the
citizen's access log as something else. Private-use characters stay: some registers encode rare Chinese characters
of names there.
"""

from __future__ import annotations

import unicodedata

# Cc control, Cf format (bidi embeddings/overrides/isolates/marks, zero-width, BOM, soft hyphen), Cs lone surrogates,
# Zl/Zp the line and paragraph separators U+2028/2029.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class RefusedText(ValueError):
    """The text holds a character that is not allowed; `reason` says which, in words an officer understands."""

    def __init__(self, char: str, position: int):
        self.char = char
        self.position = position
        self.code = f"U+{ord(char):04X}"
        self.reason = f"contains an invisible control character ({self.code})"
        super().__init__(self.reason)


def refused_character(ch: str, *, multiline: bool = False) -> bool:
    return unicodedata.category(ch) in REFUSED_CATEGORIES and not (multiline and ch == "\n")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """`value` NFC-normalised, or RefusedText naming its first refused character.

    Multiline text may hold line breaks: `\\n`, and `\\r\\n` which becomes `\\n`; a lone `\\r` is refused.
    """
    if multiline:
        value = value.replace("\r\n", "\n")
    for position, ch in enumerate(value):
        if refused_character(ch, multiline=multiline):
            raise RefusedText(ch, position)
    # Checked before normalising: NFC composes letters and marks and cannot bring a refused character in.
    return unicodedata.normalize("NFC", value)
