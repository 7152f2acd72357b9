"""Feed for the in-memory name index: every subject loaded once, then only what changed.

Every bot process and port worker holds its own index. A change to what the index holds (a subject
added, deleted or renamed, its kind, USCC or division, any alias) is recorded once, by triggers in
the database, as a row of `subject_changes` (migration 0026a); rows get their `seq` after commit, in
commit order, exactly as the change feed's events do (services.changes.stamp_log). Each process
keeps its own position (`Services.index_watermark`, also stored in its snapshot) and reads only the
rows after it: an import of 300,000 subjects costs each process one pass over those subjects, and a
quiet archive costs one indexed look-up per refresh.

Why a reader can trust its position: PostgreSQL hands out ids before commit, so a transaction may
commit its change after a later one; `seq` is only given to committed rows, one batch at a time
under a lock, numbered from the highest already given. A row committed late is numbered after
everything already visible, never behind a reader's position (tests/test_subject_stream.py runs two
transactions that commit out of order). On a read replica the same holds: it replays commits in
order, so it shows a prefix of the stream.

At a million subjects the first load must be fast: plain column tuples are streamed in partitions,
no ORM objects are built, and aliases are fetched in one pass and grouped in memory.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Division, Subject, SubjectAlias, SubjectChange, utcnow
from db.session import Database, refused_as_read_only
from nlp.index_parts import IndexEntry
from services.changes import SUBJECT_STAMP_LOCK, stamp_log

log = logging.getLogger(__name__)

_PARTITION = 20_000
_CHUNK = 5_000
# Rows of the stream read per transaction: one page of a large import, then the next.
PAGE = 50_000
# How long numbered rows stay. Running processes read the stream every 10-30 s; a process stopped
# longer starts from a snapshot, which is refused (and rebuilt) once the stream no longer holds
# everything after its position, and a running one that fell that far behind reloads (`gap`).
KEEP = dt.timedelta(days=7)


@dataclass
class StreamPage:
    """What one read of the stream brought: subjects to (re-)index, subjects gone, where it ended."""

    entries: list[IndexEntry] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    position: int = 0  # the highest `seq` read; pass it back next time
    rows: int = 0  # stream rows read (a subject changed twice in the page counts twice)
    more: bool = False  # the page was full: read again at once
    gap: bool = False  # rows after the position were pruned: what changed is lost, reload everything


async def load_divisions(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(code, name, short_name) of every configured division, for `Lexicon.from_divisions`."""
    rows = await session.execute(
        select(Division.code, Division.name, Division.short_name, Division.former_codes).order_by(Division.code)
    )
    out: list[tuple[str, str, str]] = []
    for code, name, short, former in rows:
        out.append((code, name, short or name))
        # A former code (610928 旬阳县) is the same place: same short name, so filters cover both.
        for old in (former or "").replace(";", ",").split(","):
            if old.strip():
                out.append((old.strip(), name, short or name))
    return out


async def stream_position(session: AsyncSession) -> int:
    """The highest position given so far (0 for none). Read before a full load: whatever commits
    after it, or committed unstamped before it, is numbered above it and read again later."""
    return int(await session.scalar(select(func.coalesce(func.max(SubjectChange.seq), 0))) or 0)


async def load_entries(session: AsyncSession) -> tuple[list[IndexEntry], int]:
    """Index entries of every subject, and the stream position they include everything up to."""
    position = await stream_position(session)
    stmt = select(Subject.id, Subject.name, Subject.kind, Subject.uscc, Subject.division_code).order_by(Subject.id)
    rows: list[tuple[int, str, str, str | None, str | None]] = []
    result = await session.stream(stmt.execution_options(yield_per=_PARTITION))
    async for part in result.partitions(_PARTITION):
        rows.extend(part)  # type: ignore[arg-type]
    if not rows:
        return [], position
    aliases = await _aliases(session, None)
    entries = [
        IndexEntry(sid, name, kind, uscc, division, tuple(aliases.get(sid, ())))
        for sid, name, kind, uscc, division in rows
    ]
    return entries, position


