"""Abbreviations officials use (疾控, 邮储, 人社局, 建行 …): written out when resolving, from a data
file, and never at the price of a confident wrong answer."""

from __future__ import annotations

import pytest

from bench.resolve import region_divisions
from nlp.abbreviations import abbreviation_table, expansions
from nlp.index_parts import IndexEntry
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex


def test_expansions_write_out_every_abbreviation_in_the_text() -> None:
    assert expansions("汉滨疾控") == ["汉滨疾病预防控制中心"]
    assert expansions("石泉县疾控中心") == ["石泉县疾病预防控制中心"]  # the longer abbreviation first
    assert expansions("邮储银行安康分行") == ["邮政储蓄银行安康分行"]
    assert expansions("建行汉滨人社局") == ["建设银行汉滨人力资源和社会保障局"]
    assert expansions("中国邮政储蓄银行") == []  # written in full already
    assert expansions("恒达建材") == []


def test_the_table_is_data_and_each_row_says_something() -> None:
    table = dict(abbreviation_table())
    assert {"疾控", "邮储", "人社局", "市监局", "住建局", "发改委", "农商行", "建行", "工行", "农行", "中行"} <= set(table)
    for short, fulls in table.items():
        assert fulls and all(len(full) > len(short) for full in fulls), short


@pytest.fixture(scope="module")
def index() -> NameIndex:
    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    ix = NameIndex(lexicon)
    ix.add(
        [
            IndexEntry(1, "安康市汉滨区疾病预防控制中心", "法人", None, "610902"),
            IndexEntry(2, "石泉县疾病预防控制中心", "法人", None, "610922"),
            IndexEntry(3, "中国建设银行股份有限公司安康分行", "非法人组织", None, "610900"),
            IndexEntry(4, "安康市建行装饰工程有限公司", "法人", None, "610902"),
            IndexEntry(5, "安康市化工行业协会", "法人", None, "610900"),
            IndexEntry(6, "陕西安康农村商业银行股份有限公司", "法人", None, "610900"),
        ]
    )
    return ix


@pytest.mark.parametrize(
    ("text", "sid"),
    [("汉滨疾控", 1), ("石泉疾控中心", 2), ("建行安康分行", 3), ("安康农商行", 6), ("化工行业协会", 5), ("建行装饰", 4)],
)
def test_an_abbreviation_finds_the_subject_written_in_full(index: NameIndex, text: str, sid: int) -> None:
    r = index.resolve(text)
    assert r.status == "clear" and r.candidates[0].subject_id == sid, r


def test_several_written_out_matches_are_a_choice(index: NameIndex) -> None:
    r = index.resolve("疾控")
    assert r.status == "ambiguous" and {c.subject_id for c in r.candidates} == {1, 2}


def test_a_name_holding_the_abbreviation_literally_is_offered_beside_the_written_out_one(index: NameIndex) -> None:
    r = index.resolve("建行")  # a firm with 建行 in its own name, and 建设银行
    assert r.status == "ambiguous" and {3, 4} <= {c.subject_id for c in r.candidates}


def test_a_written_out_name_that_matches_nothing_is_not_found(index: NameIndex) -> None:
    assert index.resolve("紫阳疾控").status != "clear"
    assert index.resolve("交行安康分行").status != "clear"
