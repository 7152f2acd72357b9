"""Engines and units of work.

Every use case runs in one `Database.transaction()`: commit on success, roll back on any error,
so a failure half-way never leaves half a change behind.

A `Database` may also hold a read-only copy (`read_url`, a PostgreSQL hot standby): use cases that
only read (look-ups, cards, candidate lists) open `Database.reading()` / `read_transaction()`, which
reach the copy when there is one and the primary otherwise, so a single-database deployment behaves
as before; a copy that cannot be connected to (restarting, failed over) is skipped for
`COPY_RETRY_SECONDS` and the primary serves meanwhile. Writes always go to the primary. The look-up
path's own writes may be deferred to an outbox (db/outbox.py, `Database.outbox`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db.urls import async_url, connect_options

if TYPE_CHECKING:
    from db.outbox import Outbox

log = logging.getLogger(__name__)

# After a failed connect to the read copy, reads go to the primary this long before the copy is
# tried again (each try against a host that is gone may wait for a connect timeout).
COPY_RETRY_SECONDS = 30.0
# The read copy's limits unless its URL sets `connect_timeout`: a standby that hangs (frozen, a
# network cut with no reset) would otherwise hold a connect for asyncpg's 60 s and a query for ever.
COPY_CONNECT_TIMEOUT_SECONDS = 5.0
COPY_COMMAND_TIMEOUT_SECONDS = 30.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# A pooled connection unused for longer than this is pinged before it is handed out again.
IDLE_PING_SECONDS = 10.0
_RETURNED_AT = "returned_at"


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Liveness check only for connections that sat idle, instead of `pool_pre_ping` on every
    checkout: with asyncpg that ping is three round trips (BEGIN, a query, ROLLBACK), a quarter of
    what a port check costs. A connection in steady use is known alive; one idle for a while (the
    server restarted overnight, a firewall dropped it) is pinged, and a dead one is replaced before
    the caller sees it. A server lost while the pool is busy fails the requests in flight, and
    SQLAlchemy then renews the whole pool."""
    dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool retries with a new connection
            raise DisconnectionError("idle connection is gone") from exc

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


