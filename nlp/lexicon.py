"""Domain vocabulary: regions (from data), organisation forms, industries, categories, matters, intents.

The region words come from the `divisions` table (or any list of (code, name, short_name)), never from
code, so the bot serves whichever city it is configured for. The rest ship as word lists with
frequencies in nlp/data/*.txt.

jieba's dictionary is global and `add_word` mutates it without a lock, and the first `lcut` loads the
dictionary lazily (~0.7 s). `Lexicon.warm_up()` does both once at start-up, before any message is
served; nothing here touches jieba at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from nlp.normalize import Affixes, basic
from nlp.wordlists import load_word_list

# Administrative suffixes: "汉阴县" is also typed "汉阴"; "旬阳市" as "旬阳".
_ADMIN_SUFFIXES = ("自治县", "自治州", "新区", "地区", "省", "市", "区", "县", "镇", "乡", "街道")


def _words(name: str) -> tuple[str, ...]:
    return tuple(row[0] for row in load_word_list(name))


def region_variants(name: str, short_name: str | None) -> set[str]:
    """Every way a division is written: full, short, and the name without its admin suffix."""
    out = {basic(name).replace(" ", "")}
    if short_name:
        out.add(basic(short_name).replace(" ", ""))
    for n in list(out):
        for suffix in _ADMIN_SUFFIXES:
            if n.endswith(suffix) and len(n) - len(suffix) >= 2:
                out.add(n[: -len(suffix)])
                break
    return {w for w in out if len(w) >= 2}


@dataclass
class Lexicon:
    """Word lists plus the region words and the division each of them points to."""

    divisions: list[tuple[str, str, str]] = field(default_factory=list)
    region_to_code: dict[str, str] = field(default_factory=dict)
    org_forms: tuple[str, ...] = field(default_factory=lambda: _words("org_forms"))
    industries: tuple[str, ...] = field(default_factory=lambda: _words("industries"))
    category_words: tuple[str, ...] = field(default_factory=lambda: _words("categories"))
    matter_words: tuple[str, ...] = field(default_factory=lambda: _words("matters"))
    intent_words: dict[str, str] = field(
        default_factory=lambda: {row[0]: row[2] for row in load_word_list("intents")}
    )
    stop_words: tuple[str, ...] = field(default_factory=lambda: _words("stopwords"))
    _warm: bool = False

    @classmethod
    def from_divisions(cls, divisions: Iterable[tuple[str, str, str]]) -> Lexicon:
        """Build from (code, name, short_name) rows; for a name shared by two levels the deeper wins."""
        rows = sorted(divisions, key=lambda r: (len(r[0].rstrip("0")), r[0]))
        lex = cls(divisions=rows)
        for code, name, short in rows:
            for variant in region_variants(name, short):
                lex.region_to_code[variant] = code
        return lex

    @property
    def region_words(self) -> tuple[str, ...]:
        return tuple(self.region_to_code)

    def affixes(self) -> Affixes:
        """Cutting rules for name cores; province names (nlp/data/provinces.txt) are added so
        '陕西省' prefixes go too."""
        regions = set(self.region_words) | {"中国", "中华人民共和国"} | set(_words("provinces"))
        return Affixes(regions, self.org_forms, self.industries)

    def division_family(self, code: str) -> tuple[str, ...]:
        """The code and every other code of the same place (610981 旬阳市 and former 610928 旬阳县):
        subjects registered before a rename keep the old code for life."""
        short = next((s for c, _n, s in self.divisions if c == code), None)
        if short is None:
            return (code,)
        return tuple(dict.fromkeys([code, *(c for c, _n, s in self.divisions if s == short)]))

    def division_name(self, code: str) -> str | None:
        for c, name, _ in self.divisions:
            if c == code:
                return name
        return None

    def warm_up(self) -> None:
        """Load jieba's dictionary and every domain word with its frequency. Call once at start-up.

        Idempotent and thread-safe; the lock only guards against two start-up paths racing.
        """
        with _WARM_LOCK:
            if self._warm:
                return
            import jieba

            jieba.setLogLevel(60)
            jieba.initialize()
            for name in ("org_forms", "industries", "categories", "matters", "intents", "stopwords"):
                for row in load_word_list(name):
                    jieba.add_word(row[0], int(row[1]) if len(row) > 1 else None)
            for word in self.region_to_code:
                jieba.add_word(word, 80000)
            self._warm = True

    @property
    def warm(self) -> bool:
        return self._warm


_WARM_LOCK = threading.Lock()
