from nlp.codes_in_text import find_codes
from nlp.normalize import Affixes, name_core, name_key, normalize
from rules.codes import complete_uscc

REGION = ["安康市", "安康", "汉阴县", "汉阴", "陕西省"]


def test_normalize_full_width_traditional_filler_and_spaces() -> None:
    assert normalize("帮我查一下 恆達 建材 的情况") == "恒达建材"
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert normalize("恒达建材信用怎么样？") == "恒达建材"


def test_name_core_cuts_region_and_org_form() -> None:
    assert name_core("陕西省安康市汉阴县恒达建材有限责任公司", REGION) == "恒达建材"
    assert name_core("汉阴县金穗茶叶农民专业合作社", REGION) == "金穗茶叶"
    assert name_key("恒达（汉阴）建材 有限公司") == "恒达汉阴建材有限公司"


def test_brands_are_every_industry_cut() -> None:
    aff = Affixes(REGION, ["有限公司"], ["农业", "科技", "农业科技"])
    assert aff.brands("金穗农业科技") == ("金穗农业", "金穗")


def test_codes_found_with_spaces_full_width_and_lookalikes() -> None:
    code = complete_uscc("91610921MA7012345")
    typed = "查一下 " + code[:4] + " " + code[4:10].replace("0", "O") + "-" + code[10:].lower() + " 的处罚"
    uscc, ids, rest = find_codes(typed)
    assert [(m.value, m.valid) for m in uscc] == [(code, True)]
    assert ids == [] and "处罚" in rest and "9161" not in rest
    uscc, _, _ = find_codes("".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in code))
    assert uscc[0].valid and uscc[0].value == code


def test_bad_check_character_is_reported_not_dropped() -> None:
    code = complete_uscc("91610921MA7012345")
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    uscc, _, _ = find_codes(wrong)
    assert uscc[0].valid is False and "校验位不正确" in (uscc[0].error or "")


def test_resident_id_is_an_id_not_a_uscc() -> None:
    _, ids, _ = find_codes("身份证 61092119900101123x")
    assert len(ids) == 1 and ids[0].value.endswith("X")
