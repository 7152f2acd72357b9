"""Idempotency keys of the port: one request carrying an `Idempotency-Key` runs once, however many
copies of it arrive and on whichever worker or replica; every copy gets the first answer.

Why a claim before the work: a client that timed out retries while its first request still runs, so
copies overlap. Storing the answer only after the work let each copy run (8 overlapping copies of one
check made 8 checks). Now the first copy writes the key's row before it works (a unique row per key
and API key: the database lets exactly one insert win), holding a lease; the answer then fills that
row. Copies that lose the insert read the row: the answer if it is there (a replay), a refusal if
the key names a different request, else they wait for the answer. A copy whose holder died (the
lease ran out with no answer) takes the claim over.

Where the work is one transaction (a check, a batch of checks), its answer is written in that same
transaction, under the condition that this copy still owns the claim (`finish_in`): the check and its
stored answer commit together or not at all, so no crash or takeover can let a key make two checks.
Where the use case commits by itself (a push goes through the importer), the answer is stored right
after (`finish`); a copy taking over after a crash in between re-runs a push, which the importer's
idempotency by source department and document number makes harmless (nothing is written twice).

The statuses follow the IETF draft "The Idempotency-Key HTTP Header Field"
(draft-ietf-httpapi-idempotency-key-header, section "Error Scenarios"): a key reused for a different
request is 422; a copy arriving while the first is still being processed is 409 — here only after
waiting up to `wait_seconds` for the answer, since most requests finish well within that.
Only successful answers (2xx) are kept: after a failure the claim is released and the same key may
be tried again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import ApiIdempotency
from db.models.base import utcnow
from db.session import Database
from db.upsert import dialect_insert

MAX_KEY_LENGTH = 128
_TABLE = ApiIdempotency.__table__
_FIRST_POLL_SECONDS = 0.02
_MAX_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer to the key's request."""

    request_hash: str
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """This copy holds the key: it does the work and stores the answer."""

    row_id: int
    owner: str


class KeyReused(Exception):
    """The key was first used for a different request (another body, path or query)."""


class KeyInUse(Exception):
    """Another copy still works on the key's request; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class ClaimLost(Exception):
    """This copy's lease ran out and another copy took the claim over: the work must not commit."""


def request_hash(method: str, path: str, body: bytes, query: str = "") -> str:
    """What makes two requests "the same": method, path, query (when there is one) and the exact body."""
    target = f"{path}?{query}" if query else path
    return hashlib.sha256(method.encode() + b"\n" + target.encode() + b"\n" + body).hexdigest()


def _insert_claim(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: a row back means this copy's insert won."""
    return dialect_insert(dialect)(_TABLE).on_conflict_do_nothing(index_elements=["api_key_id", "idem_key"]).returning(_TABLE.c.id)


_ROW = select(_TABLE.c.id, _TABLE.c.request_hash, _TABLE.c.status_code, _TABLE.c.body, _TABLE.c.owner,
              _TABLE.c.lease_until)


async def _try_claim(
    db: Database, api_key_id: int, idem_key: str, req_hash: str, lease_seconds: float
) -> Claim | StoredAnswer | float:
    """One attempt: the claim, the stored answer, or the seconds the holder's lease still runs. On
    a Core connection: the common case (a new key) is one statement."""
    now = utcnow()
    owner = secrets.token_hex(16)
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    async with db.core_transaction() as conn:
        won = (await conn.execute(_insert_claim(db.dialect), {
            "api_key_id": api_key_id, "idem_key": idem_key, "request_hash": req_hash, "owner": owner,
            "lease_until": lease_until, "created_at": now, "status_code": None, "body": None, "note": None,
        })).scalar()
        if won is not None:
            return Claim(int(won), owner)
        row = (await conn.execute(
            _ROW.where(_TABLE.c.api_key_id == api_key_id, _TABLE.c.idem_key == idem_key)
        )).one_or_none()
        if row is None:  # released between the insert and the read: try again at once
            return 0.0
        if row.request_hash != req_hash:
            raise KeyReused(idem_key)
        if row.status_code is not None and row.body is not None:
            return StoredAnswer(row.request_hash, row.status_code, row.body)
        if row.lease_until is not None and row.lease_until > now:
            return (row.lease_until - now).total_seconds()
        taken = await conn.execute(
            update(_TABLE)
            .where(_TABLE.c.id == row.id, _TABLE.c.status_code.is_(None),
                   or_(_TABLE.c.owner.is_(None), _TABLE.c.owner == row.owner))
            .values(owner=owner, lease_until=lease_until)
        )
        return Claim(row.id, owner) if taken.rowcount == 1 else 0.0


async def claim(
    db: Database, api_key_id: int, idem_key: str, req_hash: str, *, lease_seconds: float, wait_seconds: float
) -> Claim | StoredAnswer:
    """Claim `idem_key` for this request, or get the answer stored for it.

    While another copy holds the claim this waits for its answer (polling, no connection held), up
    to `wait_seconds`. Raises KeyReused (the key belongs to a different request) and KeyInUse (still
    no answer after the wait)."""
    deadline = time.monotonic() + wait_seconds
    pause = _FIRST_POLL_SECONDS
    while True:
        outcome = await _try_claim(db, api_key_id, idem_key, req_hash, lease_seconds)
        if not isinstance(outcome, float):
            return outcome
        left = deadline - time.monotonic()
        if left <= 0:
            raise KeyInUse(max(1, math.ceil(min(outcome, wait_seconds))))
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, _MAX_POLL_SECONDS)


def _answer(held: Claim, status_code: int, body: dict[str, Any]) -> Any:
    return (
        update(_TABLE)
        .where(_TABLE.c.id == held.row_id, _TABLE.c.owner == held.owner, _TABLE.c.status_code.is_(None))
        .values(status_code=status_code, body=body, owner=None, lease_until=None)
    )


async def finish_in(conn: AsyncConnection, held: Claim, status_code: int, body: dict[str, Any]) -> None:
    """Store the answer (JSON-ready: a model dumped with mode="json") inside the work's own transaction. Raises ClaimLost when another copy took
    the claim over meanwhile: the caller's transaction must then roll back."""
    if (await conn.execute(_answer(held, status_code, body))).rowcount != 1:
        raise ClaimLost()


async def finish(db: Database, held: Claim, status_code: int, body: dict[str, Any]) -> bool:
    """Store the answer after work that committed by itself; False when the claim was taken over."""
    async with db.core_transaction() as conn:
        return bool((await conn.execute(_answer(held, status_code, body))).rowcount == 1)


async def release(db: Database, held: Claim) -> None:
    """Give the key up after a failure: the same key may be tried again."""
    async with db.core_transaction() as conn:
        await conn.execute(delete(_TABLE).where(_TABLE.c.id == held.row_id, _TABLE.c.owner == held.owner))


async def prune(db: Database, keep_days: int) -> int:
    """Forget answers older than `keep_days` (and claims abandoned as long ago); returns how many."""
    cutoff = utcnow() - dt.timedelta(days=keep_days)
    async with db.core_transaction() as conn:
        result = await conn.execute(delete(_TABLE).where(_TABLE.c.created_at < cutoff))
    return int(result.rowcount or 0)
