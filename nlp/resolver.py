"""In-memory name index: a typed name → the subject(s) meant, with an honest "is it clear?".

Design, driven by the numbers in NOTES.md (brute-force WRatio over 1M names ≈ 270 ms per query):

* Every indexed name (current name, 曾用名, 简称) becomes a *row*. A row is looked up through keys:
  the whole name, its core (no region prefix, no organisation form), the 字号 alone, the pinyin and
  the pinyin initials of the core, the core with one character deleted (so one wrong, missing, extra
  or swapped character meets the original with one deletion on each side), and the character bigrams
  of the core for a last fuzzy pass.
* Keys are not kept as Python strings: at a million subjects that is gigabytes. Each table packs
  (40-bit hash of the key << 24 | row) into one sorted `array('Q')`, so a lookup is two bisections and
  the rows of a key are contiguous. Incremental changes (the refresh after an import) go into a
  small dict overlay until it is worth merging; removed or replaced rows are only marked dead.
* Tiers decide how strong a match is: exact name > core > pinyin (homophones) > 字号 > initials >
  one edit > fuzzy. The first tier with a live candidate decides; answering "clear" requires exactly
  one subject in that tier (after the district filter) and a tier that is strong enough for the
  length of the name. Anything else is "ambiguous" (the handler shows buttons) or "none" with the
  nearest names. A confident wrong answer is the worst failure, so doubtful cases go to the user.
"""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from xxhash import xxh3_64_intdigest

from nlp.lexicon import Lexicon
from nlp.name_shapes import shape_keys
from nlp.normalize import Affixes, name_key
from nlp.pinyin import PinyinTable

Status = Literal["clear", "ambiguous", "none"]

_HASH_BITS = 40
_HASH_MASK = (1 << _HASH_BITS) - 1
_ROW_BITS = 24
_ROW_MASK = (1 << _ROW_BITS) - 1
# Bigrams in more rows than this carry no information for the fuzzy pass (建材, 有限…).
_BIGRAM_DF_CAP = 4000
_FUZZY_RERANK = 600
_RANK_CAP = 300
_OVERLAY_MERGE = 50_000
# The containment tier reads the rows of the query's rarest bigram; past this many it gives up.
_CONTAINS_POSTING_CAP = 20_000
# Rows checked for a contained homophone typo (those sharing the most bigrams with the query).
_TYPO_RERANK = 100
# Brackets, spaces and punctuation dropped from a stored name before a typo check (cheap, no opencc).
_FOLD = str.maketrans("", "", "()（）[]【】〔〕「」 　-·")
# A query this long contained in exactly one name is that name (张记蒸面馆); shorter ones get buttons.
_CONTAINS_CLEAR_LEN = 3

ALIAS_NAME, ALIAS_FORMER, ALIAS_SHORT = 0, 1, 2
_SOURCE_LABEL = {ALIAS_NAME: "名称", ALIAS_FORMER: "曾用名", ALIAS_SHORT: "简称"}
_ALIAS_KIND = {"曾用名": ALIAS_FORMER, "简称": ALIAS_SHORT}


@dataclass(frozen=True, slots=True)
class IndexEntry:
    subject_id: int
    name: str
    kind: str
    uscc: str | None
    division_code: str | None
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, kind 曾用名/简称)


@dataclass
class Candidate:
    subject_id: int
    name: str
    division_code: str | None
    uscc: str | None
    score: float
    matched: str  # which name/alias/pinyin matched
    how: str  # exact / alias / core / pinyin / initials / brand / edit / fuzzy / code


@dataclass
class Resolution:
    status: Status
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def _h(key: str) -> int:
    """A hash that is the same in every process (Python's `hash` of a str is salted per process),
    so a snapshot written by one process is read by another (nlp.index_snapshot)."""
    return xxh3_64_intdigest(key.encode()) & _HASH_MASK


