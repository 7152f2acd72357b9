"""The durable inbox of the callback channels (db/models/inbound.py), one transaction per call.

`store` is what the callback endpoint does before it answers 200: a callback is acknowledged only
once it is written (a second delivery of it finds its row and is acknowledged without another).
`claim` hands a worker the events it may handle now: the oldest pending event of each member, due,
and not held by a live claim of any replica. `finish`, `postpone` and `give_up` settle an event,
only while the caller's claim is still the one on the row (`version`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update

from db.models import InboundEvent, utcnow
from db.session import Database
from db.upload_store import seal, unseal
from db.upsert import dialect_insert

PENDING, DONE, FAILED = "pending", "done", "failed"
SEAL_LABEL = b"creditbot inbound callback v1\x00"
# A callback's dedupe key is kept at least this long, and at least as long as the replay window.
MIN_RETENTION = dt.timedelta(days=2)


@dataclass(frozen=True)
class Event:
    """A claimed event: its id is the update id the handlers see; `version` proves the claim."""

    id: int
    member: str
    fields: dict[str, str]
    attempts: int
    version: int


def retention(window_seconds: int) -> dt.timedelta:
    """How long dedupe keys are kept: two days, or twice the replay window if that is longer, so a
    callback is refused by its timestamp before its key is forgotten."""
    return max(MIN_RETENTION, dt.timedelta(seconds=2 * window_seconds))


async def store(db: Database, channel: str, callbacks: list[tuple[str, str, dict[str, str]]], secret: str) -> list[bool]:
    """Write decrypted callbacks, each (dedupe key, member, fields), in one transaction (the endpoint
    groups the callbacks arriving together: one write instead of one per callback, which on SQLite
    is the difference between a burst stored at once and callers starving for its one write lock).
    For each: True when it is new, False for a repeat of one stored before (or earlier in the list)."""
    insert = dialect_insert(db.dialect)
    now = utcnow()
    out: list[bool] = []
    async with db.transaction() as s:
        for key, member, fields in callbacks:
            sealed = seal(json.dumps(fields, ensure_ascii=False).encode(), secret, SEAL_LABEL)
            statement = insert(InboundEvent).values(
                channel=channel, dedupe_key=key[:128], member=member[:128], payload=sealed, status=PENDING,
                attempts=0, not_before=now, version=0, received_at=now,
            )
            result = await s.execute(statement.on_conflict_do_nothing(index_elements=["channel", "dedupe_key"]))
            out.append(bool(result.rowcount))  # type: ignore[attr-defined]
    return out


async def claim(
    db: Database, channel: str, holder: str, lease: dt.timedelta, secret: str, limit: int, busy: frozenset[str] = frozenset()
) -> list[Event]:
    """Claim up to `limit` events: for each member the oldest pending one, if it is due and nobody
    holds it (a lapsed claim of a replica that died counts as nobody). `busy`: members this worker
    is handling already (it never claims two of one member)."""
    now = utcnow()
    heads = (
        select(func.min(InboundEvent.id))
        .where(InboundEvent.channel == channel, InboundEvent.status == PENDING)
        .group_by(InboundEvent.member)
    )
    candidates = (
        select(InboundEvent.id, InboundEvent.version, InboundEvent.member)
        .where(
            InboundEvent.id.in_(heads),
            InboundEvent.not_before <= now,
            or_(InboundEvent.claimed_until.is_(None), InboundEvent.claimed_until < now),
        )
        .order_by(InboundEvent.id)
        .limit(limit + len(busy))
    )
    claimed: list[Event] = []
    async with db.transaction() as s:
        rows = [r for r in (await s.execute(candidates)).all() if r.member not in busy][:limit]
        for row in rows:
            result = await s.execute(
                update(InboundEvent)
                .where(InboundEvent.id == row.id, InboundEvent.version == row.version, InboundEvent.status == PENDING)
                .values(
                    claimed_by=holder, claimed_until=now + lease, version=InboundEvent.version + 1,
                    attempts=InboundEvent.attempts + 1,
                )
                .returning(InboundEvent.payload, InboundEvent.attempts)
            )
            got = result.first()
            if got is None:
                continue  # another replica took it a moment earlier
            payload, attempts = got
            fields = json.loads(unseal(payload, secret, SEAL_LABEL)) if payload else {}
            claimed.append(Event(row.id, row.member, fields, int(attempts), row.version + 1))
    return claimed


async def renew(db: Database, event: Event, holder: str, lease: dt.timedelta) -> bool:
    """Extend a claim while the event is being handled; False when it is no longer ours."""
    async with db.transaction() as s:
        result = await s.execute(
            update(InboundEvent)
            .where(InboundEvent.id == event.id, InboundEvent.version == event.version, InboundEvent.claimed_by == holder)
            .values(claimed_until=utcnow() + lease)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def _settle(db: Database, event: Event, holder: str, **values: object) -> bool:
    async with db.transaction() as s:
        result = await s.execute(
            update(InboundEvent)
            .where(InboundEvent.id == event.id, InboundEvent.version == event.version, InboundEvent.claimed_by == holder)
            .values(claimed_by=None, claimed_until=None, **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(db: Database, event: Event, holder: str) -> bool:
    """Handled: the sealed fields are dropped, the key stays for dedupe."""
    return await _settle(db, event, holder, status=DONE, payload=None, done_at=utcnow(), last_error=None)


async def postpone(db: Database, event: Event, holder: str, delay: dt.timedelta, error: str) -> bool:
    """Failed for now: any replica may take it again after `delay`."""
    return await _settle(db, event, holder, not_before=utcnow() + delay, last_error=error[:64])


async def give_up(db: Database, event: Event, holder: str, error: str) -> bool:
    return await _settle(db, event, holder, status=FAILED, payload=None, done_at=utcnow(), last_error=error[:64])


async def waiting(db: Database, channel: str) -> int:
    """Pending events of `channel` (due or not): what a drain waits for."""
    async with db.transaction() as s:
        found = await s.scalar(
            select(func.count()).select_from(InboundEvent)
            .where(InboundEvent.channel == channel, InboundEvent.status == PENDING)
        )
        return int(found or 0)


async def forget(db: Database, channel: str, older_than: dt.timedelta) -> int:
    """Delete settled events received before `older_than` ago (their dedupe keys expire with them);
    pending ones are kept whatever their age."""
    async with db.transaction() as s:
        result = await s.execute(
            delete(InboundEvent).where(
                InboundEvent.channel == channel,
                InboundEvent.status != PENDING,
                InboundEvent.received_at < utcnow() - older_than,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
