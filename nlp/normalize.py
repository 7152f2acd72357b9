"""Text normalisation shared by the intent parser and the name index.

Users type on phones: full-width digits (９１６１…), traditional characters (恆達), spaces in the
middle of names, and polite filler around the one thing that matters. Everything the index stores and
everything a query looks up goes through the same functions here, so a name typed any of those ways
lands on the same key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from nlp.wordlists import load_word_list


def _filler_phrases() -> tuple[str, ...]:
    """Filler around a question (nlp/data/fillers.txt): the phrases listed whole, every asker with
    every verb (帮我 + 查下, 你帮我 + 搜搜, 麻烦 + 看一下) and the verbs of two characters or more
    alone (查下, 看看, 搜一下): a colloquial verb left in the text becomes part of the name
    (帮我查下鑫源矿业 → 下鑫源矿业, issue 21). Longest first, so 帮我查一下 wins over 查一下."""
    rows = load_word_list("fillers")
    askers = [r[0] for r in rows if r[1:2] == ("asker",)]
    verbs = [r[0] for r in rows if r[1:2] == ("verb",)]
    out = {r[0] for r in rows if r[1:2] == ("phrase",)}
    out.update(a + v for a in askers for v in verbs)
    out.update(v for v in verbs if len(v) >= 2)
    return tuple(sorted(out, key=lambda w: (-len(w), w)))


# Deliberately no bare "信用" among them: it occurs inside real names (农村信用合作联社).
FILLER_PHRASES: tuple[str, ...] = _filler_phrases()

_PUNCT_CATEGORIES = ("P", "S")  # punctuation and symbols: both are separators for us
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_ADMIN_CHARS = frozenset("省市县区")
_FILLER_RE = re.compile("|".join(re.escape(p) for p in sorted(FILLER_PHRASES, key=len, reverse=True)))
# Invisible characters pasted with a name from a web page or a chat (zero-width space and joiners,
# direction marks, word joiner, BOM, soft hyphen): NFKC keeps them, so they are dropped.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# A number before 号/组/栋 or after 第 is written either way (3号加油站, 三号加油站; 第二中学, 第2中学).
_NUMBERED = re.compile("(第)([零〇一二两三四五六七八九十]{1,3})|([零〇一二两三四五六七八九十]{1,3})(号|组|栋|分店)")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    """The converter is built once and only when first needed: import stays cheap."""
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _convertible() -> frozenset[str] | None:
    """Every character opencc's t2s tables can change; a text without any of them converts to
    itself, so the (pure Python, ~40 µs a name) conversion is skipped for it: most names typed
    or registered are simplified already. None when the tables are not where expected."""
    import opencc

    folder = Path(opencc.__file__).with_name("dictionary")
    out: set[str] = set()
    try:
        for name in ("TSCharacters.txt", "TSPhrases.txt"):
            for line in (folder / name).read_text(encoding="utf-8").splitlines():
                key, _, values = line.partition("\t")
                for value in values.split():
                    if len(value) == len(key):
                        out.update(k for k, v in zip(key, value, strict=True) if k != v)
                    else:
                        out.update(key)
    except OSError:
        return None
    return frozenset(out)


def to_simplified(text: str) -> str:
    """Traditional to simplified (恆達 → 恒达); simplified text passes through unchanged."""
    if text.isascii():
        return text
    convertible = _convertible()
    if convertible is not None and convertible.isdisjoint(text):
        return text
    return _t2s().convert(text)



def strip_invisible(text: str) -> str:
    """The text without zero-width and other invisible format characters (U+200B, U+200C …)."""
    return _INVISIBLE.sub("", text)


def _chinese_number(word: str) -> int | None:
    """一 → 1, 十二 → 12, 二十 → 20, 二十三 → 23; None for anything else (三十五十)."""
    if "十" not in word:
        return _DIGITS[word] if len(word) == 1 else None
    tens, _, ones = word.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def _numbers_as_digits(text: str) -> str:
    def digits(m: re.Match[str]) -> str:
        word = m.group(2) or m.group(3)
        value = _chinese_number(word)
        if value is None:
            return m.group(0)
        return f"第{value}" if m.group(1) else f"{value}{m.group(4)}"

    return _NUMBERED.sub(digits, text) if _NUMBERED.search(text) else text


def _punct_to_space(text: str) -> str:
    return "".join(" " if unicodedata.category(ch)[0] in _PUNCT_CATEGORIES else ch for ch in text)


def basic(text: str) -> str:
    """NFKC + simplified + punctuation as spaces + lower case + no spaces inside Chinese runs; no
    invisible characters; numbers before 号/组/栋 and after 第 in digits (三号 → 3号).

    This is the form names are stored under: it keeps every character of the name itself.
    """
    text = strip_invisible(unicodedata.normalize("NFKC", text or ""))
    text = _numbers_as_digits(to_simplified(text))
    text = _punct_to_space(text).lower()
    text = _SPACE_BETWEEN_CJK.sub("", text)
    return _SPACES.sub(" ", text).strip()


def strip_filler(text: str) -> str:
    """Remove the polite phrases around a question ("帮我查一下…的情况")."""
    return _SPACES.sub(" ", _FILLER_RE.sub(" ", text)).strip()


def normalize(text: str) -> str:
    """Query text in the form the parser works on: `basic` plus filler removed."""
    return strip_filler(basic(text))


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """Storage/lookup key of a whole name: `basic` without any space. Cached: a look-up keys the
    same typed text and the same candidates' names several times."""
    return basic(name).replace(" ", "")


