"""The webhook channel: PTB's own server on 127.0.0.1 takes real Update JSON and the reply goes out."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket

import httpx
from telegram import Chat, Message, MessageEntity, Update, User

import bot.app as bot_app
from bot.transport import InProcessBotAPI
from db.session import Database
from tests.conftest import settings_for

SECRET = "s3cret-token_for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_update(update_id: int) -> dict[str, object]:
    user = User(id=31337, first_name="李", is_bot=False)
    message = Message(
        message_id=1,
        date=dt.datetime.now(dt.UTC),
        chat=Chat(id=31337, type=Chat.PRIVATE),
        from_user=user,
        text="/start",
        entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, 6)],
    )
    return Update(update_id, message=message).to_dict()


async def test_webhook_round_trip(db: Database) -> None:
    transport = InProcessBotAPI()
    app = bot_app.build_application(settings_for(db), transport, db=db)
    port = free_port()
    async with app:
        await bot_app.start_services(app)
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url="https://bot.example.invalid/telegram",
            secret_token=SECRET,
        )
        await app.start()
        try:
            assert transport.webhook_url == "https://bot.example.invalid/telegram"
            url = f"http://127.0.0.1:{port}/telegram"
            async with httpx.AsyncClient(timeout=10) as client:
                denied = await client.post(
                    url,
                    content=json.dumps(start_update(1)),
                    headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
                assert denied.status_code == 403
                accepted = await client.post(
                    url,
                    content=json.dumps(start_update(2)),
                    headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                assert accepted.status_code == 200
            for _ in range(100):
                if any(o.method == "sendMessage" for o in transport.sent):
                    break
                await asyncio.sleep(0.05)
            replies = [o for o in transport.sent if o.method == "sendMessage"]
            assert len(replies) == 1, "only the update with the right secret is handled"
            assert replies[0].chat_id == 31337
            assert "信用通" in (replies[0].text or "")
        finally:
            await app.updater.stop()
            await app.stop()