class _Table:
    """Multimap str → rows: a packed sorted array for the bulk, a dict overlay for small updates."""

    __slots__ = ("_base", "_overlay", "_pending")

    def __init__(self) -> None:
        self._base = array("Q")
        self._pending = array("Q")  # 8 bytes a key while staging, not a 36-byte Python int
        self._overlay: dict[int, list[int]] = {}

    def stage(self, key: str, row: int) -> None:
        self._pending.append((_h(key) << _ROW_BITS) | row)

    def add_small(self, key: str, row: int) -> None:
        self._overlay.setdefault(_h(key), []).append(row)

    def freeze(self) -> None:
        """Merge staged keys and the overlay into the sorted array (bulk build or compaction)."""
        if not self._pending and not self._overlay:
            return
        overlay = [(h << _ROW_BITS) | r for h, rows in self._overlay.items() for r in rows]
        merged = sorted(chain(self._pending, overlay, self._base))
        self._pending = array("Q")
        self._overlay = {}
        self._base = array("Q", merged)

    @property
    def overlay_size(self) -> int:
        return len(self._overlay)

    def _range(self, key: str) -> tuple[int, int, int]:
        h = _h(key)
        lo = bisect.bisect_left(self._base, h << _ROW_BITS)
        hi = bisect.bisect_left(self._base, (h + 1) << _ROW_BITS, lo)
        return h, lo, hi

    def count(self, key: str) -> int:
        h, lo, hi = self._range(key)
        return hi - lo + len(self._overlay.get(h, ()))

    def get(self, key: str, cap: int | None = None) -> list[int]:
        h, lo, hi = self._range(key)
        if cap is not None and hi - lo > cap:
            hi = lo + cap
        rows = [v & _ROW_MASK for v in self._base[lo:hi]]
        extra = self._overlay.get(h)
        if extra:
            rows.extend(extra)
        return rows


@dataclass(frozen=True)
class _Keys:
    """Every lookup key of one indexed name."""

    full: str
    core: str
    brands: tuple[str, ...]
    pinyin: str
    initials: str
    # Name shapes (nlp.name_shapes): the name without its bracketed region, a branch's other cores.
    other_full: tuple[str, ...] = ()
    other_cores: tuple[str, ...] = ()


def division_prefix(code: str) -> str:
    """610900 → 6109, 610921 → 610921: a city filter covers its districts and counties."""
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