async def stamp_changes(db: Database) -> int:
    """Number the committed, unnumbered rows of the stream (one batch); how many were numbered.
    0 also when another process is numbering now (its batch shows up on the next read), and when
    this process's database is a read-only copy: the primary's processes number, the copy replays.
    With a read copy, also when the primary cannot be reached: what is numbered can still be read
    there (raises what the primary raises otherwise)."""
    try:
        return await stamp_log(db, SubjectChange.__table__, SUBJECT_STAMP_LOCK, PAGE)  # type: ignore[arg-type]
    except (OSError, DBAPIError) as exc:
        if isinstance(exc, DBAPIError) and refused_as_read_only(exc):
            return 0
        if not db.has_read_copy:
            raise
        log.warning("change stream: the primary cannot number it now (%s); reading the copy", type(exc).__name__)
        return 0


async def read_changes(session: AsyncSession, after: int, limit: int = PAGE) -> StreamPage:
    """The subjects changed after position `after` (at most `limit` stream rows), as they are now:
    entries to index, and the ids of subjects that no longer exist. Only numbered rows are read:
    call `stamp_changes` first. A subject in the page is read once however often it changed."""
    rows = (
        await session.execute(
            select(SubjectChange.seq, SubjectChange.subject_id)
            .where(SubjectChange.seq > after)
            .order_by(SubjectChange.seq)
            .limit(limit + 1)
        )
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return StreamPage(position=after)
    ids = list(dict.fromkeys(int(sid) for _seq, sid in rows))
    found: dict[int, tuple[str, str, str | None, str | None]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        stmt = select(Subject.id, Subject.name, Subject.kind, Subject.uscc, Subject.division_code)
        for sid, name, kind, uscc, division in await session.execute(stmt.where(Subject.id.in_(chunk))):
            found[sid] = (name, kind, uscc, division)
    aliases = await _aliases(session, list(found))
    return StreamPage(
        entries=[IndexEntry(sid, *found[sid], tuple(aliases.get(sid, ()))) for sid in ids if sid in found],
        removed=[sid for sid in ids if sid not in found],
        position=int(rows[-1][0]),
        rows=len(rows),
        more=more,
        gap=rows[0][0] > after + 1,  # numbers are consecutive (stamp_log): only pruning leaves a hole
    )


async def _aliases(session: AsyncSession, ids: list[int] | None) -> dict[int, list[tuple[str, str]]]:
    """Aliases grouped by subject: all of them at start-up, else only for the changed subjects."""
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    stmt = select(SubjectAlias.subject_id, SubjectAlias.alias, SubjectAlias.kind).order_by(
        SubjectAlias.subject_id, SubjectAlias.id
    )
    if ids is None:
        result = await session.stream(stmt.execution_options(yield_per=_PARTITION))
        async for part in result.partitions(_PARTITION):
            for sid, alias, kind in part:
                out[sid].append((alias, kind))
        return out
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for sid, alias, kind in await session.execute(stmt.where(SubjectAlias.subject_id.in_(chunk))):
            out[sid].append((alias, kind))
    return out


async def prune_stream(db: Database, keep: dt.timedelta = KEEP, now: dt.datetime | None = None) -> int:
    """Delete numbered rows older than `keep` (the newest always stays, so numbering goes on from
    it and a position is never ahead of the stream); returns how many. Idempotent: every process
    may run it."""
    cutoff = (now or utcnow()) - keep
    try:
        async with db.transaction() as s:
            last = await s.scalar(select(func.max(SubjectChange.seq)))
            if last is None:
                return 0
            stale = (SubjectChange.seq < last) & (SubjectChange.at < cutoff)
            result = await s.execute(delete(SubjectChange).where(stale))
    except DBAPIError as exc:  # a read-only copy: the primary's processes prune, the copy replays
        if not refused_as_read_only(exc):
            raise
        return 0
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
