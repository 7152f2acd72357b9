"""Database URLs as operators write them, and a real PgBouncer in transaction mode (tests/pgbouncer.py).

Real commands (the port with 2 workers, which migrates and seeds; `admin apikey create`, `import`) run
through
the pooler with `database.pooler = "transaction"`; libpq parameters (`sslmode`, `connect_timeout`,
`application_name`, `options`, `target_session_attrs`) reach the server with libpq's meaning, TLS
included (the pooler requires it of its clients, with a self-signed certificate).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from db.importers.samples import HEADERS, penalty_row, uscc, write_csv
from db.leases import is_held, lease
from db.session import Database
from db.urls import UrlError, connect_options
from tests.api_server import start_server
from tests.conftest import PG_ADMIN_DSN, _create_pg_database, _drop_pg_database
from tests.pgbouncer import PgBouncer, start_pgbouncer
from tests.test_api_server import penalty_row as api_penalty_row

TLS_PARAMS = {"sslmode": "require", "connect_timeout": "10", "application_name": "creditbot-test"}


@dataclass
class Pooled:
    bouncer: PgBouncer
    database: str
    workdir: Path

    def url(self, **params: str) -> str:
        return self.bouncer.url(self.database, **params)


@pytest.fixture(scope="module")
async def pooled(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pooled]:
    workdir = tmp_path_factory.mktemp("pooler")
    name, _direct = await _create_pg_database()
    bouncer = start_pgbouncer(PG_ADMIN_DSN)
    try:
        yield Pooled(bouncer, name, workdir)
    finally:
        bouncer.stop()
        await _drop_pg_database(name)


def _creditbot(pooled: Pooled, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}
    env["CREDITBOT_DATABASE_URL"] = pooled.url(**TLS_PARAMS)  # no pooler parameter: the setting says it
    cmd = [sys.executable, "-m", "bot.cli", *(["--config", str(config)] if config else []), *args]
    result = subprocess.run(cmd, env=env, cwd=pooled.workdir, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stdout[-2000:], result.stderr[-3000:])
    return result


async def test_commands_and_the_port_run_through_a_transaction_pooler(pooled: Pooled) -> None:
    config = pooled.workdir / "config.toml"
    config.write_text('[database]\npooler = "transaction"\n', encoding="utf-8")
    # The port migrates and seeds the database through the pooler, then serves with 2 workers while
    # commands write through it too.
    server = start_server(pooled.url(pooler="transaction", **TLS_PARAMS), pooled.workdir, "pooled", workers=2)
    try:
        created = _creditbot(pooled, "admin", "apikey", "create", "--dept", "YJJ", "--name", "经池系统",
                             "--scopes", "check,push", config=config)
        key = next(line.split("：", 1)[1].strip() for line in created.stdout.splitlines() if "接口密钥" in line)
        csv = write_csv(pooled.workdir / "penalties.csv", HEADERS[("penalty", "2021")],
                        (penalty_row(i, person_every=0) for i in range(1, 6)))
        _creditbot(pooled, "import", str(csv), "--dept", "SCJGJ", config=config)

        async def check(i: int) -> httpx.Response:  # 20 requests, each sent twice at once under its key
            async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}, timeout=30) as c:
                return await c.post("/v1/checks", json={"subject": uscc(1 + i % 5), "matter": "tender",
                                                        "case_number": f"POOL-{i % 20}", "operator": "李四"},
                                    headers={"Idempotency-Key": f"pool-{i % 20}"})

        answers = await asyncio.gather(*(check(i) for i in range(40)))
        async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}, timeout=30) as c:
            pushed = await c.post("/v1/records/penalty", json={"rows": [api_penalty_row("安应急罚〔2026〕P1号")]})
    finally:
        server.stop()
    assert "Traceback" not in server.log() and "prepared statement" not in server.log()
    assert [a.status_code for a in answers] == [200] * 40, [a.text for a in answers if a.status_code != 200][:3]
    assert all(answers[i].json() == answers[i + 20].json() for i in range(20))
    assert len({a.json()["check_id"] for a in answers}) == 20
    assert pushed.status_code == 200 and pushed.json()["new"] == 1, pushed.text


async def test_a_lease_behind_the_pooler_is_seen_by_others_and_ends_with_its_block(pooled: Pooled) -> None:
    holder, other = Database(pooled.url(pooler="transaction")), Database(pooled.url(pooler="transaction"))

    async def held() -> list[bool]:  # several transactions: they land on different server connections
        out = []
        for _ in range(6):
            async with other.transaction() as s:
                out.append(await is_held(s, "upload:pooled"))
        return out

    try:
        async with lease(holder, "upload:pooled") as got:
            assert got
            for _ in range(4):  # the holder's other work moves between server connections meanwhile
                async with holder.transaction() as s:
                    await s.execute(text("SELECT 1"))
            assert await held() == [True] * 6
            async with lease(other, "upload:pooled") as second:
                assert not second
        assert await held() == [False] * 6
    finally:
        await holder.dispose()
        await other.dispose()


async def _server_settings(url: str) -> tuple[str, str]:
    db = Database(url)
    try:
        async with db.transaction() as s:
            return (str(await s.scalar(text("SHOW application_name"))), str(await s.scalar(text("SHOW statement_timeout"))))
    finally:
        await db.dispose()


async def test_libpq_parameters_reach_the_server_with_their_meaning(pooled: Pooled) -> None:
    base = PG_ADMIN_DSN.split("?")[0]
    direct = (f"{base}?connect_timeout=10&application_name=creditbot-urls&keepalives=1"
              "&options=-c%20statement_timeout%3D4321&target_session_attrs=read-write&sslmode=prefer")
    assert await _server_settings(direct) == ("creditbot-urls", "4321ms")
    # Through the pooler, which requires TLS: require and verify-ca (our certificate) connect ...
    assert (await _server_settings(pooled.url(**TLS_PARAMS)))[0] == "creditbot-test"
    verified = pooled.url(sslmode="verify-ca", sslrootcert=str(pooled.bouncer.ca_file))
    assert (await _server_settings(verified))[1]  # connected
    # ... verify-full does not (the certificate names another host), nor does a client without TLS.
    for refused in (pooled.url(sslmode="verify-full", sslrootcert=str(pooled.bouncer.ca_file)),
                    pooled.url(sslmode="disable")):
        with pytest.raises(Exception) as exc:
            await _server_settings(refused)
        assert not isinstance(exc.value, TypeError)
    # A real command with the parameters of the issue (the test PostgreSQL has no TLS: sslmode=disable).
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "db", "current", "--db",
                           f"{base}?sslmode=disable&connect_timeout=10&application_name=creditbot-cli"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=pooled.workdir)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]


def test_connect_options_translate_libpq_parameters() -> None:
    opts = connect_options("postgres://u:p%40ss@db.example:6432/credit?sslmode=verify-full&sslrootcert=/etc/ca.pem"
                           "&connect_timeout=1&fallback_application_name=creditbot&keepalives_idle=30&pooler=transaction")
    assert opts.url == "postgresql+asyncpg://u:p%40ss@db.example:6432/credit"
    assert opts.pooler == "transaction"
    assert opts.connect_args["dsn"] == ("postgresql://?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem"
                                        "&application_name=creditbot")
    assert opts.connect_args["timeout"] == 2.0  # libpq's minimum
    assert opts.ignored == ("keepalives_idle",)
    assert opts.connect_args["statement_cache_size"] == 0 and opts.connect_args["prepared_statement_cache_size"] == 0
    name = opts.connect_args["prepared_statement_name_func"]
    assert name() != name()
    assert connect_options("postgresql://h/db?connect_timeout=0").connect_args == {"timeout": None}
    assert connect_options("sqlite:///var/x.sqlite3?pooler=transaction").url == "sqlite+aiosqlite:///var/x.sqlite3"
    for bad, said in (("postgresql://h/db?sslmode=on", "sslmode"), ("postgresql://h/db?search_path=x", "search_path"),
                      ("postgresql://h/db?pooler=statement", "pooler"), ("postgresql://h/db?client_encoding=gbk", "UTF8"),
                      ("postgresql://h/db?connect_timeout=ten", "connect_timeout")):
        with pytest.raises(UrlError, match=said):
            connect_options(bad)


def test_the_pooler_setting_reaches_every_command(tmp_path: Path) -> None:
    from services.settings import ConfigError, load_settings, with_database

    cfg = tmp_path / "config.toml"
    cfg.write_text('[database]\nurl = "postgresql://app@pgbouncer:6432/credit?sslmode=require"\npooler = "transaction"\n',
                   encoding="utf-8")
    settings = load_settings(cfg, env={})
    assert connect_options(settings.database.url).pooler == "transaction"
    assert connect_options(with_database(settings, "postgresql://app@other:6432/credit").database.url).pooler == "transaction"
    cfg.write_text('[database]\nurl = "postgresql://app@h/db?sslmode=sometimes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="sslmode"):
        load_settings(cfg, env={})
