"""Privacy: tokens round-trip and fail closed, keys rotate, the blind index separates kinds, masks hide enough."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.privacy import (
    BlindIndex,
    DecryptionError,
    FieldCipher,
    mask_email,
    mask_id_number,
    mask_phone,
    mask_text,
)

K1 = b"1" * 32
K2 = b"2" * 32
CTX = "person.phone"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher({"k1": K1}, active="k1")


def body(token: str) -> bytes:
    data = token.split(":")[2]
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def with_body(token: str, raw: bytes) -> str:
    prefix, key_id, _ = token.split(":")
    return f"{prefix}:{key_id}:{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"


# --- FieldCipher: round trip and token format ---


@pytest.mark.parametrize("text", ["13812345678", "张三", "", "x" * 10_240, "混合 text 与符号 ✓\n" * 500])
def test_round_trip(cipher: FieldCipher, text: str) -> None:
    assert cipher.decrypt(cipher.encrypt(text, context=CTX), context=CTX) == text


def test_token_format(cipher: FieldCipher) -> None:
    token = cipher.encrypt("张三", context=CTX)
    assert token.startswith("enc1:k1:")
    assert "=" not in token and len(token.split(":")) == 3
    assert len(body(token)) == 12 + len("张三".encode()) + 16  # nonce + ciphertext + tag
    assert FieldCipher.key_id(token) == "k1"


def test_same_plaintext_encrypts_differently_each_time(cipher: FieldCipher) -> None:
    tokens = {cipher.encrypt("440604199001011234", context=CTX) for _ in range(20)}
    assert len(tokens) == 20
    assert {cipher.decrypt(t, context=CTX) for t in tokens} == {"440604199001011234"}


def test_optional_helpers_keep_none(cipher: FieldCipher) -> None:
    assert cipher.encrypt_optional(None, context=CTX) is None
    assert cipher.decrypt_optional(None, context=CTX) is None
    token = cipher.encrypt_optional("张三", context=CTX)
    assert token is not None and token.startswith("enc1:")
    assert cipher.decrypt_optional(token, context=CTX) == "张三"


# --- FieldCipher: failures ---


def test_decryption_error_is_a_value_error() -> None:
    assert issubclass(DecryptionError, ValueError)


def test_wrong_context_fails(cipher: FieldCipher) -> None:
    token = cipher.encrypt("13812345678", context="person.phone")
    with pytest.raises(DecryptionError, match=r"person\.email"):
        cipher.decrypt(token, context="person.email")


def test_relabelled_key_id_fails_even_with_the_same_key_material() -> None:
    cipher = FieldCipher({"k1": K1, "k2": K1}, active="k1")
    token = cipher.encrypt("张三", context=CTX)
    with pytest.raises(DecryptionError):
        cipher.decrypt(token.replace("enc1:k1:", "enc1:k2:"), context=CTX)


def test_wrong_key_fails() -> None:
    token = FieldCipher({"k1": K1}, active="k1").encrypt("张三", context=CTX)
    with pytest.raises(DecryptionError):
        FieldCipher({"k1": K2}, active="k1").decrypt(token, context=CTX)


@pytest.mark.parametrize("position", [0, 11, 12, 14, -17, -1])  # nonce, ciphertext, tag
def test_flipped_byte_fails(cipher: FieldCipher, position: int) -> None:
    token = cipher.encrypt("zhang.san@example.com", context=CTX)
    raw = bytearray(body(token))
    raw[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(with_body(token, bytes(raw)), context=CTX)


def test_truncated_body_fails(cipher: FieldCipher) -> None:
    token = cipher.encrypt("张三", context=CTX)
    with pytest.raises(DecryptionError):
        cipher.decrypt(with_body(token, body(token)[:-1]), context=CTX)


def test_unknown_key_id_fails_naming_it(cipher: FieldCipher) -> None:
    token = FieldCipher({"k9": K2}, active="k9").encrypt("张三", context=CTX)
    with pytest.raises(DecryptionError, match="k9"):
        cipher.decrypt(token, context=CTX)


MALFORMED = [
    "",
    "13812345678",  # plaintext, no prefix
    "enc1",
    "enc1:k1",  # too few segments
    "enc1:k1:AAAA:BBBB",  # too many segments
    "enc2:k1:" + "A" * 40,  # unknown format version
    "ENC1:k1:" + "A" * 40,
    "enc1::" + "A" * 40,  # empty key id
    "enc1:k-1:" + "A" * 40,  # key id not alphanumeric
    "enc1:k1:",  # empty body
    "enc1:k1:!!!!" + "A" * 40,  # not base64
    "enc1:k1:" + "A" * 39 + "=",  # padding is never written
    "enc1:k1:" + "A" * 38 + "+/",  # standard alphabet, not urlsafe
    "enc1:k1:A",  # impossible base64 length
    "enc1:k1:" + "A" * 20,  # decodes, but shorter than nonce + tag
]


@pytest.mark.parametrize("token", MALFORMED)
def test_malformed_tokens_fail(cipher: FieldCipher, token: str) -> None:
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, context=CTX)


@pytest.mark.parametrize("token", ["", "13812345678", "enc1:k1", "enc1:k1:a:b", "enc2:k1:AAAA", "enc1:k_1:AAAA"])
def test_key_id_of_malformed_token_fails(token: str) -> None:
    with pytest.raises(DecryptionError):
        FieldCipher.key_id(token)


@pytest.mark.parametrize(
    ("keys", "active"),
    [
        ({"k1": K1}, "k2"),  # active not among keys
        ({}, ""),
        ({"k1": b"short"}, "k1"),
        ({"k1": K1 + b"x"}, "k1"),
        ({"k1": "1" * 32}, "k1"),  # text, not bytes
        ({"k-1": K1}, "k-1"),  # id not alphanumeric
        ({"k1": K1, "": K2}, "k1"),
    ],
)
def test_bad_keys_are_rejected(keys: dict, active: str) -> None:
    with pytest.raises(ValueError):
        FieldCipher(keys, active=active)


def test_empty_context_is_rejected(cipher: FieldCipher) -> None:
    with pytest.raises(ValueError, match="context"):
        cipher.encrypt("张三", context="")


# --- FieldCipher: rotation ---


def test_rotation_from_k1_to_k2() -> None:
    old = FieldCipher({"k1": K1}, active="k1").encrypt("张三", context=CTX)
    both = FieldCipher({"k1": K1, "k2": K2}, active="k2")
    assert both.active == "k2"
    assert both.needs_rotation(old)

    new = both.rotate(old, context=CTX)
    assert FieldCipher.key_id(new) == "k2"
    assert both.decrypt(new, context=CTX) == "张三"
    assert not both.needs_rotation(new)
    assert FieldCipher({"k2": K2}, active="k2").decrypt(new, context=CTX) == "张三"


def test_rotate_keeps_the_context_binding() -> None:
    old = FieldCipher({"k1": K1}, active="k1").encrypt("张三", context=CTX)
    both = FieldCipher({"k1": K1, "k2": K2}, active="k2")
    with pytest.raises(DecryptionError):
        both.rotate(old, context="person.name")
    with pytest.raises(DecryptionError):
        both.decrypt(both.rotate(old, context=CTX), context="person.name")


def test_rotate_is_a_no_op_on_an_active_key_token() -> None:
    both = FieldCipher({"k1": K1, "k2": K2}, active="k2")
    token = both.encrypt("张三", context=CTX)
    assert not both.needs_rotation(token)
    assert both.rotate(token, context=CTX) is token


# --- BlindIndex ---


def test_blind_index_is_deterministic_hex_without_the_value() -> None:
    index = BlindIndex(b"i" * 32)
    digest = index("resident_id", "440604199001011234")
    assert digest == index("resident_id", "440604199001011234")
    assert len(digest) == 64 and int(digest, 16) >= 0 and digest == digest.lower()
    assert "440604199001011234" not in digest and "19900101" not in digest
    assert digest != index("resident_id", "440604199001011235")


def test_blind_index_separates_kinds_and_keys() -> None:
    index = BlindIndex(b"i" * 32)
    assert index("resident_id", "13812345678") != index("phone", "13812345678")
    assert index("resident_id", "13812345678") != BlindIndex(b"j" * 32)("resident_id", "13812345678")


def test_blind_index_has_no_kind_value_ambiguity() -> None:
    index = BlindIndex(b"i" * 32)
    assert index("a", "b_c") != index("a_b", "c")


@pytest.mark.parametrize("key", [b"", b"i" * 31, b"i" * 33, "i" * 32])
def test_blind_index_key_must_be_32_bytes(key: bytes) -> None:
    with pytest.raises(ValueError):
        BlindIndex(key)


@pytest.mark.parametrize("kind", ["", "resident id", "a|b", "类型"])
def test_blind_index_kind_must_be_a_plain_name(kind: str) -> None:
    with pytest.raises(ValueError):
        BlindIndex(b"i" * 32)(kind, "x")


# --- Masking ---


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("440604199001011234", "440604**********34"),
        ("44060419900101123X", "440604**********3X"),
        ("440604199001011212", "440604**********12"),
        ("440604900101123", "44************3"),  # 15-digit first-generation number
        ("1234", "12*4"),
        ("123", "***"),
        ("1", "*"),
        ("", ""),
    ],
)
def test_mask_id_number(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


@given(st.text(alphabet="0123456789X", min_size=18, max_size=18))
def test_masked_id_number_never_shows_digits_7_to_16(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == 18
    assert masked[:6] == number[:6] and masked[-2:] == number[-2:]
    assert masked[6:16] == "*" * 10
    assert number[6:16] not in masked and number[6:14] not in masked  # the birth date in particular


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86 138****5678"),
        ("+86 138-1234-5678", "+86 138****5678"),
        ("010-12345678", "010****5678"),  # landline with area code, 11 digits
        ("12345678", "****5678"),  # 7-10 digits: only the last 4
        ("1234567", "***4567"),
        ("123456", "****56"),  # short: all but the last 2
        ("12", "**"),
        ("+447911123456", "+447*****3456"),  # other countries masked as a whole
        ("n/a", "n**"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        # The brief's example reads 'z*******@example.com' (7 stars) but its rule -- one star per remaining
        # local-part character, at most 8 -- gives 8 for the 8 characters after 'z'. The rule is implemented.
        ("zhang.san@example.com", "z********@example.com"),
        ("li@example.com", "l*@example.com"),
        ("a@example.com", "*@example.com"),
        ("averyveryverylongname@example.com", "a********@example.com"),
        ("a@b@example.com", "a**@example.com"),
        ("not-an-email", "n***********"),
        ("", ""),
    ],
)
def test_mask_email(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("args", "masked"),
    [
        (("张三丰",), "张**"),
        (("张三丰", 0, 1), "**丰"),
        (("abcdef", 2, 2), "ab**ef"),
        (("abc", 2, 1), "***"),  # nothing would be hidden: hide everything
        (("abc", 0, 0), "***"),
        (("",), ""),
    ],
)
def test_mask_text(args: tuple, masked: str) -> None:
    assert mask_text(*args) == masked


def test_mask_text_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        mask_text("abc", -1)


# --- Properties ---


@given(st.text())
def test_encrypt_round_trips_and_never_shows_the_plaintext(text: str) -> None:
    cipher = FieldCipher({"k1": K1, "k2": K2}, active="k2")
    token = cipher.encrypt(text, context=CTX)
    assert cipher.decrypt(token, context=CTX) == text
    if len(text) >= 4:
        assert text not in token
