"""Delivering to chats other than the caller's: notices to a list of chats, PDFs as documents.

A use case has already committed when these run, so a chat that blocked the bot (or any other
Bot API error) is logged without personal data and skipped, never raised.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from telegram import InputFile
from telegram.error import TelegramError
from telegram.ext import ContextTypes

log = logging.getLogger(__name__)


async def tell(context: ContextTypes.DEFAULT_TYPE, chats: Sequence[int], text: str) -> int:
    """Message each chat in `chats`; returns how many were reached."""
    reached = 0
    for chat_id in chats:
        try:
            await context.bot.send_message(chat_id, text)
            reached += 1
        except TelegramError as exc:
            log.warning("could not notify a chat: %s", type(exc).__name__)
    return reached


async def send_pdf(context: ContextTypes.DEFAULT_TYPE, chat_id: int, pdf: bytes, file_name: str, caption: str) -> bool:
    """Send `pdf` as a document named `file_name`; False when the chat could not be reached."""
    try:
        await context.bot.send_document(chat_id, InputFile(io.BytesIO(pdf), filename=file_name), caption=caption)
    except TelegramError as exc:
        log.warning("could not deliver %s: %s", file_name, type(exc).__name__)
        return False
    return True
