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


# -- the grade's basis, and the department's own standard ----------------------------------------------

from rules.catalogue import SeverityStandard  # noqa: E402
from rules.severity import grade_penalty, rules_for  # noqa: E402


def test_every_grade_records_why() -> None:
    assert grade_penalty("吊销营业执照") == ("严重", "处罚种类含“吊销”，按定级规则为严重（种类见《行政处罚法》第九条）")
    assert grade_penalty("警告") == ("轻微", "处罚种类仅为警告、通报批评，按定级规则为轻微")
    assert grade_penalty("罚款", 0.02, procedure="适用简易程序，当场处罚") == (
        "轻微", "适用简易程序当场作出（《行政处罚法》第五十一条），按定级规则为轻微")
    assert grade_penalty("罚款", 120) == ("严重", "罚款120万元，达到平台配置的严重标准（100万元）")
    assert grade_penalty("罚款", 3).severity == "一般" and "一般" in grade_penalty("罚款", 3).basis


def test_a_departments_standard_grades_by_its_amounts() -> None:
    standard = SeverityStandard("SCJGJ", serious_fine_wan=20, minor_fine_wan=0.2, source="安康市市场监管行政处罚裁量基准")
    rules = rules_for(standard)
    assert grade_penalty("罚款", 20, rules) == ("严重", "罚款20万元，达到本部门裁量基准的严重标准（20万元，安康市市场监管行政处罚裁量基准）")
    assert grade_penalty("警告、罚款", 0.2, rules).severity == "轻微"
    assert grade_penalty("罚款", 0.3, rules).severity == "一般"
    assert grade_penalty("罚款；没收违法所得", 0.1, rules).severity == "一般"  # more than a fine: not minor
    assert rules_for(None) is DEFAULT_SEVERITY_RULES
