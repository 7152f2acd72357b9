import asyncio

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from db.models import Subject
from db.session import Database
from tests.conftest import PG_ADMIN_DSN, _create_pg_database, _drop_pg_database


async def test_subject_round_trip(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Subject(kind="法人", name="安康市恒达建材有限公司", uscc="91610900MA70XXXXX0"))
    async with db.transaction() as s:
        names = (await s.scalars(select(Subject.name))).all()
    assert names == ["安康市恒达建材有限公司"]


async def test_sqlite_runs_with_wal_and_foreign_keys(db: Database) -> None:
    if db.dialect != "sqlite":
        return
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_a_failed_unit_of_work_leaves_nothing_behind(db: Database) -> None:
    try:
        async with db.transaction() as s:
            s.add(Subject(kind="法人", name="半途而废有限公司", uscc="91610900MA70XXXXX1"))
            await s.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with db.transaction() as s:
        assert (await s.scalars(select(Subject))).all() == []


async def _kill_backend_after_use(database: Database) -> int:
    """Use a pooled connection, then end its server process as a restart or a firewall would."""
    async with database.sessions() as s:
        pid = int(await s.scalar(text("select pg_backend_pid()")))
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute("select pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
    await asyncio.sleep(0.2)
    return pid


async def test_a_connection_that_died_while_idle_is_replaced_before_use() -> None:
    name, url = await _create_pg_database()
    pinged, unpinged = Database(url, idle_ping_seconds=0.0), Database(url, idle_ping_seconds=3600.0)
    try:
        pid = await _kill_backend_after_use(pinged)
        async with pinged.sessions() as s:
            assert int(await s.scalar(text("select pg_backend_pid()"))) != pid
        # The same death within the idle time is not looked for (a busy pool pays no ping):
        await _kill_backend_after_use(unpinged)
        with pytest.raises(DBAPIError):
            async with unpinged.sessions() as s:
                await s.scalar(text("select 1"))
        async with unpinged.sessions() as s:  # ... and the pool renews itself after the failure
            assert await s.scalar(text("select 1")) == 1
    finally:
        await pinged.dispose()
        await unpinged.dispose()
        await _drop_pg_database(name)
