"""Confident wrong subjects found in the demo (issue 21), each closed as a class: a head office asked
through its branch (…的总公司), a branch asked through its head office (…总公司的…分公司), a legal
form typed that contradicts the candidate's, a colloquial query verb left in the name (查下), and
nearest names ranked by the industry word instead of the 字号."""

from __future__ import annotations

import pytest

from bench.resolve import region_divisions
from nlp.evidence import LEGAL_FORM
from nlp.index_parts import IndexEntry
from nlp.lexicon import Lexicon
from nlp.message_names import resolve_message
from nlp.name_relations import branch_of_written_out, head_office_asked
from nlp.normalize import strip_filler
from nlp.resolver import NameIndex

HEAD, HEAD_HY, HEAD_LLC, BRANCH_SQ, XINYUAN, HUATAI_SM, QINBA, QINBA_HY, TELECOM_HY = range(1, 10)


@pytest.fixture(scope="module")
def index() -> NameIndex:
    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    ix = NameIndex(lexicon)
    ix.add([
        IndexEntry(HEAD, "安康市恒达建材有限公司", "法人", None, "610902"),
        IndexEntry(HEAD_HY, "汉阴县恒达建材有限公司", "法人", None, "610921"),
        IndexEntry(HEAD_LLC, "安康市恒达建材有限责任公司", "法人", None, "610902"),
        IndexEntry(BRANCH_SQ, "安康市恒达建材有限公司石泉分公司", "非法人组织", None, "610922"),
        IndexEntry(XINYUAN, "安康市鑫源矿业有限公司", "法人", None, "610902"),
        IndexEntry(HUATAI_SM, "旬阳县华泰商贸有限公司", "法人", None, "610928"),
        IndexEntry(QINBA, "陕西秦巴物流有限公司", "法人", None, "610902"),
        IndexEntry(QINBA_HY, "陕西秦巴物流有限公司汉阴分公司", "非法人组织", None, "610921"),
        IndexEntry(TELECOM_HY, "中国电信股份有限公司汉阴分公司", "非法人组织", None, "610921"),
    ])
    return ix


def card(text: str, index: NameIndex) -> list[int | None]:
    """The card each subject asked gets (None: buttons or nothing)."""
    found = resolve_message(text, index)
    mentions = [m.resolution for m in found.mentions] or [found.resolution]
    return [r.candidates[0].subject_id if r.status == "clear" else None for r in mentions]


@pytest.mark.parametrize(
    ("text", "named", "after"),
    [
        ("安康恒达建材石泉分公司的总公司", "安康恒达建材石泉分公司", ""),
        ("秦巴物流汉阴分公司总部有没有处罚", "秦巴物流汉阴分公司", "有没有处罚"),
        ("汉阴秦巴物流的上级公司", "汉阴秦巴物流", ""),
        ("恒达建材石泉分公司的母公司", "恒达建材石泉分公司", ""),
    ],
)
def test_the_head_office_asked_is_read(text: str, named: str, after: str) -> None:
    asked = head_office_asked(text)
    assert asked is not None and (asked.named, asked.after) == (named, after)


def test_a_name_ending_in_a_head_office_word_is_no_relation() -> None:
    assert head_office_asked("恒达建材总公司") is None
    assert head_office_asked("安康市恒达建材有限公司") is None
    assert branch_of_written_out("恒达建材总公司的石泉分公司") == "恒达建材石泉分公司"
    assert branch_of_written_out("安康市恒达建材有限公司的石泉分公司有没有处罚") == "安康市恒达建材有限公司石泉分公司有没有处罚"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("安康恒达建材石泉分公司的总公司", HEAD),  # the demo's confident wrong answer: the branch's card
        ("安康市恒达建材有限公司石泉分公司的总公司", HEAD),
        ("安康恒达建材石泉分公司的上级公司有没有处罚", HEAD),
        ("汉阴秦巴物流的总部", QINBA),
        ("恒达建材总公司的石泉分公司", BRANCH_SQ),  # and the reverse: the branch asked through its head
        ("秦巴物流总公司的汉阴分公司", QINBA_HY),
    ],
)
def test_a_relation_answers_the_subject_it_asks_for(index: NameIndex, text: str, want: int) -> None:
    assert card(text, index) == [want]


def test_a_head_office_not_in_the_archive_is_never_its_branch(index: NameIndex) -> None:
    found = resolve_message("中国电信汉阴分公司的总公司", index)
    assert found.resolution.status != "clear"
    assert found.mentions[0].typed == "中国电信股份有限公司"  # quoted back as the head office asked
    assert card("秦巴物流总公司的石泉分公司", index) == [None]  # another branch is not 汉阴分公司


@pytest.mark.parametrize(
    "text",
    ["汉阴恒达建材有限责任公司", "汉阴县恒达建材有限责任公司", "安康市鑫源矿业股份有限公司", "安康市鑫源矿业有限责任公司"],
)
def test_another_legal_form_is_never_a_card(index: NameIndex, text: str) -> None:
    r = index.resolve(text)
    assert r.status == "none" and r.conflict == LEGAL_FORM, (text, r)
    assert r.candidates  # offered as the nearest names


def test_the_other_legal_form_stays_a_rival(index: NameIndex) -> None:
    """安康市恒达建材有限公司 and …有限责任公司 are both registered: the form typed decides nothing alone
    when the region is cut short, but the subject of that form is offered first."""
    r = index.resolve("安康恒达建材有限责任公司")
    assert r.status == "ambiguous" and r.candidates[0].subject_id == HEAD_LLC
    assert HEAD in {c.subject_id for c in r.candidates}
    assert index.resolve("安康市恒达建材有限责任公司").candidates[0].subject_id == HEAD_LLC
    assert index.resolve("安康市恒达建材有限责任公司").status == "clear"  # the name as registered
    assert index.resolve("汉阴恒达建材有限公司").status == "clear"


@pytest.mark.parametrize(
    ("text", "left"),
    [("帮我查下鑫源矿业", "鑫源矿业"), ("你帮我搜搜华泰商贸", "华泰商贸"), ("查下秦巴物流", "秦巴物流"),
     ("看看鑫源矿业", "鑫源矿业"), ("帮忙看一下秦巴物流", "秦巴物流"), ("搜一下鑫源矿业", "鑫源矿业")],
)
def test_colloquial_verbs_are_not_part_of_the_name(text: str, left: str) -> None:
    assert strip_filler(text) == left


def test_two_names_after_a_colloquial_verb(index: NameIndex) -> None:
    found = resolve_message("帮我查下鑫源矿业和恒达建材", index)
    assert [m.typed for m in found.mentions] == ["鑫源矿业", "恒达建材"]  # not 下鑫源矿业
    assert found.mentions[0].resolution.status == "clear"


def test_nearest_names_share_the_trade_name_first(index: NameIndex) -> None:
    r = index.resolve("旬阳县华泰建材有限公司")
    assert r.status == "none"
    assert r.candidates[0].subject_id == HUATAI_SM, [c.name for c in r.candidates]


def test_a_sentence_is_not_quoted_as_a_two_character_name(index: NameIndex) -> None:
    """A feedback note typed outside its flow (不予采购，已告知申请人) found nobody; the answer quoted
    "不予" as the name asked. The sentence as typed is what found nothing; a short name stays quoted."""
    found = resolve_message("不予采购，已告知申请人", index)
    assert found.resolution.status == "none"
    assert [m.typed for m in found.mentions] == ["不予采购,已告知申请人"]
    assert [m.typed for m in resolve_message("查一下华为有没有处罚", index).mentions] == ["华为"]
