"""Alembic on both databases: up to head, down to nothing, up again; the schema matches the models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from db import migrate
from db.models import Base
from db.session import Database
from tests.conftest import _create_pg_database, _drop_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    else:
        name, url = await _create_pg_database()
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()
        if name:
            await _drop_pg_database(name)


async def table_names(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade(fresh_db: Database) -> None:
    assert await migrate.current_revision(fresh_db) is None
    await migrate.upgrade(fresh_db)
    head = await migrate.current_revision(fresh_db)
    assert head is not None
    assert set(Base.metadata.tables) <= await table_names(fresh_db)
    await migrate.downgrade(fresh_db, "base")
    assert await table_names(fresh_db) <= {"alembic_version"}
    await migrate.upgrade(fresh_db)
    assert await migrate.current_revision(fresh_db) == head


async def test_migrated_schema_matches_the_models(fresh_db: Database) -> None:
    await migrate.upgrade(fresh_db)

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return compare_metadata(context, Base.metadata)

    async with fresh_db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_upgrade_twice_is_harmless(fresh_db: Database) -> None:
    await migrate.upgrade(fresh_db)
    await migrate.upgrade(fresh_db)
    assert await migrate.current_revision(fresh_db) is not None
