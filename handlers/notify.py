"""Delivering to chats other than the caller's: notices through the outbox (services.notices), PDFs
as documents.

A use case has already committed when these run. A notice is written to the outbox first and sent
at once; a send that fails for now is retried by the repeating job `retry_notices`, one the chat
refuses (the bot blocked, the chat gone) is not. Failures are logged by error class only, never with
personal data, and never raised: the caller gets a `Delivery` to tell the official the truth.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import logging
from collections.abc import Sequence

from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from db.session import Database
from handlers.common import services
from services import notices
from services.notices import Claimed, Delivery

log = logging.getLogger(__name__)

RETRY_EVERY_SECONDS = 60


async def _send(bot: Bot, db: Database, claimed: Claimed) -> None:
    pdf = await notices.document_of(db, claimed)
    if pdf is not None:
        name = claimed.file_name or "告知书.pdf"
        await bot.send_document(claimed.chat_id, InputFile(io.BytesIO(pdf), filename=name), caption=claimed.text)
    else:
        await bot.send_message(claimed.chat_id, claimed.text)


async def _send_one(bot: Bot, db: Database, claimed: Claimed) -> str:
    """Renew the claim and check the recipient (`notices.take`), send within SEND_TIMEOUT (well
    under the lease, so no other sender can take the row meanwhile), settle; returns its status."""
    skipped = await notices.take(db, claimed)
    if skipped is not None:
        return skipped
    try:
        await asyncio.wait_for(_send(bot, db, claimed), notices.SEND_TIMEOUT.total_seconds())
    except (Forbidden, BadRequest) as exc:  # retrying cannot help
        log.warning("notice %d refused: %s", claimed.id, type(exc).__name__)
        return await notices.settle(db, claimed, notices.REFUSED, type(exc).__name__)
    except (TelegramError, TimeoutError) as exc:
        log.warning("notice %d not delivered for now: %s", claimed.id, type(exc).__name__)
        return await notices.settle(db, claimed, "failed", type(exc).__name__)
    return await notices.settle(db, claimed, notices.DELIVERED)


async def send_claimed(bot: Bot, db: Database, claimed: Sequence[Claimed]) -> Delivery:
    """Send notices claimed by this process, one after the other; count what happened."""
    done = [await _send_one(bot, db, c) for c in claimed]
    return Delivery(
        total=len(done),
        delivered=done.count(notices.DELIVERED),
        retrying=done.count(notices.PENDING),
        refused=len(done) - done.count(notices.DELIVERED) - done.count(notices.PENDING),
    )


async def tell(
    context: ContextTypes.DEFAULT_TYPE, chats: Sequence[int], text: str, kind: str = "notice",
    by_account_id: int | None = None, document: notices.Document | None = None, subject_id: int | None = None,
) -> Delivery:
    """Write a notice to each chat in `chats` to the outbox and send it at once (a `document`: the
    stored 事前告知书, `text` its caption); `by_account_id` is the official whose decision owes it,
    `subject_id` the subject it is about. Returns what became of them."""
    svc = services(context)
    claimed = await notices.post(
        svc.db, chats, text, kind, svc.settings.privacy.id_hash_key,
        by_account_id=by_account_id, document=document, subject_id=subject_id,
    )
    return await send_claimed(context.bot, svc.db, claimed)


def delivery_line(whom: str, delivery: Delivery) -> str:
    """The truth about a notice, for the official: never "已通知" for a notice that did not arrive;
    one that failed for now is said to be retried, one the chat refuses to need another way."""
    total, retrying, refused = delivery.total, delivery.retrying, delivery.refused
    if total == 0:
        return f"{whom}尚未绑定机器人账号，无法在线通知，请另行书面告知。"
    if delivery.delivered == total:
        return f"已通知{whom}。"
    later = "系统将自动重试，仍未送达的将列入 /undelivered，届时请另行书面告知"
    blocked = "（对方可能已屏蔽或停用机器人），请另行书面告知"
    if refused == total:
        return f"通知未能送达{whom}{blocked}。"
    if retrying == total:
        return f"通知暂未送达{whom}，{later}。"
    parts = [f"通知{whom}（共 {total} 个账号）：已送达 {delivery.delivered} 个"]
    if retrying:
        parts.append(f"{retrying} 个暂未送达，{later}")
    if refused:
        parts.append(f"{refused} 个未能送达{blocked}")
    return "；".join(parts) + "。"


async def retry_due(bot: Bot, db: Database, key: str, now: dt.datetime | None = None) -> Delivery:
    """Claim the notices whose retry is due at `now` (default: now) and send them, batch after batch;
    `key` opens their sealed text (privacy.id_hash_key)."""
    total = Delivery()
    while claimed := await notices.claim_due(db, key, now):
        done = await send_claimed(bot, db, claimed)
        total = Delivery(*(a + b for a, b in zip(dataclasses.astuple(total), dataclasses.astuple(done), strict=True)))
        if len(claimed) < notices.BATCH:
            break
    return total


async def retry_notices(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The repeating job. Claiming first makes it safe to run in every replica at once."""
    svc = services(context)
    done = await retry_due(context.bot, svc.db, svc.settings.privacy.id_hash_key)
    if done.total:
        log.info("notice retries: %d delivered, %d to retry, %d refused or given up", done.delivered, done.retrying, done.refused)


def schedule(app: Application) -> None:
    """Every minute, first shortly after start-up (which also catches up on what a restart missed)."""
    assert app.job_queue is not None
    app.job_queue.run_repeating(retry_notices, interval=RETRY_EVERY_SECONDS, first=5, name="notice_retries")


async def send_pdf(context: ContextTypes.DEFAULT_TYPE, chat_id: int, pdf: bytes, file_name: str, caption: str) -> bool:
    """Send `pdf` as a document named `file_name`; False when the chat could not be reached."""
    try:
        await context.bot.send_document(chat_id, InputFile(io.BytesIO(pdf), filename=file_name), caption=caption)
    except TelegramError as exc:
        log.warning("could not deliver %s: %s", file_name, type(exc).__name__)
        return False
    return True
