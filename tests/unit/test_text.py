"""Free text: invisible and control characters refused with the character named, the rest kept NFC-normalised; and
every request schema of the API takes its strings through that check."""

from __future__ import annotations

import inspect
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from profiles.text import REFUSED_CATEGORIES, RefusedText, clean_text
from web.api import notify_schemas, schemas

REFUSED = [
    ("\x00", "U+0000"), ("\x07", "U+0007"), ("\t", "U+0009"), ("\r", "U+000D"), ("\n", "U+000A"), ("\x7f", "U+007F"),
    ("\x85", "U+0085"),  # C1 next line
    ("\u202a", "U+202A"), ("\u202d", "U+202D"), ("\u202e", "U+202E"),  # bidi embeddings and overrides
    ("\u2066", "U+2066"), ("\u2069", "U+2069"),  # bidi isolates
    ("\u200e", "U+200E"), ("\u200f", "U+200F"), ("\u061c", "U+061C"),  # bidi marks
    ("\u200b", "U+200B"), ("\u200c", "U+200C"), ("\u200d", "U+200D"), ("\u2060", "U+2060"), ("\ufeff", "U+FEFF"),
    ("\u00ad", "U+00AD"),  # soft hyphen
    ("\U000e0041", "U+E0041"),  # a tag character
    ("\ud800", "U+D800"), ("\udfff", "U+DFFF"),  # lone surrogates
    ("\u2028", "U+2028"), ("\u2029", "U+2029"),
]


@pytest.mark.parametrize(("char", "code"), REFUSED, ids=[c for _, c in REFUSED])
def test_a_refused_character_is_named_wherever_it_is(char, code):
    for text in (f"核查{char}改篡", char, f"{char}abc", f"abc{char}"):
        with pytest.raises(RefusedText) as refused:
            clean_text(text)
        assert refused.value.code == code and refused.value.char == char
        assert refused.value.reason == f"contains an invisible control character ({code})"
        assert isinstance(refused.value, ValueError)


def test_the_first_refused_character_is_the_one_named():
    with pytest.raises(RefusedText) as refused:
        clean_text("a\u200bb\x00")
    assert (refused.value.code, refused.value.position) == ("U+200B", 1)


@pytest.mark.parametrize("text", ["张三", "阿依古丽·买买提", "O'Brien", "广东省佛山市禅城区祖庙路1号", "Ünïcödé",
                                  "\ue000\U000f0000", "全角　空格", "emoji 🎉", "", "a - b / c (d)"])
def test_ordinary_text_and_private_use_characters_are_kept(text):
    assert clean_text(text) == text


def test_text_is_normalised_to_nfc():
    assert clean_text("Cafe\u0301") == "Café"
    assert clean_text("\u212b") == "\u00c5"  # the ångström sign becomes the letter


def test_multiline_text_keeps_line_feeds_and_turns_crlf_into_them():
    assert clean_text("第一行\n第二行\r\n第三行", multiline=True) == "第一行\n第二行\n第三行"
    with pytest.raises(RefusedText, match="U\\+000A"):
        clean_text("a\nb")
    for char in ("\r", "\t", "\x00", "\u2028", "\u202e"):
        with pytest.raises(RefusedText):
            clean_text(f"a{char}b", multiline=True)


def refused(ch: str) -> bool:
    return unicodedata.category(ch) in REFUSED_CATEGORIES


# Any character, with the refused ones, line breaks and decomposed letters made common enough to meet.
ANY_TEXT = st.lists(st.one_of(st.characters(exclude_categories=()), st.sampled_from([c for c, _ in REFUSED]),
                              st.sampled_from(["\r\n", "e\u0301", "\ue000"]))).map("".join)


@given(ANY_TEXT, st.booleans())
def test_the_output_never_holds_a_refused_character(text, multiline):
    try:
        out = clean_text(text, multiline=multiline)
    except RefusedText as exc:
        assert refused(exc.char) and exc.char in text
        return
    assert not any(refused(ch) and not (multiline and ch == "\n") for ch in out)
    assert out == unicodedata.normalize("NFC", out)


@given(st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_clean_text_comes_back_unchanged(text):
    clean = unicodedata.normalize("NFC", text)
    assert clean_text(clean) == clean
    assert clean_text(clean_text(text)) == clean_text(text)


# --- the API's request schemas --------------------------------------------------------------------------------
def request_schemas() -> list[type[Schema]]:
    found = {obj for module in (schemas, notify_schemas) for obj in vars(module).values()
             if inspect.isclass(obj) and issubclass(obj, schemas.Strict) and obj is not schemas.Strict}
    return sorted(found, key=lambda cls: cls.__name__)


def leaves(field: fields.Field):
    if isinstance(field, fields.List):
        yield from leaves(field.inner)
    elif isinstance(field, fields.Nested):
        for inner in field.schema.fields.values():
            yield from leaves(inner)
    else:
        yield field


def test_every_string_a_request_schema_takes_is_checked_free_text():
    """So a field added later cannot forget the check: plain String or Dict fields are not allowed in requests."""
    assert len(request_schemas()) >= 10
    for cls in request_schemas():
        for name, field in cls().fields.items():
            for leaf in leaves(field):
                if isinstance(leaf, fields.String):
                    assert isinstance(leaf, schemas.Text), f"{cls.__name__}.{name} is a String, not a Text"
                assert not isinstance(leaf, fields.Dict) or isinstance(leaf, schemas.FreeForm), \
                    f"{cls.__name__}.{name} is a Dict, not a FreeForm"


MATERIAL = {"kind": "passport", "number": "E1", "issued_on": "2020-01-01", "expires_on": "2030-01-01",
            "issuer": "出入境管理局", "provenance": "issued"}


@pytest.mark.parametrize(("change", "where"), [
    ({"issuer": "局\x00"}, {"issuer": ["contains an invisible control character (U+0000)"]}),
    ({"fields": {"address": "祖庙路\x07"}}, {"fields": {"address": ["contains an invisible control character "
                                                                      "(U+0007)"]}}),
    ({"fields": {"addr\u200bess": "祖庙路"}}, {"fields": ["a key contains an invisible control character "
                                                           "(U+200B)"]}),
])
def test_the_schemas_name_the_field_and_the_key(change, where):
    with pytest.raises(ValidationError) as refused:
        schemas.MaterialIn().load({**MATERIAL, **change})
    assert refused.value.messages == where


def test_the_schemas_load_nfc_text_and_multiline_only_where_said():
    loaded = schemas.MaterialIn().load({**MATERIAL, "issuer": "Cafe\u0301",
                                        "fields": {"note\u0301": "a\r\nb", "n": 3, "ok": True, "none": None}})
    assert loaded["issuer"] == "Café" and loaded["fields_"] == {"noté": "a\nb", "n": 3, "ok": True, "none": None}
    assert schemas.DecisionIn().load({"outcome": "approved", "note": "一\r\n二"})["note"] == "一\n二"
    with pytest.raises(ValidationError, match="U\\+000A"):
        schemas.MaterialIn().load({**MATERIAL, "issuer": "a\nb"})
    with pytest.raises(ValidationError, match="twice"):
        schemas.EventIn().load({"kind": "birth", "occurred_on": "2020-01-01", "details": {"é": 1, "e\u0301": 2}})