def _longest_first(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({w for w in words if w}, key=len, reverse=True))


class Affixes:
    """Region prefixes and organisation-form suffixes, longest first, for cutting a name to its core.

    Kept as a small object so the index can reuse the sorted tuples for a million names.
    """

    def __init__(self, region_words: Iterable[str], org_forms: Iterable[str], industries: Iterable[str] = ()):
        self.region_words = _longest_first(region_words)
        self.org_forms = _longest_first(org_forms)
        self.industries = _longest_first(industries)
        self._region_set = frozenset(self.region_words)
        self._region_max = max((len(w) for w in self.region_words), default=0)
        self._org_set = frozenset(self.org_forms)
        self._org_lengths = sorted({len(f) for f in self.org_forms}, reverse=True)
        self._industry_set = frozenset(self.industries)
        self._industry_max = max((len(w) for w in self.industries), default=0)

    def split_region(self, key: str) -> tuple[str, str]:
        """Leading region words (陕西省安康市汉阴县…) and the rest; repeated prefixes are all cut."""
        pos = 0
        while pos < len(key):
            for size in range(min(self._region_max, len(key) - pos - 2), 1, -1):
                if key[pos : pos + size] in self._region_set:
                    pos += size
                    # A renamed place keeps its old suffix in old names: 旬阳 + 县 (now 旬阳市).
                    if pos < len(key) - 2 and key[pos] in _ADMIN_CHARS and key[pos - 1] not in _ADMIN_CHARS:
                        pos += 1
                    break
            else:
                break
        return key[:pos], key[pos:]

    def split_org_form(self, key: str) -> tuple[str, str]:
        """The rest and its trailing organisation form(s) (…有限责任公司, …分公司, …专业合作社)."""
        end = len(key)
        forms, lengths = self._org_set, self._org_lengths
        changed = True
        while changed:
            changed = False
            # Longest form first, as a set look-up per length (a million names at build time).
            for n in lengths:
                if end - n >= 2 and key[end - n : end] in forms:
                    end -= n
                    changed = True
                    break
        return key[:end], key[end:]

    def core(self, key: str) -> str:
        """Name without region prefix and organisation form: 安康市恒达建材有限公司 → 恒达建材."""
        _, rest = self.split_region(key)
        core, _ = self.split_org_form(rest)
        return core

    def brands(self, core: str) -> tuple[str, ...]:
        """Every 字号(+行业) prefix left after cutting whole industry words off the end.

        金穗农业科技 → (金穗农业, 金穗): people say "金穗农业" as often as "金穗".
        """
        if not self._industry_set:
            return ()
        out: list[str] = []
        for cut in range(len(core) - 1, 1, -1):
            if self._is_industry_chain(core[cut:]):
                out.append(core[:cut])
        return tuple(out)

    def _is_industry_chain(self, tail: str) -> bool:
        if tail in self._industry_set:
            return True
        for size in range(min(self._industry_max, len(tail) - 1), 1, -1):
            if tail[:size] in self._industry_set and self._is_industry_chain(tail[size:]):
                return True
        return False

    def brand(self, core: str) -> str | None:
        """The 字号 alone (恒达建材 → 恒达), or None when no industry word ends the core."""
        for word in self.industries:
            if len(core) - len(word) >= 2 and core.endswith(word):
                return core[: -len(word)]
        return None


def name_core(name: str, region_words: Iterable[str], org_forms: Iterable[str] | None = None) -> str:
    """Convenience form of `Affixes.core` for callers holding only word lists.

    Without explicit `org_forms` the packaged list is used.
    """
    if org_forms is None:
        org_forms = [w for w, _ in load_word_list("org_forms")]
    return Affixes(region_words, org_forms).core(name_key(name))
