"""The port's real server for tests: `creditbot api` in a subprocess on 127.0.0.1 and a free port,
on a database of its own (SQLite file or a throw-away PostgreSQL database) holding a small demo
archive and a few keys."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from db import migrate
from db.demo.load import build_demo
from db.session import Database
from services.apikeys import create_key, revoke_key

ID_KEY = "creditbot-demo-key"
API_SETTINGS: dict[str, object] = {
    "max_body_mb": 1, "rate_per_minute": 600, "burst": 40, "index_refresh_seconds": 1, "verify_per_minute": 6000,
}


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ApiServer:
    """One running `creditbot api` process."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            self.process.kill()
            self.process.wait()


def start_server(
    db_url: str, workdir: Path, name: str, workers: int = 1, api: dict[str, object] | None = None,
    preexec: Callable[[], None] | None = None,
) -> ApiServer:
    """`api` adds or overrides keys of the [api] section; `preexec` runs in the server's process
    before it starts (resource limits)."""
    port = free_port()
    config = workdir / f"{name}.toml"
    settings = {**API_SETTINGS, **(api or {})}
    config.write_text('log_level = "INFO"\n[api]\n' + "".join(f"{k} = {_toml(v)}\n" for k, v in settings.items()),
                      encoding="utf-8")
    log_path = workdir / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--config", str(config), "api", "--db", db_url, "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(workdir), preexec_fn=preexec,
        )
    server = ApiServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API server exited: {server.log()[-2000:]}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"API server not ready: {server.log()[-2000:]}")


@dataclass
class Keys:
    full: str  # check, query, idquery, push for 市应急管理局 (YJJ)
    check_only: str  # check for 市应急管理局
    query_only: str  # query for 市市场监管局 (SCJGJ)
    pusher: str  # push for 汉滨区应急管理局 (610902-YJJ), which owes 检查抽查 monthly
    revoked: str
    limited: str  # for the rate-limit test only
    fuzz: str  # for the schema-based test only
    steward: str  # changes, repair, special for 市应急管理局: the feeds, repairs and documents routes
    idquery_only: str  # idquery for 市应急管理局: a key none of the documents routes serves
    prefixes: dict[str, str] = field(default_factory=dict)


async def seed(db: Database, subjects: int = 200) -> Keys:
    await migrate.upgrade(db)
    await build_demo(db, n_subjects=subjects, id_key=ID_KEY)
    made = {}
    for name, dept, scopes in (
        ("full", "YJJ", "check,query,idquery,push"), ("check_only", "YJJ", "check"),
        ("query_only", "SCJGJ", "query"), ("pusher", "610902-YJJ", "push"), ("revoked", "YJJ", "check,query"),
        ("limited", "YJJ", "query"), ("fuzz", "YJJ", "check,query,idquery,push"),
        ("steward", "YJJ", "changes,repair,special"), ("idquery_only", "YJJ", "idquery"),
    ):
        made[name] = await create_key(db, dept, f"测试系统-{name}", scopes)
    await revoke_key(db, made["revoked"].prefix)
    keys = Keys(**{n: k.key for n, k in made.items()})
    keys.prefixes = {n: k.prefix for n, k in made.items()}
    return keys


async def wait_until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not met in time")


@dataclass
class Port:
    """A running server on a seeded database, and that database."""

    server: ApiServer
    db: Database
    keys: Keys
    backend: str
    workdir: Path

    def client(self, key: str | None) -> httpx.AsyncClient:
        headers = {"X-API-Key": key} if key else {}
        return httpx.AsyncClient(base_url=self.server.url, headers=headers, timeout=30)


@asynccontextmanager
async def serving(backend: str, workdir: Path, *, subjects: int = 200, workers: int = 1,
                  api: dict[str, object] | None = None) -> AsyncIterator[Port]:
    """`creditbot api` on a seeded database of `backend` ("sqlite", or a throw-away PostgreSQL
    database, dropped after); on leaving, its log must hold no traceback and no SQL."""
    from tests.conftest import _create_pg_database, _drop_pg_database

    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'api.sqlite3'}"
    else:
        pg_name, url = await _create_pg_database()
    db = Database(url)
    server = None
    try:
        keys = await seed(db, subjects)
        server = start_server(url, workdir, "server", workers=workers, api=api)
        yield Port(server, db, keys, backend, workdir)
    finally:
        if server is not None:
            server.stop()
            log = server.log()
            assert "Traceback" not in log and "SELECT" not in log and "INSERT" not in log
        await db.dispose()
        if pg_name:
            await _drop_pg_database(pg_name)
