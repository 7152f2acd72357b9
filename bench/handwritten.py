"""The hand-written labelled sets (tests/data/handwritten_names*.toml): loading and judging.

Shared by the tests (the pure path, the shared use case and every door: tests/test_doors_agree.py)
and `bench.resolve`, so all of them judge the same questions the same way. The subjects and the
expected answers are written by hand in the data files; nothing here derives an expectation from the
code under test.

A door's answer to one question is a list of `Seen`, one per subject the message asks about: the
card it showed (`card`), or the subjects it offered as buttons (`offered`).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.index_parts import IndexEntry, Resolution
from nlp.lexicon import Lexicon
from nlp.message_names import resolve_message
from nlp.resolver import NameIndex
from rules.codes import complete_ric, complete_uscc

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
DATA_FILE = DATA_DIR / "handwritten_names.toml"
SECOND_FILE = DATA_DIR / "handwritten_names_2.toml"
THIRD_FILE = DATA_DIR / "handwritten_names_3.toml"
SETS = {"handwritten": DATA_FILE, "handwritten_2": SECOND_FILE, "handwritten_3": THIRD_FILE}


@dataclass(frozen=True)
class HandSubject:
    key: str
    name: str
    kind: str
    division: str
    uscc: str | None
    id_number: str | None
    reg: str | None
    aliases: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class HandQuestion:
    """`wants`: per subject asked, ("clear" | "ambiguous" | "none", key or None), as written."""

    text: str
    wants: tuple[tuple[str, str | None], ...]
    kind: str = ""  # the class of the question (the second set names one per question)

    @property
    def expect(self) -> str:
        return self.wants[0][0]

    @property
    def key(self) -> str | None:
        return self.wants[0][1]


@dataclass(frozen=True)
class Seen:
    """What a door showed for one subject asked: a card, or buttons."""

    card: int | None
    offered: tuple[int, ...] = ()


def load(path: Path = DATA_FILE) -> tuple[list[HandSubject], list[HandQuestion]]:
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    subjects = [
        HandSubject(
            s["key"],
            s["name"],
            s["kind"],
            s["division"],
            complete_uscc(s["uscc17"]) if s.get("uscc17") else None,
            complete_ric(s["id17"]) if s.get("id17") else None,
            s.get("reg"),
            tuple((a, k) for a, k in s.get("aliases", ())),
        )
        for s in data["subjects"]
    ]
    by_key = {s.key: s for s in subjects}
    questions = []
    for row in data["asked"]["questions"]:
        text, expect = _expand(row[0], by_key), row[1]
        wants = tuple(_want(part) for part in expect.split("+"))
        questions.append(HandQuestion(text, wants, row[2] if len(row) > 2 else ""))
    return subjects, questions


def _want(expect: str) -> tuple[str, str | None]:
    if expect == "-":
        return "none", None
    if expect.startswith("?"):
        return "ambiguous", expect[1:]
    return "clear", expect


def _expand(text: str, by_key: dict[str, HandSubject]) -> str:
    """{uscc:key}, {uscc_spaced:key}, {uscc_lower:key}, {uscc_typo:key} → the code as typed."""
    while "{" in text:
        start = text.index("{")
        end = text.index("}", start)
        form, key = text[start + 1 : end].split(":")
        code = by_key[key].uscc or ""
        if form == "uscc_spaced":
            code = " ".join(code[i : i + 4] for i in range(0, 18, 4))
        elif form == "uscc_lower":
            code = code.lower()
        elif form == "uscc_typo":
            code = code[:-1] + ("1" if code[-1] != "1" else "2")
        text = text[:start] + code + text[end + 1 :]
    return text


def entries(subjects: list[HandSubject]) -> list[IndexEntry]:
    """Index entries, subject ids 1.. in file order."""
    return [
        IndexEntry(i, s.name, s.kind, s.uscc, s.division, s.aliases) for i, s in enumerate(subjects, start=1)
    ]


def seen_of(resolution: Resolution) -> Seen:
    """A resolver's answer as the chat shows it: clear is a card, anything else buttons."""
    ids = tuple(c.subject_id for c in resolution.candidates)
    return Seen(ids[0], ()) if resolution.status == "clear" else Seen(None, ids)


