"""Throw-away PostgreSQL databases for the benchmarks: each run creates its own and drops it, so a
measurement starts from an empty, freshly migrated archive and leaves nothing behind."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from db.session import Database

DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


async def create_database(admin_dsn: str, collation: str | None = None) -> tuple[str, str]:
    """A new empty database on the server of `admin_dsn`: (its name, its SQLAlchemy asyncpg URL).
    `collation` (e.g. "C.UTF-8") sets LC_COLLATE and LC_CTYPE, as pg_trgm's users set them up."""
    name = f"creditbot_bench_{uuid.uuid4().hex[:8]}"
    locale = f" LC_COLLATE '{collation}' LC_CTYPE '{collation}'" if collation else ""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\'{locale} TEMPLATE template0')
    finally:
        await conn.close()
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{base}/{name}"


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def bench_database(pg: bool, admin_dsn: str = DEFAULT_ADMIN_DSN) -> AsyncIterator[tuple[Database, str | None]]:
    """(a database to measure on, its PostgreSQL name or None): a throw-away PostgreSQL database
    when `pg`, else a SQLite file in a temporary folder; disposed and dropped (or deleted) on leaving."""
    if pg:
        name, url = await create_database(admin_dsn)
        db = Database(url)
        try:
            yield db, name
        finally:
            await db.dispose()
            await drop_database(admin_dsn, name)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            yield db, None
        finally:
            await db.dispose()
