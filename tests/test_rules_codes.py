from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from rules.codes import (
    clean_code,
    complete_ric,
    complete_uscc,
    looks_like_ric,
    ric_birth_date,
    uscc_check_char,
    validate_ric,
    validate_uscc,
)

SAMPLE_USCC = "91350100M000100Y43"  # the standard's worked example


@pytest.mark.parametrize(
    "first17", ["91350100M000100Y4", "91610902MA6Y1234X", "12610900435200123", "51610902MJ0000001", "92610902MA6X12345"]
)
def test_check_char_agrees_with_stdnum_for_digit_prefixes(first17: str) -> None:
    assert uscc_check_char(first17) == stdnum_uscc.calc_check_digit(first17)


def test_valid_codes() -> None:
    assert validate_uscc(SAMPLE_USCC).ok
    assert validate_uscc(complete_uscc("91610902MA6Y1234X")).ok
    individual_business = complete_uscc("92610902MA6X12345")  # 个体工商户: 9 市场监管, 2 个体
    assert validate_uscc(individual_business).ok and stdnum_uscc.is_valid(individual_business)


@pytest.mark.parametrize("first17", ["N2610902MA0000012", "Y1610900MB1234567", "N1610928057612345"])
def test_rural_and_other_codes_stdnum_refuses(first17: str) -> None:
    code = complete_uscc(first17)
    assert validate_uscc(code).ok
    assert not stdnum_uscc.is_valid(code)


@pytest.mark.parametrize(
    "typed",
    ["９１３５０１００Ｍ０００１００Ｙ４３", "9135 0100 m000 100y 43", "91350100-M000100Y43", " 91350100m000100y43\n"],
)
def test_typing_variants_are_cleaned(typed: str) -> None:
    check = validate_uscc(typed)
    assert check.ok
    assert check.value == SAMPLE_USCC


def test_lookalikes_repaired_only_on_request() -> None:
    typed = "91350100MOOO1OOY43"
    assert not validate_uscc(typed).ok
    assert "不使用" in (validate_uscc(typed).error or "")
    assert validate_uscc(typed, repair=True).value == SAMPLE_USCC


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y4", "18 位"),
        ("91350100M000100Y44", "校验位"),
        ("Z1350100M000100Y43", "第 1 位"),
        ("B1350100M000100Y43", "登记管理部门"),
        ("91ABCDEFM000100Y43", "行政区划"),
    ],
)
def test_uscc_errors_are_chinese_and_specific(code: str, fragment: str) -> None:
    check = validate_uscc(code)
    assert not check.ok
    assert fragment in (check.error or "")


def test_clean_code() -> None:
    assert clean_code("ａｂ－１２·３") == "AB123"


def test_ric_check_char_agrees_with_stdnum() -> None:
    assert complete_ric("11010519491231002") == "11010519491231002X"
    for first17 in ("61090219900101123", "61092819851231002", "61098120210615001"):
        # stdnum's function takes the full number (check digit placeholder included)
        assert complete_ric(first17)[-1] == stdnum_ric.calc_check_digit(first17 + "0")


def test_valid_ric_lowercase_x() -> None:
    check = validate_ric("11010519491231002x")
    assert check.ok
    assert check.value == "11010519491231002X"


def test_renamed_area_is_a_warning_not_an_error() -> None:
    # 610981 旬阳市 exists only since 2021: a 1990 birth date is a real person's number after the rename.
    check = validate_ric(complete_ric("61098119900101123"))
    assert check.ok
    assert check.warnings and "610981" in check.warnings[0]


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("6109021990010112", "18 位"),
        ("61090219900A01123X", "前 17 位"),
        ("61090219900101123Y", "最后一位"),
        ("610902199013011230", "出生日期"),
        ("610902189001011230", "出生日期"),
        ("610902199001011230", "校验位"),
    ],
)
def test_ric_errors(code: str, fragment: str) -> None:
    check = validate_ric(code, today=date(2026, 11, 27))
    assert not check.ok
    assert fragment in (check.error or "")


def test_future_birth_date_refused() -> None:
    code = complete_ric("61090220300101123")
    assert not validate_ric(code, today=date(2026, 11, 27)).ok


def test_birth_date_and_shape() -> None:
    assert ric_birth_date("110105194912310021") == date(1949, 12, 31)
    assert ric_birth_date("110105194913310021") is None
    assert looks_like_ric("11010519491231002X")
    assert not looks_like_ric(SAMPLE_USCC)
