"""The WeChat channel's shared state in the database (db/models/wechat.py), one transaction per call.

PTB ids of WeChat users start at 2**54, above the WeCom range (2**53 up): one Application serves
every channel and tells them apart by the chat id. Sent messages are kept as the Telegram messages
the handlers believe they sent, in the table the WeCom channel uses for the same purpose
(bot/wecom/store.py `save_message`), so a numbered reply can be delivered as a button press on them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from bot.wecom.store import allocate_ptb_id
from db.models import WeChatChoice, WeChatUser, utcnow
from db.session import Database
from db.upsert import dialect_insert

PTB_ID_BASE = 1 << 54
PTB_ID_END = 1 << 55


def is_wechat_chat(chat_id: int | str | None) -> bool:
    try:
        return chat_id is not None and PTB_ID_BASE <= int(chat_id) < PTB_ID_END
    except ValueError:
        return False


async def ptb_id_for(db: Database, app_id: str, openid: str) -> int:
    """The stored PTB id of an OpenID, allocated on first contact."""
    return await allocate_ptb_id(db, WeChatUser, PTB_ID_BASE, app_id=app_id, openid=openid)


async def openid_of(db: Database, ptb_id: int) -> str | None:
    async with db.transaction() as s:
        return await s.scalar(select(WeChatUser.openid).where(WeChatUser.ptb_id == ptb_id))


async def set_choices(db: Database, chat_id: int, message_id: int, buttons: list[tuple[str, str]]) -> None:
    """The numbered choices of the chat's latest message; none clears them."""
    async with db.transaction() as s:
        if not buttons:
            await s.execute(delete(WeChatChoice).where(WeChatChoice.chat_id == chat_id))
            return
        insert = dialect_insert(db.dialect)
        values = {"message_id": message_id, "buttons": {"buttons": [list(b) for b in buttons]}, "sent_at": utcnow()}
        statement = insert(WeChatChoice).values(chat_id=chat_id, **values)
        await s.execute(statement.on_conflict_do_update(index_elements=["chat_id"], set_=values))


async def clear_choices_of(db: Database, chat_id: int, message_id: int) -> None:
    """Forget the choices when they belong to `message_id` (its keyboard was removed)."""
    async with db.transaction() as s:
        await s.execute(delete(WeChatChoice).where(WeChatChoice.chat_id == chat_id, WeChatChoice.message_id == message_id))


async def choice(db: Database, chat_id: int, n: int) -> tuple[int, str] | None:
    """(message id, callback data) of choice `n` (1-based) of the chat's latest message, if any."""
    async with db.transaction() as s:
        row = await s.get(WeChatChoice, chat_id)
        buttons: list[Any] = row.buttons.get("buttons", []) if row is not None else []
        if row is None or not 1 <= n <= len(buttons):
            return None
        return row.message_id, str(buttons[n - 1][1])
