"""The hand-written labelled set (tests/data/handwritten_names.toml): loading and judging.

Shared by tests/test_nlp_handwritten.py, the console conversation test and `bench.resolve`, so the
three judge the same questions the same way. The subjects and the expected answers are written by
hand in the data file; nothing here derives an expectation from the code under test.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.index_parts import Candidate, IndexEntry, Resolution
from nlp.lexicon import Lexicon
from nlp.message_names import resolve_message
from nlp.resolver import NameIndex
from rules.codes import complete_ric, complete_uscc

DATA_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "handwritten_names.toml"


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
    text: str
    expect: str  # "clear" / "ambiguous" / "none"
    key: str | None


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
    for text, expect in data["asked"]["questions"]:
        text = _expand(text, by_key)
        if expect == "-":
            questions.append(HandQuestion(text, "none", None))
        elif expect.startswith("?"):
            questions.append(HandQuestion(text, "ambiguous", expect[1:]))
        else:
            questions.append(HandQuestion(text, "clear", expect))
    return subjects, questions


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


def answer(text: str, index: NameIndex, subjects: list[HandSubject]) -> Resolution:
    """What the bot answers, with the archive's two database look-ups (ID hash, legacy code
    columns) standing in as dictionaries built from the same hand-written subjects."""
    found = resolve_message(text, index)
    ids = {s.id_number: i for i, s in enumerate(subjects, start=1) if s.id_number}
    regs = {s.reg: i for i, s in enumerate(subjects, start=1) if s.reg}
    wanted: int | None = None
    for code in found.legacy:
        if code.kind == "org":
            return found.resolution
        wanted = regs.get(code.raw_digits) if code.kind in ("reg", "ric15") else None
        if wanted is None and code.kind == "ric15":
            wanted = ids.get(code.value)
        return _card(wanted, index)
    for mention in found.query.id_numbers:
        return _card(ids.get(mention.value) if mention.valid else None, index)
    return found.resolution


def _card(subject_id: int | None, index: NameIndex) -> Resolution:
    entry = index.get(subject_id) if subject_id else None
    if entry is None:
        return Resolution("none")
    return Resolution("clear", [Candidate(entry.subject_id, entry.name, entry.division_code, entry.uscc, 100.0, "", "code")])


def judge(q: HandQuestion, r: Resolution, subject_id: int | None) -> tuple[bool, bool]:
    """(right, confidently wrong) for one question; `subject_id` is the expected subject's id."""
    top = r.candidates[0].subject_id if r.candidates else None
    if r.status == "clear" and top != subject_id:
        return False, True
    if q.expect == "clear":
        return r.status == "clear", False
    if q.expect == "ambiguous":
        # The subject offered among the buttons (a choice, a suggestion or the nearest names), or shown.
        return r.status == "clear" or subject_id in {c.subject_id for c in r.candidates}, False
    return r.status != "clear", False


def evaluate(lexicon: Lexicon) -> dict[str, Any]:
    """Accuracy of the whole hand-written set on an index of its own subjects."""
    subjects, questions = load()
    index = NameIndex(lexicon)
    index.add(entries(subjects))
    ids = {s.key: i for i, s in enumerate(subjects, start=1)}
    right = wrong = 0
    misses: list[str] = []
    for q in questions:
        r = answer(q.text, index, subjects)
        ok, bad = judge(q, r, ids.get(q.key) if q.key else None)
        right += ok
        wrong += bad
        if not ok:
            top = r.candidates[0].name if r.candidates else None
            misses.append(f"{'WRONG ' if bad else ''}{q.text!r} want {q.expect} {q.key} got {r.status} {top}")
    return {"questions": len(questions), "accuracy": round(right / len(questions), 4), "confident_wrong": wrong, "misses": misses}
