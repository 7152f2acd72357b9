"""The name index's building blocks: entries and answers, packed key tables, and the limits that
keep a look-up bounded (nlp/resolver.py explains the design)."""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from xxhash import xxh3_64_intdigest

from nlp.packed import PackedText

Status = Literal["clear", "ambiguous", "none"]

_HASH_BITS = 64
_HASH_MASK = (1 << _HASH_BITS) - 1
# Rows are uint32 in the key tables: 4.29 billion rows (names and aliases), far past a country's
# 185 million subjects. The old packing (40-bit hash << 24 | row) stopped at 16.7 million rows.
ROW_LIMIT = 1 << 32
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
FORMER_PREFIX = f"{_SOURCE_LABEL[ALIAS_FORMER]}："  # how `Candidate.matched` begins for a former name
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
    """`clear`: `candidates[0]` is the subject meant; `ambiguous`: pick one of `candidates` (a single
    one is a suggestion, "您要查的是不是"); `none`: nothing fits what was typed, `candidates` are the
    nearest names. `conflict` says why the nearest names were not taken (nlp.evidence: INDUSTRY,
    BRANCH, REGION): something typed contradicts them."""

    status: Status
    candidates: list[Candidate] = field(default_factory=list)
    conflict: str | None = None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def _h(key: str, mask: int = _HASH_MASK) -> int:
    """A hash that is the same in every process (Python's `hash` of a str is salted per process),
    so a snapshot written by one process is read by another (nlp.index_snapshot)."""
    return xxh3_64_intdigest(key.encode()) & mask


class _Table:
    """Multimap str → rows: two sorted parallel arrays for the bulk, a dict overlay for small updates.

    A key is stored as its hash (`hash_bits`, 64 by default) in `_hashes` (uint64, sorted), its row
    in `_rows` (uint32, the same position): rows up to `ROW_LIMIT` - 1, 4.29 billion, where the old
    single packed word (40-bit hash << 24 | row) stopped at 16.7 million rows, about 14.7 million
    subjects. A hit is only a candidate: the resolver confirms a subject against its own names
    before it answers with it (`NameIndex._confirmed`). Tests make collisions certain with a few
    bits. After a snapshot load both arrays are read-only views into the mapped file (nlp.packed);
    a merge makes private ones."""

    __slots__ = ("_hashes", "_mask", "_overlay", "_pending_h", "_pending_r", "_rows")

    def __init__(self, hash_bits: int = _HASH_BITS) -> None:
        self._hashes: Any = array("Q")
        self._rows: Any = array("I")
        self._pending_h = array("Q")  # 12 bytes a key while staging, not two Python ints
        self._pending_r = array("I")
        self._overlay: dict[int, list[int]] = {}
        self._mask = (1 << hash_bits) - 1

    def stage(self, key: str, row: int) -> None:
        # `_h` inlined: called tens of millions of times by a bulk build.
        self._pending_h.append(xxh3_64_intdigest(key.encode()) & self._mask)
        self._pending_r.append(row)

    def add_small(self, key: str, row: int) -> None:
        self._overlay.setdefault(_h(key, self._mask), []).append(row)

    def freeze(self) -> None:
        """Merge staged keys and the overlay into the sorted arrays (bulk build or compaction)."""
        if not self._pending_h and not self._overlay:
            return
        self._hashes, self._rows = self.merged()
        self._pending_h, self._pending_r = array("Q"), array("I")
        self._overlay = {}

    def merged(self) -> tuple[Any, Any]:
        """(hashes, rows) sorted by hash then row, with staged keys and the overlay merged in,
        leaving this table as it is (a snapshot is written from another thread while look-ups go on).

        Rows only grow: every staged or overlay row is newer than every row already merged, so new
        keys go after the equal hashes already there and each key's rows stay in ascending order."""
        if not self._pending_h and not self._overlay:
            return self._hashes, self._rows
        new_h = np.concatenate([np.frombuffer(self._pending_h, np.uint64),
                                np.fromiter((h for h, rows in self._overlay.items() for _ in rows), np.uint64)])
        new_r = np.concatenate([np.frombuffer(self._pending_r, np.uint32),
                                np.fromiter((r for rows in self._overlay.values() for r in rows), np.uint32)])
        order = np.lexsort((new_r, new_h))
        new_h, new_r = new_h[order], new_r[order]
        base_h = np.frombuffer(self._hashes, np.uint64)
        at = np.searchsorted(base_h, new_h, side="right")
        hashes = np.insert(base_h, at, new_h)
        rows = np.insert(np.frombuffer(self._rows, np.uint32), at, new_r)
        # memoryviews: bisect and slices on them give Python ints at C speed (numpy scalars do not).
        return memoryview(hashes), memoryview(rows)

    @property
    def overlay_size(self) -> int:
        return len(self._overlay)

    def __len__(self) -> int:
        return len(self._hashes)

    def _range(self, key: str) -> tuple[int, int, int]:
        h = _h(key, self._mask)
        lo = bisect.bisect_left(self._hashes, h)
        hi = bisect.bisect_right(self._hashes, h, lo)
        return h, lo, hi

    def count(self, key: str) -> int:
        h, lo, hi = self._range(key)
        return hi - lo + len(self._overlay.get(h, ()))

    def get(self, key: str, cap: int | None = None) -> list[int]:
        h, lo, hi = self._range(key)
        if cap is not None and hi - lo > cap:
            hi = lo + cap
        rows: list[int] = self._rows[lo:hi].tolist()
        extra = self._overlay.get(h)
        if extra:
            rows.extend(extra)
        return rows


