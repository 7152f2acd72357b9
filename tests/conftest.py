"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the production database, so its absence is a failure, never a skip. Each test run
gets its own throw-away PostgreSQL database (parallel runs never collide); the schema is migrated
once per backend and tables are emptied before each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

import bot.app as bot_app
from bot.console import ConsoleChat
from bot.transport import InProcessBotAPI, Outgoing
from db import migrate
from db.models import Base
from db.session import Database
from services.accounts import ensure_local_account
from services.settings import DatabaseSettings, LimitSettings, Settings

PG_ADMIN_DSN = os.environ.get("CREDITBOT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


async def _create_pg_database() -> tuple[str, str]:
    name = f"creditbot_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is required for the database tests ({PG_ADMIN_DSN}): {exc}", pytrace=False)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    finally:
        await conn.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{base}/{name}"


async def _drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def migrated_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    pg_name = None
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        pg_name, url = await _create_pg_database()
    database = Database(url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()
        if pg_name:
            await _drop_pg_database(pg_name)


async def empty_tables(database: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))
            # Deleting subjects records their deletion in the index's change stream (triggers, 0026a).
            await conn.execute(text("DELETE FROM subject_changes"))


@pytest.fixture
async def db(migrated_db: Database) -> AsyncIterator[Database]:
    """A migrated, empty database on each backend."""
    await empty_tables(migrated_db)
    yield migrated_db


# -- the bot, end to end over the in-process Bot API ------------------------------------------------



class BotHarness:
    """The real Application on a test database; chats are console chats."""

    def __init__(self, app: object, transport: InProcessBotAPI, database: Database) -> None:
        self.app = app
        self.transport = transport
        self.db = database
        self._next_user = 500_000

    async def chat(
        self, role: str = "public", dept: str | None = None, subject: str | None = None, user_id: int | None = None
    ) -> ConsoleChat:
        self._next_user += 1
        uid = user_id or self._next_user
        await ensure_local_account(self.db, uid, role, dept, subject, "测试用户")
        return ConsoleChat(self.app, self.transport, uid)  # type: ignore[arg-type]

    async def say(self, chat: ConsoleChat, line: str) -> list[Outgoing]:
        return await chat.handle_line(line)

    async def refresh(self) -> None:
        """Pick up subjects written after start-up, as the scheduled refresh would."""
        from services.name_index import refresh_index

        await refresh_index(self.app.bot_data["services"])  # type: ignore[attr-defined]


# Whole conversations are driven faster than a person types; the flood limit itself is tested with
# its default in tests/test_guards.py.
TEST_LIMITS = LimitSettings(messages_per_minute=100_000)


def settings_for(database: Database, limits: LimitSettings = TEST_LIMITS) -> Settings:
    return Settings(database=DatabaseSettings(url=database.url), limits=limits)


async def _harness(database: Database, settings: Settings) -> AsyncIterator[BotHarness]:
    transport = InProcessBotAPI()
    app = bot_app.build_application(settings, transport, db=database)
    async with app:
        await bot_app.start_services(app)
        yield BotHarness(app, transport, database)


@pytest.fixture
async def harness(db: Database) -> AsyncIterator[BotHarness]:
    async for h in _harness(db, settings_for(db)):
        yield h


@pytest.fixture
async def harness_default_limits(db: Database) -> AsyncIterator[BotHarness]:
    """The bot exactly as configured by default, flood limit included."""
    async for h in _harness(db, settings_for(db, LimitSettings())):
        yield h
