"""The 逢办必查 answer per list type and matter, pinned against the packaged catalogue.

The expected tables were written from the data file's measures (db/data/catalogue_v2024_1.toml,
each citing its article) before the rules were run: a change of the data or of the rules that
changes an answer fails here and must be a deliberate, sourced correction.
"""

from __future__ import annotations

from datetime import date

import pytest

from db.catalogue import load_catalogue
from nlp.matters import matter_from_text
from rules.catalogue import Catalogue
from rules.measures import MATTERS, ListingFact, MeasureAnswer, answer, reaching

CAT: Catalogue = load_catalogue("610900")
SINCE = date(2025, 3, 1)

WAGE = ["wage_arrears." + k for k in ("funding", "procurement", "tender", "credit", "market_access", "tax_incentive", "award", "travel")]
DEFAULTER_ORG = ["judgment_defaulter." + k for k in (
    "procurement", "tender", "approval", "support", "credit", "market_access", "qualification", "consumption", "exit")]
DEFAULTER_PERSON = ["judgment_defaulter." + k for k in (
    "procurement", "tender", "approval", "support", "credit", "market_access", "qualification", "officer", "legal_rep",
    "consumption", "exit")]

# list type → subject kind → matter → the measure keys shown (in this order). Matters not named: none.
EXPECTED: dict[str, dict[str, dict[str, list[str]]]] = {
    "wage_arrears": {"法人": {
        "procurement": ["wage_arrears.procurement"], "award": ["wage_arrears.award"], "project": ["wage_arrears.funding"],
        "tender": ["wage_arrears.tender"], "subsidy": ["wage_arrears.funding", "wage_arrears.tax_incentive"],
        "license": ["wage_arrears.market_access"], "registration": ["wage_arrears.market_access"], "other": WAGE,
    }},
    "procurement_record": {
        "法人": {"procurement": ["procurement_record.ban"], "other": ["procurement_record.ban"]},
        "自然人": {"procurement": ["procurement_record.ban"], "other": ["procurement_record.ban"]},
    },
    "judgment_defaulter": {
        "法人": {
            "procurement": ["judgment_defaulter.procurement"], "tender": ["judgment_defaulter.tender"],
            "license": ["judgment_defaulter.approval"], "project": ["judgment_defaulter.approval"],
            "subsidy": ["judgment_defaulter.support"], "registration": ["judgment_defaulter.market_access"],
            "qualification": ["judgment_defaulter.qualification"], "other": DEFAULTER_ORG,
        },
        "自然人": {
            "procurement": ["judgment_defaulter.procurement"], "tender": ["judgment_defaulter.tender"],
            "license": ["judgment_defaulter.approval"], "project": ["judgment_defaulter.approval"],
            "subsidy": ["judgment_defaulter.support"], "qualification": ["judgment_defaulter.qualification"],
            "registration": ["judgment_defaulter.market_access", "judgment_defaulter.officer", "judgment_defaulter.legal_rep"],
            "hiring": ["judgment_defaulter.officer"], "other": DEFAULTER_PERSON,
        },
    },
    "major_tax": {"法人": {"other": ["major_tax.exit"]}},
    "market_serious": {"法人": {
        "procurement": ["market_serious.limit"], "tender": ["market_serious.limit"], "land": ["market_serious.limit"],
        "award": ["market_serious.limit"], "registration": ["market_serious.legal_rep"], "hiring": ["market_serious.legal_rep"],
        "other": ["market_serious.limit", "market_serious.legal_rep"],
    }},
    "safety_serious": {"法人": {
        "project": ["safety_serious.project"], "license": ["safety_serious.ban"], "qualification": ["safety_serious.ban"],
        "registration": ["safety_serious.ban"], "hiring": ["safety_serious.ban"],
        "other": ["safety_serious.inspection", "safety_serious.project", "safety_serious.insurance", "safety_serious.ban"],
    }},
    "statistics_serious": {"法人": {}},
    "abnormal": {"法人": {
        "procurement": ["abnormal.consideration"], "tender": ["abnormal.consideration"], "land": ["abnormal.consideration"],
        "award": ["abnormal.consideration"], "other": ["abnormal.consideration"],
    }},
}


def listing(list_type: str | None, category: str = "严重失信主体名单", since: date = SINCE, dept: str = "安康市人力资源和社会保障局") -> ListingFact:
    return ListingFact(category, dept, since, None, list_type)


def keys(result: MeasureAnswer) -> list[str]:
    return [m.key for m in result.measures]


def test_every_list_type_of_the_catalogue_is_pinned() -> None:
    assert set(EXPECTED) == set(CAT.list_types)


@pytest.mark.parametrize("list_type", sorted(EXPECTED))
def test_measures_per_list_type_and_matter(list_type: str) -> None:
    category = CAT.list_types[list_type].category
    for kind, table in EXPECTED[list_type].items():
        for matter in MATTERS:
            result = answer(CAT, kind, [listing(list_type, category)], matter)
            assert keys(result) == table.get(matter, []), (list_type, kind, matter)
            if not result.measures:  # a list exists but restricts nothing here: the official is told why
                assert [n.list_name for n in result.not_restricted] == [CAT.list_types[list_type].name], (list_type, matter)
            else:
                assert result.not_restricted == ()


