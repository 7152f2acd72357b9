"""The in-process Bot API refuses what Telegram refuses; the bot's own Bot stays under the limits."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from bot.app import LOCAL_TOKEN
from bot.limited_bot import CUT_MARK, LimitedBot
from bot.transport import InProcessBotAPI

CHAT = 4242


def _markup(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("查看", callback_data=data)]])


async def test_stand_in_refuses_what_telegram_refuses() -> None:
    transport = InProcessBotAPI()
    async with Bot(LOCAL_TOKEN, request=transport) as bot:
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(CHAT, "信" * 4097)
        await bot.send_message(CHAT, "信" * 4096)  # exactly the limit is fine
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(CHAT, "😀" * 2049)  # 4,098 UTF-16 units
        with pytest.raises(BadRequest, match="empty"):
            await bot.send_message(CHAT, "   ")
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(CHAT, "选择", reply_markup=_markup("s:" + "9" * 63))
        await bot.send_message(CHAT, "选择", reply_markup=_markup("s:" + "9" * 62))  # 64 bytes
        with pytest.raises(BadRequest, match="caption is too long"):
            await bot.send_document(CHAT, b"%PDF-1.4", filename="r.pdf", caption="说" * 1025)
        sent = await bot.send_message(CHAT, "进度 10%")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("进度 10%", CHAT, sent.message_id)
        await bot.answer_callback_query("q-1", "已记录")
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("q-1")  # one answer per press
        transport.blocked.add(CHAT)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(CHAT, "通知")
    assert len(transport.refused) == 8


async def test_limited_bot_splits_and_cuts() -> None:
    transport = InProcessBotAPI()
    lines = "\n".join(f"· 第{i}项：安康市恒达建材有限公司，逾期未报送" for i in range(500))
    async with LimitedBot(LOCAL_TOKEN, request=transport) as bot:
        last = await bot.send_message(CHAT, lines, reply_markup=_markup("adm:overdue"))
        parts = [o for o in transport.sent if o.method == "sendMessage"]
        assert len(parts) > 1 and "\n".join(o.text or "" for o in parts) == lines
        assert [bool(o.buttons) for o in parts] == [False] * (len(parts) - 1) + [True]  # keyboard on the last
        assert last.message_id == parts[-1].message_id
        edited = await bot.edit_message_text(lines, CHAT, last.message_id)
        assert edited.text.endswith(CUT_MARK.strip()) and len(edited.text) <= 4096
        await bot.send_document(CHAT, b"%PDF-1.4", filename="r.pdf", caption="说" * 2000)
        assert len(transport.sent[-1].text or "") <= 1024
    assert transport.refused == []
