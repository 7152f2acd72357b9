"""Verification codes and numbers as people type them; what the QR code carries."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from rules.verification import (
    ALPHABET,
    CODE_LENGTH,
    code_digest,
    display_code,
    new_code,
    normalize_code,
    normalize_number,
    qr_payload,
)


def test_codes_are_random_from_an_alphabet_without_look_alikes() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("0O1IL5S2Z") & set(ALPHABET)


def test_a_code_typed_every_which_way_is_the_same_code() -> None:
    code = "K7QH3MXA94RT"
    assert display_code(code) == "K7QH-3MXA-94RT"
    for typed in ("K7QH-3MXA-94RT", "k7qh 3mxa 94rt", "Ｋ７ＱＨ－３ＭＸＡ－９４ＲＴ", " K7QH3MXA94RT\n", "k7qh—3mxa—94rt"):
        assert normalize_code(typed) == code, typed
    for wrong in ("K7QH-3MXA-94R", "K7QH-3MXA-94RTX", "K7QH-3MXA-94R0", "", "安信报"):
        assert normalize_code(wrong) is None, wrong


def test_document_numbers_with_any_brackets() -> None:
    issued = "安信报〔2026〕000001号"
    for typed in (issued, "安信报[2026]000001号", "安信报（2026）000001号", "安信报【2026】000001号", "安信报 (2026) 000001号"):
        assert normalize_number(typed) == issued, typed


def test_the_digest_binds_code_to_number() -> None:
    assert code_digest("安信报〔2026〕000001号", "K7QH3MXA94RT") != code_digest("安信报〔2026〕000002号", "K7QH3MXA94RT")
    assert len(code_digest("a", "b")) == 64


def test_qr_payload_is_a_link_when_the_platform_is_online_else_the_chat_command() -> None:
    number, code = "安信报〔2026〕000001号", "K7QH3MXA94RT"
    assert qr_payload(number, code) == "/checkreport 安信报〔2026〕000001号 K7QH-3MXA-94RT"
    link = urlsplit(qr_payload(number, code, "https://credit.ankang.example/"))
    assert (link.scheme, link.netloc, link.path) == ("https", "credit.ankang.example", "/verify")
    assert parse_qs(link.query) == {"number": [number], "code": [code]}


def test_number_loses_control_characters_and_stays_bounded() -> None:
    from rules.verification import normalize_number

    assert normalize_number("安信报\x00〔2026〕000001号") == "安信报〔2026〕000001号"
    assert "\x00" not in normalize_number("\x00\x01abc") and len(normalize_number("号" * 500)) == 64
