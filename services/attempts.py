"""Limits on guessing: too many wrong binding codes (or link proofs) start a cool-down.

A failure is recorded in its own transaction, after the use case that refused has rolled back, so
the count survives the refusal. Counted per scope and key: per account for binding codes; the link
proof also counts per subject, so that opening new accounts buys no new tries against one company.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AttemptLimit, utcnow
from db.session import Database
from services.errors import Refusal

COOLING_DOWN = "cooling_down"


@dataclass(frozen=True)
class AttemptPolicy:
    """`failures` wrong tries within `window` lock the key for `cooldown`."""

    failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    cooldown: dt.timedelta = dt.timedelta(minutes=30)


BIND_POLICY = AttemptPolicy()
# Link proofs counted per subject, whichever account tries: a handful of wrong tries a day locks
# the subject's online link for a day, so new accounts buy no new guesses.
LINK_SUBJECT_POLICY = AttemptPolicy(failures=5, window=dt.timedelta(hours=24), cooldown=dt.timedelta(hours=24))


async def ensure_not_locked(s: AsyncSession, scope: str, key: str, now: dt.datetime | None = None) -> None:
    """Raises Refusal (code `COOLING_DOWN`) while the key is cooling down."""
    now = now or utcnow()
    until = await locked_until(s, scope, key, now)
    if until is not None:
        minutes = max(1, int((until - now).total_seconds() // 60) + 1)
        raise Refusal(f"尝试次数过多，请 {minutes} 分钟后再试。", code=COOLING_DOWN)


async def locked_until(s: AsyncSession, scope: str, key: str, now: dt.datetime) -> dt.datetime | None:
    """End of the key's cool-down (aware, UTC), or None when it is not cooling down."""
    row = await s.get(AttemptLimit, (scope, key))
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


async def count_failure(
    s: AsyncSession, scope: str, key: str, policy: AttemptPolicy, now: dt.datetime | None = None
) -> bool:
    """Count one failure inside the caller's transaction (for a use case that commits its refusal,
    such as a link proof); returns True when this one started a cool-down."""
    now = now or utcnow()
    row = await s.get(AttemptLimit, (scope, key), with_for_update=True)
    if row is None:
        row = AttemptLimit(scope=scope, key=key, failures=0, window_start=now)
        s.add(row)
    if now - row.window_start > policy.window:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= policy.failures:
        row.failures, row.window_start, row.locked_until = 0, now, now + policy.cooldown
        return True
    return False


async def record_failure(
    db: Database, scope: str, key: str, policy: AttemptPolicy, now: dt.datetime | None = None
) -> bool:
    """Count one failure in its own transaction; returns True when this one started a cool-down."""
    async with db.transaction() as s:
        return await count_failure(s, scope, key, policy, now)


async def clear(s: AsyncSession, scope: str, key: str) -> None:
    """Forget the failures of a key after a success."""
    row = await s.get(AttemptLimit, (scope, key))
    if row is not None:
        await s.delete(row)
