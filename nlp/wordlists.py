"""The word lists shipped in nlp/data/: organisation forms, industries, intents, matters, stopwords.

A leaf of its own so that normalisation and the lexicon can both read the lists without importing
each other.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")


@cache
def load_word_list(name: str) -> tuple[tuple[str, ...], ...]:
    """Rows of nlp/data/<name>.txt: word, frequency, optional tag; '#' lines are comments."""
    rows: list[tuple[str, ...]] = []
    for line in (DATA_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rows.append(tuple(line.split()))
    return tuple(rows)
