"""The hand-written labelled set (tests/data/handwritten_names.toml): ≥ 300 questions over
hand-written subjects shaped like the field's, judged as the chat answers them (nlp.message_names).
Targets: ≥ 97 % right and no confident wrong subject."""

from __future__ import annotations

from collections import Counter

from bench.handwritten import evaluate, load
from bench.resolve import region_divisions
from nlp.lexicon import Lexicon


def test_the_set_is_big_and_hand_written_over_every_shape() -> None:
    subjects, questions = load()
    assert len(questions) >= 300
    kinds = Counter(s.kind for s in subjects)
    assert {"法人", "非法人组织", "个体工商户", "自然人"} <= set(kinds)
    expectations = Counter(q.expect for q in questions)
    assert expectations["clear"] > 250 and expectations["ambiguous"] >= 5 and expectations["none"] >= 10
    texts = [q.text for q in questions]
    assert any("（" in t for t in texts) and any("(" in t for t in texts)  # both bracket widths
    assert any(t.isascii() and t.isalpha() for t in texts)  # pinyin
    assert any(len(t) == 15 and t.isdigit() for t in texts)  # an old ID or registration number


def test_accuracy_and_no_confident_wrong_subject() -> None:
    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    result = evaluate(lexicon)
    assert result["confident_wrong"] == 0, result["misses"]
    assert result["accuracy"] >= 0.97, result["misses"]
