"""What a name and a free text may hold (rules/text_input.py), the one rule of every door."""

from __future__ import annotations

import pytest

from rules.masking import scrub
from rules.text_input import TextRefused, free_text, name_text, refusal

RARE = "\U00020bb7䶮㙟"  # 𠮷 (outside the BMP), 䶮 and 㙟 (CJK Extension A)


@pytest.mark.parametrize(("raw", "stored"), [
    ("安康市恒达建材有限公司", "安康市恒达建材有限公司"),
    ("  安康市\u200b恒达\ufeff建材\u00ad有限公司 ", "安康市恒达建材有限公司"),  # invisible characters removed
    ("安康市恒达建材\n有限公司", "安康市恒达建材有限公司"),  # a wrapped cell joins without a space
    ("Apple\r\n  Inc", "Apple Inc"),
    ("恒达\tLtd", "恒达 Ltd"),
    (f"安康市{RARE}商贸有限公司", f"安康市{RARE}商贸有限公司"),
    ("葛\U000e0100根", "葛\U000e0100根"),  # an ideographic variation selector is part of the character
    ("\ue000记商行", "\ue000记商行"),  # a private-use character an old system used for a rare one
    ("\U00031350氏", "\U00031350氏"),  # Extension H: newer than Python 3.11's tables, still kept
])
def test_names_are_normalised_where_the_result_is_what_was_shown(raw: str, stored: str) -> None:
    assert name_text(raw) == stored


@pytest.mark.parametrize(("raw", "named"), [
    ("安康市\u202e司公限有", "U+202E"), ("\u2066恒达\u2069", "U+2066"), ("恒达\u200f建材", "U+200F"),
    ("恒达\x00建材", "U+0000"), ("恒达\x07", "U+0007"), ("恒达\x85", "U+0085"), ("恒达\x7f", "U+007F"),
    ("恒达\ud800", "U+D800"), ("恒达\uffff", "U+FFFF"),
])
def test_names_with_controls_or_bidi_overrides_are_refused_naming_the_character(raw: str, named: str) -> None:
    assert named in (refusal(raw) or "")
    with pytest.raises(TextRefused, match=named.replace("+", r"\+")):
        name_text(raw)


def test_free_text_is_cleaned_and_keeps_its_lines() -> None:
    assert free_text("第一行\r\n第二\u202e行\x0b\t缩进\u200b，\r完") == "第一行\n第二行\t缩进，\n完"
    assert free_text(f"涉及{RARE}等字") == f"涉及{RARE}等字"
    assert refusal("普通的一句话\n第二行") is None


def test_an_id_number_split_by_invisible_characters_is_still_masked() -> None:
    assert scrub("身份证 6109021985\u200b05120035 电话 138\u200d00138000") == "身份证 610902********0035 电话 138****8000"


def test_every_format_character_of_this_python_is_handled() -> None:
    """The rule lists Unicode's format characters (Cf) as of Unicode 15.1; each one this Python knows
    is removed from free text and names (or, the bidi ones, refused in names)."""
    import sys
    import unicodedata

    from rules.text_input import BIDI_CONTROLS

    format_characters = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert len(format_characters) > 150
    assert free_text("甲" + "".join(format_characters) + "乙") == "甲乙"
    assert name_text("甲" + "".join(ch for ch in format_characters if ch not in BIDI_CONTROLS) + "乙") == "甲乙"
