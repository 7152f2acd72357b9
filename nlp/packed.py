"""Columns kept as plain bytes at fixed offsets, so a snapshot file can be mapped, not copied.

The bot and the port workers on one host each need the whole name index. Held as Python objects
each process has its own copy (at a million subjects about 0.35 GB each). Held as raw arrays and
UTF-8 text inside one file that every process maps read-only (nlp.index_snapshot), the operating
system keeps one copy in its page cache and every process reads it (one index per host, issue 27).
So nothing here holds a Python object per value:

* `PackedText`: strings as UTF-8 in one buffer (`bytes` after a build, the mapped file after a
  load) plus uint64 byte offsets; a value is decoded when it is read. UTF-8 because it is
  self-synchronising: a byte-wise search for a name part finds only whole characters (UTF-16 could
  match across two characters' halves), so `holds` searches the buffer in place.
* `nbytes`, `owned`: what a column holds, and a private, growable copy of one that was mapped
  (the index copies its small per-row columns before its first change: ten bytes a row).
"""

from __future__ import annotations

import mmap
from array import array
from collections.abc import Iterable
from typing import Any

# A buffer holding text: `bytes` (built here, or a snapshot read into memory) or the mapped file.
# Both slice to `bytes` and search with `.find(sub, start, end)`.
TextBuffer = bytes | mmap.mmap


def nbytes(column: Any) -> int:
    """Bytes of an array, memoryview, bytes or numpy array (`sys.getsizeof` of a view is ~200)."""
    return memoryview(column).nbytes


def owned(typecode: str, column: Any) -> array:  # type: ignore[type-arg]
    """`column` as a private `array(typecode)`: itself when it already is one, else a copy (one
    memcpy) of a read-only view into a mapped snapshot, so it can grow and change."""
    if isinstance(column, array) and column.typecode == typecode:
        return column
    out = array(typecode)
    out.frombytes(memoryview(column).cast("B"))
    return out


class PackedText:
    """A column of strings as UTF-8 in one buffer plus uint64 byte offsets (see the module doc)."""

    __slots__ = ("_buf", "_offsets", "_start")

    def __init__(self, buf: TextBuffer, offsets: Any, start: int = 0) -> None:
        self._buf = buf
        self._offsets = offsets  # array('Q') or a 'Q' view into the mapped snapshot: len(self) + 1 values
        self._start = start  # where the text begins in `buf` (a section of the mapped file)

    @classmethod
    def pack(cls, values: Iterable[str]) -> PackedText:
        offsets = array("Q", [0])
        parts = []
        total = 0
        for v in values:
            b = v.encode()
            total += len(b)
            offsets.append(total)
            parts.append(b)
        return cls(b"".join(parts), offsets)

    def __getitem__(self, i: int) -> str:
        s = self._start
        return self._buf[s + self._offsets[i] : s + self._offsets[i + 1]].decode()

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def holds(self, i: int, part: bytes) -> bool:
        """Whether value `i` holds `part` (UTF-8) and is longer than it, found in place."""
        s = self._start
        start, end = s + self._offsets[i], s + self._offsets[i + 1]
        return end - start > len(part) and self._buf.find(part, start, end) >= 0

    def text(self) -> memoryview:
        """The UTF-8 text of every value as stored (a view: written to a snapshot as it is)."""
        return memoryview(self._buf)[self._start : self._start + self._offsets[-1]]

    @property
    def offsets(self) -> Any:
        return self._offsets

    def footprint(self) -> int:
        return self._offsets[-1] + nbytes(self._offsets)
