"""Failures that a second try of the same transaction cures: a PostgreSQL deadlock (40P01) or
serialization failure (40001), and SQLite's "database is locked" / "busy" while another connection
writes. Two confirmations touching the same records in opposite order deadlock on PostgreSQL; the
server aborts one of them, and running that one again after the other committed simply finds the
records there. So the whole transaction is retried, a few times, with jittered backoff, before
anyone hears of it.

Only the driver's error code and class are read, never the statement or its parameters.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
UNIQUE_VIOLATION = "23505"
ATTEMPTS = 4
BASE_DELAY = 0.05  # seconds; doubled each attempt, then jittered


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE anywhere in the chain: SQLAlchemy's wrapper, the adapter's error, asyncpg's own."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        for attr in ("sqlstate", "pgcode"):
            code = getattr(cur, attr, None)
            if isinstance(code, str) and code:
                return code
        nxt = getattr(cur, "orig", None)
        cur = nxt if isinstance(nxt, BaseException) else (cur.__cause__ or cur.__context__)
    return None


def failure_kind(exc: BaseException) -> str:
    """For log lines: the SQLSTATE (40P01 is a deadlock) or the driver's error class, nothing else."""
    orig = getattr(exc, "orig", None)
    return _sqlstate(exc) or type(orig if orig is not None else exc).__name__


def is_transient(exc: BaseException, *, concurrent_insert: bool = False) -> bool:
    """True for a deadlock, a serialization failure or a locked SQLite database. With
    `concurrent_insert`, also a unique violation: in an idempotent writer that means another
    transaction wrote the same row first, which a retry reads instead of inserting."""
    if not isinstance(exc, DBAPIError):
        return False
    code = _sqlstate(exc)
    if code in RETRYABLE_SQLSTATES or (concurrent_insert and code == UNIQUE_VIOLATION):
        return True
    text = f"{type(exc.orig).__name__} {exc.orig}".lower()
    if "deadlock" in text or "could not serialize" in text:
        return True
    if concurrent_insert and "unique constraint failed" in text:  # SQLite's unique violation
        return True
    return "database is locked" in text or "database table is locked" in text or "sqlite_busy" in text


def backoff(attempt: int, base: float = BASE_DELAY) -> float:
    """Seconds to wait before attempt `attempt` + 1 (attempt counts from 1): full jitter, so two
    transactions that collided do not collide again in step."""
    return random.uniform(base, base * 2**attempt)


async def retrying(
    run: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS, what: str = "事务", concurrent_insert: bool = False
) -> T:
    """Run `run` (one whole transaction) again while it fails transiently, up to `attempts` times;
    the last failure is raised to the caller, who tells the user in Chinese."""
    for attempt in range(1, attempts + 1):
        try:
            return await run()
        except DBAPIError as exc:
            if attempt == attempts or not is_transient(exc, concurrent_insert=concurrent_insert):
                raise
            delay = backoff(attempt)
            log.warning("%s 遇到数据库并发冲突（%s），%.2f 秒后第 %s 次重试", what, failure_kind(exc), delay, attempt)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


__all__ = ["ATTEMPTS", "backoff", "failure_kind", "is_transient", "retrying"]
