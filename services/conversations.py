"""Multi-step chat flows (issue 12): where a user is, kept in the database, one transaction each.

One row per (chat, user) holds the open flow, its step, its answers so far and when it times out
(`db.models.Conversation`). Every channel process reads it afresh for each update, so a restart or
another replica behind the same webhook continues the flow. A step is applied only to the version
it was read at: of two processes racing with the same state, one applies its step and the other
gets a `Refusal` (code CONFLICT) with a Chinese reason. Starting a flow ends the open one, and says
which it was, so a channel can tell the user. Typed text is kept masked (`rules.masking.scrub`).

Every update that applied a step (started, moved, finished or cancelled a flow) leaves its key in
`applied_updates` for KEYS_KEPT, also after the flow ended: `look` says whether an update was applied
already, so a redelivery of any earlier step, or of the step that ended the flow, is dropped.

No chat words here besides the refusal's reason: the flows' names and texts are the channel's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, AccountSubject, AppliedUpdate, Conversation
from db.session import Database
from rules.masking import scrub
from services.errors import CONFLICT, Refusal

LOST_RACE = "这一步已由您刚才的另一条消息处理，本条未被采用。请按最新的提示继续，或发送 /cancel 取消。"
SWEEP_BATCH = 200
# Telegram retries a webhook for a while and a crashed poller gets its unconfirmed batch at restart:
# a day covers both with room to spare; keys are unique per message or press, so a longer wait
# never drops a new update.
KEYS_KEPT = dt.timedelta(days=1)


@dataclass(frozen=True)
class Convo:
    """An open flow as read: `version` is what a step must still find to be applied."""

    chat_id: int
    user_id: int
    flow: str
    step: str
    data: dict[str, Any]
    version: int
    expires_at: dt.datetime

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class Started:
    """The flow just started, and the one it replaced (None when none was open; possibly expired)."""

    convo: Convo
    ended: Convo | None


def masked(value: Any, key: str = "") -> Any:
    """`value` with every ID and mobile number in its text masked; file ids are left as they are
    (Telegram's opaque handles, never typed by a person)."""
    if isinstance(value, str):
        return value if "file" in key else scrub(value)
    if isinstance(value, dict):
        return {k: masked(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, key) for v in value]
    return value


def _convo(row: Conversation) -> Convo:
    return Convo(row.chat_id, row.user_id, row.flow, row.step, dict(row.data or {}), row.version, row.expires_at)


async def _applied(s: AsyncSession, chat_id: int, user_id: int, key: str | None, now: dt.datetime) -> None:
    """Note that update `key` applied a step, in the step's own transaction. The same update may
    apply two (a refused decision ends its flow and opens it again), so a key noted already is fine."""
    if key is None or await s.get(AppliedUpdate, (chat_id, user_id, key)) is not None:
        return
    try:
        async with s.begin_nested():
            s.add(AppliedUpdate(chat_id=chat_id, user_id=user_id, key=key, applied_at=now))
    except IntegrityError:  # another process noted it this very moment; its step decides the race
        pass


@dataclass(frozen=True)
class CallerAccount:
    """The account of the person an update came from, as read with the flow (`arrive`): what the
    handlers' `Viewer` is built from, so the account is not read a second time for the update."""

    account_id: int
    role: str
    active: bool
    department_id: int | None
    subject_ids: frozenset[int]


@dataclass(frozen=True)
class Arrival:
    """What the dispatcher needs of an update before any handler runs: the open flow (possibly past
    its time), whether the update applied a step already, and the caller's account (None before the
    first contact created one)."""

    convo: Convo | None
    seen: bool
    caller: CallerAccount | None


# One row per subject bound to the account (nearly always one row): the account, its bound
# subjects, the open flow and the redelivery check in one statement. The one-row probe keeps a row
# when the user has neither account nor flow. Built once: building costs more CPU than running it.
_PROBE = select(literal_column("1").label("one")).subquery("probe")
_ARRIVAL = (
    select(
        Account.id.label("account_id"), Account.role, Account.active, Account.department_id,
        AccountSubject.subject_id.label("bound_subject_id"),
        Conversation.flow, Conversation.step, Conversation.data, Conversation.version, Conversation.expires_at,
        exists().where(
            AppliedUpdate.chat_id == bindparam("chat_id"), AppliedUpdate.user_id == bindparam("user_id"),
            AppliedUpdate.key == bindparam("key"),
        ).label("seen"),
    )
    .select_from(_PROBE)
    .outerjoin(Account, Account.telegram_user_id == bindparam("user_id"))
    .outerjoin(AccountSubject, AccountSubject.account_id == Account.id)
    .outerjoin(Conversation, and_(Conversation.chat_id == bindparam("chat_id"), Conversation.user_id == bindparam("user_id")))
)  # fmt: skip


async def arrive(db: Database, chat_id: int, user_id: int, key: str | None) -> Arrival:
    """The open flow of this chat and user (possibly past its time), whether update `key` applied a
    step already (a redelivery, to be dropped) and the account of `user_id` (its Telegram user id),
    read fresh for every update in one statement outside any transaction (`Database.read`): a flow
    another replica opened a moment ago, or a role an admin changed, counts at once. Raises nothing."""
    async with db.read() as conn:
        rows = (await conn.execute(_ARRIVAL, {"chat_id": chat_id, "user_id": user_id, "key": key})).all()
    first = rows[0]
    convo = None
    if first.flow is not None:
        convo = Convo(chat_id, user_id, first.flow, first.step, dict(first.data or {}), first.version, first.expires_at)
    caller = None
    if first.account_id is not None:
        bound = frozenset(r.bound_subject_id for r in rows if r.bound_subject_id is not None)
        caller = CallerAccount(first.account_id, first.role, bool(first.active), first.department_id, bound)
    return Arrival(convo, bool(first.seen), caller)


async def look(db: Database, chat_id: int, user_id: int, key: str | None) -> tuple[Convo | None, bool]:
    """The open flow of this chat and user (possibly past its time), and whether update `key`
    applied a step already (a redelivery, to be dropped). Raises nothing."""
    arrival = await arrive(db, chat_id, user_id, key)
    return arrival.convo, arrival.seen


async def start(
    db: Database,
    chat_id: int,
    user_id: int,
    flow: str,
    step: str,
    data: dict[str, Any],
    now: dt.datetime,
    timeout: dt.timedelta,
    key: str | None = None,
) -> Started:
    """Open `flow` at `step` for this chat and user, ending whatever flow was open (returned as
    `ended`, expired or not). Raises Refusal (CONFLICT) when another process opened one this very
    moment."""
    async with db.transaction() as s:
        row = await s.get(Conversation, (chat_id, user_id), with_for_update=True, populate_existing=True)
        ended = _convo(row) if row is not None else None
        if row is None:
            row = Conversation(chat_id=chat_id, user_id=user_id, version=0)
            s.add(row)
        row.flow, row.step, row.data = flow, step, masked(data)
        row.version = (row.version or 0) + 1
        row.started_at, row.updated_at, row.expires_at = now, now, now + timeout
        try:
            await s.flush()
        except IntegrityError:
            raise Refusal(LOST_RACE, code=CONFLICT) from None
        await _applied(s, chat_id, user_id, key, now)
        return Started(_convo(row), ended)


async def current(db: Database, chat_id: int, user_id: int) -> Convo | None:
    """The open flow of this chat and user (possibly past its time: see `Convo.expired`), or None."""
    async with db.transaction() as s:
        row = await s.get(Conversation, (chat_id, user_id))
        return _convo(row) if row is not None else None


async def advance(
    db: Database,
    convo: Convo,
    step: str,
    data: dict[str, Any],
    now: dt.datetime,
    timeout: dt.timedelta,
    key: str | None = None,
) -> Convo:
    """Move `convo` to `step` with `data`, pushing its timeout forward. Raises Refusal (CONFLICT)
    when the flow is no longer at the version it was read at (another process applied a step, or
    it ended meanwhile)."""
    expires = now + timeout
    stored = masked(data)
    async with db.transaction() as s:
        done = await s.execute(
            update(Conversation)
            .where(
                Conversation.chat_id == convo.chat_id,
                Conversation.user_id == convo.user_id,
                Conversation.version == convo.version,
            )
            .values(step=step, data=stored, version=convo.version + 1, updated_at=now, expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Refusal(LOST_RACE, code=CONFLICT)
        await _applied(s, convo.chat_id, convo.user_id, key, now)
    return Convo(convo.chat_id, convo.user_id, convo.flow, step, stored, convo.version + 1, expires)


async def touch(db: Database, chat_id: int, user_id: int, flow: str, now: dt.datetime, timeout: dt.timedelta) -> bool:
    """Push the timeout of the open `flow` forward (a flow whose steps live in a table of its own,
    the declaration's draft). Returns False when that flow is not open. Raises nothing."""
    async with db.transaction() as s:
        done = await s.execute(
            update(Conversation)
            .where(Conversation.chat_id == chat_id, Conversation.user_id == user_id, Conversation.flow == flow)
            .values(updated_at=now, expires_at=now + timeout)
            .execution_options(synchronize_session=False)
        )
        return done.rowcount == 1  # type: ignore[attr-defined]


async def _delete(s: AsyncSession, convo: Convo) -> bool:
    done = await s.execute(
        delete(Conversation)
        .where(
            Conversation.chat_id == convo.chat_id,
            Conversation.user_id == convo.user_id,
            Conversation.version == convo.version,
        )
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1  # type: ignore[attr-defined]


async def finish(db: Database, convo: Convo, now: dt.datetime, key: str | None = None) -> None:
    """End `convo` before its final action runs: the claim that lets exactly one process act; `key`
    (the update that ends it) is kept, so its redelivery after the end is dropped. Raises Refusal
    (CONFLICT) when it is no longer at the version it was read at."""
    async with db.transaction() as s:
        if not await _delete(s, convo):
            raise Refusal(LOST_RACE, code=CONFLICT)
        await _applied(s, convo.chat_id, convo.user_id, key, now)


async def claim(db: Database, convo: Convo) -> bool:
    """End `convo` if it is still at its version (a timed-out flow the user wrote to). Returns
    whether this call ended it; raises nothing."""
    async with db.transaction() as s:
        return await _delete(s, convo)


async def cancel(
    db: Database, chat_id: int, user_id: int, flow: str | None = None, key: str | None = None, now: dt.datetime | None = None
) -> Convo | None:
    """End the open flow (only if it is `flow`, when given) whatever its step; returns what it was,
    or None when there was none; `key` (the update that cancelled it) is kept with `now`. Raises nothing."""
    async with db.transaction() as s:
        query = delete(Conversation).where(Conversation.chat_id == chat_id, Conversation.user_id == user_id)
        if flow is not None:
            query = query.where(Conversation.flow == flow)
        rows = (await s.execute(query.returning(*_COLUMNS))).all()
        if rows and now is not None:
            await _applied(s, chat_id, user_id, key, now)
    return _from_row(rows[0]) if rows else None


async def expired(db: Database, now: dt.datetime) -> list[Convo]:
    """Claim (end) up to SWEEP_BATCH flows whose time passed before `now`, for the timeout job to tell
    their users: a DELETE … RETURNING, so of several processes sweeping at once each flow goes to
    exactly one. Also forgets update keys older than KEYS_KEPT. Raises nothing."""
    async with db.transaction() as s:
        await s.execute(delete(AppliedUpdate).where(AppliedUpdate.applied_at < now - KEYS_KEPT))
        due = (
            select(Conversation.chat_id, Conversation.user_id)
            .where(Conversation.expires_at <= now)
            .order_by(Conversation.expires_at)
            .limit(SWEEP_BATCH)
        )
        keys = [tuple(k) for k in (await s.execute(due)).all()]
        found: list[Convo] = []
        for chat_id, user_id in keys:
            rows = (
                await s.execute(
                    delete(Conversation)
                    .where(Conversation.chat_id == chat_id, Conversation.user_id == user_id, Conversation.expires_at <= now)
                    .returning(*_COLUMNS)
                )
            ).all()
            found += [_from_row(r) for r in rows]
    return found


_COLUMNS = (
    Conversation.chat_id,
    Conversation.user_id,
    Conversation.flow,
    Conversation.step,
    Conversation.data,
    Conversation.version,
    Conversation.expires_at,
)


def _from_row(row: Any) -> Convo:
    return Convo(row[0], row[1], row[2], row[3], dict(row[4] or {}), row[5], row[6])
