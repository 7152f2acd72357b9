"""Abbreviations officials and residents use for institutions and banks (疾控, 邮储, 人社局, 建行 …).

Registered names are written in full (石泉县疾病预防控制中心, 中国邮政储蓄银行股份有限公司…), people
type the short form. The table is data (nlp/data/abbreviations.txt: abbreviation, then its full
form(s)); `expansions` turns a name key into the forms to look up besides the text as typed.

Expansion only adds readings, it never replaces what was typed: the resolver tries the text as
typed first and the expanded forms only through the tiers that take text literally
(`resolver_tiers.EXACT_TIERS`), so an abbreviation that happens to sit inside another word
(化工行业 holds 工行) can only produce a form that matches nothing, never a confident wrong answer.
"""

from __future__ import annotations

from functools import cache

from nlp.wordlists import load_word_list

# At most this many expanded forms per query (a text full of abbreviations would multiply them).
MAX_EXPANSIONS = 4


@cache
def abbreviation_table() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(abbreviation, its full forms), longest abbreviation first, from nlp/data/abbreviations.txt."""
    rows = [(row[0], tuple(row[1:])) for row in load_word_list("abbreviations") if len(row) > 1]
    return tuple(sorted(rows, key=lambda r: len(r[0]), reverse=True))


@cache
def _by_first_character() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """The table by the first character of each abbreviation, longest first (a look-up per position)."""
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for short, fulls in abbreviation_table():
        out.setdefault(short[0], []).append((short, fulls))
    return {ch: tuple(rows) for ch, rows in out.items()}


def expansions(key: str) -> list[str]:
    """`key` (a name key: no spaces) with its abbreviations written out; [] when it holds none.

    Occurrences are taken left to right, longest abbreviation first, never overlapping; a form that
    already holds the full word is left alone (邮政储蓄银行 is not expanded again).
    """
    by_first = _by_first_character()
    forms = [""]
    pos = 0
    changed = False
    while pos < len(key):
        for short, fulls in by_first.get(key[pos], ()):
            if key.startswith(short, pos) and not any(key.startswith(f, pos) for f in fulls):
                forms = [f + full for f in forms for full in fulls][:MAX_EXPANSIONS]
                pos += len(short)
                changed = True
                break
        else:
            forms = [f + key[pos] for f in forms]
            pos += 1
    return [f for f in forms if f != key] if changed else []