class RowStrings:
    """One string per row: the frozen rows packed as UTF-8 (`PackedText`: in memory, or mapped from
    a snapshot), later rows in a plain list until the next `freeze`. A million row cores as Python
    strings cost ~100 MB; packed they cost their bytes and eight bytes each."""

    __slots__ = ("_frozen", "_packed", "_tail")

    def __init__(self, packed: PackedText | None = None) -> None:
        self._packed = packed if packed is not None else PackedText(b"", array("Q", [0]))
        self._frozen = len(self._packed)
        self._tail: list[str] = []

    def __len__(self) -> int:
        return self._frozen + len(self._tail)

    def __getitem__(self, row: int) -> str:
        if row < self._frozen:
            return self._packed[row]
        return self._tail[row - self._frozen]

    def append(self, value: str) -> None:
        self._tail.append(value)

    def holding(self, rows: list[int], part: str) -> list[int]:
        """The rows whose string holds `part` and is longer than it: found in place in the packed
        text, no string made per row (the containment tier checks up to 20,000 rows a look-up)."""
        packed, frozen, tail, size = self._packed, self._frozen, self._tail, len(part)
        encoded = part.encode()
        out = []
        for r in rows:
            if r < frozen:
                if packed.holds(r, encoded):
                    out.append(r)
            elif len(tail[r - frozen]) > size and part in tail[r - frozen]:
                out.append(r)
        return out

    def packed(self) -> PackedText:
        """Every row, frozen or not, as one `PackedText`, without changing this column."""
        if not self._tail:
            return self._packed
        if not self._frozen:
            return PackedText.pack(self._tail)
        return self._joined()

    def _joined(self) -> PackedText:
        """The frozen text copied once and the tail appended (no string made per frozen row)."""
        tail = PackedText.pack(self._tail)
        frozen = self._packed
        end = frozen.offsets[-1]
        offsets = np.concatenate([np.frombuffer(frozen.offsets, np.uint64),
                                  np.frombuffer(tail.offsets, np.uint64)[1:] + np.uint64(end)])
        return PackedText(bytes(frozen.text()) + bytes(tail.text()), memoryview(offsets))

    def freeze(self) -> None:
        if self._tail:
            self._packed = self.packed()
            self._frozen = len(self._packed)
            self._tail = []

    def footprint(self) -> int:
        return self._packed.footprint()


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
