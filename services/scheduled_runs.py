"""Daily work that must happen once per day even when the process was down at its time.

APScheduler skips a run missed while the bot was down (its misfire grace), and replicas each have
their own scheduler. So a daily job is a *slot* (the local day whose run time has passed,
`due_slot`) claimed in the database (`scheduled_runs`) before its work starts: the scheduled run,
the catch-up scan at start-up, later scans and other replicas all ask for the slot, and only the
one whose claim wins runs it. A run that fails gives its claim back (the next scan retries); a
process that dies mid-run leaves an unfinished claim, which the next scan takes over: at once on
PostgreSQL, where the running process holds a lease its death releases (db.leases), and on SQLite
(one process) once the claim is `STALE_AFTER` old.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import delete, select, update

from db.leases import lease
from db.models import ScheduledRun
from db.session import Database
from db.upsert import insert_ignore

log = logging.getLogger(__name__)
T = TypeVar("T")
STALE_AFTER = dt.timedelta(hours=1)  # SQLite only: an unfinished claim this old belonged to a dead process


def due_slot(now_local: dt.datetime, at: dt.time) -> dt.date:
    """The local day of the latest run time `at` that is not after `now_local`."""
    day = now_local.date()
    return day if now_local.time() >= at else day - dt.timedelta(days=1)


async def _claim(db: Database, job: str, slot: dt.date, now: dt.datetime) -> bool:
    """Claim (job, slot) for this caller, who holds the slot's lease. True when it must run."""
    async with db.transaction() as s:
        won = await s.execute(
            insert_ignore(s, ScheduledRun, {"job": job, "slot": slot, "claimed_at": now}, ["job", "slot"])
            .returning(ScheduledRun.job)
        )
        if won.scalar_one_or_none() is not None:
            return True
        row = await s.get(ScheduledRun, (job, slot))
        if row is None or row.finished_at is not None:
            return False
        # Unfinished and nobody else holds the lease: its process died (on SQLite: give it time).
        if db.dialect != "postgresql" and row.claimed_at > now - STALE_AFTER:
            return False
        log.warning("scheduled run %s of %s was left unfinished; running it again", job, slot)
        row.claimed_at = now
        return True


async def run_once(
    db: Database, job: str, slot: dt.date, work: Callable[[], Awaitable[T]], now: dt.datetime | None = None
) -> tuple[bool, T | None]:
    """Run `work` for (job, slot) unless it ran or runs elsewhere; returns (ran here, its result).
    An exception from `work` releases the claim and propagates."""
    now = now or dt.datetime.now(dt.UTC)
    async with lease(db, f"scheduled:{job}:{slot.isoformat()}") as held:
        if not held or not await _claim(db, job, slot, now):
            return False, None
        try:
            result = await work()
        except BaseException:
            async with db.transaction() as s:
                await s.execute(delete(ScheduledRun).where(ScheduledRun.job == job, ScheduledRun.slot == slot))
            raise
        async with db.transaction() as s:
            await s.execute(
                update(ScheduledRun).where(ScheduledRun.job == job, ScheduledRun.slot == slot)
                .values(finished_at=dt.datetime.now(dt.UTC))
            )
        return True, result


async def finished(db: Database, job: str, slot: dt.date) -> bool:
    """Whether (job, slot) has run to its end, here or elsewhere. Work that depends on it asks this,
    not whether it is running: a replica that has taken the slot's lease but not yet written its
    claim looks like nobody is running it."""
    async with db.transaction() as s:
        done = await s.scalar(select(ScheduledRun.finished_at).where(ScheduledRun.job == job, ScheduledRun.slot == slot))
        return done is not None
