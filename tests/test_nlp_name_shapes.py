"""Names as the field writes them: contained queries, bracketed regions, branches, collectives,
pinyin by the word's reading, and the old 组织机构代码 — resolver units on a hand-written register."""

from __future__ import annotations

import pytest

from nlp.index_parts import IndexEntry
from nlp.lexicon import Lexicon
from nlp.pinyin import PinyinTable
from nlp.resolver import NameIndex
from rules.codes import complete_uscc

DIVISIONS = [
    ("610900", "安康市", "安康"),
    ("610902", "汉滨区", "汉滨"),
    ("610921", "汉阴县", "汉阴"),
    ("610922", "石泉县", "石泉"),
    ("610981", "旬阳市", "旬阳"),
]
# 组织机构代码 71093627-6 sits at positions 9-17 of this code.
OLD_ORG = "710936276"
U_ORG = complete_uscc("91610902" + OLD_ORG)

SUBJECTS = [
    (1, "安康瀛湖渔业发展有限公司", "610902", None),
    (2, "汉滨区老街张记蒸面馆", "610902", None),
    (3, "瑞祥商贸（安康）有限公司", "610902", None),
    (4, "秦汉丰源农业科技（陕西）有限公司", "610921", None),
    (5, "安康市恒达建材有限公司", "610902", None),
    (6, "汉阴县恒达建材有限公司", "610921", None),
    (7, "安康市恒达建材有限公司石泉分公司", "610922", None),
    (8, "汉滨区关庙镇双溪村股份经济合作社", "610902", None),
    (9, "安康市恒信招标代理有限公司", "610902", U_ORG),
    (10, "安康市长虹电器有限公司", "610902", None),
    (11, "汉阴县重阳茶业有限公司", "610921", None),
    (12, "汉滨区张记凉皮店", "610902", None),
    (13, "汉滨区李记蒸面馆", "610902", None),
    (14, "石泉县池河镇明星村蚕桑农民专业合作社", "610922", None),
    (15, "中国邮政储蓄银行股份有限公司安康市汉滨区营业部", "610902", None),
]


@pytest.fixture(scope="module")
def index() -> NameIndex:
    lex = Lexicon.from_divisions(DIVISIONS)
    lex.warm_up()
    ix = NameIndex(lex)
    ix.add([IndexEntry(sid, name, "法人", uscc, div) for sid, name, div, uscc in SUBJECTS])
    return ix


@pytest.mark.parametrize(
    ("text", "sid"),
    [
        # 1. a contiguous part of exactly one name is that name
        ("瀛湖渔业", 1),
        ("张记蒸面馆", 2),
        ("老街张记", 2),
        ("渔业发展", 1),
        # 2. bracketed regions, any width, with spaces
        ("瑞祥商贸", 3),
        ("瑞祥商贸有限公司", 3),
        ("瑞祥商贸(安康)有限公司", 3),
        ("瑞祥商贸 （ 安康 ） 有限公司", 3),
        ("秦汉丰源农业科技有限公司", 4),
        ("秦汉丰源", 4),
        # 2. branches and outlets
        ("恒达建材石泉分公司", 7),
        ("恒达石泉分公司", 7),
        ("安康市恒达建材有限公司石泉分公司", 7),
        ("邮政储蓄银行汉滨营业部", 15),
        # 2. collectives: town + village
        ("双溪村合作社", 8),
        ("关庙双溪村", 8),
        ("双溪村股份经济合作社", 8),
        ("明星村合作社", 14),
        ("池河明星村", 14),
        # 4. pinyin by the word's reading
        ("changhong", 10),
        ("changhongdianqi", 10),
        ("chongyang", 11),
        ("chongyangchaye", 11),
        ("chdq", 10),
    ],
)
def test_field_shapes_are_clear(index: NameIndex, text: str, sid: int) -> None:
    r = index.resolve(text)
    assert r.status == "clear", (text, r)
    assert r.candidates[0].subject_id == sid


def test_branch_asked_with_its_county_first(index: NameIndex) -> None:
    r = index.resolve("石泉恒达", division_code="610922")
    assert r.status == "clear" and r.candidates[0].subject_id == 7


def test_part_shared_by_two_names_is_a_choice_not_a_guess(index: NameIndex) -> None:
    r = index.resolve("记蒸面馆")  # 张记蒸面馆 and 李记蒸面馆
    assert r.status == "ambiguous"
    assert {c.subject_id for c in r.candidates} >= {2, 13}


def test_parent_short_name_still_offers_branch_and_twins(index: NameIndex) -> None:
    r = index.resolve("恒达建材")
    assert r.status == "ambiguous"
    assert {c.subject_id for c in r.candidates} == {5, 6, 7}


def test_short_contained_query_is_never_a_card(index: NameIndex) -> None:
    r = index.resolve("瀛湖")
    assert r.status != "clear" or len("瀛湖") >= 3
    assert 1 in {c.subject_id for c in r.candidates}


def test_wrong_per_character_reading_is_still_found_but_the_word_reading_is_indexed() -> None:
    table = PinyinTable()
    spellings = [full for full, _ in table.readings("长虹")]
    assert spellings[0] == "changhong"
    assert "zhanghong" in spellings
    assert table.readings("重阳")[0] == ("chongyang", "cy")
    assert table.readings("都市")[0] == ("dushi", "ds")
    assert table.readings("恒达建材") == [("hengdajiancai", "hdjc")] or table.readings("恒达建材")[0][0] == "hengdajiancai"


def test_old_organisation_code(index: NameIndex) -> None:
    assert [e.subject_id for e in index.by_org_code("71093627-6")] == [9]
    assert [e.subject_id for e in index.by_org_code("710936276")] == [9]
    assert index.by_org_code("710936270") == []


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("安康市恒信招标代理有限公司", "安康市恒信招标代理有限公司"),
        ("帮我查一下安康市恒信招标代理有限公司有没有行政处罚", "安康市恒信招标代理有限公司"),
        ("瑞祥商贸（安康）有限公司 政府采购", "瑞祥商贸安康有限公司"),
        ("恒信招标 政府采购", None),
    ],
)
def test_longest_whole_name_in_a_message(index: NameIndex, text: str, span: str | None) -> None:
    assert index.longest_name_in(text) == span


def test_another_reading_of_a_heteronym_answers_typed_pinyin_but_not_a_chinese_homophone() -> None:
    """大 is da (and dai in 大夫): 'daipeng' typed may mean 大鹏, the characters 玳鹏 never do."""
    lex = Lexicon.from_divisions(DIVISIONS)
    lex.warm_up()
    ix = NameIndex(lex)
    ix.add([IndexEntry(1, "汉滨区大鹏食品有限公司", "法人", None, "610902")])
    assert ix.resolve("dapengshipin").candidates[0].subject_id == 1
    assert ix.resolve("daipengshipin").candidates[0].subject_id == 1
    assert ix.resolve("玳鹏食品").status != "clear"
