"""A Bot that never asks Telegram for more than it accepts.

Replies that grow with the data (a long overdue list, statistics, candidate lists) are split into
several messages at line breaks, the keyboard riding on the last one; an edit (a message updated in
place, e.g. a progress line or a page) is cut with a visible mark, because an edit cannot become two
messages; a caption is cut likewise. Handlers keep writing plain `send_message` calls and the limit
is enforced once, here, for every conversation. Limits: https://core.telegram.org/bots/api
(text 1-4096 characters, caption 0-1024).
"""

from __future__ import annotations

from typing import Any

from telegram import Message
from telegram.ext import ExtBot

from render.chunks import split_message, utf16_units

MAX_TEXT = 4096
MAX_CAPTION = 1024
CUT_MARK = "\n……（内容过长，以下从略）"


def _cut(text: str, limit: int) -> str:
    if utf16_units(text) <= limit:
        return text
    head = split_message(text, limit - utf16_units(CUT_MARK))[0]
    return head + CUT_MARK


class LimitedBot(ExtBot[Any]):
    async def send_message(self, chat_id: int | str, text: str, *args: Any, **kwargs: Any) -> Message:
        parts = split_message(text, MAX_TEXT, utf16_units)
        if len(parts) == 1:
            return await super().send_message(chat_id, text, *args, **kwargs)
        markup = kwargs.pop("reply_markup", None)
        for part in parts[:-1]:
            await super().send_message(chat_id, part, *args, **kwargs)
        return await super().send_message(chat_id, parts[-1], *args, reply_markup=markup, **kwargs)

    async def edit_message_text(self, text: str, *args: Any, **kwargs: Any) -> Message | bool:
        return await super().edit_message_text(_cut(text, MAX_TEXT), *args, **kwargs)

    async def send_document(self, chat_id: int | str, document: Any, *args: Any, **kwargs: Any) -> Message:
        if isinstance(kwargs.get("caption"), str):
            kwargs["caption"] = _cut(kwargs["caption"], MAX_CAPTION)
        return await super().send_document(chat_id, document, *args, **kwargs)

    async def send_photo(self, chat_id: int | str, photo: Any, *args: Any, **kwargs: Any) -> Message:
        if isinstance(kwargs.get("caption"), str):
            kwargs["caption"] = _cut(kwargs["caption"], MAX_CAPTION)
        return await super().send_photo(chat_id, photo, *args, **kwargs)
