"""Throw-away PostgreSQL databases for the benchmarks: each run creates its own and drops it, so a
measurement starts from an empty, freshly migrated archive and leaves nothing behind."""

from __future__ import annotations

import uuid

import asyncpg

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
