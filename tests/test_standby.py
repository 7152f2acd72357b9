"""On a real streaming hot standby (tests/standby.py: initdb, pg_basebackup -R, pg_ctl):

* the serving processes start when their database is the standby (start-up writes nothing to a
  current schema), where `prepare_database` — what start-up did before — is refused;
* with `database.url` on the primary and `database.read_url` on the standby, the bot (console
  chat through the real handlers and use case) and `creditbot api` (a real server process) answer a
  look-up from the standby, and its audit rows and the chat's subject arrive on the primary through
  the outbox. The standby's replay is paused and the primary changed meanwhile, so an answer showing
  the old value can only have come from the standby;
* the name index's change feed reads its pages from the standby (the primary only numbers them): a
  subject added on the primary while the standby's replay is paused is not in the index until the
  standby has replayed it;
* a process starts and answers while its standby is down (reads go to the primary meanwhile), and
  its index still takes in what the standby holds while the primary cannot be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.exc import DBAPIError
from telegram.ext import Application

import bot.app as bot_app
from bot.console import ConsoleChat
from bot.transport import InProcessBotAPI
from db.models import Subject
from db.session import Database
from rules.codes import complete_uscc
from services.accounts import ensure_local_account
from services.apikeys import create_key
from services.database_setup import open_database, prepare_database
from services.name_index import refresh_index, wait_for_index
from services.settings import DatabaseSettings, LimitSettings, Settings
from services.subject_feed import stamp_changes
from tests.api_server import free_port
from tests.standby import Replication, primary_and_standby, run_standby, start_standby, stop_standby

NAME = "安康市恒达建材有限公司"
USCC = complete_uscc("91610900MA6001182")
OFFICIAL = 880_001
REGION = "610900"


@dataclass
class Setup:
    rep: Replication
    api_key: str

    @property
    def primary(self) -> str:
        return self.rep.primary.url()

    @property
    def standby(self) -> str:
        return self.rep.standby.url()


async def _seed(url: str) -> str:
    db = Database(url)
    try:
        await prepare_database(db, REGION)
        async with db.transaction() as s:
            s.add(Subject(name=NAME, kind="法人", uscc=USCC, legal_rep="张三", division_code=REGION, status="存续"))
        await ensure_local_account(db, OFFICIAL, "official", "YJJ", None, "测试办事人员")
        return (await create_key(db, "YJJ", "测试系统", "check,query")).key
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    with primary_and_standby() as rep:
        key = asyncio.run(_seed(rep.primary.url()))
        start_standby(rep)
        yield Setup(rep, key)


async def _sql(url: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url.replace("postgresql://", "postgres://"), timeout=10)
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


async def _until(url: str, query: str, wanted: int, timeout: float = 10.0) -> list[asyncpg.Record]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await _sql(url, query)
        if len(rows) >= wanted or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.1)


async def test_serving_processes_start_on_the_standby(setup: Setup) -> None:
    await _until(setup.standby, f"SELECT 1 FROM subjects WHERE uscc = '{USCC}'", 1)
    db = Database(setup.standby)
    try:
        with pytest.raises(DBAPIError, match="read-only"):  # start-up as it was: it seeds
            await prepare_database(db, REGION)
        assert await open_database(db, REGION) is False  # start-up now: nothing written
    finally:
        await db.dispose()
    settings = Settings(database=DatabaseSettings(url=setup.standby), limits=LimitSettings(messages_per_minute=10_000))
    app = bot_app.build_application(settings, InProcessBotAPI())
    async with app:
        await bot_app.start_services(app)
        assert app.bot_data["services"].index is not None
        await bot_app.stop_services(app)


def _start_port(setup: Setup, workdir: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    """`creditbot api` as its own process: url on the primary, read_url on the standby, an outbox."""
    port = free_port()
    config = workdir / "api.toml"
    config.write_text(
        f'[database]\nurl = "{setup.primary}"\nread_url = "{setup.standby}"\n'
        f'outbox_dir = "{workdir / "api"}"\noutbox_flush_ms = 20\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}
    log_path = workdir / "api.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--config", str(config), "api", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    return server, port, log_path


async def _bot_answers_from_the_standby(setup: Setup, workdir: Path) -> None:
    """The console chat through the real handlers and use case, on the read copy with an outbox."""
    settings = Settings(
        database=DatabaseSettings(url=setup.primary, read_url=setup.standby, outbox_dir=str(workdir / "bot"),
                                  outbox_flush_ms=20),
        limits=LimitSettings(messages_per_minute=10_000),
    )
    transport = InProcessBotAPI()
    app = bot_app.build_application(settings, transport)
    async with app:
        await bot_app.start_services(app)
        services = app.bot_data["services"]
        assert services.db.has_read_copy and services.db.outbox is not None
        out = await ConsoleChat(app, transport, OFFICIAL).handle_line(f"查询 {NAME}")
        card = "\n".join(o.text or "" for o in out)
        assert NAME in card and "张三" in card and "李四" not in card  # the standby's row
        audits = await _until(setup.primary, "SELECT detail FROM audit_entries WHERE action = 'view_subject'", 1)
        assert len(audits) == 1 and audits[0]["detail"] is not None
        chats = await _until(setup.primary, f"SELECT subject_id FROM chat_subjects WHERE user_id = {OFFICIAL}", 1)
        assert len(chats) == 1
        await bot_app.stop_services(app)
    assert not list((workdir / "bot").glob("*.outbox"))  # all written, the spool is gone


async def _port_answers_from_the_standby(setup: Setup, port: int, server: subprocess.Popen[bytes], log_path: Path) -> None:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": setup.api_key}, timeout=10) as client:
        deadline = asyncio.get_running_loop().time() + 90
        while True:
            assert server.poll() is None, log_path.read_text(encoding="utf-8")[-2000:]
            assert asyncio.get_running_loop().time() < deadline, "the port did not get ready"
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/readyz")).status_code == 200:
                    break
            await asyncio.sleep(0.1)
        found = await client.get("/v1/lookup", params={"q": USCC, "operator": "王五"})
        assert found.status_code == 200 and found.json()["status"] == "clear"
        file = await client.get(f"/v1/subjects/{USCC}")
        assert file.status_code == 200, file.text
        assert file.json()["subject"]["legal_rep"] == "张三"  # the standby's row
    rows = await _until(setup.primary, "SELECT action FROM audit_entries WHERE detail::text LIKE '%\"api\"%'", 3)
    assert sorted(r["action"] for r in rows) == ["api_credit_file", "api_lookup", "view_subject"]


async def test_bot_and_port_answer_from_the_standby_and_write_to_the_primary(setup: Setup, tmp_path: Path) -> None:
    await _until(setup.standby, "SELECT 1 FROM api_keys", 1)
    await _sql(setup.standby, "SELECT pg_wal_replay_pause()")
    server = None
    try:
        await _sql(setup.primary, f"UPDATE subjects SET legal_rep = '李四' WHERE uscc = '{USCC}'")
        server, port, log_path = _start_port(setup, tmp_path)  # it loads while the bot answers
        await _bot_answers_from_the_standby(setup, tmp_path)
        await _port_answers_from_the_standby(setup, port, server, log_path)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        await _sql(setup.standby, "SELECT pg_wal_replay_resume()")
    log_text = log_path.read_text(encoding="utf-8")
    assert "Traceback" not in log_text, log_text[-2000:]
    rows = await _sql(setup.primary, "SELECT action FROM audit_entries")
    assert len(rows) == 4  # one for the chat, three for the port: nothing lost, nothing twice


LATE_NAME = "安康市汉滨区晚到商贸有限公司"


def _primary_and_standby_settings(setup: Setup, tmp_path: Path) -> Settings:
    """A process with `url` on the primary, `read_url` on the standby and an outbox."""
    return Settings(
        database=DatabaseSettings(url=setup.primary, read_url=setup.standby, outbox_dir=str(tmp_path / "bot")),
        limits=LimitSettings(messages_per_minute=10_000),
    )


async def _add_on_primary(setup: Setup, name: str) -> int:
    """A subject added on the primary by plain SQL (as another process or a script would); its id."""
    added = await _sql(setup.primary, (
        "INSERT INTO subjects (name, kind, division_code, status, created_at, updated_at) "
        f"VALUES ('{name}', '法人', '{REGION}', '存续', now(), now()) RETURNING id"))
    return int(added[0]["id"])


@contextlib.asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[tuple[Application, InProcessBotAPI]]:
    """A bot process on `settings`, started and its name index built; stopped on leaving."""
    transport = InProcessBotAPI()
    app = bot_app.build_application(settings, transport)
    async with app:
        await bot_app.start_services(app)
        await wait_for_index(app.bot_data["services"])
        yield app, transport
        await bot_app.stop_services(app)


async def test_the_index_feed_reads_its_pages_from_the_standby(setup: Setup, tmp_path: Path) -> None:
    async with _serving(_primary_and_standby_settings(setup, tmp_path)) as (app, _transport):
        services = app.bot_data["services"]
        await _sql(setup.standby, "SELECT pg_wal_replay_pause()")
        try:
            sid = await _add_on_primary(setup, LATE_NAME)
            await refresh_index(services)
            numbered = await _sql(setup.primary, f"SELECT seq FROM subject_changes WHERE subject_id = {sid}")
            assert [r["seq"] is not None for r in numbered] == [True]  # the primary numbered it ...
            assert services.index.get(sid) is None  # ... but the page came from the paused standby
        finally:
            await _sql(setup.standby, "SELECT pg_wal_replay_resume()")
        await _until(setup.standby, f"SELECT 1 FROM subject_changes WHERE subject_id = {sid} AND seq IS NOT NULL", 1)
        await refresh_index(services)
        found = services.index.resolve(LATE_NAME)
        assert found.status == "clear" and found.candidates[0].subject_id == sid


async def test_a_process_starts_and_answers_while_its_standby_is_down(setup: Setup, tmp_path: Path) -> None:
    stop_standby(setup.rep)
    try:
        async with _serving(_primary_and_standby_settings(setup, tmp_path)) as (app, transport):
            out = await ConsoleChat(app, transport, OFFICIAL).handle_line(f"查询 {NAME}")
            assert NAME in "\n".join(o.text or "" for o in out)
    finally:
        run_standby(setup.rep)


ANOTHER_LATE_NAME = "安康市汉滨区停电期间商贸有限公司"


async def test_the_index_reads_the_standby_while_the_primary_cannot_be_reached(setup: Setup, tmp_path: Path) -> None:
    async with _serving(_primary_and_standby_settings(setup, tmp_path)) as (app, _transport):
        services = app.bot_data["services"]
        sid = await _add_on_primary(setup, ANOTHER_LATE_NAME)
        assert await stamp_changes(services.db) >= 1  # numbered by a process that still reaches the primary
        await _until(setup.standby, f"SELECT 1 FROM subject_changes WHERE subject_id = {sid} AND seq IS NOT NULL", 1)
        working = services.db
        services.db = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/creditbot", read_url=setup.standby)
        try:  # the primary is gone for this process: nothing numbers, but the standby's page is read
            await refresh_index(services)
            found = services.index.resolve(ANOTHER_LATE_NAME)
            assert found.status == "clear" and found.candidates[0].subject_id == sid
        finally:
            await services.db.dispose()
            services.db = working
