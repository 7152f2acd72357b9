"""Feed for the in-memory name index: subjects (with aliases) changed since a watermark.

Every bot process holds its own index and polls this with the `Subject.updated_at` watermark it
last saw, so a subject imported by another process shows up within one refresh interval. At a
million subjects the first load must be fast: plain column tuples are streamed in partitions, no ORM
objects are built, and aliases are fetched in one pass and grouped in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Division, Subject, SubjectAlias
from nlp.index_parts import IndexEntry

_PARTITION = 20_000


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


async def load_entries(
    session: AsyncSession, since: dt.datetime | None = None
) -> tuple[list[IndexEntry], dt.datetime | None]:
    """Index entries of subjects changed at or after `since` (all when None), and the new watermark.

    `>=` rather than `>`: a transaction committed later with the same timestamp must not be lost;
    re-adding an unchanged subject only replaces it in the index.
    """
    stmt = select(
        Subject.id, Subject.name, Subject.kind, Subject.uscc, Subject.division_code, Subject.updated_at
    ).order_by(Subject.id)
    if since is not None:
        stmt = stmt.where(Subject.updated_at >= since)
    rows: list[tuple[int, str, str, str | None, str | None]] = []
    watermark = since
    result = await session.stream(stmt.execution_options(yield_per=_PARTITION))
    async for part in result.partitions(_PARTITION):
        for sid, name, kind, uscc, division, updated in part:
            rows.append((sid, name, kind, uscc, division))
            if updated is not None and (watermark is None or updated > watermark):
                watermark = updated
    if not rows:
        return [], watermark
    aliases = await _aliases(session, [r[0] for r in rows] if since is not None else None)
    entries = [
        IndexEntry(sid, name, kind, uscc, division, tuple(aliases.get(sid, ())))
        for sid, name, kind, uscc, division in rows
    ]
    return entries, watermark


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
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        for sid, alias, kind in await session.execute(stmt.where(SubjectAlias.subject_id.in_(chunk))):
            out[sid].append((alias, kind))
    return out

