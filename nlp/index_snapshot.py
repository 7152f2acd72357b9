"""A snapshot of the name index on disk, so a new process answers within seconds, not a minute.

Building the index at 1,000,000 subjects re-tokenises every name (cores, 字号, pinyin readings,
deletions, bigrams): about a minute of CPU. The built index is only arrays of integers plus a few
string columns, so it is written once after a build and read back without re-tokenising:

* every key table is its sorted `array('Q')` as raw bytes (read back with `frombytes`);
* row columns (subject, source, alive) likewise; the row cores as one string and its offsets;
* the subjects as columns (ids, names, kinds, codes, divisions, aliases) that `LazyEntries` turns
  into `IndexEntry` objects only when one is asked for.

A snapshot is tied to what it was built from: the database's change watermark (the newest
`Subject.updated_at` it contains) and subject count, and a fingerprint of the lexicon (regions,
organisation forms, industries) and of this format. The caller tops a loaded snapshot up from the
change feed (rows changed since the watermark); a snapshot with another fingerprint is stale and is
rebuilt, and so is one written from another database (`source`). The file is written to a
temporary name, synced and renamed, so a reader never sees half a file; a file damaged or cut
short all the same (a full disk, a copy interrupted) fails its length or checksum and is ignored.

File shape: 8-byte magic, the payload's length and xxh3-128 checksum, then one pickle (protocol 5)
of a dict of bytes, arrays, str and small lists. The file is written and read only by this
program's own code: it is trusted like the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import struct
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from xxhash import xxh3_128

from nlp.index_parts import IndexEntry, RowStrings
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex

MAGIC = b"CRIDX\x00\x02\x00"
# After the magic: the payload's length and its xxh3-128 checksum; a file cut short or damaged fails.
_HEADER = struct.Struct("<Q16s")
_CHUNK = 1 << 22
FORMAT = 6  # bump when NameIndex's keys change: old snapshots then count as stale


@dataclass(frozen=True)
class SnapshotInfo:
    watermark: dt.datetime | None
    subjects: int
    fingerprint: str


def fingerprint(lexicon: Lexicon) -> str:
    """What the keys depend on besides the names: the lexicon's words and this format."""
    h = hashlib.sha256(f"format={FORMAT}".encode())
    for words in (sorted(lexicon.region_to_code.items()), lexicon.org_forms, lexicon.industries):
        h.update(repr(words).encode())
    return h.hexdigest()[:32]


class PackedStrings:
    """A column of strings as one str and an offsets array: no object per value until read
    (a million names as Python strings cost ~80 MB more and most are never read)."""

    __slots__ = ("_offsets", "_text")

    def __init__(self, text: str, offsets: array) -> None:  # type: ignore[type-arg]
        self._text = text
        self._offsets = offsets

    @classmethod
    def pack(cls, values: list[str]) -> PackedStrings:
        offsets = array("q", [0])
        total = 0
        for v in values:
            total += len(v)
            offsets.append(total)
        return cls("".join(values), offsets)

    def __getitem__(self, i: int) -> str:
        return self._text[self._offsets[i] : self._offsets[i + 1]]

    def __len__(self) -> int:
        return len(self._offsets) - 1


