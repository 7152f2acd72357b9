"""Resolver behaviour on a small hand-made register: every kind of name, and the ambiguity policy."""

from __future__ import annotations

import pytest

from nlp.index_parts import IndexEntry
from nlp.intent import parse
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex
from rules.codes import complete_uscc

DIVISIONS = [
    ("610900", "安康市", "安康"),
    ("610902", "汉滨区", "汉滨"),
    ("610921", "汉阴县", "汉阴"),
    ("610981", "旬阳市", "旬阳"),
    ("610928", "旬阳县", "旬阳"),
]
U1 = complete_uscc("91610921MA7000001")
U2 = complete_uscc("N2610902MF0000002")


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    lex = Lexicon.from_divisions(DIVISIONS)
    lex.warm_up()
    return lex


@pytest.fixture(scope="module")
def index(lexicon: Lexicon) -> NameIndex:
    ix = NameIndex(lexicon)
    ix.add(
        [
            IndexEntry(1, "汉阴县恒达建材有限公司", "法人", U1, "610921", (("恒达建材", "简称"),)),
            IndexEntry(2, "汉滨区恒达建材有限公司", "法人", None, "610902"),
            IndexEntry(3, "安康市宏远商贸有限责任公司", "法人", None, "610902", (("安康市宏远贸易有限公司", "曾用名"),)),
            IndexEntry(4, "旬阳县金穗农业科技有限公司", "法人", None, "610928"),
            IndexEntry(5, "汉阴县瑞丰茶业有限公司", "法人", None, "610921"),
            IndexEntry(6, "汉阴县瑞丰茶业有限责任公司", "法人", None, "610921"),
            IndexEntry(7, "汉滨区双溪村股份经济合作社", "非法人组织", U2, "610902"),
        ]
    )
    return ix


def _ids(r):  # type: ignore[no-untyped-def]
    return [c.subject_id for c in r.candidates]


@pytest.mark.parametrize(
    ("text", "division", "sid", "how"),
    [
        ("汉阴县恒达建材有限公司", None, 1, "exact"),
        ("宏远商贸", None, 3, "core"),
        ("安康宏远商贸公司", None, 3, "core"),
        ("宏远贸易", None, 3, "core"),  # former name without region and form
        ("安康市宏远贸易有限公司", None, 3, "exact"),
        ("宏圆商贸", None, 3, "pinyin"),  # homophone
        ("远宏商贸", None, 3, "edit"),  # swapped pair
        ("hongyuanshangmao", None, 3, "pinyin"),
        ("hysm", None, 3, "initials"),
        ("金穗农业", None, 4, "brand"),  # 字号+行业
        ("金穗", None, 4, "brand"),  # 字号 alone
        ("恒达建材", "610921", 1, "exact"),
        ("金穗农业科技", "610981", 4, "core"),  # renamed county: the former code is the same place
    ],
)
def test_clear_answers(index: NameIndex, text: str, division: str | None, sid: int, how: str) -> None:
    r = index.resolve(text, division)
    assert r.status == "clear", r
    assert r.candidates[0].subject_id == sid and r.candidates[0].how == how


def test_same_brand_in_two_counties_is_ambiguous(index: NameIndex) -> None:
    r = index.resolve("恒达建材")
    assert r.status == "ambiguous" and sorted(_ids(r)) == [1, 2]


def test_limited_vs_limited_liability_is_ambiguous_and_ranked(index: NameIndex) -> None:
    r = index.resolve("瑞丰茶业有限公司")
    assert r.status == "ambiguous" and _ids(r)[:2] == [5, 6]
    assert index.resolve("汉阴县瑞丰茶业有限责任公司").candidates[0].subject_id == 6


def test_district_with_no_match_is_never_clear(index: NameIndex) -> None:
    r = index.resolve("宏远商贸", "610921")
    assert r.status == "ambiguous" and _ids(r) == [3]


def test_short_substitution_is_not_trusted(index: NameIndex) -> None:
    r = index.resolve("恒远建材")
    assert r.status != "clear"


def test_miss_offers_nearest_but_is_not_clear(index: NameIndex) -> None:
    assert index.resolve("鲲鹏航天").status == "none"
    assert index.resolve("").status == "none"


def test_codes_exact_and_one_off(index: NameIndex) -> None:
    assert index.by_uscc(U2).subject_id == 7  # N… rural collective codes are valid
    typo = U1[:5] + ("X" if U1[5] != "X" else "Y") + U1[6:]
    assert [e.subject_id for e in index.near_uscc(typo)] == [1]
    assert index.near_uscc(U1[:17] + ("0" if U1[17] != "0" else "1"))[0].subject_id == 1
    assert index.by_uscc(typo) is None


def test_incremental_add_replace_remove(lexicon: Lexicon) -> None:
    ix = NameIndex(lexicon)
    ix.add([IndexEntry(1, "汉阴县恒达建材有限公司", "法人", U1, "610921")])
    ix.add([IndexEntry(9, "汉滨区鑫源物流有限公司", "法人", None, "610902")])
    assert ix.resolve("鑫源物流").candidates[0].subject_id == 9
    ix.add([IndexEntry(9, "汉滨区鑫源运输有限公司", "法人", None, "610902", (("汉滨区鑫源物流有限公司", "曾用名"),))])
    r = ix.resolve("鑫源运输")
    assert r.status == "clear" and r.candidates[0].subject_id == 9
    assert ix.resolve("鑫源物流").candidates[0].matched.startswith("曾用名")
    assert ix.remove(9) and ix.resolve("鑫源运输").status == "none"
    assert len(ix) == 1


