"""Identifiers: resident ID numbers and unified social credit codes normalise, validate and explain what is wrong."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from profiles.identifiers import (
    InvalidIdentifier,
    ResidentId,
    parse_resident_id,
    parse_uscc,
    region_ever_existed,
    region_name,
    resident_id_check_digit,
    uscc_check_digit,
)

TODAY = date(2025, 6, 1)
GUANGDONG = ["440103", "440104", "440106", "440305", "440603", "440604", "441900"]
CHECKSUM_REASON = "The check digit does not match the rest of the resident ID number."


def make_id(region: str, born: date, sequence: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_digit(first17)


def reason_for(text: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_resident_id(text, today)
    return caught.value.reason


VALID = make_id("440604", date(1990, 5, 17), 123)


def with_x_check_digit() -> str:
    """A valid number whose check digit is X (found by walking the sequence number)."""
    for sequence in range(1000):
        number = make_id("440604", date(1990, 5, 17), sequence)
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives an X check digit")


# --- resident ID: valid numbers and normalisation ---


def test_valid_number_is_parsed_into_its_parts():
    parsed = parse_resident_id(VALID, TODAY)
    assert parsed == ResidentId(number=VALID, birth_date=date(1990, 5, 17), sex="M", region="440604")


def test_sex_comes_from_the_17th_digit():
    assert parse_resident_id(make_id("440604", date(1990, 5, 17), 123), TODAY).sex == "M"
    assert parse_resident_id(make_id("440604", date(1990, 5, 17), 124), TODAY).sex == "F"
    assert parse_resident_id(make_id("440604", date(1990, 5, 17), 0), TODAY).sex == "F"


def test_lowercase_x_is_accepted_as_uppercase():
    number = with_x_check_digit()
    assert parse_resident_id(number[:-1] + "x", TODAY).number == number


def test_fullwidth_x_is_accepted():
    number = with_x_check_digit()
    assert parse_resident_id(number[:-1] + "Ｘ", TODAY).number == number


def test_inner_spaces_and_hyphens_are_removed():
    spaced = f" {VALID[:6]} {VALID[6:14]} {VALID[14:]} "
    hyphened = f"{VALID[:6]}-{VALID[6:14]}-{VALID[14:]}"
    assert parse_resident_id(spaced, TODAY).number == VALID
    assert parse_resident_id(hyphened, TODAY).number == VALID


def test_fullwidth_digits_are_accepted():
    fullwidth = VALID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert fullwidth != VALID
    assert parse_resident_id(fullwidth, TODAY).number == VALID


def test_published_example_numbers_have_the_right_check_digit():
    assert resident_id_check_digit("36042619910101007") == "1"  # stdnum's doctest number
    assert resident_id_check_digit("11010519491231002") == "X"  # GB 11643-1999 example
    assert resident_id_check_digit("44052418800101001") == "4"  # GB 11643-1999 example
    assert parse_resident_id("360426199101010071", TODAY).birth_date == date(1991, 1, 1)
    assert parse_resident_id("11010519491231002X", TODAY).sex == "F"


def test_check_digit_helper_rejects_wrong_input():
    for bad in ["1234567890123456", "123456789012345678", "1234567890123456A"]:
        with pytest.raises(InvalidIdentifier):
            resident_id_check_digit(bad)


# --- resident ID: rejections, each with its own reason ---


def test_fifteen_digit_legacy_number_is_rejected_with_its_reason():
    reason = reason_for("440604900517123")
    assert "1 January 2013" in reason and "18-digit" in reason


@pytest.mark.parametrize("text", [VALID[:17], VALID + "1", "", "44060419900517"])
def test_other_lengths_are_rejected(text):
    assert reason_for(text) == "A resident ID number must have 18 characters."


def test_letters_inside_the_first_17_are_rejected():
    assert reason_for(VALID[:10] + "A" + VALID[11:]) == (
        "The first 17 characters of a resident ID number must all be digits."
    )


def test_last_character_other_than_digit_or_x_is_rejected():
    assert reason_for(VALID[:17] + "A") == "The last character of a resident ID number must be a digit or X."


def test_wrong_check_digit_is_rejected_without_revealing_the_right_one():
    wrong = str((int(VALID[17]) + 1) % 10) if VALID[17] != "X" else "0"
    reason = reason_for(VALID[:17] + wrong)
    assert reason == CHECKSUM_REASON
    assert VALID[17] not in reason


def test_29_february_is_accepted_in_a_leap_year_and_rejected_otherwise():
    assert parse_resident_id(make_id("440604", date(2000, 2, 29), 1), TODAY).birth_date == date(2000, 2, 29)
    non_leap = "4406041999022900" + "1"
    assert reason_for(non_leap + resident_id_check_digit(non_leap)) == (
        "The birth date in the resident ID number is not a real calendar date."
    )


def test_30_february_is_rejected():
    first17 = "44060419990230001"
    assert reason_for(first17 + resident_id_check_digit(first17)) == (
        "The birth date in the resident ID number is not a real calendar date."
    )


def test_future_birth_date_is_rejected_but_today_is_accepted():
    assert parse_resident_id(make_id("440604", TODAY, 1), TODAY).birth_date == TODAY
    tomorrow = date(2025, 6, 2)
    assert reason_for(make_id("440604", tomorrow, 1)) == "The birth date in the resident ID number is in the future."


def test_birth_before_1900_is_rejected():
    assert parse_resident_id(make_id("440604", date(1900, 1, 1), 1), TODAY).birth_date == date(1900, 1, 1)
    assert reason_for(make_id("440604", date(1899, 12, 31), 1)) == (
        "The birth date in the resident ID number is before 1 January 1900."
    )
    assert reason_for("440524188001010014") == "The birth date in the resident ID number is before 1 January 1900."


@pytest.mark.parametrize("region", ["999999", "000000", "449999"])
def test_region_that_never_existed_is_rejected(region):
    assert reason_for(make_id(region, date(1990, 5, 17), 123)) == (
        "The region code at the start of the resident ID number never existed."
    )


def test_reasons_are_distinct_sentences():
    reasons = {
        reason_for("440604900517123"),
        reason_for(VALID[:17]),
        reason_for(VALID[:10] + "A" + VALID[11:]),
        reason_for(VALID[:17] + "A"),
        reason_for(VALID[:17] + ("0" if VALID[17] != "0" else "1")),
        reason_for("44060419990230001" + resident_id_check_digit("44060419990230001")),
        reason_for(make_id("440604", date(2030, 1, 1), 1)),
        reason_for(make_id("440604", date(1899, 1, 1), 1)),
        reason_for(make_id("999999", date(1990, 1, 1), 1)),
    }
    assert len(reasons) == 9
    assert all(r.endswith(".") and r[0].isupper() for r in reasons)


def test_invalid_identifier_is_a_value_error_carrying_the_reason():
    error = InvalidIdentifier("Something is wrong.")
    assert isinstance(error, ValueError)
    assert error.reason == "Something is wrong." and str(error) == "Something is wrong."


# --- regions ---


def test_abolished_district_is_accepted_for_someone_born_before_it_existed():
    # 440603 石湾区 existed 1984-2002; people born in 1975 received it when their number was assigned.
    number = make_id("440603", date(1975, 3, 8), 45)
    assert not ric.is_valid(number)  # stdnum demands a code in force in the birth year
    parsed = parse_resident_id(number, TODAY)
    assert parsed.region == "440603" and parsed.birth_date == date(1975, 3, 8)


def test_region_ever_existed_knows_counties_prefectures_and_provinces():
    assert region_ever_existed("440604")  # [2002-]禅城区
    assert region_ever_existed("440603")  # [1984-2002]石湾区
    assert region_ever_existed("440600")  # prefecture 佛山市
    assert region_ever_existed("440000")  # province 广东省
    for code in ["999999", "000000", "449999", "4406", "44060a", ""]:
        assert not region_ever_existed(code)


def test_region_name():
    assert region_name("440604") == "广东省 禅城区"
    assert region_name("440603") == "广东省 石湾区"
    assert region_name("440600") == "广东省 佛山市"
    assert region_name("440000") == "广东省"
    assert region_name("120110") == "天津市 东丽区"  # renamed from 东郊区 in 1992: the latest name wins
    assert region_name("999999") is None


# --- property: round trip, and the check digit catches every single-digit change ---
# ISO 7064 MOD 11-2 weights 2**k mod 11 are never 0 and a digit change is 1..9, never a multiple of the prime 11,
# so any single change in the first 17 digits changes the expected check digit. The check digit is verified before
# the date and region, so the reason is always the checksum one (verified exhaustively below for each example).


@given(
    region=st.sampled_from(GUANGDONG),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_round_trip_and_single_digit_changes_are_caught(region, born, sequence):
    number = make_id(region, born, sequence)
    parsed = parse_resident_id(number, TODAY)
    assert (parsed.number, parsed.birth_date, parsed.region) == (number, born, region)
    assert parsed.sex == ("M" if sequence % 2 else "F")
    for position in range(17):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1 :]
            assert reason_for(changed) == CHECKSUM_REASON


# --- unified social credit codes ---

USCC_FIRST17 = "91440604MA4W12345"
USCC = USCC_FIRST17 + uscc_check_digit(USCC_FIRST17)


def test_uscc_valid_and_published_example():
    assert parse_uscc(USCC) == USCC
    assert parse_uscc("91110000600037341L") == "91110000600037341L"  # stdnum's doctest code


def test_uscc_is_normalised():
    assert parse_uscc(USCC.lower()) == USCC
    assert parse_uscc(f" {USCC[:8]}-{USCC[8:]} ") == USCC
    assert parse_uscc(USCC.translate(str.maketrans("0123456789M", "０１２３４５６７８９Ｍ"))) == USCC


def uscc_reason(text: str) -> str:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_uscc(text)
    return caught.value.reason


def test_uscc_wrong_check_character():
    wrong = "0" if USCC[-1] != "0" else "1"
    assert uscc_reason(USCC[:17] + wrong) == (
        "The check character does not match the rest of the unified social credit code."
    )


@pytest.mark.parametrize("text", [USCC[:17], USCC + "1", ""])
def test_uscc_wrong_length(text):
    assert uscc_reason(text) == "A unified social credit code must have 18 characters."


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_uscc_illegal_letter(letter):
    text = USCC[:10] + letter + USCC[11:]
    assert "other than I, O, Z, S and V" in uscc_reason(text)


def test_uscc_letters_in_the_first_eight_are_rejected():
    assert "must start with 8 digits" in uscc_reason("A1110000600037341L")


def test_uscc_reasons_are_distinct():
    reasons = {uscc_reason(USCC[:17]), uscc_reason(USCC[:10] + "I" + USCC[11:]), uscc_reason(USCC[:17] + "0")}
    assert len(reasons) == 3


def test_uscc_check_digit_helper_rejects_wrong_input():
    for bad in ["91440604MA4W1234", "91440604MA4W1234I", "91440604MA4W123456"]:
        with pytest.raises(InvalidIdentifier):
            uscc_check_digit(bad)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=24) | st.text(max_size=24))
def test_the_plain_ascii_shortcut_normalises_exactly_as_the_full_folding(text):
    import unicodedata

    from stdnum.util import clean

    from profiles.identifiers import _normalise

    assert _normalise(text) == clean(unicodedata.normalize("NFKC", text), " -").strip().upper()
