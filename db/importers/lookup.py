"""Batch lookups by key that cost the same on the first batch of an import and on the hundredth.

Why: the importer looks up 500 keys at a time (`column IN (…)`) in tables its own transaction is
filling. PostgreSQL plans from statistics taken before the import, which say those tables are
(nearly) empty, so it scanned instead of probing the index: all records of the source, or the whole
subjects table, on every batch, comparing each row with 500 parameters one by one once the prepared
statement switched to its generic plan. A 100,000-row import into a fresh database ran at 285 rows/s
and got slower as it went. `each_key` makes the plan one unique-index probe per key whatever the
statistics say: a LATERAL subquery with an OFFSET cannot be flattened into a join, so PostgreSQL runs
it once per key with the key as an equality on its index. SQLite already probes the index for `IN`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


def each_key(
    session: AsyncSession, cols: Sequence[Any], key: ColumnElement[Any], values: Sequence[Any], *where: Any
) -> Any:
    """SELECT `cols` of the rows whose `key` is one of `values` and that match `where`; `key` must be
    an indexed column (with `where`, the leading columns of that index)."""
    if session.bind.dialect.name != "postgresql":
        return select(*cols).where(*where, key.in_(values))
    wanted = func.unnest(literal(list(values), ARRAY(key.type))).table_valued("k").render_derived(name="wanted")
    one = select(*cols).where(*where, key == wanted.c.k).offset(0).lateral("found")
    return select(one).select_from(wanted).join(one, true())
