from __future__ import annotations

import pytest

from nlp.intent import parse
from nlp.lexicon import Lexicon
from rules.codes import complete_ric, complete_uscc


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    lex = Lexicon.from_divisions([("610900", "安康市", "安康"), ("610921", "汉阴县", "汉阴"), ("610902", "汉滨区", "汉滨")])
    lex.warm_up()
    return lex


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("帮助", "help"),
        ("你好", "greeting"),
        ("我要申报", "declare"),
        ("恒达建材想申请信用修复", "repair"),
        ("我对处罚有异议", "objection"),
        ("行政许可的报送期限是多久", "due"),
        ("提醒我报送", "remind"),
        ("恒达建材", "query"),
        ("？？", "unknown"),
    ],
)
def test_intents(lexicon: Lexicon, text: str, intent: str) -> None:
    assert parse(text, lexicon).intent == intent


def test_slots_category_district_matter(lexicon: Lexicon) -> None:
    q = parse("汉阴的恒達建材有没有黑名单", lexicon)
    assert (q.names, q.division_code, q.category) == (["恒达建材"], "610921", "严重失信主体名单")
    q = parse("政府采购前查一下汉阴县恒达建材有限公司", lexicon)
    # A region inside the name is the resolver's to weigh (nlp.evidence), not a district filter: a
    # branch is often registered in another county than the one its name starts with.
    assert q.names == ["汉阴县恒达建材有限公司"] and q.matter == "procurement" and q.division_code is None
    assert parse("恒达建材的行政许可", lexicon).category == "行政许可"
    assert parse("帮我查一下 恒 达 建 材 的情况", lexicon).names == ["恒达建材"]


def test_names_with_connective_characters_survive(lexicon: Lexicon) -> None:
    assert parse("汉滨区和平商贸有限公司", lexicon).names == ["汉滨区和平商贸有限公司"]
    assert parse("康晨和科技有处罚吗", lexicon).names == ["康晨和科技"]


def test_codes_in_text(lexicon: Lexicon) -> None:
    code = complete_uscc("91610921MA7012345")
    q = parse(f"查一下{code.lower()}的处罚", lexicon)
    assert q.intent == "query" and [m.value for m in q.uscc] == [code] and q.names == []
    rid = complete_ric("61092119900101123")
    q = parse(f"身份证 {rid[:6]} {rid[6:14]} {rid[14:]}", lexicon)
    assert [(m.value, m.valid) for m in q.id_numbers] == [(rid, True)] and q.uscc == []
