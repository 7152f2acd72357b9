"""Database URLs as people write them, turned into the async drivers this project runs on.

Operators copy URLs from their hosting panel or from other tools: `sqlite:///var/app.db`,
`postgresql://user@host/db`, Heroku-style `postgres://…`. SQLAlchemy's async engine needs the
driver named (`sqlite+aiosqlite`, `postgresql+asyncpg`), so the standard forms are mapped here,
once, for the bot, every command and the migrations alike.

PostgreSQL URLs also carry libpq's connection parameters (`?sslmode=require&connect_timeout=10&
application_name=…`, PostgreSQL docs, "Connection Strings" / "Parameter Key Words"). SQLAlchemy hands
every query parameter to `asyncpg.connect()` as a keyword, which takes none of them (a TypeError in
every command). `connect_options` moves them out of SQLAlchemy's URL: the ones asyncpg reads in a DSN
with libpq's meaning (the `ssl*` family, `target_session_attrs`, `application_name`, `options`,
`passfile`, `service`, Kerberos) go to asyncpg as a DSN of parameters only, `connect_timeout` becomes
asyncpg's `timeout`, client-side TCP settings asyncpg has no equivalent for are ignored with a warning,
and anything else is refused with a Chinese sentence rather than sent to the server as a setting.

`pooler` (`transaction` or `session`, also the setting `database.pooler`) says that the URL points at
a connection pooler such as PgBouncer; see `db.session.make_engine` for what transaction pooling changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ALIASES = {
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "postgresql+asyncpg": "postgresql",
    "postgresql+psycopg2": "postgresql",
    "postgresql+psycopg": "postgresql",
}


class UrlError(ValueError):
    """The URL names no database this project can use; str() is one Chinese sentence."""


def async_url(url: str) -> str:
    """`sqlite:///x` → `sqlite+aiosqlite:///x`; `postgres[ql]://…` → `postgresql+asyncpg://…`.

    The rest of the URL (user, password, host, port, database, query) is kept byte for byte.
    Raises UrlError for other schemes or text that is not a URL."""
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    backend = _ALIASES.get(scheme.lower()) if sep else None
    if backend is None:
        raise UrlError("数据库地址应以 sqlite:// 或 postgresql://（也可写 postgres://）开头")
    out = f"{ASYNC_DRIVERS[backend]}://{rest}"
    try:
        make_url(out)
    except ArgumentError:
        raise UrlError("数据库地址格式不正确") from None
    return out


def is_supported(url: str) -> bool:
    try:
        connect_options(url)
    except UrlError:
        return False
    return True


def url_problem(url: str) -> str | None:
    """What is wrong with `url` (one Chinese sentence), or None."""
    try:
        connect_options(url)
    except UrlError as exc:
        return str(exc)
    return None


# libpq parameters asyncpg reads from a DSN with libpq's meaning (asyncpg.connect_utils).
FOR_ASYNCPG = frozenset({
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslcrl", "sslnegotiation",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "target_session_attrs", "application_name", "options",
    "passfile", "service", "krbsrvname", "gsslib",
})
# libpq's client-side TCP and TLS tuning: no asyncpg equivalent; the connection works without them.
IGNORED = frozenset({
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "sslcompression", "sslsni", "gssencmode", "channel_binding", "requirepeer",
})
# Parameters SQLAlchemy's asyncpg dialect itself reads from the URL.
FOR_SQLALCHEMY = frozenset({"prepared_statement_cache_size", "host", "port"})
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
POOLERS = ("", "session", "transaction")
POOLER = "pooler"


@dataclass(frozen=True)
class ConnectOptions:
    """What `create_async_engine` needs for one URL."""

    url: str  # the async driver, the URL's own parts, only the parameters SQLAlchemy reads
    connect_args: dict[str, Any] = field(default_factory=dict)
    pooler: str = ""  # "", "session" or "transaction"
    ignored: tuple[str, ...] = ()  # libpq parameters asyncpg has no use for (logged by the engine)


def unique_statement_name() -> str:
    """asyncpg's prepared statements are numbered per connection (__asyncpg_stmt_1__ ...): behind a
    transaction pooler two clients' numbers meet on one server connection ("prepared statement
    already exists"). SQLAlchemy's asyncpg dialect documents a unique name per statement as the fix."""
    return f"__asyncpg_{uuid.uuid4().hex}__"


