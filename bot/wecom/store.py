"""The WeCom channel's shared state in the database (db/models_wecom.py), one transaction per call.

Everything a second replica must see lives here: which integer id stands for which WeCom user, the
access token, and the messages and cards the bot sent (the callbacks themselves are in the shared
inbox, bot/callbacks/inbox.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError

from db.models import WeComCard, WeComMessage, WeComSend, WeComToken, WeComUser, utcnow
from db.session import Database
from db.upsert import dialect_insert

# PTB ids of WeCom users start here: 2**53 is above every Telegram user id (they fit in 52 bits), so
# one Application can serve both channels and tell a chat's channel from its id.
PTB_ID_BASE = 1 << 53


PTB_ID_END = 1 << 54  # WeChat users' ids start there (bot/wechat/store.py)


def is_wecom_chat(chat_id: int | str | None) -> bool:
    try:
        return chat_id is not None and PTB_ID_BASE <= int(chat_id) < PTB_ID_END
    except ValueError:
        return False


async def allocate_ptb_id(db: Database, model: Any, base: int, **key: str) -> int:
    """The stored PTB id of a platform user (`model` is WeComUser or WeChatUser, `key` its unique
    columns), allocated on first contact as `base` + row id; safe when replicas race."""
    where = [getattr(model, column) == value for column, value in key.items()]
    for _attempt in range(3):
        async with db.transaction() as s:
            found = await s.scalar(select(model.ptb_id).where(*where))
            if found is not None:
                return int(found)
        try:
            async with db.transaction() as s:
                # A unique placeholder first: the final id is allocated from the row id.
                row = model(**key, ptb_id=-secrets.randbits(62))
                s.add(row)
                await s.flush()
                row.ptb_id = base + row.id
                return int(row.ptb_id)
        except IntegrityError:
            continue  # another replica inserted the same user: read theirs
    raise RuntimeError("could not allocate a PTB id")


async def ptb_id_for(db: Database, corp_id: str, user_id: str) -> int:
    """The stored PTB id of a WeCom user."""
    return await allocate_ptb_id(db, WeComUser, PTB_ID_BASE, corp_id=corp_id, user_id=user_id)


async def wecom_user_of(db: Database, ptb_id: int) -> str | None:
    async with db.transaction() as s:
        return await s.scalar(select(WeComUser.user_id).where(WeComUser.ptb_id == ptb_id))


# -- per-member sending windows, across replicas ----------------------------------------------------
async def reserve_send(db: Database, member: str, windows: tuple[tuple[int, float], ...]) -> float:
    """Record one send to `member` now if every (messages, seconds) window has room and return 0;
    otherwise record nothing and return the seconds to wait. On PostgreSQL an advisory lock per
    member makes count-then-insert atomic across replicas (SQLite serialises writers anyway)."""
    member = member[:96]
    longest = max(seconds for _n, seconds in windows)
    async with db.transaction() as s:
        if db.dialect == "postgresql":
            key = int.from_bytes(hashlib.sha256(member.encode()).digest()[:8], "big", signed=True)
            await s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        now = utcnow()
        await s.execute(
            delete(WeComSend).where(WeComSend.member == member, WeComSend.at < now - dt.timedelta(seconds=longest))
        )
        sent = list(
            (await s.scalars(select(WeComSend.at).where(WeComSend.member == member).order_by(WeComSend.at))).all()
        )
        delay = 0.0
        for limit, seconds in windows:
            recent = [t for t in sent if t > now - dt.timedelta(seconds=seconds)]
            if len(recent) >= limit:
                delay = max(delay, (recent[-limit] + dt.timedelta(seconds=seconds) - now).total_seconds())
        if delay > 0:
            return delay
        s.add(WeComSend(member=member, at=now))
        return 0.0


# -- access token --------------------------------------------------------------------------------------
async def cached_token(db: Database, app_key: str, margin: dt.timedelta) -> str | None:
    """The shared token if it is still valid for at least `margin`."""
    async with db.transaction() as s:
        row = await s.get(WeComToken, app_key)
        if row is None or row.expires_at - margin <= utcnow():
            return None
        return row.access_token


async def store_token(db: Database, app_key: str, token: str, expires_in: int) -> None:
    """Upsert: two replicas that fetched a token at the same moment both succeed (the later wins)."""
    insert = dialect_insert(db.dialect)
    now = utcnow()
    values = {"access_token": token, "expires_at": now + dt.timedelta(seconds=expires_in), "updated_at": now}
    statement = insert(WeComToken).values(app_key=app_key, **values)
    async with db.transaction() as s:
        await s.execute(statement.on_conflict_do_update(index_elements=["app_key"], set_=values))


async def forget_token(db: Database, app_key: str, token: str) -> None:
    """Drop the shared token only if it is still the one that failed (another replica may have
    refreshed it already)."""
    async with db.transaction() as s:
        await s.execute(delete(WeComToken).where(WeComToken.app_key == app_key, WeComToken.access_token == token))


# -- sent messages and cards ------------------------------------------------------------------------
async def save_message(db: Database, chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
    """Store a sent message; its row id becomes its message_id. Returns the completed message."""
    async with db.transaction() as s:
        row = WeComMessage(chat_id=chat_id, message={})
        s.add(row)
        await s.flush()
        row.message = {**message, "message_id": row.id}
        return row.message


async def replace_message(db: Database, chat_id: int, message_id: int, message: dict[str, Any]) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(WeComMessage)
            .where(WeComMessage.id == message_id, WeComMessage.chat_id == chat_id)
            .values(message=message)
        )


async def load_message(db: Database, chat_id: int, message_id: int) -> dict[str, Any] | None:
    async with db.transaction() as s:
        row = await s.get(WeComMessage, message_id)
        return dict(row.message) if row is not None and row.chat_id == chat_id else None


async def save_cards(db: Database, message_id: int, cards: list[tuple[str, int]]) -> None:
    async with db.transaction() as s:
        s.add_all(WeComCard(task_id=task, message_id=message_id, first_button=first) for task, first in cards)


async def card_clicked(db: Database, task_id: str, response_code: str | None) -> tuple[dict[str, Any], int] | None:
    """Note the click's response code; returns (the card's message, its first button index)."""
    async with db.transaction() as s:
        card = await s.get(WeComCard, task_id)
        if card is None:
            return None
        if response_code:
            card.response_code = response_code
        row = await s.get(WeComMessage, card.message_id)
        return (dict(row.message), card.first_button) if row is not None else None


async def take_response_code(db: Database, message_id: int) -> tuple[str, str] | None:
    """(task id, response code) of a clicked card of this message, cleared: a code updates once."""
    async with db.transaction() as s:
        card = await s.scalar(
            select(WeComCard)
            .where(WeComCard.message_id == message_id, WeComCard.response_code.is_not(None))
            .with_for_update()
        )
        if card is None or card.response_code is None:
            return None
        code, card.response_code = card.response_code, None
        return card.task_id, code
