"""A snapshot of the name index on disk: mapped read-only by every process of a host, so they
share one copy, and a new process answers within seconds, not a minute.

Building the index at 1,000,000 subjects re-tokenises every name (cores, 字号, pinyin readings,
deletions, bigrams): about a minute of CPU. The built index is only arrays of integers and UTF-8
text (nlp.packed), so it is written once after a build as raw sections at fixed offsets, and a
process *maps* the file (`mmap`, read-only) instead of reading it: the key tables, the per-row
columns and the subjects' columns are views into the mapping. The bot and the port workers on one
host then hold one copy of the index between them, in the page cache (issue 27: three copies of
0.35 GB each at a million subjects before). A process that changes its index afterwards (the
change feed) keeps its changes in small private overlays, and its per-row columns become private
(nlp.resolver `_own_rows`); the next snapshot it maps shares everything again.

A snapshot is tied to what it was built from: the database's change watermark (its position in
the stream of changed subjects, `subject_changes.seq`, services.subject_feed) and subject count,
and a fingerprint of the lexicon (regions, organisation forms, industries) and of this format. The
caller tops a loaded snapshot up from the stream (changes after the watermark); a snapshot with another fingerprint is stale and is
rebuilt, and so is one written from another database (`source`). The file is written to a
temporary name, synced and renamed, so a reader never sees half a file and a process that maps the
old one keeps reading the old one (the rename never changes a file in place: a mapped file cut
short under a reader would kill it with SIGBUS). A file damaged or cut short all the same (a full
disk, a copy interrupted) fails its length or checksum and is ignored.

File shape: 8-byte magic; the lengths of the metadata and of the data and the xxh3-128 checksum of
everything after this header; the metadata (one small pickle, protocol 5: what the snapshot is tied
to, the few distinct kinds and divisions, and where each section lies); then the sections, each
aligned to 64 bytes. The file is written and read only by this program's own code: it is trusted
like the database.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import pickle
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xxhash import xxh3_128

from nlp.entry_columns import AliasColumn, Codes, EntryColumns
from nlp.index_parts import RowStrings
from nlp.lexicon import Lexicon
from nlp.packed import PackedText, nbytes
from nlp.resolver import NameIndex

MAGIC = b"CRIDX\x00\x03\x00"
# After the magic: the metadata's and the data's lengths and the xxh3-128 of all that follows.
_HEADER = struct.Struct("<QQ16s")
_ALIGN = 64
_CHUNK = 1 << 22
FORMAT = 11  # bump when NameIndex's keys or this layout change: old snapshots then count as stale


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
    sections: list[tuple[str, str, Any]] = []  # (name, typecode of the view, buffer)
    for i, table in enumerate(index._tables):
        hashes, rows = table.merged()
        sections += [(f"t{i}.hashes", "Q", hashes), (f"t{i}.rows", "I", rows)]
    sections += [("row_sid", "q", index._row_sid), ("row_src", "b", index._row_src), ("alive", "B", index._alive)]
    sections += _text("row_core", index._row_core.packed())
    c = columns.columns()
    sections += [("ids", "q", c["ids"]), ("kinds", "H", c["kinds"].index), ("divisions", "H", c["divisions"].index)]
    sections += _text("names", c["names"]) + _text("usccs", c["usccs"])
    sections += [("alias_ids", "q", c["aliases"].ids), *_text("alias_text", c["aliases"].text)]
    layout: dict[str, tuple[int, int, str]] = {}
    at = 0
    for name, typecode, buf in sections:
        size = nbytes(buf)
        layout[name] = (at, size, typecode)
        at = _aligned(at + size)
    meta = pickle.dumps({
        "watermark": watermark,
        "subjects": info.subjects,
        "fingerprint": info.fingerprint,
        "source": source,
        "dead": index._dead,
        "kinds": c["kinds"].values,
        "divisions": c["divisions"].values,
        "sections": layout,
    }, protocol=5)  # fmt: skip
    start = _aligned(len(MAGIC) + _HEADER.size + len(meta))
    del columns, c
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(path)
    tmp = path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + bytes(_HEADER.size))
            digest = xxh3_128()
            for piece in _pieces(meta, start - len(MAGIC) - _HEADER.size - len(meta), sections, layout):
                fh.write(piece)
                digest.update(piece)
            fh.seek(len(MAGIC))
            fh.write(_HEADER.pack(len(meta), at, digest.digest()))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return info


def remove_dead_temporaries(path: Path) -> list[Path]:
    """Delete the half-written temporaries of `path` whose writer no longer runs (killed while
    writing: at a million subjects each is some 400 MB that nothing else would ever remove); returns
    them. The writer's PID is in the name (`save`); the snapshot's folder is this host's own."""
    removed = []
    for tmp in path.parent.glob(f"{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 1 :].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process of that number: alive
        return True
    return True


def read_info(path: Path) -> SnapshotInfo | None:
    """What a snapshot file is tied to, or None when there is none or it is unreadable."""
    opened = _open(path, shared=True)
    return _info(opened[1]) if opened is not None else None


def load(
    path: Path, lexicon: Lexicon, source: str = "", shared: bool = True
) -> tuple[NameIndex, SnapshotInfo] | None:
    """The index stored at `path`, or None when missing, damaged, cut short, or built with another
    lexicon or from another database (`source`, as given to `save`).

    `shared` (the default) maps the file read-only: the index's arrays and text are views into the
    page cache that every process mapping the same file shares. `shared=False` reads the file into
    this process's own memory instead (each process its own copy, as before issue 27; the
    benchmark compares the two)."""
    opened = _open(path, shared)
    if opened is None:
        return None
    buf, meta, start = opened
    if meta.get("fingerprint") != fingerprint(lexicon) or meta.get("source", "") != source:
        return None
    layout: dict[str, tuple[int, int, str]] = meta["sections"]
    view = memoryview(buf)

    def array_of(name: str) -> memoryview:
        at, size, typecode = layout[name]
        return view[start + at : start + at + size].cast(typecode)

    def text_of(name: str) -> PackedText:
        return PackedText(buf, array_of(f"{name}.offsets"), start + layout[f"{name}.text"][0])

    index = NameIndex(lexicon)
    index._entries = EntryColumns(  # type: ignore[assignment]
        array_of("ids"),
        text_of("names"),
        Codes(meta["kinds"], array_of("kinds")),
        text_of("usccs"),
        Codes(meta["divisions"], array_of("divisions")),
        AliasColumn(array_of("alias_ids"), text_of("alias_text")),
    )
    index._row_sid = array_of("row_sid")
    index._row_src = array_of("row_src")
    index._alive = array_of("alive")
    index._dead = meta["dead"]
    index._row_core = RowStrings(text_of("row_core"))
    for i, table in enumerate(index._tables):
        table._hashes, table._rows = array_of(f"t{i}.hashes"), array_of(f"t{i}.rows")
    return index, _info(meta)


def _text(name: str, column: PackedText) -> list[tuple[str, str, Any]]:
    return [(f"{name}.text", "B", column.text()), (f"{name}.offsets", "Q", column.offsets)]


def _aligned(at: int) -> int:
    return -(-at // _ALIGN) * _ALIGN


def _pieces(
    meta: bytes, pad: int, sections: list[tuple[str, str, Any]], layout: dict[str, tuple[int, int, str]]
) -> Iterator[bytes | memoryview]:
    """What follows the header, in order: metadata, padding, each section and its padding."""
    yield meta
    yield bytes(pad)
    for name, _typecode, buf in sections:
        at, size, _ = layout[name]
        data = memoryview(buf).cast("B")
        for chunk in range(0, size, _CHUNK):
            yield data[chunk : chunk + _CHUNK]
        yield bytes(_aligned(at + size) - at - size)


def _info(meta: dict[str, Any]) -> SnapshotInfo:
    mark = meta.get("watermark")  # an ISO time in snapshots written before the stream: no position
    return SnapshotInfo(mark if isinstance(mark, int) else None, meta.get("subjects", 0), meta.get("fingerprint", ""))


def _open(path: Path, shared: bool) -> tuple[Any, dict[str, Any], int] | None:
    """(the file's bytes, mapped or read; its metadata; where its sections start), or None unless
    the file is whole: magic, lengths and checksum match. The checksum pass (GB/s) also brings the
    file into the page cache, so the first look-ups do not wait for the disk."""
    head = len(MAGIC) + _HEADER.size
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < head:
                return None
            buf: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if shared else fh.read()
        if buf[: len(MAGIC)] != MAGIC:
            return None
        meta_len, data_len, digest = _HEADER.unpack(buf[len(MAGIC) : head])
        start = _aligned(head + meta_len)
        if len(buf) != start + data_len or xxh3_128(memoryview(buf)[head:]).digest() != digest:
            return None
        meta = pickle.loads(buf[head : head + meta_len])  # our own file, written by `save` and checked above
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, struct.error, AttributeError, ImportError):
        return None
    return (buf, meta, start) if isinstance(meta, dict) else None
