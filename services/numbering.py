"""Document numbers: the region's abbreviation and a race-safe counter per document kind and year.

Every numbered document (事前告知书, 信用报告, the receipt of a self-declaration) takes its number
here, so two processes never hand out the same one.
"""

from __future__ import annotations

import functools

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DocumentSequence
from db.upsert import dialect_insert


@functools.lru_cache(maxsize=8)
def region_abbr(division_code: str) -> str:
    """The region's one-character document abbreviation (安 for 安康市), from the region data file;
    "" when the region has no data file."""
    from db.regions import default_region_file, load_region_file

    try:
        return load_region_file(default_region_file(division_code)).city.doc_abbr
    except (FileNotFoundError, ValueError):
        return ""


async def next_number(s: AsyncSession, kind: str, year: int) -> int:
    """The next number (1, 2, ...) of a document `kind` in `year`, inside the caller's transaction.

    One UPDATE ... RETURNING on a per-(kind, year) row: PostgreSQL locks the row until the
    transaction ends and SQLite serialises writers, so two processes never get the same number. Call
    it first in a transaction on SQLite (a write as the first statement avoids snapshot upgrades)."""
    insert = dialect_insert(s.get_bind().dialect.name)
    await s.execute(
        insert(DocumentSequence).values(kind=kind, year=year, last_value=0).on_conflict_do_nothing()
    )
    value = await s.scalar(
        update(DocumentSequence)
        .where(DocumentSequence.kind == kind, DocumentSequence.year == year)
        .values(last_value=DocumentSequence.last_value + 1)
        .returning(DocumentSequence.last_value)
        .execution_options(synchronize_session=False)
    )
    assert value is not None
    return int(value)
