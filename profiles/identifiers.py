"""Identifiers: parsing and validating resident ID numbers (居民身份证号码), unified social credit codes (USCC) and
medical birth certificate numbers (出生医学证明编号).

Pure functions, no I/O. Checksums, date and code tables come from python-stdnum; the product decisions are ours:

* Normalisation comes before validation, for both kinds: Unicode NFKC (full-width ０-９ and Ｘ become ASCII), then
  spaces and hyphens are removed anywhere (as stdnum's `clean` does), then the text is uppercased (final `x` -> `X`).
* 15-digit first-generation numbers are rejected: those cards stopped being valid on 1 January 2013.
* Resident ID checks run in this order: length, digits, check digit, birth date, region. The check digit comes
  before the date and region, so a mistyped digit is reported as a check-digit mismatch (ISO 7064 MOD 11-2 catches
  every single-digit change). The expected check digit is never revealed in a reason.
* Birth dates must be real calendar dates, not after `today` and not before 1 January 1900.
* Region: we do NOT use `stdnum.cn.ric.validate`, which demands a county code in force in the holder's birth year.
  Residents carry the code in force when the number was assigned, often years after birth and often since renamed
  or abolished (440603 石湾区 existed 1984-2002 and is carried by people born in 1975). A 6-digit prefix is valid if
  the 'cn/loc' table knows it for any period, at county, prefecture or province level.
* Birth certificate numbers: one capital letter (the print batch) and nine digits, as printed on the 出生医学证明
  (e.g. Q440123456); normalised like the others (full-width folded, spaces and hyphens removed, upper case). There
  is no check digit to verify.
* `InvalidIdentifier.reason` is one English sentence without the field name; the caller adds the field.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import clean, isdigits

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
USCC_ALPHABET = uscc._alphabet  # digits and uppercase letters except I, O, Z, S, V
BIRTH_CERTIFICATE = re.compile(r"[A-Z][0-9]{9}")


class InvalidIdentifier(ValueError):
    """reason: one English sentence naming what is wrong (no field name; the caller adds it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResidentId:
    number: str  # canonical 18 characters, digits + optional final 'X' (uppercase)
    birth_date: date
    sex: str  # "M" (odd 17th digit) or "F" (even)
    region: str  # first 6 digits (行政区划代码)


def _normalise(text: str) -> str:
    """Upper case, full-width forms folded (NFKC), spaces and dashes of any kind removed."""
    if text.isascii() and text.isalnum():  # nearly every number as typed or imported: nothing to fold or remove
        return text.upper()
    return clean(unicodedata.normalize("NFKC", text), " -").strip().upper()


@functools.lru_cache(maxsize=8192)
def _region_info(code: str) -> Mapping[str, str]:
    """Merged province/county properties for a 6-digit code; empty when the table does not know it.

    Cached: python-stdnum walks its table on every call (~170 µs, a quarter of the import command's time on the
    benchmark district), and there are only a few thousand codes."""
    if len(code) != 6 or not isdigits(code):
        return {}
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return MappingProxyType(info if "county" in info else {})  # shared by every caller: read-only


def region_ever_existed(code: str) -> bool:
    """True if the code was a county, prefecture or province code in any period the table covers."""
    return bool(_region_info(code))


def region_name(code: str) -> str | None:
    """'广东省 禅城区' style name, using the most recent name the code carried; None if the code never existed."""
    info = _region_info(code)
    if not info:
        return None
    county = info["county"].split(",")[-1].split("]")[-1]  # "[-1991]东郊区,[1992-]东丽区" -> "东丽区"
    province = info.get("province", "")
    return province if county == province else f"{province} {county}".strip()


def resident_id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check digit ('0'-'9' or 'X') for the first 17 digits of a resident ID number."""
    if len(first17) != 17 or not isdigits(first17):
        raise InvalidIdentifier("The first part of a resident ID number must be exactly 17 digits.")
    return ric.calc_check_digit(first17 + "0")  # stdnum expects the check digit position present and ignores it


def uscc_check_digit(first17: str) -> str:
    """Check character for the first 17 characters of a unified social credit code."""
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise InvalidIdentifier("The first part of a unified social credit code must be 17 allowed characters.")
    return uscc.calc_check_digit(first17)


def parse_resident_id(text: str, today: date) -> ResidentId:
    number = _normalise(text)
    if len(number) == 15 and isdigits(number):
        raise InvalidIdentifier(
            "First-generation 15-digit ID numbers stopped being valid on 1 January 2013; "
            "please give the 18-digit number."
        )
    if len(number) != 18:
        raise InvalidIdentifier("A resident ID number must have 18 characters.")
    if not isdigits(number[:17]):
        raise InvalidIdentifier("The first 17 characters of a resident ID number must all be digits.")
    if number[17] not in "0123456789X":
        raise InvalidIdentifier("The last character of a resident ID number must be a digit or X.")
    if number[17] != resident_id_check_digit(number[:17]):
        raise InvalidIdentifier("The check digit does not match the rest of the resident ID number.")
    try:
        birth_date = ric.get_birth_date(number)
    except InvalidComponent:
        raise InvalidIdentifier("The birth date in the resident ID number is not a real calendar date.") from None
    if birth_date > today:
        raise InvalidIdentifier("The birth date in the resident ID number is in the future.")
    if birth_date < EARLIEST_BIRTH_DATE:
        raise InvalidIdentifier("The birth date in the resident ID number is before 1 January 1900.")
    if not region_ever_existed(number[:6]):
        raise InvalidIdentifier("The region code at the start of the resident ID number never existed.")
    sex = "M" if int(number[16]) % 2 else "F"
    return ResidentId(number=number, birth_date=birth_date, sex=sex, region=number[:6])


def parse_uscc(text: str) -> str:
    """Canonical 18-character unified social credit code."""
    try:
        return uscc.validate(_normalise(text))
    except InvalidLength:
        raise InvalidIdentifier("A unified social credit code must have 18 characters.") from None
    except InvalidFormat:
        raise InvalidIdentifier(
            "A unified social credit code must start with 8 digits and use only digits and uppercase letters "
            "other than I, O, Z, S and V."
        ) from None
    except InvalidChecksum:
        raise InvalidIdentifier(
            "The check character does not match the rest of the unified social credit code."
        ) from None
    except InvalidComponent:
        raise InvalidIdentifier("A part of the unified social credit code is not valid.") from None
    except ValidationError:
        raise InvalidIdentifier("The unified social credit code is not in a recognised format.") from None


def parse_birth_certificate_number(text: str) -> str:
    """Canonical medical birth certificate number: one capital letter and nine digits (Q440123456)."""
    number = _normalise(text)
    if len(number) != 10:
        raise InvalidIdentifier("A medical birth certificate number must have 10 characters: a letter and nine digits.")
    if not BIRTH_CERTIFICATE.fullmatch(number):
        raise InvalidIdentifier("A medical birth certificate number is one letter followed by nine digits.")
    return number