def test_each_measure_carries_its_basis_and_implementer() -> None:
    result = answer(CAT, "法人", [listing("wage_arrears")], "procurement")
    (m,) = result.measures
    assert m.text == "在政府采购方面依法依规予以限制"
    assert m.basis == ("《保障农民工工资支付条例》第四十八条第一款", "《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》（人力资源社会保障部令第45号）第十条第二款")
    assert m.implementer == "有关部门（依各自职责）" and m.kind == "减损权益" and m.confirmed
    assert m.reaches_label == "本主体、法定代表人、主要负责人、直接责任人员"
    assert m.list_name == "拖欠农民工工资失信联合惩戒对象名单"
    assert m.reason == "该主体自2025年3月1日起被安康市人力资源和社会保障局列入严重失信主体名单（拖欠农民工工资失信联合惩戒对象名单）"
    assert result.notes == ()


def test_other_matter_lists_only_the_subjects_own_lists() -> None:
    everything = keys(answer(CAT, "法人", [listing("procurement_record")], "other"))
    assert everything == ["procurement_record.ban"]  # not the wage list's, not a generic set
    assert "依法限制法定代表人、主要负责人出境" not in [m.text for m in answer(CAT, "法人", [listing("wage_arrears")], "other").measures]


def test_why_not_restricted_names_the_list_and_the_matter() -> None:
    result = answer(CAT, "法人", [listing("procurement_record", dept="安康市财政局")], "award")
    assert result.measures == ()
    (why,) = result.not_restricted
    assert why.department == "安康市财政局" and why.since == SINCE
    assert why.why == "政府采购严重违法失信行为记录名单的惩戒措施不涉及“评优评先”事项，可按正常程序办理"


def test_a_list_without_confirmed_measures_says_so() -> None:
    result = answer(CAT, "法人", [listing("statistics_serious")], "procurement")
    assert result.measures == () and "没有可以核实依据" in result.not_restricted[0].why
    assert any("尚未全部核实" in note for note in result.notes)


def test_unconfirmed_measures_are_marked() -> None:
    result = answer(CAT, "法人", [listing("market_serious", dept="安康市市场监督管理局")], "procurement")
    assert [m.confirmed for m in result.measures] == [False]
    assert any("依据待核实" in note for note in result.notes)


def test_an_unidentified_blacklist_applies_nothing_and_says_why() -> None:
    result = answer(CAT, "法人", [listing(None)], "procurement")
    assert result.measures == () and result.not_restricted == ()
    assert result.notes and "名单类型未能识别" in result.notes[0] and "请向列入部门核实" in result.notes[0]


def test_no_listings_no_measures() -> None:
    assert answer(CAT, "法人", [], "procurement") == MeasureAnswer((), (), (), CAT.edition)
    assert answer(CAT, "法人", [ListingFact("行政处罚", "x", SINCE, None)], "procurement").measures == ()


def test_two_lists_one_measure_each_with_both_reasons_in_order() -> None:
    later = ListingFact("严重失信主体名单", "安康市人力资源和社会保障局", date(2025, 6, 1), None, "wage_arrears")
    earlier = ListingFact("经营异常名录", "汉滨区市场监督管理局", date(2024, 1, 2), None, "abnormal")
    result = answer(CAT, "法人", [later, earlier], matter_from_text("政府采购") or "")
    assert keys(result) == ["abnormal.consideration", "wage_arrears.procurement"]
    again = answer(CAT, "法人", [later, ListingFact("严重失信主体名单", "安康市人力资源和社会保障局", date(2025, 9, 1), None, "wage_arrears")], "tender")
    (m,) = again.measures
    assert m.reason.count("拖欠农民工工资失信联合惩戒对象名单") == 2 and m.reason.index("6月1日") < m.reason.index("9月1日")


def test_individual_business_gets_the_organisation_answer() -> None:
    assert keys(answer(CAT, "个体工商户", [listing("judgment_defaulter")], "other")) == DEFAULTER_ORG


def test_measures_reaching_the_legal_representative() -> None:
    wage = [listing("wage_arrears")]
    assert [m.key for m in reaching(CAT, wage, "legal_rep")] == WAGE
    assert [m.key for m in reaching(CAT, wage, "legal_rep", "procurement")] == ["wage_arrears.procurement"]
    market = [listing("market_serious")]
    assert [m.key for m in reaching(CAT, market, "principal", "registration")] == ["market_serious.legal_rep"]
    assert reaching(CAT, [listing("safety_serious")], "legal_rep") == ()  # binds the unit and 有关从业人员 only
    assert reaching(CAT, [listing(None)], "legal_rep") == ()


def test_unknown_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="主体类别"):
        answer(CAT, "外星人", [listing("wage_arrears")], "procurement")
    with pytest.raises(ValueError, match="办理事项"):
        answer(CAT, "法人", [listing("wage_arrears")], "吃饭")
    with pytest.raises(ValueError, match="关联身份"):
        reaching(CAT, [listing("wage_arrears")], "subject")
