"""In-memory name index: a typed name → the subject(s) meant, with an honest "is it clear?".

Design, driven by the numbers in NOTES.md (brute-force WRatio over 1M names ≈ 270 ms per query):

* Every indexed name (current name, 曾用名, 简称) becomes a *row*. A row is looked up through keys:
  the whole name, its core (no region prefix, no organisation form), the 字号 alone, the pinyin and
  the pinyin initials of the core, the core with one character deleted (so one wrong, missing, extra
  or swapped character meets the original with one deletion on each side), and the character bigrams
  of the core for a last fuzzy pass.
* Keys are not kept as Python strings: at a million subjects that is gigabytes. Each table keeps
  the 64-bit hashes of its keys sorted in one uint64 array and their rows beside them in a uint32
  array (4.29 billion rows), so a lookup is two bisections and the rows of a key are contiguous. Incremental changes (the refresh after an import) go into a
  small dict overlay until it is worth merging; removed or replaced rows are only marked dead.
  The row cores are one packed string (`RowStrings`) and the subjects themselves packed columns
  after a bulk build (nlp.entry_columns): at a million subjects the index holds arrays and a few
  long UTF-8 buffers, not millions of small objects (`stats()["own_mb"]`). A snapshot load maps
  them read-only from the file (nlp.index_snapshot), so the processes of one host share one copy;
  the per-row columns become private at the first change (`_own_rows`).
* Tiers decide how strong a match is: exact name > core > pinyin (homophones) > 字号 > initials >
  one edit > fuzzy. The first tier with a live candidate decides; answering "clear" requires exactly
  one subject in that tier (after the district filter) and a tier that is strong enough for the
  length of the name, that nothing typed contradicts (nlp.evidence: an industry word, a head office
  for its branch, another region or form) and whose own names give the key the tier looked up (the
  tables hold hashes). Anything else is "ambiguous" (the handler shows buttons) or "none" with the
  nearest names and the reason. A confident wrong answer is the worst failure, so doubtful cases
  go to the user.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import Any

from nlp.english_names import EnglishNames
from nlp.entry_columns import EntryColumns
from nlp.evidence import Evidence
from nlp.index_parts import (
    _ALIAS_KIND,
    _HASH_BITS,
    _OVERLAY_MERGE,
    _SOURCE_LABEL,
    ALIAS_NAME,
    ALIAS_SHORT,
    ROW_LIMIT,
    Candidate,
    IndexEntry,
    RowStrings,
    _Keys,
    _Table,
    division_prefix,
)
from nlp.lexicon import Lexicon
from nlp.name_shapes import shape_keys
from nlp.normalize import Affixes, name_key
from nlp.packed import nbytes, owned
from nlp.pinyin import PinyinTable
from nlp.resolver_tiers import TierLookups


class NameIndex(TierLookups):
    """The name and code index of all subjects; see the module docstring for the design."""

    def __init__(self, lexicon: Lexicon, hash_bits: int = _HASH_BITS) -> None:
        self.lexicon = lexicon
        self.affixes: Affixes = lexicon.affixes()
        self.pinyin = PinyinTable()
        self.evidence = Evidence(lexicon, self.affixes, self.pinyin)
        self.hash_bits = hash_bits
        # A dict while small; packed into columns by a bulk add (nlp.entry_columns).
        self._entries: dict[int, IndexEntry] | EntryColumns = {}
        self._row_sid: Any = array("q")  # a read-only view after a snapshot load (`_own_rows`)
        self._row_src: Any = array("b")
        self._row_core = RowStrings()
        self._alive: Any = bytearray()
        self._dead = 0
        self._t_full = _Table(hash_bits)
        self._t_core = _Table(hash_bits)
        self._t_brand = _Table(hash_bits)
        self._t_pinyin = _Table(hash_bits)
        self._t_initials = _Table(hash_bits)
        self._t_delete = _Table(hash_bits)
        self._t_bigram = _Table(hash_bits)
        self._t_uscc_near = _Table(hash_bits)
        self._last_counts: tuple[str, list[tuple[int, int]]] | None = None
        self._t_org = _Table(hash_bits)  # characters 9-17 of the USCC: the old 组织机构代码
        self._t_brand_pinyin = _Table(hash_bits)  # the 字号 typed in pinyin (changhong), for ASCII queries only
        self._t_pinyin_other = _Table(hash_bits)  # other readings of heteronyms, for ASCII queries only
        self._tables = (
            self._t_full, self._t_core, self._t_brand, self._t_pinyin, self._t_initials,
            self._t_delete, self._t_bigram, self._t_uscc_near, self._t_org,
            self._t_brand_pinyin, self._t_pinyin_other,
        )  # fmt: skip

    # Pinyin of the affix words, made on first use (pypinyin is imported lazily: nlp.pinyin).
    @cached_property
    def english(self) -> EnglishNames:
        """Reads names written in English (Ankang Hengda Building Materials Co., Ltd.)."""
        return EnglishNames(self.affixes.region_words, self.pinyin)

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
        pending = self._entries.pending if isinstance(self._entries, EntryColumns) else 0
        if bulk or pending > _OVERLAY_MERGE or any(t.overlay_size > _OVERLAY_MERGE for t in self._tables):
            for table in self._tables:
                table.freeze()
            self._row_core.freeze()
            self._entries = EntryColumns.of(self._entries)
        return len(batch)

    def remove(self, subject_id: int) -> bool:
        old = self._entries.pop(subject_id, None)
        self._last_counts = None
        if old is None:
            return False
        self._kill_rows(old)
        return True

    def _own_rows(self) -> None:
        """Make the per-row columns private and growable before they change (after a snapshot load
        they are read-only views into the mapped file): ten bytes a row, once per process."""
        if not isinstance(self._alive, bytearray):
            self._row_sid = owned("q", self._row_sid)
            self._row_src = owned("b", self._row_src)
            self._alive = bytearray(self._alive)

    def _kill_rows(self, entry: IndexEntry) -> None:
        self._own_rows()
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
        self._own_rows()
        seen: set[str] = set()
        for name, src in self._names_of(entry):
            keys = self.keys_for(name)
            if keys.full in seen or not keys.full:
                continue
            seen.add(keys.full)
            row = len(self._row_sid)
            if row >= ROW_LIMIT:
                raise OverflowError(f"name index full: {ROW_LIMIT:,} rows")
            self._row_sid.append(entry.subject_id)
            self._row_src.append(src)
            self._row_core.append(keys.core)
            self._alive.append(1)
            for table, values in self._table_keys(keys):
                add = getattr(table, put)
                for value in values:
                    add(value, row)
            if src == ALIAS_NAME and entry.uscc and len(entry.uscc) == 18:
                code = entry.uscc
                # The 组织机构代码 (positions 9-17) is unique to a subject: it finds the whole code too.
                getattr(self._t_org, put)(code[8:17], row)
                # One wrong position leaves at least one of these keys or the 组织机构代码 intact.
                getattr(self._t_uscc_near, put)("b" + code[:13], row)
                getattr(self._t_uscc_near, put)("c" + code[:8] + code[13:], row)

    def _table_keys(self, keys: _Keys) -> list[tuple[_Table, Iterable[str]]]:
        """Every key of one indexed name, per table. The one source of the keys: indexing stages
        them, and a hit is confirmed against them (`_confirmed`), since tables keep only hashes."""
        out: list[tuple[_Table, Iterable[str]]] = [
            (self._t_full, (keys.full, *keys.other_full)),
            (self._t_core, (keys.core, *keys.other_cores)),
            (self._t_brand, keys.brands),
        ]
        if keys.pinyin:
            # The per-character key (what a typed Chinese homophone spells) and the word's
            # readings (what a person types in pinyin: 长虹 chang hong, 重阳 chong yang).
            readings = self.pinyin.readings(keys.core)
            spellings = dict.fromkeys([(keys.pinyin, keys.initials), *readings])
            # The per-character and the word's reading answer typed homophones too (常虹 → 长虹);
            # a heteronym's other readings only typed pinyin: 玳鹏 (dai) is not 大鹏 (da).
            usual = {keys.pinyin, readings[0][0]} if readings else {keys.pinyin}
            out.append((self._t_pinyin, [f for f, _i in spellings if f in usual]))
            out.append((self._t_pinyin_other, [f for f, _i in spellings if f not in usual]))
            initials = list(dict.fromkeys(i for _f, i in spellings))
            brand_pinyin: list[str] = []
            for brand in keys.brands:
                # People type the 字号 in pinyin (changhong, chaoyangjianzhu); initials only when
                # long enough to mean something (dslr for 都市丽人).
                for full_py, brand_initials in self.pinyin.readings(brand):
                    if (full_py, brand_initials) not in spellings:
                        brand_pinyin.append(full_py)
                        if len(brand) >= 4:
                            initials.append(brand_initials)
            out.append((self._t_initials, list(dict.fromkeys(initials))))
            out.append((self._t_brand_pinyin, brand_pinyin))
        core = keys.core
        if len(core) >= 3:
            out.append((self._t_delete, {core[:i] + core[i + 1 :] for i in range(len(core))}))
        out.append((self._t_bigram, {core[i : i + 2] for i in range(len(core) - 1)}))
        return out

    def _stored_keys(self, subject_id: int, readings: bool = True) -> set[str]:
        """Every name key the index holds for this subject (not codes, bigrams or deletions); the
        written keys only (whole names, cores, 字号) without `readings` (pinyin: the costly part)."""
        entry = self._entries.get(subject_id)
        out: set[str] = set()
        if entry is None:
            return out
        for name, _src in self._names_of(entry):
            keys = self.keys_for(name)
            if readings:
                for table, values in self._table_keys(keys):
                    if table is not self._t_delete and table is not self._t_bigram:
                        out.update(values)
            else:
                out.update((keys.full, *keys.other_full, keys.core, *keys.other_cores, *keys.brands))
        return out

    # ------------------------------------------------------------------ codes

    def _live_rows(self, rows: Iterable[int]) -> Iterator[int]:
        alive = self._alive
        return (r for r in rows if alive[r])

    def by_uscc(self, code: str) -> IndexEntry | None:
        code = (code or "").strip().upper()
        if len(code) != 18:
            return None
        for row in self._live_rows(self._t_org.get(code[8:17])):
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

        Works on the name key of the text (no spaces or punctuation), so brackets and spaces of any
        width fold alike."""
        key = name_key(text)
        found = self.name_span(key, 0, len(key), min_len=min_len)
        return key[found[0] : found[1]] if found else None

    def name_span(
        self,
        key: str,
        lo: int,
        hi: int,
        accept: Callable[[int, int], bool] | None = None,
        min_len: int = 4,
        around: Callable[[int, int], bool] | None = None,
    ) -> tuple[int, int] | None:
        """(start, end) of the longest stretch of `key[lo:hi]` that is a whole indexed name or alias
        (confirmed against the subject's own keys, not only its hash) and that `accept` takes; None
        when there is none. Tried before any filler, category or matter word is cut from a message,
        so a word inside a real name (招标 in 恒信招标代理有限公司) is never taken for the matter.
        `around`, when given, is asked first, before any look-up."""
        for size in range(min(hi - lo, 60), min_len - 1, -1):
            for start in range(lo, hi - size + 1):
                if around is not None and not around(start, start + size):
                    continue  # a cheap test of the text around it first: most stretches end here
                span = key[start : start + size]
                rows = [r for r in self._t_full.get(span) if self._alive[r]]
                if not rows or (accept is not None and not accept(start, start + size)):
                    continue
                if any(span in self._stored_keys(self._row_sid[r], readings=False) for r in rows):
                    return start, start + size
        return None

    def near_uscc(self, code: str) -> list[IndexEntry]:
        """Subjects whose USCC differs from `code` in exactly one position (a mistyped character)."""
        code = (code or "").strip().upper()
        if len(code) != 18:
            return []
        rows: set[int] = set(self._live_rows(self._t_org.get(code[8:17], cap=5000)))
        for key in ("b" + code[:13], "c" + code[:8] + code[13:]):
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
        sid = self._row_sid[row]
        if isinstance(self._entries, EntryColumns):
            code = self._entries.division(sid)
        else:
            entry = self._entries.get(sid)
            code = entry.division_code if entry else None
        return bool(code and code.startswith(prefix))

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

    # ------------------------------------------------------------------ stats

    def stats(self) -> dict[str, int]:
        return {
            "subjects": len(self._entries),
            "rows": len(self._row_sid),
            "dead_rows": self._dead,
            "keys": sum(len(t) for t in self._tables),
            "own_mb": round(self._footprint() / 1e6),
        }

    def _footprint(self) -> int:
        """Bytes of the index's own arrays and packed text after a bulk build, mapped or not (the
        benchmark reports it beside the process's RSS, which also holds pypinyin's tables)."""
        held = [t._hashes for t in self._tables] + [t._rows for t in self._tables]
        held += [self._row_sid, self._row_src, self._alive]
        entries = self._entries
        own = entries.footprint() if isinstance(entries, EntryColumns) else sys.getsizeof(entries)
        return own + self._row_core.footprint() + sum(nbytes(h) for h in held)