def _single(query: dict[str, Any], key: str) -> str:
    value = query[key]
    if isinstance(value, tuple):
        raise UrlError(f"数据库地址参数 {key} 只能出现一次")
    return str(value)


def connect_options(url: str) -> ConnectOptions:
    """The engine's URL and connect arguments for `url` (any form `async_url` accepts).

    Raises UrlError for an unknown parameter, an unknown sslmode or pooler, a bad connect_timeout."""
    parsed = make_url(async_url(url))
    query = dict(parsed.query)
    pooler = _single(query, POOLER).strip().lower() if POOLER in query else ""
    query.pop(POOLER, None)
    if pooler not in POOLERS:
        raise UrlError(f"pooler 应为 transaction 或 session，而不是“{pooler}”")
    if parsed.get_backend_name() != "postgresql":
        return ConnectOptions(parsed.set(query=query).render_as_string(hide_password=False), {}, pooler)
    dsn: dict[str, str] = {}
    args: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    ignored: list[str] = []
    for key in list(query):
        if key in FOR_SQLALCHEMY:
            kept[key] = query[key]
        elif key in FOR_ASYNCPG:
            dsn[key] = _single(query, key)
        elif key == "fallback_application_name":
            dsn.setdefault("application_name", _single(query, key))
        elif key == "connect_timeout":
            args["timeout"] = _timeout(_single(query, key))
        elif key == "client_encoding":
            if _single(query, key).replace("-", "").lower() != "utf8":
                raise UrlError("client_encoding 只能是 UTF8（中文数据须以 UTF-8 传输）")
        elif key in IGNORED:
            ignored.append(key)
        else:
            raise UrlError(f"数据库地址中的参数“{key}”不受支持（可用：{'、'.join(sorted(FOR_ASYNCPG | {'connect_timeout'}))}）")
    if dsn.get("sslmode", "prefer") not in SSLMODES:
        raise UrlError(f"sslmode 应为 {'、'.join(SSLMODES)} 之一")
    if dsn:
        args["dsn"] = "postgresql://?" + urlencode(dsn)
    if pooler == "transaction":
        # SQLAlchemy's asyncpg dialect, "Prepared Statement Name with PGBouncer": no statement cache
        # (neither SQLAlchemy's nor asyncpg's own) and a unique name for every prepared statement.
        args.update(statement_cache_size=0, prepared_statement_cache_size=0,
                    prepared_statement_name_func=unique_statement_name)
    return ConnectOptions(parsed.set(query=kept).render_as_string(hide_password=False), args, pooler, tuple(ignored))


def _timeout(text: str) -> float | None:
    """libpq's connect_timeout: whole seconds, 0 (or less) for none, at least 2 (libpq's minimum)."""
    try:
        seconds = int(text)
    except ValueError:
        raise UrlError("connect_timeout 应为整数秒") from None
    return None if seconds <= 0 else float(max(seconds, 2))


def with_pooler(url: str, pooler: str) -> str:
    """`url` with the setting `database.pooler` as its `pooler` parameter (one the URL names wins)."""
    if not pooler or not is_supported(url):
        return url
    parsed = make_url(async_url(url))
    if POOLER in parsed.query:
        return url
    return parsed.update_query_dict({POOLER: pooler}).render_as_string(hide_password=False)


__all__ = ["ConnectOptions", "UrlError", "async_url", "connect_options", "is_supported", "url_problem", "with_pooler"]
