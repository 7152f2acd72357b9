from __future__ import annotations

import pytest

from rules.masking import id_match_key, mask_address, mask_id, mask_person_name, mask_phone, scrub


def test_mask_id_keeps_first_six_and_last_four() -> None:
    assert mask_id("610902199001011234") == "610902********1234"
    assert mask_id("61090219900101123X") == "610902********123X"
    assert mask_id("12345") == "*****"


def test_mask_phone() -> None:
    assert mask_phone("13912341234") == "139****1234"
    assert mask_phone("139-1234-1234") == "139****1234"
    assert mask_phone("+86 139 1234 1234") == "139****1234"
    assert mask_phone("0915-1234567") == "091****4567"  # 11 digits: the middle four are hidden
    assert mask_phone("12345") == "*****"


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张三丰", "张**"), ("欧阳修", "欧阳*"), ("欧阳", "欧*"), ("张", "张*"), ("", "")],
)
def test_mask_person_name(name: str, masked: str) -> None:
    assert mask_person_name(name) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("陕西省安康市汉滨区江北街道办某某村3组", "陕西省安康市汉滨区江北街道****"),
        ("陕西省安康市旬阳市城关镇东门街12号", "陕西省安康市旬阳市城关镇****"),
        ("北京市朝阳区建国路1号", "北京市朝阳区****"),
        ("广西壮族自治区南宁市青秀区民族大道1号", "广西壮族自治区南宁市青秀区****"),
        ("陕西省商洛市镇安县永乐街道1号", "陕西省商洛市镇安县永乐街道****"),
        ("四川省广元市元坝区某某路3号", "四川省广元市元坝区****"),
        ("陕西省安康市汉滨区", "陕西省安康市汉滨区"),
        # street names, numbers and housing estates must never be kept
        ("陕西省安康市江北路12号恒大小区5栋", "陕西省安康市****"),
        ("安康市汉滨区建民路88号乡村小院", "安康市汉滨区****"),
        ("安康市恒大小区5栋2单元", "安康市****"),
        ("西安市碑林区南大街社区3号", "西安市碑林区****"),
        ("某某路3号", "****"),
        ("", "****"),
    ],
)
def test_mask_address_stops_at_county_or_town(address: str, masked: str) -> None:
    assert mask_address(address) == masked


def test_scrub_ids_and_phones_in_free_text() -> None:
    text = "当事人张三，身份证610902199001011234，电话13912345678，备用+8613987654321，另139-1111-2222"
    out = scrub(text)
    for secret in ("19900101", "12345678", "87654321", "1111-2222", "11112222"):
        assert secret not in out
    assert "610902********1234" in out
    assert "139****5678" in out
    assert "139****4321" in out
    assert "139****2222" in out


def test_scrub_old_15_digit_id_but_not_registration_numbers() -> None:
    assert scrub("旧证号610902900101123") == "旧证号610902*****1123" == "旧证号" + mask_id("610902900101123")
    assert scrub("注册号612400000012345") == "注册号612400000012345"


def test_scrub_leaves_uscc_and_amounts() -> None:
    text = "统一社会信用代码91350100M000100Y43，罚款金额1.5万元，文号安市监罚〔2026〕12号"
    assert scrub(text) == text


def test_id_match_key_is_keyed_and_normalised() -> None:
    a = id_match_key("11010519491231002x ", "k1")
    assert a == id_match_key("11010519491231002X", "k1")
    assert a != id_match_key("11010519491231002X", "k2")
    assert "1949" not in a


@pytest.mark.parametrize(
    "typed",
    [
        "610902 19850512 0035",
        "610902-198505120035",
        "610902-19850512-0035",
        "ID:61090219850512003 5",
        "６１０９０２１９８５０５１２００３５",
        "６１０９０２ １９８５０５１２ ００３５",
        "610902　19850512　0035",  # ideographic spaces
    ],
)
def test_scrub_masks_id_numbers_typed_with_separators_or_full_width(typed: str) -> None:
    out = scrub(f"我的身份证号 {typed}，请核实")
    assert "19850512" not in out and "１９８５０５１２" not in out
    assert "610902********0035" in out


@pytest.mark.parametrize("typed", ["１３９１２３４５６７８", "１３９ １２３４ ５６７８", "139－1234－5678"])
def test_scrub_masks_full_width_mobile_numbers(typed: str) -> None:
    out = scrub(f"电话 {typed}")
    assert "1234" not in out and "１２３４" not in out


def test_scrub_keeps_spaced_figures_without_a_birth_date() -> None:
    text = "2025-01-01 至 2025-12-31 共 12 3 4 5 笔"
    assert scrub(text) == text
    figures = "金额 1234 5678 9012 3456 78"  # 18 digits in groups, no birth date: not an ID
    assert scrub(figures) == figures


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("13912345678", "139****5678"),  # masked like an ID it showed 139123*5678
        ("联系13800138000", "联系138****8000"),
        ("+8613912345678", "+86139****5678"),
        ("610928195001019219", "610928********9219"),
        ("恒达建材 12345678", "恒达建材 ********"),  # any other long run of digits: hidden
    ],
)
def test_echoes_mask_phones_as_stored_and_other_digit_runs_like_ids(typed: str, shown: str) -> None:
    from nlp.message_names import mask_id_numbers, safe_echo

    assert safe_echo(typed) == shown
    if "1391234" in typed or "1380013" in typed:
        assert mask_id_numbers(typed) == shown  # a batch line's echo: same standard form
