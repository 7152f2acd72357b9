"""The name index's building blocks: entries and answers, packed key tables, and the limits that
keep a look-up bounded (nlp/resolver.py explains the design)."""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from itertools import chain
from typing import Literal

from xxhash import xxh3_64_intdigest

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
    """Multimap str → rows: a packed sorted array for the bulk, a dict overlay for small updates.

    Keys are stored as hashes of `hash_bits` bits (40: about one false hit in a million look-ups at
    a million subjects), so a hit is only a candidate: the resolver confirms a subject against its
    own names before it answers with it (`NameIndex._confirmed`). Tests make collisions certain with
    a few bits."""

    __slots__ = ("_base", "_mask", "_overlay", "_pending")

    def __init__(self, hash_bits: int = _HASH_BITS) -> None:
        self._base = array("Q")
        self._pending = array("Q")  # 8 bytes a key while staging, not a 36-byte Python int
        self._overlay: dict[int, list[int]] = {}
        self._mask = (1 << hash_bits) - 1

    def stage(self, key: str, row: int) -> None:
        # `_h` inlined: called tens of millions of times by a bulk build.
        self._pending.append(((xxh3_64_intdigest(key.encode()) & self._mask) << _ROW_BITS) | row)

    def add_small(self, key: str, row: int) -> None:
        self._overlay.setdefault(_h(key, self._mask), []).append(row)

    def freeze(self) -> None:
        """Merge staged keys and the overlay into the sorted array (bulk build or compaction)."""
        if not self._pending and not self._overlay:
            return
        merged = self.merged()
        self._base = merged
        self._pending = array("Q")
        self._overlay = {}

    def merged(self) -> array:  # type: ignore[type-arg]
        """The sorted array with staged keys and the overlay merged in, leaving this table as it is
        (a snapshot is written from another thread while look-ups go on)."""
        extra = sorted(chain(self._pending, ((h << _ROW_BITS) | r for h, rows in self._overlay.items() for r in rows)))
        base = self._base
        if not extra:
            return base
        if len(extra) * 8 > len(base):
            return array("Q", sorted(chain(extra, base)))
        # A few keys into a big sorted array: copy the runs between them (C speed), no Python ints.
        out = array("Q")
        prev = 0
        for value in extra:
            at = bisect.bisect_right(base, value, prev)
            out += base[prev:at]
            out.append(value)
            prev = at
        out += base[prev:]
        return out

    @property
    def overlay_size(self) -> int:
        return len(self._overlay)

    def _range(self, key: str) -> tuple[int, int, int]:
        h = _h(key, self._mask)
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


class RowStrings:
    """One string per row, packed: the frozen rows as one str plus an offsets array, later rows in a
    plain list until the next `freeze`. A million row cores as Python strings cost ~100 MB; packed
    they cost their characters and four bytes each, and a snapshot stores them as they are."""

    __slots__ = ("_frozen", "_offsets", "_tail", "_text")

    def __init__(self, text: str = "", offsets: array | None = None) -> None:  # type: ignore[type-arg]
        self._text = text
        self._offsets = offsets if offsets is not None else array("I", [0])
        self._frozen = len(self._offsets) - 1
        self._tail: list[str] = []

    def __len__(self) -> int:
        return self._frozen + len(self._tail)

    def __getitem__(self, row: int) -> str:
        if row < self._frozen:
            return self._text[self._offsets[row] : self._offsets[row + 1]]
        return self._tail[row - self._frozen]

    def append(self, value: str) -> None:
        self._tail.append(value)

    def holding(self, rows: list[int], part: str) -> list[int]:
        """The rows whose string holds `part` and is longer than it: found in place in the packed
        text, no string made per row (the containment tier checks up to 20,000 rows a look-up)."""
        text, offsets, frozen, tail, size = self._text, self._offsets, self._frozen, self._tail, len(part)
        out = []
        for r in rows:
            if r < frozen:
                start, end = offsets[r], offsets[r + 1]
                if end - start > size and text.find(part, start, end) >= 0:
                    out.append(r)
            elif len(tail[r - frozen]) > size and part in tail[r - frozen]:
                out.append(r)
        return out

    def packed(self) -> tuple[str, array]:  # type: ignore[type-arg]
        """(text, offsets) of every row, frozen or not, without changing this column."""
        if not self._tail:
            return self._text, self._offsets
        offsets = array("I", self._offsets)
        total = offsets[-1]
        for value in self._tail:
            total += len(value)
            offsets.append(total)
        return self._text + "".join(self._tail), offsets

    def freeze(self) -> None:
        if self._tail:
            self._text, self._offsets = self.packed()
            self._frozen = len(self._offsets) - 1
            self._tail = []


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
