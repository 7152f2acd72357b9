"""The index's subjects as columns: `dict[int, IndexEntry]` in behaviour, a few arrays in memory.

A million `IndexEntry` objects with their own name, code, kind and division strings cost about
240 MB and a dict of 42 MB over them; most are never read. After a bulk build (and in a snapshot)
the subjects sit in sorted columns: ids, names and codes packed as UTF-8 with an offsets array
(nlp.packed: a snapshot maps them, every process on a host reads the same pages), kinds and
divisions as a small index into their few distinct values, aliases only for the subjects that
have some. An `IndexEntry` is made only when one is looked up. Later adds and
replacements go into a small overlay dict and removals into a set, as the index's incremental path
expects; a later bulk add packs everything again.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from nlp.index_parts import IndexEntry
from nlp.packed import PackedText, nbytes


class Codes:
    """A column of few distinct values (kinds, divisions) as one small index per row."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: list[str | None], index: Any) -> None:
        self._values = values
        self._index = index

    @classmethod
    def pack(cls, column: Iterable[str | None]) -> Codes:
        where: dict[str | None, int] = {}
        index = array("H")
        for v in column:
            at = where.get(v)
            if at is None:
                at = where[v] = len(where)
            index.append(at)
        return cls(list(where), index)

    def __getitem__(self, i: int) -> str | None:
        return self._values[self._index[i]]

    @property
    def values(self) -> list[str | None]:
        return self._values

    @property
    def index(self) -> Any:
        return self._index


class AliasColumn:
    """Aliases of the few subjects that have some: their ids sorted, the aliases packed as text
    ("alias\x1ekind\x1falias\x1ekind"), instead of a dict of tuples of strings per subject."""

    __slots__ = ("_ids", "_text")

    def __init__(self, ids: Any, text: PackedText) -> None:
        self._ids = ids
        self._text = text

    @classmethod
    def pack(cls, pairs: Iterable[tuple[int, tuple[tuple[str, str], ...]]]) -> AliasColumn:
        """From (subject id, aliases) in ascending id order."""
        ids = array("q")
        texts = []
        for sid, aliases in pairs:
            ids.append(sid)
            texts.append(_ITEM.join(f"{alias}{_PAIR}{kind}" for alias, kind in aliases))
        return cls(ids, PackedText.pack(texts))

    def get(self, sid: int) -> tuple[tuple[str, str], ...]:
        i = bisect_left(self._ids, sid)
        if i == len(self._ids) or self._ids[i] != sid:
            return ()
        return tuple(tuple(item.split(_PAIR, 1)) for item in self._text[i].split(_ITEM))  # type: ignore[misc]

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> Any:
        return self._ids

    @property
    def text(self) -> PackedText:
        return self._text


_ITEM, _PAIR = "\x1f", "\x1e"


class EntryColumns:
    """`dict[int, IndexEntry]` over columns; see the module docstring."""

    __slots__ = ("_aliases", "_divisions", "_gone", "_ids", "_kinds", "_names", "_overlay", "_usccs")

    def __init__(
        self,
        ids: Any,  # array('q') or a view into a mapped snapshot
        names: PackedText,
        kinds: Codes,
        usccs: PackedText,
        divisions: Codes,
        aliases: AliasColumn,
    ) -> None:
        self._ids = ids
        self._names = names
        self._kinds = kinds
        self._usccs = usccs
        self._divisions = divisions
        self._aliases = aliases
        self._overlay: dict[int, IndexEntry] = {}
        self._gone: set[int] = set()

    @classmethod
    def pack(cls, entries: Iterable[IndexEntry]) -> EntryColumns:
        """Columns of `entries` (any order; one per subject id)."""
        ordered = sorted(entries, key=lambda e: e.subject_id)
        return cls(
            array("q", (e.subject_id for e in ordered)),
            PackedText.pack(e.name for e in ordered),
            Codes.pack(e.kind for e in ordered),
            PackedText.pack(e.uscc or "" for e in ordered),
            Codes.pack(e.division_code for e in ordered),
            AliasColumn.pack((e.subject_id, e.aliases) for e in ordered if e.aliases),
        )

    @classmethod
    def of(cls, entries: Mapping[int, IndexEntry] | EntryColumns) -> EntryColumns:
        """`entries` as columns with nothing pending: itself when it already is, else packed."""
        if isinstance(entries, EntryColumns) and not entries._overlay and not entries._gone:
            return entries
        return cls.pack(entries.values())

    @property
    def pending(self) -> int:
        """Subjects added, replaced or removed since the columns were packed."""
        return len(self._overlay) + len(self._gone)

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
        return IndexEntry(sid, self._names[i], kind, self._usccs[i] or None, self._divisions[i], self._aliases.get(sid))

    def division(self, sid: int) -> str | None:
        """The subject's division code without making its entry (the district filter reads many)."""
        hit = self._overlay.get(sid)
        if hit is not None:
            return hit.division_code
        i = self._pos(sid)
        return self._divisions[i] if i >= 0 else None

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

    def footprint(self) -> int:
        """Bytes held by the columns (not the overlay's few entries)."""
        return (nbytes(self._ids) + self._names.footprint() + self._usccs.footprint() + nbytes(self._kinds.index)
                + nbytes(self._divisions.index) + nbytes(self._aliases.ids) + self._aliases.text.footprint())

    def columns(self) -> dict[str, Any]:
        """The packed columns by name (call on packed columns: `of`), for nlp.index_snapshot."""
        return {
            "ids": self._ids, "names": self._names, "kinds": self._kinds, "usccs": self._usccs,
            "divisions": self._divisions, "aliases": self._aliases,
        }  # fmt: skip
