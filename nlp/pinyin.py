"""Pinyin keys of names: per character and cached, plus the readings of a word (长虹 → chang hong).

pypinyin's phrase-aware `lazy_pinyin` costs 30-130 µs a name: a minute or more for a million names.
Each distinct character is converted once (a few thousand calls) and names are joined from the cache
(`full`, `initials`: the key a typed Chinese homophone is looked up by). For the pinyin people type,
`readings` gives every spelling worth indexing: the word's reading from pypinyin's own phrase
dictionary (a dictionary look-up per heteronym, not a conversion per name), the per-character
reading, and each other reading of a heteronym (重 zhong/chong, 长 zhang/chang), capped in number.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

# At most this many spellings of one name are indexed (a name full of heteronyms would explode).
MAX_READINGS = 4
_LONGEST_PHRASE = 4
_READINGS_PER_CHAR = 2


@cache
def _pypinyin() -> tuple[Any, Any, dict[str, Any], dict[int, str]]:
    """pypinyin and its dictionaries, imported on first use: they cost ~0.8 s of a cold start that a
    process answering from an index snapshot can spend later (the first pinyin query or refresh)."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    return Style, lazy_pinyin, phrases_dict, pinyin_dict


def _toneless(syllable: str) -> str:
    """'cháng' → 'chang', 'lǜ' → 'lv'."""
    decomposed = unicodedata.normalize("NFD", syllable)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.replace("ü", "v").replace("u\u0308", "v")


class PinyinTable:
    """Character → (toneless pinyin, initial letter); ASCII letters and digits map to themselves."""

    __slots__ = ("_all", "_full", "_initial")

    def __init__(self) -> None:
        self._full: dict[str, str] = {}
        self._initial: dict[str, str] = {}
        self._all: dict[str, tuple[str, ...]] = {}

    def _learn(self, ch: str) -> None:
        if ch.isascii():
            low = ch.lower() if ch.isalnum() else ""
            self._full[ch] = low
            self._initial[ch] = low
            return
        style, lazy_pinyin, _phrases, _chars = _pypinyin()
        syllable = lazy_pinyin(ch, style=style.NORMAL, errors="ignore")
        first = lazy_pinyin(ch, style=style.FIRST_LETTER, errors="ignore")
        self._full[ch] = syllable[0].replace("ü", "v") if syllable else ""
        self._initial[ch] = first[0] if first else ""

    def _spell(self, text: str, table: dict[str, str]) -> str:
        try:
            return "".join([table[ch] for ch in text])
        except KeyError:
            for ch in text:
                if ch not in table:
                    self._learn(ch)
            return "".join([table[ch] for ch in text])

    def full(self, text: str) -> str:
        return self._spell(text, self._full)

    def initials(self, text: str) -> str:
        return self._spell(text, self._initial)

    def _readings_of(self, ch: str) -> tuple[str, ...]:
        """Every toneless reading of one character, the most common first; () for ASCII or unknown."""
        known = self._all.get(ch)
        if known is not None:
            return known
        common = self.full(ch)
        raw = _pypinyin()[3].get(ord(ch), "")
        # pypinyin lists a character's readings most common first; past the second they are rare
        # (达 ti, 虹 jiang) and would only make false matches.
        listed = [_toneless(s) for s in raw.split(",") if s][:_READINGS_PER_CHAR]
        out = tuple(dict.fromkeys([common, *listed])) if common else ()
        self._all[ch] = out
        return out

    def all_readings(self, ch: str) -> tuple[str, ...]:
        """Every toneless reading of one character worth knowing (for homophone typos)."""
        return self._readings_of(ch)

    def _phrase_syllables(self, word: str) -> list[str]:
        """Per-character syllables, with heteronyms read as in pypinyin's phrase dictionary."""
        syllables = [self.full(ch) for ch in word]
        phrases_dict = _pypinyin()[2]
        fixed = [False] * len(word)
        for i, ch in enumerate(word):
            if fixed[i] or len(self._readings_of(ch)) < 2:
                continue
            for size in range(_LONGEST_PHRASE, 1, -1):
                for start in range(max(0, i - size + 1), min(i, len(word) - size) + 1):
                    phrase = phrases_dict.get(word[start : start + size])
                    if phrase:
                        for k, reading in enumerate(phrase):
                            if reading and not fixed[start + k]:
                                syllables[start + k] = _toneless(reading[0])
                                fixed[start + k] = True
                        break
                if fixed[i]:
                    break
        return syllables

    def readings(self, word: str) -> list[tuple[str, str]]:
        """(full pinyin, initials) spellings of `word` to index, the word's own reading first."""
        if not word:
            return []
        common = [self.full(ch) for ch in word]
        if all(len(self._readings_of(ch)) < 2 for ch in word):
            return [("".join(common), self.initials(word))]
        phrase = self._phrase_syllables(word)
        variants: list[list[str]] = [phrase, common]
        for i, ch in enumerate(word):
            for other in self._readings_of(ch):
                if other != phrase[i]:
                    variants.append([*phrase[:i], other, *phrase[i + 1 :]])
        out: dict[str, str] = {}
        for syllables in variants:
            out.setdefault("".join(syllables), "".join(s[:1] for s in syllables))
            if len(out) >= MAX_READINGS:
                break
        return list(out.items())
