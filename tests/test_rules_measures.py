from __future__ import annotations

from datetime import date

import pytest

from nlp.matters import matter_from_text
from rules.measures import MATTERS, ListingFact, Measure, measures_for

BLACK = ListingFact("严重失信主体名单", "安康市市场监督管理局", date(2025, 3, 1), "《安康市严重失信主体名单管理办法》第十条")
ABNORMAL = ListingFact("经营异常名录", "汉滨区市场监督管理局", date(2024, 1, 2), None)


def texts(measures: list[Measure]) -> list[str]:
    return [m.text for m in measures]


def test_matters_have_required_keys() -> None:
    required = {"procurement", "award", "project", "tender", "subsidy", "hiring", "land", "license", "other"}
    assert required <= set(MATTERS)
    assert MATTERS["procurement"] == "政府采购"


def test_no_listings_no_measures() -> None:
    assert measures_for("法人", [], "procurement") == []
    assert measures_for("法人", [ListingFact("行政处罚", "x", date(2025, 1, 1), None)], "procurement") == []


def test_blacklisted_company_in_procurement() -> None:
    result = measures_for("法人", [BLACK], "procurement")
    assert texts(result) == ["列为重点监管对象，提高检查比例和频次", "限制参与政府采购"]
    reason = result[1].reason
    assert "严重失信主体名单" in reason
    assert "安康市市场监督管理局" in reason
    assert "2025年3月1日" in reason
    assert "第十条" in reason


def test_filtered_to_the_matter() -> None:
    award = texts(measures_for("法人", [BLACK], "award"))
    assert "不得参加评优评先，不得授予荣誉称号或表彰奖励" in award
    assert "限制参与政府采购" not in award
    assert "限制参与招标投标" in texts(measures_for("法人", [BLACK], matter_from_text("招标投标") or ""))
    assert "限制取得土地使用权和矿产资源开采权" in texts(measures_for("法人", [BLACK], "land"))


def test_other_matter_lists_everything_for_the_kind() -> None:
    everything = texts(measures_for("法人", [BLACK], "other"))
    assert len(everything) == 10
    assert "依法限制法定代表人、主要负责人出境" in everything
    assert "不得录用为公务员或机关、事业单位工作人员" not in everything


def test_person_measures() -> None:
    hiring = texts(measures_for("自然人", [BLACK], "hiring"))
    assert hiring == ["不得担任法定代表人、董事、监事或高级管理人员", "不得录用为公务员或机关、事业单位工作人员"]
    assert texts(measures_for("自然人", [BLACK], "procurement")) == ["不得取得或担任评审专家资格"]
    assert "暂停相关执业资格" in texts(measures_for("person", [BLACK], "qualification"))
    assert "限制参与政府采购" not in texts(measures_for("自然人", [BLACK], "other"))


def test_individual_business_gets_organisation_measures() -> None:
    assert "限制参与政府采购" in texts(measures_for("个体工商户", [BLACK], "procurement"))


def test_abnormal_list_is_lighter() -> None:
    result = texts(measures_for("法人", [ABNORMAL], "procurement"))
    assert result == ["列为重点监管对象，提高检查比例和频次", "政府采购中作为重要考量因素，审慎审核"]
    assert texts(measures_for("法人", [ABNORMAL], "hiring")) == ["列为重点监管对象，提高检查比例和频次"]
    assert "经营异常名录" in measures_for("法人", [ABNORMAL], "tender")[1].reason


def test_both_lists_merge_without_redundancy() -> None:
    result = measures_for("法人", [ABNORMAL, BLACK], "procurement")
    assert texts(result) == ["列为重点监管对象，提高检查比例和频次", "限制参与政府采购"]
    supervision = result[0].reason
    assert "严重失信主体名单" in supervision and "经营异常名录" in supervision
    assert supervision.index("严重失信主体名单") < supervision.index("经营异常名录")


def test_two_blacklistings_give_one_measure_with_both_reasons() -> None:
    second = ListingFact("黑名单", "安康市应急管理局", date(2025, 6, 1), None)
    result = measures_for("法人", [second, BLACK], "tender")
    assert texts(result) == ["列为重点监管对象，提高检查比例和频次", "限制参与招标投标"]
    assert "安康市市场监督管理局" in result[1].reason and "安康市应急管理局" in result[1].reason


def test_unknown_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="主体类别"):
        measures_for("外星人", [BLACK], "procurement")
    with pytest.raises(ValueError, match="办理事项"):
        measures_for("法人", [BLACK], "吃饭")
