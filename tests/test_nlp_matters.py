"""The matter an official names in free text."""

from __future__ import annotations

import pytest

from nlp.matters import matter_from_text


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("政府采购", "procurement"),
        ("采购", "procurement"),
        ("我要办理政府采购项目", "procurement"),
        ("评优评先", "award"),
        ("评优", "award"),
        ("表彰", "award"),
        ("项目审批", "project"),
        ("招投标", "tender"),
        ("财政补贴", "subsidy"),
        ("人员录用", "hiring"),
        ("土地出让", "land"),
        ("行政许可审批", "license"),
        ("其他事项", "other"),
        ("procurement", "procurement"),
        ("土地/矿产出让", "land"),
    ],
)
def test_matter_from_text(text: str, key: str) -> None:
    assert matter_from_text(text) == key


def test_matter_from_text_unknown() -> None:
    assert matter_from_text("吃饭") is None
    assert matter_from_text("") is None
