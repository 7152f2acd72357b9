"""Labelled accuracy: ≥ 200 realistic queries of every kind; ≥ 97 % right and no confident wrong answer.

The queries are derived deterministically from 20,000 demo subjects (bench.resolve.derive_queries,
the same mix the benchmark uses) plus hand-written ones. The index is built once for the module.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bench.resolve import (
    LabelledQuery,
    answer,
    build_index,
    demo_entries,
    derive_queries,
    judge,
    region_divisions,
)
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex


@pytest.fixture(scope="module")
def world() -> tuple[Lexicon, NameIndex, list[LabelledQuery]]:
    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    entries, _source = demo_entries(20_000)
    index = build_index(entries, lexicon)
    queries = derive_queries(entries, index, 400)
    return lexicon, index, queries + _hand_written(index)


def _hand_written(index: NameIndex) -> list[LabelledQuery]:
    """Whole messages as people type them, built around real subjects of the generated register."""
    out: list[LabelledQuery] = []
    picked = [e for e in (index.get(i) for i in range(1, 400)) if e is not None and e.kind != "自然人"][:30]
    wrappers = ("帮我查一下{}的情况", "{}信用怎么样", "{} 有没有行政处罚", "请问{}有黑名单吗", "查询 {}")
    for i, e in enumerate(picked):
        out.append(LabelledQuery(wrappers[i % len(wrappers)].format(e.name), "message", "clear", e.subject_id))
        if e.uscc:
            out.append(LabelledQuery(f"查{e.uscc[:9]} {e.uscc[9:]}的许可", "message-code", "clear", e.subject_id))
    for miss in ("鲲鹏航天科技", "帮我查一下麒麟翡翠商贸", "琥珀玳瑁物流", "查询 xyzq"):
        out.append(LabelledQuery(miss, "message-miss", "none", None))
    return out


def test_labelled_set_is_big_and_covers_every_kind(world) -> None:  # type: ignore[no-untyped-def]
    _lexicon, _index, queries = world
    kinds = Counter(q.kind for q in queries)
    assert len(queries) >= 200
    for kind in ("exact", "core", "short", "district", "pinyin", "initials", "homophone", "swap", "former",
                 "traditional", "code", "code_typo", "miss", "message"):  # fmt: skip
        assert kinds[kind] > 0, kind


def test_accuracy_and_no_confident_wrong_answer(world) -> None:  # type: ignore[no-untyped-def]
    lexicon, index, queries = world
    wrong: list[str] = []
    failed: list[str] = []
    correct = 0
    for q in queries:
        r = answer(q.text, index, lexicon)
        ok, bad = judge(q, r)
        correct += ok
        summary = f"{q.kind} {q.text!r} → {r.status} {[c.subject_id for c in r.candidates[:3]]} (want {q.subject_id})"
        if bad:
            wrong.append(summary)
        elif not ok:
            failed.append(summary)
    assert wrong == []
    assert correct / len(queries) >= 0.97, failed
