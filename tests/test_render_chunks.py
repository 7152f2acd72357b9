from __future__ import annotations

import pytest

from render.chunks import clip, split_message, utf8_bytes, utf16_units


def test_short_text_is_one_part() -> None:
    assert split_message("你好", 10) == ["你好"]
    assert split_message("", 10) == [""]


def test_splits_on_line_breaks_and_keeps_every_character() -> None:
    lines = [f"第{i}行：安康市恒达建材有限公司" for i in range(400)]
    text = "\n".join(lines)
    parts = split_message(text, 4096)
    assert len(parts) > 1
    assert all(utf16_units(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text  # nothing lost, nothing added, lines whole
    assert all(not p.startswith("\n") and not p.endswith("\n") for p in parts)


def test_one_overlong_line_is_cut_hard() -> None:
    parts = split_message("恒" * 10_000, 4096)
    assert [len(p) for p in parts] == [4096, 4096, 1808]


def test_emoji_count_two_units_for_telegram() -> None:
    parts = split_message("😀" * 3000, 4096)
    assert all(utf16_units(p) <= 4096 for p in parts) and len(parts[0]) == 2048


def test_bytes_measure_for_wecom() -> None:
    parts = split_message("信" * 1000, 2048, utf8_bytes)  # 3 bytes each
    assert [utf8_bytes(p) for p in parts] == [2046, 954]


def test_clip_marks_the_cut() -> None:
    assert clip("安康市恒达建材有限公司", 20) == "安康市恒达建材有限公司"
    assert clip("恒" * 100, 10) == "恒" * 9 + "…"


def test_bad_limit() -> None:
    with pytest.raises(ValueError):
        split_message("x", 0)