class Codes:
    """A column of few distinct values (kinds, divisions) as one small index per row."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: list[str | None], index: array) -> None:  # type: ignore[type-arg]
        self._values = values
        self._index = index

    @classmethod
    def pack(cls, column: list[str | None]) -> Codes:
        distinct = list(dict.fromkeys(column))
        where = {v: i for i, v in enumerate(distinct)}
        return cls(distinct, array("H", (where[v] for v in column)))

    def __getitem__(self, i: int) -> str | None:
        return self._values[self._index[i]]


class LazyEntries:
    """`dict[int, IndexEntry]` over columns: an entry object is made only when it is looked up.

    Subjects loaded from a snapshot sit in sorted columns; later adds and replacements go into a
    small overlay dict and removals into a set, as the index's own incremental path expects.
    """

    __slots__ = ("_aliases", "_divisions", "_gone", "_ids", "_kinds", "_names", "_overlay", "_usccs")

    def __init__(
        self,
        ids: array,  # type: ignore[type-arg]
        names: PackedStrings,
        kinds: Codes,
        usccs: PackedStrings,
        divisions: Codes,
        aliases: dict[int, tuple[tuple[str, str], ...]],
    ) -> None:
        self._ids = ids
        self._names = names
        self._kinds = kinds
        self._usccs = usccs
        self._divisions = divisions
        self._aliases = aliases
        self._overlay: dict[int, IndexEntry] = {}
        self._gone: set[int] = set()

    def _pos(self, sid: int) -> int:
        i = bisect_left(self._ids, sid)
        return i if i < len(self._ids) and self._ids[i] == sid and sid not in self._gone else -1

    def get(self, sid: int, default: IndexEntry | None = None) -> IndexEntry | None:
        hit = self._overlay.get(sid)
        if hit is not None:
            return hit
        i = self._pos(sid)
        if i < 0:
            return default
        kind = self._kinds[i] or ""
        return IndexEntry(sid, self._names[i], kind, self._usccs[i] or None, self._divisions[i], self._aliases.get(sid, ()))

    def __getitem__(self, sid: int) -> IndexEntry:
        entry = self.get(sid)
        if entry is None:
            raise KeyError(sid)
        return entry

    def __contains__(self, sid: object) -> bool:
        return isinstance(sid, int) and (sid in self._overlay or self._pos(sid) >= 0)

    def __setitem__(self, sid: int, entry: IndexEntry) -> None:
        self._overlay[sid] = entry

    def pop(self, sid: int, default: IndexEntry | None = None) -> IndexEntry | None:
        entry = self.get(sid)
        if entry is None:
            return default
        self._overlay.pop(sid, None)
        if self._pos(sid) >= 0:
            self._gone.add(sid)
        return entry

    def __len__(self) -> int:
        in_columns = len(self._ids) - len(self._gone)
        return in_columns + sum(1 for sid in self._overlay if self._pos(sid) < 0)

    def __iter__(self) -> Iterator[int]:
        for sid in self._ids:
            if sid not in self._gone and sid not in self._overlay:
                yield sid
        yield from self._overlay

    def values(self) -> Iterator[IndexEntry]:
        for sid in self:
            entry = self.get(sid)
            if entry is not None:
                yield entry


def save(index: NameIndex, path: Path, watermark: dt.datetime | None, source: str = "") -> SnapshotInfo:
    """Write `index` to `path` atomically; returns what the snapshot is tied to.

    The index is only read (tables merged into copies), so look-ups may go on in another thread;
    the caller must keep it from changing meanwhile (services.name_index holds refreshes back).
    `source` names the database the index was read from: a snapshot of another one is never used.
    """
    entries = sorted((index._entries.get(sid) for sid in list(index._entries)), key=lambda e: e.subject_id)  # type: ignore[union-attr]
    info = SnapshotInfo(watermark, len(entries), fingerprint(index.lexicon))
    payload: dict[str, Any] = {
        "watermark": watermark.isoformat() if watermark else None,
        "subjects": info.subjects,
        "fingerprint": info.fingerprint,
        "source": source,
        "ids": array("q", (e.subject_id for e in entries)).tobytes(),  # type: ignore[union-attr]
        "names": _packed([e.name for e in entries]),  # type: ignore[union-attr]
        "kinds": _codes([e.kind for e in entries]),  # type: ignore[union-attr]
        "usccs": _packed([e.uscc or "" for e in entries]),  # type: ignore[union-attr]
        "divisions": _codes([e.division_code for e in entries]),  # type: ignore[union-attr]
        "aliases": {e.subject_id: e.aliases for e in entries if e.aliases},  # type: ignore[union-attr]
        "row_sid": index._row_sid.tobytes(),
        "row_src": index._row_src.tobytes(),
        "alive": bytes(index._alive),
        "dead": index._dead,
        "row_core": _packed_rows(index._row_core),
        "tables": [t.merged() for t in index._tables],
    }
    del entries
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w+b") as fh:
            fh.write(MAGIC + bytes(_HEADER.size))
            pickle.dump(payload, fh, protocol=5)
            length = fh.tell() - len(MAGIC) - _HEADER.size
            fh.seek(len(MAGIC) + _HEADER.size)
            digest = _digest(fh)
            fh.seek(len(MAGIC))
            fh.write(_HEADER.pack(length, digest))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return info


def read_info(path: Path) -> SnapshotInfo | None:
    """What a snapshot file is tied to, or None when there is none or it is unreadable."""
    payload = _read(path)
    return _info(payload) if payload is not None else None


def load(path: Path, lexicon: Lexicon, source: str = "") -> tuple[NameIndex, SnapshotInfo] | None:
    """The index stored at `path`, or None when missing, damaged, cut short, or built with another
    lexicon or from another database (`source`, as given to `save`)."""
    payload = _read(path)
    if payload is None or payload.get("fingerprint") != fingerprint(lexicon) or payload.get("source", "") != source:
        return None
    index = NameIndex(lexicon)
    ids = array("q")
    ids.frombytes(payload["ids"])
    index._entries = LazyEntries(  # type: ignore[assignment]
        ids,
        _unpack(payload["names"]),
        _uncodes(payload["kinds"]),
        _unpack(payload["usccs"]),
        _uncodes(payload["divisions"]),
        payload["aliases"],
    )
    index._row_sid = array("q")
    index._row_sid.frombytes(payload["row_sid"])
    index._row_src = array("b")
    index._row_src.frombytes(payload["row_src"])
    index._alive = bytearray(payload["alive"])
    index._dead = payload["dead"]
    index._row_core = _unpack_rows(payload["row_core"])
    for table, stored in zip(index._tables, payload["tables"], strict=True):
        table._base = stored
    return index, _info(payload)


def _packed(values: list[str]) -> tuple[str, bytes]:
    column = PackedStrings.pack(values)
    return column._text, column._offsets.tobytes()


def _unpack(stored: tuple[str, bytes]) -> PackedStrings:
    offsets = array("q")
    offsets.frombytes(stored[1])
    return PackedStrings(stored[0], offsets)


def _packed_rows(column: RowStrings) -> tuple[str, bytes]:
    text, offsets = column.packed()
    return text, offsets.tobytes()


def _unpack_rows(stored: tuple[str, bytes]) -> RowStrings:
    offsets = array("I")
    offsets.frombytes(stored[1])
    return RowStrings(stored[0], offsets)


def _codes(column: list[str | None]) -> tuple[list[str | None], bytes]:
    packed = Codes.pack(column)
    return packed._values, packed._index.tobytes()


def _uncodes(stored: tuple[list[str | None], bytes]) -> Codes:
    index = array("H")
    index.frombytes(stored[1])
    return Codes(stored[0], index)


def _info(payload: dict[str, Any]) -> SnapshotInfo:
    mark = payload.get("watermark")
    return SnapshotInfo(dt.datetime.fromisoformat(mark) if mark else None, payload.get("subjects", 0), payload.get("fingerprint", ""))


def _digest(fh: BinaryIO) -> bytes:
    """xxh3-128 of the rest of the file from its current position (GB/s: cheap next to the read)."""
    h = xxh3_128()
    while chunk := fh.read(_CHUNK):
        h.update(chunk)
    return h.digest()


def _read(path: Path) -> dict[str, Any] | None:
    """The stored payload, or None unless the file is whole: magic, length and checksum match."""
    try:
        with open(path, "rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                return None
            length, digest = _HEADER.unpack(fh.read(_HEADER.size))
            start = fh.tell()
            if os.fstat(fh.fileno()).st_size - start != length or _digest(fh) != digest:
                return None
            fh.seek(start)
            payload = pickle.load(fh)  # our own file, written by `save` and checked above
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, struct.error, AttributeError, ImportError):
        return None
    return payload if isinstance(payload, dict) else None