def answer(text: str, index: NameIndex, subjects: list[HandSubject]) -> list[Seen]:
    """What the bot answers without a database: the pure half of services.subject_query, with the
    archive's two database look-ups (ID hash, legacy code columns) standing in as dictionaries built
    from the same hand-written subjects (the tests run the real use case on a real database)."""
    found = resolve_message(text, index)
    ids = {s.id_number: i for i, s in enumerate(subjects, start=1) if s.id_number}
    regs = {s.reg: i for i, s in enumerate(subjects, start=1) if s.reg}
    for code in found.legacy:
        if code.kind == "org" and found.resolution.candidates:
            return [seen_of(found.resolution)]
        wanted = regs.get(code.raw_digits) if code.kind in ("reg", "ric15") else None
        if wanted is None and code.kind == "ric15":
            wanted = ids.get(code.value)
        return [Seen(wanted)]
    for mention in found.query.id_numbers:
        return [Seen(ids.get(mention.value) if mention.valid else None)]
    if found.query.uscc or not found.mentions:
        return [seen_of(found.resolution)]
    return [seen_of(m.resolution) for m in found.mentions]


def judge(q: HandQuestion, seen: list[Seen], ids: dict[str, int]) -> tuple[bool, bool]:
    """(right, confidently wrong) for one question. Wrong: a card of any subject not wanted there
    (also a card beside the subjects asked). Right: every subject asked answered as written; a
    subject to pick may also be shown straight away."""
    wrong = False
    right = len(seen) >= len(q.wants)
    for i, one in enumerate(seen):
        expect, key = q.wants[i] if i < len(q.wants) else ("none", None)
        want = ids.get(key) if key else None
        if one.card is not None and (want is None or one.card != want):
            wrong = True
        if i >= len(q.wants):
            continue
        if expect == "clear":
            right = right and one.card == want
        elif expect == "ambiguous":
            right = right and (one.card == want or (one.card is None and want in one.offered))
        else:
            right = right and one.card is None
    return right and not wrong, wrong


def score(questions: list[HandQuestion], answers: list[list[Seen]], ids: dict[str, int]) -> dict[str, Any]:
    """Accuracy and confident wrong answers, overall and per class of question."""
    right = wrong = 0
    per: dict[str, Counter[str]] = {}
    misses: list[str] = []
    for q, seen in zip(questions, answers, strict=True):
        ok, bad = judge(q, seen, ids)
        right += ok
        wrong += bad
        tally = per.setdefault(q.kind or "all", Counter())
        tally["questions"] += 1
        tally["right"] += ok
        tally["confident_wrong"] += bad
        if not ok:
            misses.append(f"{'WRONG ' if bad else ''}{q.text!r} want {'+'.join(f'{e}:{k}' for e, k in q.wants)} got {seen}")
    return {
        "questions": len(questions),
        "accuracy": round(right / max(1, len(questions)), 4),
        "confident_wrong": wrong,
        "per_class": {k: {"questions": v["questions"], "accuracy": round(v["right"] / v["questions"], 4),
                          "confident_wrong": v["confident_wrong"]} for k, v in sorted(per.items())},
        "misses": misses,
    }


def evaluate(lexicon: Lexicon, path: Path = DATA_FILE, hash_bits: int | None = None) -> dict[str, Any]:
    """Accuracy of a hand-written set on an index of its own subjects, through the pure path
    (`hash_bits`: a narrower key hash, to prove collisions are never answered as names)."""
    subjects, questions = load(path)
    index = NameIndex(lexicon) if hash_bits is None else NameIndex(lexicon, hash_bits=hash_bits)
    index.add(entries(subjects))
    ids = {s.key: i for i, s in enumerate(subjects, start=1)}
    return score(questions, [answer(q.text, index, subjects) for q in questions], ids)