def make_engine(
    url: str, echo: bool = False, idle_ping_seconds: float = IDLE_PING_SECONDS, pool_size: int = 10,
    max_overflow: int = 10, default_args: dict[str, Any] | None = None,
) -> AsyncEngine:
    """An engine for `url` as operators write it (db/urls.py: libpq parameters, `pooler`).

    Behind a transaction pooler (PgBouncer `pool_mode = transaction`) each transaction may run on
    another server connection, so nothing may outlive a transaction on the server: prepared
    statements are uniquely named and never cached (db/urls.connect_options), and the project's
    one session-level feature, the import lease, holds its lock inside an open transaction
    (db/leases.py). The pool is kept: a client connection to the pooler is cheap to keep and costs a
    handshake to open.

    At most `pool_size` connections are kept and `max_overflow` more opened for a burst (closed when
    returned), so one process never holds more than their sum."""
    options = connect_options(url)
    parsed = make_url(options.url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(options.url, echo=echo, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if options.ignored:
        log.warning("数据库地址参数 %s 对 asyncpg 驱动无效，已忽略", "、".join(options.ignored))
    # Connections beyond `pool_size` are closed when returned: each costs a new server process later.
    engine = create_async_engine(options.url, echo=echo, hide_parameters=True, pool_size=pool_size, max_overflow=max_overflow,
                                 connect_args={**(default_args or {}), **options.connect_args})
    _ping_when_idle(engine, idle_ping_seconds)
    return engine


def refused_as_read_only(exc: DBAPIError) -> bool:
    """Whether the database refused a write because it is a read-only copy: PostgreSQL's hot standby
    (SQLSTATE 25006 read_only_sql_transaction) or a SQLite file opened read-only."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "25006" or "readonly database" in str(orig)


class Database:
    """The engine plus a session factory; one per process. With `read_url`, a second engine on the
    read-only copy serves `reading()`; `outbox`, when set, takes the look-up path's deferred writes."""

    def __init__(
        self, url: str, echo: bool = False, idle_ping_seconds: float = IDLE_PING_SECONDS, pool_size: int = 10,
        max_overflow: int = 10, read_url: str = "",
    ) -> None:
        self.url = async_url(url)  # standard sqlite:// and postgresql:// URLs choose the async driver
        self.engine = make_engine(url, echo, idle_ping_seconds, pool_size, max_overflow)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_url = async_url(read_url) if read_url else ""
        self.read_engine = (
            make_engine(read_url, echo, idle_ping_seconds, pool_size, max_overflow, default_args={
                "timeout": COPY_CONNECT_TIMEOUT_SECONDS, "command_timeout": COPY_COMMAND_TIMEOUT_SECONDS,
            }) if read_url else self.engine
        )
        self.read_sessions = (
            async_sessionmaker(self.read_engine, expire_on_commit=False) if read_url else self.sessions
        )
        self.outbox: Outbox | None = None
        # PostgreSQL: a statement that reads, outside any transaction (no BEGIN and COMMIT round
        # trips); the isolation level is a flag of the driver's connection, set and reset for free.
        self._reader = self._autocommit(self.engine)
        self._copy_reader = self._autocommit(self.read_engine) if read_url else self._reader
        self._copy_down_until = 0.0  # time.monotonic() before which the copy is not tried

    def _autocommit(self, engine: AsyncEngine) -> AsyncEngine:
        return engine.execution_options(isolation_level="AUTOCOMMIT") if self.dialect == "postgresql" else engine

    @property
    def has_read_copy(self) -> bool:
        return self.read_engine is not self.engine

    @property
    def defers_writes(self) -> bool:
        """Whether look-ups read apart from their audit write (a read copy or an outbox): then a
        look-up is a read plus a deferred write, otherwise one unit of work on the primary."""
        return self.outbox is not None or self.has_read_copy

    @asynccontextmanager
    async def _copy_connection(self, autocommit: bool) -> AsyncIterator[AsyncConnection]:
        """A connection to the read copy, or to the primary without one or while the copy cannot
        be connected to: a standby restarting must not take look-ups (or a process's start-up)
        down with it while the primary is there. Raises what connecting to the primary raises."""
        if self.has_read_copy and time.monotonic() >= self._copy_down_until:
            try:
                conn = await (self._copy_reader if autocommit else self.read_engine).connect()
            except (OSError, DBAPIError, TimeoutError) as exc:
                self._copy_down_until = time.monotonic() + COPY_RETRY_SECONDS
                log.warning("read copy unreachable (%s): reads go to the primary for %.0f s",
                            type(exc).__name__, COPY_RETRY_SECONDS)
            else:
                try:
                    yield conn
                finally:
                    await conn.close()
                return
        async with (self._reader if autocommit else self.engine).connect() as conn:
            yield conn

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A read-only unit of work on the read copy (the primary without one), on a Core connection.
        Nothing written here would survive: a hot standby refuses it."""
        async with self._copy_connection(autocommit=False) as conn:
            yield conn

    @asynccontextmanager
    async def read_transaction(self) -> AsyncIterator[AsyncSession]:
        """`reading()` as an ORM session, for read-only use cases written with the ORM."""
        async with (
            self._copy_connection(autocommit=False) as conn,
            self.read_sessions(bind=conn) as session,
            session.begin(),
        ):
            yield session

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def core_transaction(self) -> AsyncIterator[AsyncConnection]:
        """The same unit of work on a Core connection, for set-based use cases that build no ORM
        objects (the port's checks): a Session's bookkeeping costs about 0.2 ms of CPU per unit,
        as much as a round trip."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self, copy: bool = False) -> AsyncIterator[AsyncConnection]:
        """A Core connection for work that only reads and needs one statement to be consistent (what
        every update reads first: its flow, its account). On PostgreSQL the statement runs in
        autocommit, two round trips fewer than a transaction; SQLite opens no transaction for a
        SELECT anyway. `copy`: the read copy may serve it (data a standby may show a moment late,
        such as button labels); the primary otherwise. Never write through it: a write would commit
        alone on PostgreSQL and not at all on SQLite."""
        if copy:
            async with self._copy_connection(autocommit=True) as conn:
                yield conn
        else:
            async with self._reader.connect() as conn:
                yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.has_read_copy:
            await self.read_engine.dispose()
