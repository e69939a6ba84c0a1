"""SMS length arithmetic at the exact boundaries where one more character costs another part."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.sms_segments import encoding, length, segments

HAN = "办"  # any Chinese character: forces UCS-2, one code unit
EMOJI = "😀"  # outside the BMP: two code units, a surrogate pair


@pytest.mark.parametrize(("text", "expected"), [
    ("", "GSM-7"),
    ("Hello, world! @£$¥ èéùìò Ç ÄÖÑÜ §¿¡ à", "GSM-7"),
    ("line\nbreak\r", "GSM-7"),
    ("^{}\\[~]|€\f", "GSM-7"),
    ("您好", "UCS-2"),
    ("ç", "UCS-2"),  # only the capital is in GSM 03.38
    ("`", "UCS-2"),
    ("\x1b", "UCS-2"),
    ("curly “quotes”", "UCS-2"),
    ("a" + EMOJI, "UCS-2"),
])
def test_encoding(text, expected):
    assert encoding(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("", 0),
    ("abc", 3),
    ("€", 2),
    ("a[b]c", 7),
    ("\f", 2),
    ("您好", 2),
    ("€办", 2),  # in UCS-2 the euro sign is one code unit like any other
    (EMOJI, 2),
    ("办" + EMOJI + "a", 4),
])
def test_length(text, expected):
    assert length(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("", 0),
    ("a", 1),
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("a" * 459, 3),
    ("a" * 460, 4),
    ("€" * 80, 1),  # 160 septets
    ("€" * 80 + "a", 2),
    (HAN, 1),
    (HAN * 70, 1),
    (HAN * 71, 2),
    (HAN * 134, 2),
    (HAN * 135, 3),
    (HAN * 201, 3),
    (HAN * 202, 4),
    (EMOJI * 35, 1),  # 70 code units
    (EMOJI * 35 + "a", 2),
])
def test_segments_at_the_boundaries(text, expected):
    assert segments(text) == expected


def test_an_escape_is_not_split_across_parts():
    # 152 septets, then a two-septet € that cannot straddle the part boundary: it opens part 2.
    assert segments("a" * 152 + "€" + "a" * 151) == 2  # 152 | 2 + 151 = 153
    assert segments("a" * 152 + "€" + "a" * 152) == 3  # 152 | 153 | 1
    # Had the escape been split, 306 septets would have fitted in two parts.
    assert length("a" * 152 + "€" + "a" * 152) == 306
    # The same € one character earlier fits whole in part 1.
    assert segments("a" * 151 + "€" + "a" * 153) == 2  # 153 | 153


def test_a_surrogate_pair_is_not_split_across_parts():
    assert segments(HAN * 66 + EMOJI + HAN * 65) == 2  # 66 | 2 + 65 = 67
    assert segments(HAN * 66 + EMOJI + HAN * 66) == 3  # 66 | 67 | 1
    assert length(HAN * 66 + EMOJI + HAN * 66) == 134
    assert segments(HAN * 65 + EMOJI + HAN * 67) == 2  # 67 | 67


def test_one_chinese_character_turns_a_gsm_text_into_ucs2():
    assert segments("a" * 70) == 1
    assert segments("a" * 70 + HAN) == 2
    assert segments("a" * 134 + HAN) == 3


_ALPHABET = st.sampled_from([*"aZ0 @€[^\f\n", HAN, "é", "ç", EMOJI])


@given(st.text(alphabet=_ALPHABET, max_size=400), st.text(alphabet=_ALPHABET, min_size=1, max_size=60))
def test_segments_never_decrease_when_the_text_grows(text, more):
    assert segments(text + more) >= segments(text) >= (1 if text else 0)
