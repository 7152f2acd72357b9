"""Who is working on an upload right now, in a form a killed process cannot leave behind.

A confirmation marks its upload `importing` in the database; if the process dies there, the row says
`importing` forever. The row alone cannot tell a live import from a dead one, so the importer also
holds a lease while it works: on PostgreSQL an advisory lock held by a transaction left open on a
connection of its own (the server drops it the moment that connection dies, whichever replica held it;
a transaction-level lock also works behind a transaction pooler), on SQLite — one embedded
process — a set in this process. An `importing` upload whose lease nobody holds is stranded: listed
in /mytasks and confirmable again.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.session import Database

_HELD_HERE: set[str] = set()  # SQLite: leases held by this process


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key from the lease's name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@asynccontextmanager
async def lease(db: Database, name: str) -> AsyncIterator[bool]:
    """Try to hold the lease `name` for the block; yields False (at once, no waiting) when another
    holder has it. Released on leaving the block, and by the server if the process dies."""
    if db.dialect != "postgresql":
        if name in _HELD_HERE:
            yield False
            return
        _HELD_HERE.add(name)
        try:
            yield True
        finally:
            _HELD_HERE.discard(name)
        return
    key = _lock_key(name)
    async with db.engine.connect() as conn:
        try:
            # A transaction-level lock in a transaction kept open for the whole block, on a connection
            # of its own: the lock ends with that transaction (rollback below, or the server's when the
            # connection dies), and a transaction pooler (PgBouncer) keeps one server connection for a
            # transaction, where a session-level lock would stay behind on a server connection that
            # other clients then get. The open transaction holds no snapshot between statements.
            got = bool(await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))
            yield got
        finally:
            with contextlib.suppress(Exception):  # a dead connection has ended the lock already
                await conn.rollback()


async def is_held(session: AsyncSession, name: str) -> bool:
    """Whether anyone (this process included) holds the lease `name` now."""
    if session.bind.dialect.name != "postgresql":
        return name in _HELD_HERE
    key = _lock_key(name)
    free = bool(await session.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
    if free:
        await session.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    return not free


def upload_lease_name(upload_id: str) -> str:
    return f"upload:{upload_id}"




IMPORT_GATE = "imports"


async def import_gate(session: AsyncSession, *, alone: bool) -> None:
    """Enter the importers' gate for the rest of this transaction (PostgreSQL; SQLite's one writer
    needs none). Imports normally share it and run side by side; a retry after a deadlock takes it
    alone, so it waits for the imports it collided with to commit instead of colliding again, and a
    retried import always finishes."""
    if session.bind.dialect.name != "postgresql":
        return
    fn = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
    await session.execute(text(f"SELECT {fn}(:k)"), {"k": _lock_key(IMPORT_GATE)})

__all__ = ["import_gate", "is_held", "lease", "upload_lease_name"]
