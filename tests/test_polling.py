"""The polling channel: PTB's Updater long-polls getUpdates and the reply goes out."""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import Chat, Message, MessageEntity, Update, User

import bot.app as bot_app
from bot.transport import InProcessBotAPI
from db.session import Database
from tests.conftest import settings_for


def whoami_update(update_id: int) -> dict[str, object]:
    message = Message(
        message_id=7,
        date=dt.datetime.now(dt.UTC),
        chat=Chat(id=4711, type=Chat.PRIVATE),
        from_user=User(id=4711, first_name="赵", is_bot=False),
        text="/whoami",
        entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, 7)],
    )
    return Update(update_id, message=message).to_dict()


async def test_polling_round_trip(db: Database) -> None:
    transport = InProcessBotAPI()
    transport.pending_updates.append(whoami_update(41))
    app = bot_app.build_application(settings_for(db), transport, db=db)
    async with app:
        await bot_app.start_services(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.01, timeout=0)
        await app.start()
        try:
            for _ in range(200):
                if any(o.method == "sendMessage" for o in transport.sent):
                    break
                await asyncio.sleep(0.02)
        finally:
            await app.updater.stop()
            await app.stop()
    replies = [o for o in transport.sent if o.method == "sendMessage"]
    assert [r.chat_id for r in replies] == [4711]
    assert replies[0].text == "角色：公众"
    assert transport.pending_updates == [], "the update was acknowledged by the next getUpdates offset"
