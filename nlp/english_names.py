"""A Chinese name written in English (Ankang Hengda Building Materials Co., Ltd.) → the name it
transliterates, as a key the resolver can look up ("安康hengda建材有限公司").

Registered English names translate the industry and the organisation form and spell the place and
the 字号 in pinyin. So the industry and form words come from a table (nlp/data/english_words.txt,
longest phrase first), a word that is the pinyin of a region word becomes that region word
(Ankang → 安康, Hanbin → 汉滨), and the words left are the 字号's pinyin, kept as letters: the
resolver's mixed tier reads them by pinyin and takes the Chinese words literally (nlp.evidence then
holds the industry word typed in English to the same rule as one typed in Chinese). Only the first
word being known is never enough: a text counts as English when it has at least one table word and
leaves letters for the 字号, or names a place and a form.
"""

from __future__ import annotations

import re
from functools import cache

from nlp.name_parts import bare_place
from nlp.pinyin import PinyinTable
from nlp.wordlists import load_word_list

_WORD = re.compile(r"[a-z]+")
_STOP = frozenset({"the", "of", "and", "in"})
# English spellings of provinces that pinyin does not give (Shaanxi is 陕西, Shanxi 山西).
_SPECIAL_PLACES = {"shaanxi": "陕西", "shanxi": "山西", "china": "中国"}
_PLACE_WORDS = frozenset({"city", "county", "district", "province", "town"})


@cache
def _phrases() -> tuple[tuple[tuple[str, ...], str], ...]:
    rows = [(tuple(row[0].split("_")), row[1]) for row in load_word_list("english_words") if len(row) > 1]
    return tuple(sorted(rows, key=lambda r: len(r[0]), reverse=True))


class EnglishNames:
    """Reads English names against one set of region words (made once per name index)."""

    def __init__(self, region_words: tuple[str, ...], pinyin: PinyinTable) -> None:
        places: dict[str, str] = {}
        for word in sorted(region_words, key=len):
            bare = bare_place(word)
            places.setdefault(pinyin.full(bare), bare)
        self._places = places | _SPECIAL_PLACES

    def to_key(self, text: str) -> str | None:
        """The name key the English text stands for, or None when it does not read as an English
        name (plain pinyin "hengdajiancai", a code, a word or two of chat)."""
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
        if len(words) < 2 or any(ord(ch) > 127 for ch in text if ch.isalpha()):
            return None
        out: list[str] = []
        front: list[str] = []  # places go first: Ruixiang Trading (Ankang) Co., Ltd. → 安康 ruixiang 商贸 …
        known = places = letters = 0
        i = 0
        phrases = _phrases()
        while i < len(words):
            for phrase, chinese in phrases:
                if tuple(words[i : i + len(phrase)]) == phrase:
                    out.append(chinese)
                    known += 1
                    i += len(phrase)
                    break
            else:
                word = words[i]
                if word in self._places:
                    front.append(self._places[word])
                    places += 1
                elif word not in _PLACE_WORDS:
                    out.append(word)
                    letters += 1
                i += 1
        if not known or not (letters or places):
            return None
        return "".join(front + out)


__all__ = ["EnglishNames"]
