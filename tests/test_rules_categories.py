from __future__ import annotations

import pytest

from rules.categories import (
    ABNORMAL_LIST,
    BLACKLIST,
    CATEGORIES,
    DOUBLE_PUBLICITY,
    NEGATIVE,
    SEVERITIES,
    normalize_category,
)


def test_category_set_matches_domain() -> None:
    assert len(CATEGORIES) == 15 == len(set(CATEGORIES))
    assert set(CATEGORIES) >= DOUBLE_PUBLICITY
    assert set(CATEGORIES) >= NEGATIVE
    assert {BLACKLIST, ABNORMAL_LIST} <= NEGATIVE
    assert "行政许可" not in NEGATIVE
    assert SEVERITIES == ("轻微", "一般", "严重")


@pytest.mark.parametrize("name", CATEGORIES)
def test_canonical_names_map_to_themselves(name: str) -> None:
    assert normalize_category(name) == name


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("黑名单", "严重失信主体名单"),
        ("失信名单", "严重失信主体名单"),
        ("严重失信", "严重失信主体名单"),
        ("处罚", "行政处罚"),
        ("行政处罚信息", "行政处罚"),
        ("许可", "行政许可"),
        ("行政许可信息", "行政许可"),
        ("异常名录", "经营异常名录"),
        ("经营异常", "经营异常名录"),
        ("承诺", "信用承诺"),
        ("申报", "自主申报"),
        ("奖励", "行政奖励"),
        ("表彰", "行政奖励"),
        ("检查", "检查抽查"),
        ("抽查", "检查抽查"),
        ("强制执行", "强制执行"),
        ("被执行人", "强制执行"),
        ("判决", "司法判决"),
        ("行政强制执行", "行政强制"),
        (" 《行政处罚》 ", "行政处罚"),
        ("黑名单类", "严重失信主体名单"),
    ],
)
def test_aliases(alias: str, expected: str) -> None:
    assert normalize_category(alias) == expected


@pytest.mark.parametrize("text", ["", "   ", "双公示", "名单", "信息", "天气预报", "处罚许可"])
def test_unknown_or_ambiguous_is_none(text: str) -> None:
    assert normalize_category(text) is None
