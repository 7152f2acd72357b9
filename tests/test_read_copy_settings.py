"""`database.read_url`, the pool sizes and the outbox directory: from the file and the environment to
the engines a serving process builds; the most connections a process holds is what the settings say."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from db import migrate
from db.session import Database
from services.database_setup import database_for
from services.settings import ConfigError, Settings, load_settings, with_database
from tests.conftest import PG_ADMIN_DSN, _create_pg_database, _drop_pg_database

PRIMARY = "postgresql://creditbot@db-primary.internal/creditbot?sslmode=require&connect_timeout=5"
STANDBY = "postgresql://creditbot@db-standby.internal/creditbot?sslmode=require&application_name=reader"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_read_url_pools_and_outbox_reach_the_process_database(tmp_path: Path) -> None:
    path = write(tmp_path, f'[database]\nurl = "{PRIMARY}"\nread_url = "{STANDBY}"\npool_size = 3\nmax_overflow = 1\n'
                           f'outbox_dir = "{tmp_path / "spool"}"\n[api]\ndb_pool_size = 7\n')
    settings = load_settings(path, env={})
    db = database_for(settings)
    assert db.has_read_copy and db.outbox is not None and db.outbox.directory == tmp_path / "spool"
    assert db.read_engine.url.host == "db-standby.internal" and db.engine.url.host == "db-primary.internal"
    for engine in (db.engine, db.read_engine):
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 1)  # type: ignore[attr-defined]
    api_db = database_for(settings, pool_size=settings.api.db_pool_size)
    for engine in (api_db.engine, api_db.read_engine):
        assert (engine.pool.size(), engine.pool._max_overflow) == (7, 1)  # type: ignore[attr-defined]


def test_without_read_url_reads_use_the_primary() -> None:
    db = database_for(Settings())
    assert not db.has_read_copy and not db.defers_writes and db.read_engine is db.engine and db.outbox is None


def test_environment_sets_and_clears_the_read_copy(tmp_path: Path) -> None:
    path = write(tmp_path, f'[database]\nurl = "{PRIMARY}"\nread_url = "{STANDBY}"\n')
    assert load_settings(path, env={"CREDITBOT_DATABASE_READ_URL": "postgres://x@other/db"}).database.read_url \
        == "postgres://x@other/db"
    assert load_settings(path, env={"CREDITBOT_DATABASE_READ_URL": ""}).database.read_url == ""


def test_db_option_drops_the_configured_read_copy(tmp_path: Path) -> None:
    """`--db` points a command at another database: the configured standby is a copy of the
    configured primary, not of that one."""
    settings = load_settings(write(tmp_path, f'[database]\nurl = "{PRIMARY}"\nread_url = "{STANDBY}"\n'), env={})
    assert with_database(settings, "sqlite:///other.sqlite3").database.read_url == ""


@pytest.mark.parametrize(("body", "key"), [
    ('read_url = "mysql://h/db"\n', "database.read_url"),
    ('read_url = "postgresql://h/db?sslmode=sometimes"\n', "database.read_url"),
    ("pool_size = 0\n", "database.pool_size"),
    ("max_overflow = -1\n", "database.max_overflow"),
    ("outbox_flush_ms = 0\n", "database.outbox_flush_ms"),
])
def test_bad_values_name_their_key(tmp_path: Path, body: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, "[database]\n" + body), env={})
    assert caught.value.key == key


async def test_a_process_never_holds_more_than_pool_plus_overflow() -> None:
    """20 transactions at once on pool_size 2 + max_overflow 1: the server never sees more than 3
    connections of this process (the others wait for one)."""
    name = f"pool-{uuid.uuid4().hex[:8]}"
    db = Database(f"{PG_ADMIN_DSN}?application_name={name}", pool_size=2, max_overflow=1)
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    peak = 0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name))
            await asyncio.sleep(0.01)

    async def hold() -> None:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(0.05)"))

    try:
        sampler = asyncio.create_task(sample())
        await asyncio.gather(*(hold() for _ in range(20)))
        done.set()
        await sampler
    finally:
        await admin.close()
        await db.dispose()
    assert 2 <= peak <= 3


async def test_start_up_writes_nothing_to_a_current_database(tmp_path: Path) -> None:
    """A serving process's start (`open_database`) reads only, where the migrate step writes: on a
    SQLite file opened read-only the first passes and the second is refused (the standby test shows
    the same on PostgreSQL)."""
    from sqlalchemy.exc import OperationalError

    from services.database_setup import open_database, prepare_database

    fresh = Database(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        assert await open_database(fresh, "610900") is True  # a fresh database is migrated and loaded
        assert await open_database(fresh, "610900") is False
    finally:
        await fresh.dispose()
    read_only = Database(f"sqlite:///file:{tmp_path / 'a.sqlite3'}?mode=ro&uri=true")
    try:
        assert await open_database(read_only, "610900") is False
        with pytest.raises(OperationalError, match="readonly"):
            await prepare_database(read_only, "610900")
    finally:
        await read_only.dispose()


async def test_a_read_copy_that_never_answers_costs_one_connect_timeout_then_reads_go_to_the_primary() -> None:
    """A frozen standby (or a network cut with no reset) accepts connections and says nothing: the
    credit file's look-up by code waits the copy's connect timeout (5 s, not asyncpg's 60 s) once,
    then reads from the primary; the next read does not try the copy again."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    from services.api_checks import subject_id_by_code

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    # A primary of its own with the schema: the shared admin database has no tables of ours.
    pg_name, url = await _create_pg_database()
    db = Database(url, read_url=f"postgresql://postgres@127.0.0.1:{port}/{pg_name}")
    loop = asyncio.get_running_loop()
    try:
        await migrate.upgrade(db)
        started = loop.time()
        assert await subject_id_by_code(db, "0" * 18) is None  # answered, from the primary
        assert loop.time() - started < 15
        started = loop.time()
        async with db.reading() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
        assert loop.time() - started < 2  # the copy is not tried again for a while
    finally:
        server.close()
        await db.dispose()
        await _drop_pg_database(pg_name)