def test_a_code_wrong_in_any_one_position_is_found(index: NameIndex) -> None:
    for pos in range(18):
        wrong = "A" if U1[pos] != "A" else "B"
        typo = U1[:pos] + wrong + U1[pos + 1 :]
        assert [e.subject_id for e in index.near_uscc(typo)] == [1], pos
        assert index.by_uscc(typo) is None


def test_incremental_changes_after_a_bulk_build(lexicon: Lexicon) -> None:
    """A bulk build packs the subjects into columns; later adds, renames and removals still land."""
    ix = NameIndex(lexicon)
    aliases = (("汉滨区旧名商贸有限公司", "曾用名"), ("旧名", "简称"))
    ix.add([IndexEntry(i, f"汉滨区测试{i}号商贸有限公司", "法人", None, "610902", aliases if i == 7 else ()) for i in range(1, 1502)])
    assert ix.get(7).aliases == aliases and ix.resolve("旧名商贸").candidates[0].subject_id == 7
    ix.add([IndexEntry(9, "汉滨区鑫源运输有限公司", "法人", U2, "610902", (("汉滨区鑫源物流有限公司", "曾用名"),))])
    ix.add([IndexEntry(5000, "汉阴县恒达建材有限公司", "法人", U1, "610921")])
    assert ix.resolve("鑫源运输").status == "clear" and ix.by_uscc(U2).name == "汉滨区鑫源运输有限公司"
    assert ix.resolve("测试9号商贸").status != "clear"  # the old name is gone
    assert ix.get(9) == IndexEntry(9, "汉滨区鑫源运输有限公司", "法人", U2, "610902", (("汉滨区鑫源物流有限公司", "曾用名"),))
    assert ix.remove(10) and 10 not in ix and ix.resolve("测试10号商贸").status != "clear"
    assert len(ix) == 1501 and ix.by_uscc(U1).subject_id == 5000
    assert ix.get(11) == IndexEntry(11, "汉滨区测试11号商贸有限公司", "法人", None, "610902")


def test_parse_then_resolve_with_district_words(index: NameIndex, lexicon: Lexicon) -> None:
    q = parse("帮我查一下汉阴的恒达建材有没有行政处罚", lexicon)
    assert q.intent == "query" and q.division_code == "610921" and q.category == "行政处罚"
    r = index.resolve(q.names[0], q.division_code)
    assert r.status == "clear" and r.candidates[0].subject_id == 1


def test_admit_leaves_subjects_out_before_ranking(lexicon: Lexicon) -> None:
    """A subject `admit` refuses is no candidate in any tier, and does not hide a later tier's match."""
    ix = NameIndex(lexicon)
    ix.add(
        [
            IndexEntry(1, "陈志强", "自然人", None, "610902"),
            IndexEntry(2, "王芳", "自然人", None, "610902"),
            IndexEntry(3, "安康市王芳商贸有限公司", "法人", None, "610902"),
            IndexEntry(4, "汉滨区志强五金店", "个体工商户", None, "610902"),
        ]
    )

    def no_persons(entry: IndexEntry) -> bool:
        return entry.kind != "自然人"

    assert _ids(ix.resolve("陈志强")) == [1]
    assert 1 not in _ids(ix.resolve("陈志强", admit=no_persons))
    assert 1 not in _ids(ix.resolve("czq", admit=no_persons)) and 1 in _ids(ix.resolve("czq"))
    assert ix.resolve("王芳").best.subject_id == 2  # type: ignore[union-attr]
    company = ix.resolve("王芳", admit=no_persons)
    assert _ids(company) == [3]
    assert ix.resolve("王", admit=lambda entry: False).candidates == []


def test_another_character_in_a_shop_name_after_its_town_is_another_shop(lexicon: Lexicon) -> None:
    """Found by the adversarial variants at 6M subjects: 隆诚文具店 answered with the card of 隆盛文具店
    (盛 also reads chéng). The town (城关镇) is not part of the 字号, and without an industry word
    the 字号 is at least the two characters after it: a changed character there is another firm,
    offered as a suggestion and never shown as its card. A slip in the trade words stays a typo."""
    ix = NameIndex(lexicon)
    ix.add([
        IndexEntry(1, "汉阴县城关镇隆盛文具店", "个体工商户", None, "610921"),
        IndexEntry(2, "汉滨区老街张记蒸面馆", "个体工商户", None, "610902"),
    ])
    for text in ("汉阴县城关镇隆诚文具店", "城关镇隆诚文具店", "隆诚文具店"):
        r = ix.resolve(text)
        assert r.status != "clear" and _ids(r)[:1] == [1], (text, r.status, _ids(r))
    for text, sid in (("汉阴县城关镇隆盛文具店", 1), ("张记蒸面管", 2), ("老街张记蒸面管", 2)):
        r = ix.resolve(text)
        assert r.status == "clear" and _ids(r)[0] == sid, (text, r.status, _ids(r))
