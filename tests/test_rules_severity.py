from __future__ import annotations

import pytest

from rules.severity import DEFAULT_SEVERITY_RULES, SeverityRules, infer_severity


@pytest.mark.parametrize(
    "kinds",
    ["警告", "通报批评", "警告、通报批评", "给予警告的行政处罚", " 警告 ", "警告；通报批评"],
)
def test_warning_alone_is_minor(kinds: str) -> None:
    assert infer_severity(kinds) == "轻微"


@pytest.mark.parametrize(
    "kinds",
    [
        "吊销许可证件",
        "吊销营业执照",
        "责令关闭",
        "限制从业",
        "责令停产停业",
        "限制开展生产经营活动",
        "罚款；吊销许可证",
        "警告,责令停产停业",
    ],
)
def test_severe_kinds(kinds: str) -> None:
    assert infer_severity(kinds) == "严重"


@pytest.mark.parametrize(
    "kinds", ["罚款", "警告、罚款", "没收违法所得", "暂扣许可证件", "降低资质等级", "", "其他"]
)
def test_everything_else_is_ordinary(kinds: str) -> None:
    assert infer_severity(kinds) == "一般"


def test_fine_threshold_is_inclusive() -> None:
    assert DEFAULT_SEVERITY_RULES.fine_threshold_wan == 100.0
    assert infer_severity("罚款", 99.99) == "一般"
    assert infer_severity("罚款", 100) == "严重"
    assert infer_severity("罚款", None) == "一般"


def test_a_fine_with_a_warning_is_not_minor() -> None:
    assert infer_severity("警告", 0.2) == "一般"
    assert infer_severity("警告", 0) == "轻微"


def test_configurable_rules() -> None:
    strict = SeverityRules(fine_threshold_wan=10)
    assert infer_severity("罚款", 10, strict) == "严重"
    no_threshold = SeverityRules(fine_threshold_wan=None)
    assert infer_severity("罚款", 5000, no_threshold) == "一般"
    custom = SeverityRules(severe_kinds=("没收",))
    assert infer_severity("没收违法所得", rules=custom) == "严重"
    assert infer_severity("吊销营业执照", rules=custom) == "一般"
