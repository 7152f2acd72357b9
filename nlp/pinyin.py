"""Pinyin keys of names, per character and cached.

pypinyin's phrase-aware `lazy_pinyin` costs ~27 µs for a six-character name: ~30 s for a million
names. A name index only needs a stable key, so each distinct character is converted once (a few
thousand calls) and names are joined from the cache. The price: a heteronym inside a 字号 gets its
most common reading, the same for the stored name and for a typed homophone.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


class PinyinTable:
    """Character → (toneless pinyin, initial letter); ASCII letters and digits map to themselves."""

    __slots__ = ("_full", "_initial")

    def __init__(self) -> None:
        self._full: dict[str, str] = {}
        self._initial: dict[str, str] = {}

    def _learn(self, ch: str) -> None:
        if ch.isascii():
            low = ch.lower() if ch.isalnum() else ""
            self._full[ch] = low
            self._initial[ch] = low
            return
        syllable = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
        first = lazy_pinyin(ch, style=Style.FIRST_LETTER, errors="ignore")
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
