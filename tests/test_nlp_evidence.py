"""What was typed is evidence (issue 21): the classes of confident wrong answers, each closed as a
class — an industry word that contradicts the name, a head office for its branch and back, another
region or registration level, another organisation form, a hashed key taken for the name — and the
adversarial variants of a demo archive answered without one wrong card."""

from __future__ import annotations

import pytest

from bench.adversarial import evaluate as adversarial
from bench.adversarial import variants
from bench.handwritten import SETS, evaluate
from bench.resolve import build_index, demo_entries, region_divisions
from nlp.index_parts import IndexEntry, _h
from nlp.lexicon import Lexicon
from nlp.normalize import name_key
from nlp.resolver import NameIndex


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    lex = Lexicon.from_divisions(region_divisions())
    lex.warm_up()
    return lex


@pytest.fixture(scope="module")
def index(lexicon: Lexicon) -> NameIndex:
    ix = NameIndex(lexicon)
    ix.add([
        IndexEntry(1, "安康市鑫源矿业有限公司", "法人", None, "610902"),
        IndexEntry(2, "安康市瀛湖林业有限公司", "法人", None, "610902"),
        IndexEntry(3, "陕西秦巴物流有限公司", "法人", None, "610902"),
        IndexEntry(4, "陕西天润医药连锁有限公司石泉分店", "非法人组织", None, "610922"),
        IndexEntry(5, "紫阳县越展茶业有限公司", "法人", None, "610924"),
        IndexEntry(6, "安康市物流协会", "法人", None, "610902"),
        IndexEntry(7, "汉滨区长兴木业有限公司", "法人", None, "610902"),
        IndexEntry(8, "中国电信股份有限公司汉阴分公司", "非法人组织", None, "610921"),
    ])
    return ix


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("鑫源林业", "industry"),  # the 字号 of a blacklisted firm with another trade
        ("安康市鑫源渔业有限公司", "industry"),
        ("瀛湖牧业", "industry"),
        ("长兴牧业", "industry"),  # read like 木业, but another trade
        ("陕西秦巴物流有限公司安康分公司", "branch"),  # a branch asked, only its head office here
        ("陕西天润医药连锁有限公司", "branch"),  # the head office asked, only a branch here
        ("天润医药平利分店", None),  # another branch (only a far, fuzzy match: no reason needed)
        ("石泉县天润医药连锁有限公司", "branch"),  # a company of its own, not the 石泉分店
        ("汉阴县瀛湖林业有限公司", "region"),
        ("陕西省瀛湖林业有限公司", "region"),  # a province-level registration
        ("汉滨区物流协会", "region"),  # a district's association is not the city's
        ("紫阳县越展茶业专业合作社", "form"),  # a cooperative is not the company
        ("石泉电信", "branch"),
    ],
)
def test_a_contradicting_word_is_never_a_card(index: NameIndex, typed: str, why: str | None) -> None:
    r = index.resolve(typed)
    assert r.status != "clear", (typed, r.candidates[0].name)
    assert why is None or r.conflict == why, (typed, r)
    assert r.candidates  # the nearest names are still offered


@pytest.mark.parametrize(
    ("typed", "subject"),
    [
        ("鑫源矿业", 1), ("安康鑫源矿业", 1), ("秦巴物流", 3), ("石泉天润医药", 4), ("天润医药石泉分店", 4),
        ("汉阴电信", 8), ("电信汉阴分公司", 8), ("越展茶叶", 5), ("安康市物流协会", 6),
    ],
)
def test_what_fits_is_still_found(index: NameIndex, typed: str, subject: int) -> None:
    r = index.resolve(typed)
    assert r.status == "clear" and r.candidates[0].subject_id == subject, (typed, r)


def test_a_hash_collision_is_never_answered_as_the_name(lexicon: Lexicon) -> None:
    """With 12-bit key hashes a typed name is found whose hash equals a stored name's: without the
    confirmation against the subject's own keys it came back as that subject, exactly."""
    ix = NameIndex(lexicon, hash_bits=12)
    ix.add([IndexEntry(1, "安康市鑫源矿业有限公司", "法人", None, "610902")])
    mask = (1 << 12) - 1
    stored = _h(name_key("安康市鑫源矿业有限公司"), mask)
    twin = next(t for i in range(100_000) if _h(name_key(t := f"第{i}号物资供应站"), mask) == stored)
    assert ix._t_full.get(name_key(twin)) == [0]  # a real collision: the stored name's row
    assert ix.resolve(twin).status != "clear"
    assert ix.longest_name_in(f"查一下{twin}") is None


@pytest.mark.parametrize("which", sorted(SETS))
def test_tiny_hashes_give_no_wrong_card_on_the_hand_written_sets(lexicon: Lexicon, which: str) -> None:
    """8-bit hashes: every table look-up returns rows of hundreds of other keys; still no card of a
    wrong subject (choices grow, answers never turn wrong)."""
    result = evaluate(lexicon, SETS[which], hash_bits=8)
    assert result["confident_wrong"] == 0, result["misses"]


def test_adversarial_variants_of_the_demo_archive(lexicon: Lexicon) -> None:
    """Every 3rd subject of a 2,000-subject demo archive: its industry word swapped, its region
    dropped or swapped, its head office or a branch asked. No wrong card; ≥ 97 % right per class."""
    entries, _source = demo_entries(2000)
    index = build_index(entries, lexicon)
    found = variants(entries, lexicon, every=3, branches=True, index=index)
    result = adversarial(index, found)
    assert result["confident_wrong"] == 0, result["wrong_examples"]
    for kind, figures in result["per_class"].items():
        assert figures["questions"] >= 20, kind
        assert figures["accuracy"] >= 0.97, (kind, figures)
