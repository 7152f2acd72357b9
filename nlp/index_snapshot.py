"""A snapshot of the name index on disk, so a new process answers within seconds, not a minute.

Building the index at 1,000,000 subjects re-tokenises every name (cores, 字号, pinyin readings,
deletions, bigrams): about a minute of CPU. The built index is only arrays of integers plus a few
string columns, so it is written once after a build and read back without re-tokenising:

* every key table is its sorted `array('Q')` as raw bytes (read back with `frombytes`);
* row columns (subject, source, alive) likewise; the row cores as one string and its offsets;
* the subjects as the columns the index keeps them in (nlp.entry_columns), stored as they are.

A snapshot is tied to what it was built from: the database's change watermark (its position in
the stream of changed subjects, `subject_changes.seq`, services.subject_feed) and subject count,
and a fingerprint of the lexicon (regions, organisation forms, industries) and of this format. The
caller tops a loaded snapshot up from the stream (changes after the watermark); a snapshot with another fingerprint is stale and is
rebuilt, and so is one written from another database (`source`). The file is written to a
temporary name, synced and renamed, so a reader never sees half a file; a file damaged or cut
short all the same (a full disk, a copy interrupted) fails its length or checksum and is ignored.

File shape: 8-byte magic, the payload's length and xxh3-128 checksum, then one pickle (protocol 5)
of a dict of bytes, arrays, str and small lists. The file is written and read only by this
program's own code: it is trusted like the database.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import struct
import threading
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from xxhash import xxh3_128

from nlp.entry_columns import EntryColumns
from nlp.index_parts import RowStrings
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex

MAGIC = b"CRIDX\x00\x02\x00"
# After the magic: the payload's length and its xxh3-128 checksum; a file cut short or damaged fails.
_HEADER = struct.Struct("<Q16s")
_CHUNK = 1 << 22
FORMAT = 10  # bump when NameIndex's keys change: old snapshots then count as stale


@dataclass(frozen=True)
class SnapshotInfo:
    watermark: int | None  # position in the subject change stream; None in a snapshot older than it
    subjects: int
    fingerprint: str


def fingerprint(lexicon: Lexicon) -> str:
    """What the keys depend on besides the names: the lexicon's words and this format."""
    h = hashlib.sha256(f"format={FORMAT}".encode())
    for words in (sorted(lexicon.region_to_code.items()), lexicon.org_forms, lexicon.industries):
        h.update(repr(words).encode())
    return h.hexdigest()[:32]


def save(index: NameIndex, path: Path, watermark: int | None, source: str = "") -> SnapshotInfo:
    """Write `index` to `path` atomically; returns what the snapshot is tied to.

    The index is only read (tables merged into copies), so look-ups may go on in another thread;
    the caller must keep it from changing meanwhile (services.name_index holds refreshes back).
    `source` names the database the index was read from: a snapshot of another one is never used.
    """
    columns = EntryColumns.of(index._entries)
    info = SnapshotInfo(watermark, len(columns), fingerprint(index.lexicon))
    payload: dict[str, Any] = {
        "watermark": watermark,
        "subjects": info.subjects,
        "fingerprint": info.fingerprint,
        "source": source,
        "entries": columns.stored(),
        "row_sid": index._row_sid.tobytes(),
        "row_src": index._row_src.tobytes(),
        "alive": bytes(index._alive),
        "dead": index._dead,
        "row_core": _packed_rows(index._row_core),
        "tables": [t.merged() for t in index._tables],
    }
    del columns
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
    index._entries = EntryColumns.from_stored(payload["entries"])  # type: ignore[assignment]
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


def _packed_rows(column: RowStrings) -> tuple[str, bytes]:
    text, offsets = column.packed()
    return text, offsets.tobytes()


def _unpack_rows(stored: tuple[str, bytes]) -> RowStrings:
    offsets = array("I")
    offsets.frombytes(stored[1])
    return RowStrings(stored[0], offsets)


def _info(payload: dict[str, Any]) -> SnapshotInfo:
    mark = payload.get("watermark")  # an ISO time in snapshots written before the stream: no position
    return SnapshotInfo(mark if isinstance(mark, int) else None, payload.get("subjects", 0), payload.get("fingerprint", ""))


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