class NameIndex:
    """The name and code index of all subjects; see the module docstring for the design."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.affixes: Affixes = lexicon.affixes()
        self.pinyin = PinyinTable()
        self._entries: dict[int, IndexEntry] = {}
        self._row_sid = array("q")
        self._row_src = array("b")
        self._row_core: list[str] = []
        self._alive = bytearray()
        self._dead = 0
        self._t_full = _Table()
        self._t_core = _Table()
        self._t_brand = _Table()
        self._t_pinyin = _Table()
        self._t_initials = _Table()
        self._t_delete = _Table()
        self._t_bigram = _Table()
        self._t_uscc = _Table()
        self._t_uscc_near = _Table()
        self._last_counts: tuple[str, Counter[int]] | None = None
        self._t_org = _Table()  # characters 9-17 of the USCC: the old 组织机构代码
        self._t_brand_pinyin = _Table()  # the 字号 typed in pinyin (changhong), for ASCII queries only
        self._t_pinyin_other = _Table()  # other readings of heteronyms, for ASCII queries only
        self._tables = (
            self._t_full, self._t_core, self._t_brand, self._t_pinyin, self._t_initials,
            self._t_delete, self._t_bigram, self._t_uscc, self._t_uscc_near, self._t_org,
            self._t_brand_pinyin, self._t_pinyin_other,
        )  # fmt: skip

    # Pinyin of the affix words, made on first use (pypinyin is imported lazily: nlp.pinyin).
    @cached_property
    def _region_pinyin(self) -> list[str]:
        return sorted({self.pinyin.full(w) for w in self.affixes.region_words}, key=len, reverse=True)

    @cached_property
    def _region_initials(self) -> list[str]:
        return sorted({self.pinyin.initials(w) for w in self.affixes.region_words}, key=len, reverse=True)

    @cached_property
    def _org_pinyin(self) -> list[str]:
        return sorted({self.pinyin.full(w) for w in self.affixes.org_forms}, key=len, reverse=True)

    @cached_property
    def _industry_pinyin(self) -> list[str]:
        return sorted({self.pinyin.full(w) for w in self.affixes.industries}, key=len, reverse=True)

    # ------------------------------------------------------------------ building

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, subject_id: object) -> bool:
        return subject_id in self._entries

    def get(self, subject_id: int) -> IndexEntry | None:
        return self._entries.get(subject_id)

    def keys_for(self, name: str) -> _Keys:
        full = name_key(name)
        shapes = shape_keys(name, self.affixes, full)
        core = shapes.core or self.affixes.core(full)
        if core in self.affixes.industries or len(core) < 2:
            # "安康建材有限公司": the region word is the 字号; cutting it would leave only the industry.
            core, _ = self.affixes.split_org_form(full)
        return _Keys(
            full,
            core,
            self.affixes.brands(core),
            self.pinyin.full(core),
            self.pinyin.initials(core),
            shapes.full,
            shapes.cores,
        )

    def add(self, entries: Iterable[IndexEntry]) -> int:
        """Add or replace subjects (same subject_id replaces: the incremental refresh path)."""
        batch = entries if isinstance(entries, list) else list(entries)
        self._last_counts = None
        bulk = len(batch) > max(1000, len(self._entries) // 20)
        for entry in batch:
            old = self._entries.get(entry.subject_id)
            if old is not None:
                self._kill_rows(old)
            self._entries[entry.subject_id] = entry
            self._index_entry(entry, bulk)
        if bulk or any(t.overlay_size > _OVERLAY_MERGE for t in self._tables):
            for table in self._tables:
                table.freeze()
        return len(batch)

    def remove(self, subject_id: int) -> bool:
        old = self._entries.pop(subject_id, None)
        self._last_counts = None
        if old is None:
            return False
        self._kill_rows(old)
        return True

    def _kill_rows(self, entry: IndexEntry) -> None:
        for name, _ in self._names_of(entry):
            for row in self._t_full.get(name_key(name)):
                if self._row_sid[row] == entry.subject_id and self._alive[row]:
                    self._alive[row] = 0
                    self._dead += 1

    @staticmethod
    def _names_of(entry: IndexEntry) -> Iterator[tuple[str, int]]:
        yield entry.name, ALIAS_NAME
        for alias, kind in entry.aliases:
            if alias and alias != entry.name:
                yield alias, _ALIAS_KIND.get(kind, ALIAS_SHORT)

    def _index_entry(self, entry: IndexEntry, bulk: bool) -> None:
        put = "stage" if bulk else "add_small"
        seen: set[str] = set()
        for name, src in self._names_of(entry):
            keys = self.keys_for(name)
            if keys.full in seen or not keys.full:
                continue
            seen.add(keys.full)
            row = len(self._row_sid)
            if row > _ROW_MASK:
                raise OverflowError("name index full: rebuild it")
            self._row_sid.append(entry.subject_id)
            self._row_src.append(src)
            self._row_core.append(keys.core)
            self._alive.append(1)
            getattr(self._t_full, put)(keys.full, row)
            for other in keys.other_full:
                getattr(self._t_full, put)(other, row)
            getattr(self._t_core, put)(keys.core, row)
            for other in keys.other_cores:
                getattr(self._t_core, put)(other, row)
            for brand in keys.brands:
                getattr(self._t_brand, put)(brand, row)
            if keys.pinyin:
                # The per-character key (what a typed Chinese homophone spells) and the word's
                # readings (what a person types in pinyin: 长虹 chang hong, 重阳 chong yang).
                readings = self.pinyin.readings(keys.core)
                spellings = dict.fromkeys([(keys.pinyin, keys.initials), *readings])
                # The per-character and the word's reading answer typed homophones too (常虹 → 长虹);
                # a heteronym's other readings only typed pinyin: 玳鹏 (dai) is not 大鹏 (da).
                usual = {keys.pinyin, readings[0][0]} if readings else {keys.pinyin}
                for full_py, _initials in spellings:
                    table = self._t_pinyin if full_py in usual else self._t_pinyin_other
                    getattr(table, put)(full_py, row)
                for initials in dict.fromkeys(i for _f, i in spellings):
                    getattr(self._t_initials, put)(initials, row)
                for brand in keys.brands:
                    # People type the 字号 in pinyin (changhong, chaoyangjianzhu); initials only when
                    # long enough to mean something (dslr for 都市丽人).
                    for full_py, initials in self.pinyin.readings(brand):
                        if (full_py, initials) not in spellings:
                            getattr(self._t_brand_pinyin, put)(full_py, row)
                            if len(brand) >= 4:
                                getattr(self._t_initials, put)(initials, row)
            core = keys.core
            if len(core) >= 3:
                for variant in {core[:i] + core[i + 1 :] for i in range(len(core))}:
                    getattr(self._t_delete, put)(variant, row)
            for bigram in {core[i : i + 2] for i in range(len(core) - 1)}:
                getattr(self._t_bigram, put)(bigram, row)
            if src == ALIAS_NAME and entry.uscc and len(entry.uscc) == 18:
                code = entry.uscc
                getattr(self._t_uscc, put)(code, row)
                # One wrong position leaves at least one of these three keys intact.
                getattr(self._t_uscc_near, put)("a" + code[9:], row)
                getattr(self._t_uscc_near, put)("b" + code[:13], row)
                getattr(self._t_uscc_near, put)("c" + code[:9] + code[13:], row)
                getattr(self._t_org, put)(code[8:17], row)

    # ------------------------------------------------------------------ codes

    def _live_rows(self, rows: Iterable[int]) -> Iterator[int]:
        alive = self._alive
        return (r for r in rows if alive[r])

    def _admitted(self, rows: list[int], admit: Callable[[IndexEntry], bool]) -> list[int]:
        """The rows whose subject `admit` accepts (order kept)."""
        out = []
        for r in rows:
            entry = self._entries.get(self._row_sid[r])
            if entry is not None and admit(entry):
                out.append(r)
        return out

    def by_uscc(self, code: str) -> IndexEntry | None:
        code = (code or "").strip().upper()
        for row in self._live_rows(self._t_uscc.get(code)):
            entry = self._entries.get(self._row_sid[row])
            if entry is not None and entry.uscc == code:
                return entry
        return None

    def by_org_code(self, code: str) -> list[IndexEntry]:
        """Subjects whose USCC carries this 9-character 组织机构代码 (positions 9-17, GB 32100)."""
        code = (code or "").replace("-", "").strip().upper()
        out: dict[int, IndexEntry] = {}
        for row in self._live_rows(self._t_org.get(code)):
            entry = self._entries.get(self._row_sid[row])
            if entry is not None and entry.uscc and entry.uscc[8:17] == code:
                out[entry.subject_id] = entry
        return sorted(out.values(), key=lambda e: e.subject_id)

    def longest_name_in(self, text: str, min_len: int = 4) -> str | None:
        """The longest stretch of `text` that is a whole indexed name or alias, as typed there.

        Tried before any filler, category or matter word is cut from a message, so a word inside a
        real name (招标 in 恒信招标代理有限公司) is never taken for the matter. Works on the name key
        of the text (no spaces or punctuation), so brackets and spaces of any width fold alike.
        """
        key = name_key(text)
        n = len(key)
        for size in range(min(n, 60), min_len - 1, -1):
            for start in range(0, n - size + 1):
                span = key[start : start + size]
                if any(self._alive[r] for r in self._t_full.get(span)):
                    return span
        return None

    def near_uscc(self, code: str) -> list[IndexEntry]:
        """Subjects whose USCC differs from `code` in exactly one position (a mistyped character)."""
        code = (code or "").strip().upper()
        if len(code) != 18:
            return []
        rows: set[int] = set()
        for key in ("a" + code[9:], "b" + code[:13], "c" + code[:9] + code[13:]):
            rows.update(self._live_rows(self._t_uscc_near.get(key, cap=5000)))
        out: dict[int, IndexEntry] = {}
        for row in rows:
            entry = self._entries.get(self._row_sid[row])
            if entry is None or not entry.uscc:
                continue
            if sum(a != b for a, b in zip(entry.uscc, code, strict=True)) == 1:
                out[entry.subject_id] = entry
        return sorted(out.values(), key=lambda e: e.subject_id)

    # ------------------------------------------------------------------ names

    def _candidate(self, row: int, score: float, how: str, matched: str | None = None) -> Candidate | None:
        entry = self._entries.get(self._row_sid[row])
        if entry is None:
            return None
        src = self._row_src[row]
        if matched is None:
            matched = entry.name if src == ALIAS_NAME else f"{_SOURCE_LABEL[src]}：{self._alias_text(entry, row)}"
        return Candidate(entry.subject_id, entry.name, entry.division_code, entry.uscc, score, matched, how)

    def _alias_text(self, entry: IndexEntry, row: int) -> str:
        core = self._row_core[row]
        for alias, _ in entry.aliases:
            if core in name_key(alias):
                return alias
        return core

    def _in_division(self, row: int, prefix: str | tuple[str, ...] | None) -> bool:
        if not prefix:
            return True
        entry = self._entries.get(self._row_sid[row])
        return bool(entry and entry.division_code and entry.division_code.startswith(prefix))

    def _prefixes(self, code: str | None) -> tuple[str, ...] | None:
        if not code:
            return None
        return tuple(division_prefix(c) for c in self.lexicon.division_family(code))

    def _implied_division(self, region: str) -> str | None:
        """The deepest division named in a region prefix ("安康市汉阴县" → 汉阴县's code)."""
        best: str | None = None
        pos = 0
        words = self.affixes.region_words
        while pos < len(region):
            for w in words:
                if region.startswith(w, pos):
                    code = self.lexicon.region_to_code.get(w)
                    if code and (best is None or len(division_prefix(code)) >= len(division_prefix(best))):
                        best = code
                    pos += len(w)
                    break
            else:
                break
        return best

    def resolve(
        self,
        name: str,
        division_code: str | None = None,
        limit: int = 5,
        exact_only: bool = False,
        admit: Callable[[IndexEntry], bool] | None = None,
    ) -> Resolution:
        """Rank the subjects `name` may mean and say whether one is clearly meant.

        `exact_only`: only the tiers that take the text as it is (exact, core, 字号, contained), no
        pinyin, typo or fuzzy guessing: for trying a whole message as a name before cutting it.
        `admit`: only subjects it accepts are candidates, decided before ranking, so a subject left
        out neither hides a later tier's match nor makes another one look ambiguous (who may find
        whom is the caller's rule: services.findable).
        """
        full = name_key(name)
        if not full:
            return Resolution("none")
        region, _rest = self.affixes.split_region(full)
        implied = self._implied_division(region) if region else None
        prefix = self._prefixes(division_code)
        soft_prefix = self._prefixes(implied) if prefix is None else None
        qcore = self.affixes.core(full)
        if qcore in self.affixes.industries or len(qcore) < 2:
            qcore, _ = self.affixes.split_org_form(full)

        fallback: list[Candidate] = []
        for tier_name, fetch, strong in self._tiers(full, qcore):
            if exact_only and tier_name not in EXACT_TIERS:
                continue
            live = list(dict.fromkeys(self._live_rows(fetch())))
            if admit is not None:
                live = self._admitted(live, admit)
            if not live:
                continue
            used_prefix = prefix or soft_prefix
            filtered = [r for r in live if self._in_division(r, used_prefix)] if used_prefix else live
            if not filtered and soft_prefix and not prefix:
                filtered, used_prefix = live, None
            if not filtered:
                # The user named a district and nothing there matches: show the others, never "clear".
                have = {c.subject_id for c in fallback}
                fallback.extend(c for c in self._rank(full, qcore, live, tier_name) if c.subject_id not in have)
                continue
            ranked = self._rank(full, qcore, filtered, tier_name)
            subjects = {c.subject_id for c in ranked}
            if len(subjects) == 1 and strong(ranked[0], qcore):
                return Resolution("clear", ranked[:1])
            extra = [c for c in fallback if c.subject_id not in subjects]
            return Resolution("ambiguous", (ranked + extra)[:limit] if len(ranked) < limit else ranked[:limit])
        if exact_only:
            return Resolution("ambiguous" if fallback else "none", fallback[:limit])
        fuzzy = self._fuzzy(full, qcore, prefix, admit)
        fuzzy = [c for c in fuzzy if c.subject_id not in {f.subject_id for f in fallback}]
        pool = sorted(fallback + fuzzy, key=lambda c: -c.score)[:limit]
        if fallback:
            return Resolution("ambiguous", pool)
        if fuzzy and fuzzy[0].score >= 80:
            return Resolution("ambiguous", pool)
        return Resolution("none", pool)

    def _tiers(self, full: str, qcore: str) -> list[tuple[str, Callable[[], list[int]], _Strong]]:
        """(how, row fetcher, is-one-candidate-enough) per tier, most trusted first; fetched lazily."""
        tiers: list[tuple[str, Callable[[], list[int]], _Strong]] = [
            ("exact", lambda: self._exact_rows(full, qcore), _always),
            ("core", lambda: self._core_rows(full, qcore), _always),
        ]
        if full.isascii():
            letters = "".join(ch for ch in full if ch.isalpha())
            if len(letters) >= 2:
                tiers.append(("pinyin", lambda: self._pinyin_rows(letters), _always))
                tiers.append(("brand", lambda: self._brand_pinyin_rows(letters), _always))
                if len(letters) >= 3:
                    # Three initials match half the region; four or more may stand for one firm.
                    tiers.append(("initials", lambda: self._initials_rows(letters), _min_len(4, letters)))
            return tiers
        tiers.append(("pinyin", lambda: self._t_pinyin.get(self.pinyin.full(qcore) or "-"), _always))
        tiers.append(("brand", lambda: self._brand_rows(qcore), _always))
        tiers.append(("contains", lambda: self._containing_rows(qcore), _min_core(_CONTAINS_CLEAR_LEN)))
        tiers.append(("edit", lambda: self._edit_rows(qcore), self._edit_strong))
        tiers.append(("contains_typo", lambda: self._containing_typo_rows(full, qcore), _min_core(4)))
        tiers.append(("gapped", lambda: self._gapped_rows(qcore), _min_core(4)))
        return tiers

    def _brand_rows(self, qcore: str) -> list[int]:
        """The 字号 typed alone. The industry list cannot know every trade, so a name whose core
        merely starts with the query (恒信 + 招标代理) competes with the known 字号 (恒信 + 建材)."""
        rows = self._t_brand.get(qcore, cap=20000)
        if rows:
            cores = self._row_core
            rows = rows + [r for r in self._containing_rows(qcore) if cores[r].startswith(qcore)]
        return rows

    def _containing_typo_rows(self, full: str, qcore: str) -> list[int]:
        """Rows holding the query with one character typed as a homophone (张记蒸面管, 有限工司):
        the commonest slip of a pinyin keyboard. Checked against the core and the whole name."""
        if len(qcore) < 4:
            return []
        out = []
        # One substituted character spoils at most two of the query's bigrams.
        need = max(2, len(qcore) - 3)
        for row in self._gather(qcore, need)[:_TYPO_RERANK]:
            if self._holds_with_homophone(self._row_core[row], qcore):
                out.append(row)
                continue
            entry = self._entries.get(self._row_sid[row]) if full != qcore else None
            if entry is not None and self._holds_with_homophone(entry.name.translate(_FOLD), full):
                out.append(row)
        return out

    def _holds_with_homophone(self, text: str, q: str) -> bool:
        n = len(q)
        for start in range(len(text) - n + 1):
            window = text[start : start + n]
            diff = [i for i in range(n) if window[i] != q[i]]
            if len(diff) == 1 and self._homophones(window[diff[0]], q[diff[0]]):
                return True
        return False

    def _homophones(self, a: str, b: str) -> bool:
        return bool(set(self.pinyin.all_readings(a)) & set(self.pinyin.all_readings(b)))

    def _gapped_rows(self, qcore: str) -> list[int]:
        """Rows whose core holds the query's first two and last two characters in order with at most
        three characters left out between them (餐饮协会 → 餐饮行业协会, 刘记茶庄 → 刘记富硒茶庄)."""
        if len(qcore) < 4:
            return []
        head, tail = qcore[:2], qcore[-2:]
        middle = qcore[2:-2]
        rarer = min((head, tail), key=self._t_bigram.count)
        if self._t_bigram.count(rarer) > _CONTAINS_POSTING_CAP:
            return []
        out = []
        for row in self._t_bigram.get(rarer):
            core = self._row_core[row]
            i = core.find(head)
            j = core.rfind(tail)
            if i < 0 or j < i + 2:
                continue
            between = core[i + 2 : j]
            if 0 < len(between) - len(middle) <= 3 and _is_subsequence(middle, between):
                out.append(row)
        return out

    def _bigram_counts(self, qcore: str) -> Counter[int]:
        """Rows → how many of the query's informative bigrams they share. The typo tier and the fuzzy
        pass of one look-up ask for the same counts: the last one is kept (one entry, same thread)."""
        last = self._last_counts
        if last is not None and last[0] == qcore:
            return last[1]
        counts: Counter[int] = Counter()
        for bg in {qcore[i : i + 2] for i in range(len(qcore) - 1)}:
            if self._t_bigram.count(bg) > _BIGRAM_DF_CAP:
                continue
            counts.update(self._t_bigram.get(bg))
        self._last_counts = (qcore, counts)
        return counts

    def _gather(self, qcore: str, need: int = 1) -> list[int]:
        """Live rows sharing at least `need` of the query's informative bigrams, most shared first."""
        counts = self._bigram_counts(qcore)
        return [r for r, n in counts.most_common(_FUZZY_RERANK) if n >= need and self._alive[r]]

    def _brand_pinyin_rows(self, letters: str) -> list[int]:
        """The 字号 in pinyin, also followed by an industry's (chaoyangjianzhu → chaoyang)."""
        rows = self._t_brand_pinyin.get(letters, cap=20000)
        if rows:
            return rows
        for variant in self._strip_ascii(letters, self._region_pinyin, self._industry_pinyin + self._org_pinyin):
            rows = self._t_brand_pinyin.get(variant, cap=20000)
            if rows:
                return rows
        return []

    def _core_rows(self, full: str, qcore: str) -> list[int]:
        """The query's core, then its body with the region kept: 石泉恒达 is a branch's core key."""
        rows = self._t_core.get(qcore)
        if rows:
            return rows
        body, _ = self.affixes.split_org_form(full)
        return self._t_core.get(body) if body != qcore else []

    def _containing_rows(self, qcore: str) -> list[int]:
        """Rows whose core contains the query as one contiguous piece (瀛湖渔业 in 瀛湖渔业发展).

        Every such row carries each bigram of the query, so the rows of the rarest one are a
        superset; they are checked with a plain substring test.
        """
        if len(qcore) < 2:
            return []
        bigrams = {qcore[i : i + 2] for i in range(len(qcore) - 1)}
        rarest = min(bigrams, key=self._t_bigram.count)
        if self._t_bigram.count(rarest) > _CONTAINS_POSTING_CAP:
            return []
        cores = self._row_core
        return [r for r in self._t_bigram.get(rarest) if qcore in cores[r] and cores[r] != qcore]

    def _exact_rows(self, full: str, qcore: str) -> list[int]:
        """Exact name or alias. A 简称, or a name that is only a core, identifies nothing alone:
        every subject sharing that core competes with it (恒达建材 in two counties)."""
        rows = self._t_full.get(full)
        if rows and (full == qcore or any(self._row_src[r] == ALIAS_SHORT for r in rows)):
            rows = rows + self._t_core.get(qcore)
        return rows

    def _pinyin_rows(self, letters: str) -> list[int]:
        """Typed pinyin: every indexed reading, also without a region or organisation form."""
        for variant in [letters, *self._strip_ascii(letters, self._region_pinyin, self._org_pinyin)]:
            rows = self._t_pinyin.get(variant) + self._t_pinyin_other.get(variant)
            if rows:
                return rows
        return []

    def _initials_rows(self, letters: str) -> list[int]:
        rows = self._t_initials.get(letters)
        if rows:
            return rows
        for variant in self._strip_ascii(letters, self._region_initials, ()):
            rows = self._t_initials.get(variant)
            if rows:
                return rows
        return []

    @staticmethod
    def _strip_ascii(letters: str, prefixes: list[str], suffixes: list[str]) -> list[str]:
        out = []
        for p in prefixes:
            if p and letters.startswith(p) and len(letters) - len(p) >= 2:
                out.append(letters[len(p) :])
                break
        for s in suffixes:
            for base in [letters, *out]:
                if s and base.endswith(s) and len(base) - len(s) >= 2:
                    out.append(base[: -len(s)])
        return out

    def _edit_rows(self, qcore: str) -> list[int]:
        """Rows whose core is one edit (or one adjacent swap) away from the query core."""
        if len(qcore) < 3:
            return []
        variants = {qcore} | {qcore[:i] + qcore[i + 1 :] for i in range(len(qcore))}
        rows: list[int] = []
        for v in variants:
            rows.extend(self._t_delete.get(v, cap=2000))
        # Also the deletions of the query itself found as whole cores ("恒达建材s" → "恒达建材").
        for i in range(len(qcore)):
            rows.extend(self._t_core.get(qcore[:i] + qcore[i + 1 :], cap=2000))
        return [r for r in dict.fromkeys(rows) if OSA.distance(qcore, self._row_core[r], score_cutoff=1) <= 1]

    def _edit_strong(self, cand: Candidate, qcore: str) -> bool:
        """One edit is trusted only where it cannot turn one real name into another.

        A swap keeps every character; a missing or extra character in a name of 4+ keeps enough;
        a substituted character in a short name (恒远建材 vs 恒达建材) may be a different firm.
        """
        core = self._core_of_candidate(cand, qcore)
        if len(core) != len(qcore):
            return min(len(core), len(qcore)) >= 4
        diff = [i for i, (a, b) in enumerate(zip(core, qcore, strict=True)) if a != b]
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            return len(core) >= 3
        if len(diff) != 1:
            return False
        # A different character inside the 字号 makes a different firm (潇麟 vs 协麟); one in the
        # industry words is a typo (恒达建村 → 恒达建材). Without a known industry word only a
        # homophone in a long name is a typo (瀛湖鱼业发展): 老街王记 is not 老街张记.
        brands = self.affixes.brands(core)
        if brands:
            brand = min(brands, key=len)
            if diff[0] >= len(brand):
                return True
            return len(brand) >= 4 and self._homophones(core[diff[0]], qcore[diff[0]])
        return len(core) >= 6 and self._homophones(core[diff[0]], qcore[diff[0]])

    def _core_of_candidate(self, cand: Candidate, qcore: str) -> str:
        best = ""
        for name, _ in self._names_of(self._entries[cand.subject_id]):
            core = self.keys_for(name).core
            if OSA.distance(qcore, core, score_cutoff=1) <= 1:
                return core
            best = best or core
        return best

    def _rank(self, full: str, qcore: str, rows: list[int], how: str) -> list[Candidate]:
        base = _TIER_SCORE[how]
        best: dict[int, Candidate] = {}
        for row in rows[:_RANK_CAP]:
            sid = self._row_sid[row]
            entry = self._entries.get(sid)
            if entry is None:
                continue
            # Within a tier, prefer the name closest to what was typed (有限公司 vs 有限责任公司).
            closeness = fuzz.ratio(full, entry.name) / 100.0
            score = base + 4.0 * closeness + (0.5 if self._row_src[row] == ALIAS_NAME else 0.0)
            cand = best.get(sid)
            if cand is None or score > cand.score:
                made = self._candidate(row, round(score, 2), how)
                if made is not None:
                    best[sid] = made
        return sorted(best.values(), key=lambda c: (-c.score, c.subject_id))

    def _fuzzy(
        self, full: str, qcore: str, prefix: tuple[str, ...] | None, admit: Callable[[IndexEntry], bool] | None = None
    ) -> list[Candidate]:
        """Last resort: rare shared bigrams gather candidates, rapidfuzz (in C) scores them."""
        counts = self._bigram_counts(qcore)
        if not counts:
            return []
        rows = [r for r, _n in counts.most_common(_FUZZY_RERANK) if self._alive[r] and self._in_division(r, prefix)]
        if admit is not None:
            rows = self._admitted(rows, admit)
        cores = [self._row_core[r] for r in rows]
        scored: dict[int, Candidate] = {}
        for _core, score, i in process.extract(qcore, cores, scorer=fuzz.ratio, limit=20):
            row = rows[i]
            sid = self._row_sid[row]
            if sid not in scored:
                made = self._candidate(row, round(score * 0.85, 2), "fuzzy")
                if made is not None:
                    scored[sid] = made
        return sorted(scored.values(), key=lambda c: (-c.score, c.subject_id))[:10]

    # ------------------------------------------------------------------ stats

    def stats(self) -> dict[str, int]:
        return {
            "subjects": len(self._entries),
            "rows": len(self._row_sid),
            "dead_rows": self._dead,
            "keys": sum(len(t._base) for t in self._tables),
        }


_Strong = Callable[[Candidate, str], bool]
# Tiers that match the text as typed (no reading, typo or similarity guess).
EXACT_TIERS = frozenset({"exact", "core", "brand", "contains"})


def _always(cand: Candidate, qcore: str) -> bool:
    return True


def _is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


def _min_core(n: int) -> _Strong:
    def check(cand: Candidate, qcore: str) -> bool:
        return len(qcore) >= n

    return check


def _min_len(n: int, letters: str) -> _Strong:
    def check(cand: Candidate, qcore: str) -> bool:
        return len(letters) >= n

    return check


_TIER_SCORE = {
    "exact": 95.0,
    "core": 90.0,
    "pinyin": 85.0,
    "brand": 80.0,
    "initials": 75.0,
    "contains": 72.0,
    "edit": 70.0,
    "contains_typo": 68.0,
    "gapped": 66.0,
    "fuzzy": 0.0,
}
