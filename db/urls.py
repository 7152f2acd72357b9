"""Database URLs as people write them, turned into the async drivers this project runs on.

Operators copy URLs from their hosting panel or from other tools: `sqlite:///var/app.db`,
`postgresql://user@host/db`, Heroku-style `postgres://…`. SQLAlchemy's async engine needs the
driver named (`sqlite+aiosqlite`, `postgresql+asyncpg`), so the standard forms are mapped here,
once, for the bot, every command and the migrations alike.
"""

from __future__ import annotations

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
        async_url(url)
    except UrlError:
        return False
    return True


__all__ = ["UrlError", "async_url", "is_supported"]
