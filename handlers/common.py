"""Small helpers every conversation module shares: services, the caller's account, replying."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from db.models import Account
from render.buttons import Buttons, keyboard
from rules.roles import Viewer
from services.accounts import account_for_user
from services.conversations import CallerAccount
from services.numbering import region_abbr
from services.runtime import SERVICES_KEY, Services
from services.settings import PrivacySettings

# Where the flow dispatcher leaves the caller's account it read with the flow, for this update only
# (PTB makes one context per update and hands it to every handler group).
_ARRIVED_CALLER = "creditbot_arrived_caller"


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data[SERVICES_KEY]


def doc_prefix(context: ContextTypes.DEFAULT_TYPE) -> str:
    """The region's abbreviation that opens every document number this bot issues (安 for 安康市)."""
    return region_abbr(services(context).settings.region.division_code)


def viewer_for(account: CallerAccount, privacy: PrivacySettings) -> Viewer:
    """What an account may see: a deactivated account sees what the public sees."""
    return Viewer(
        account_id=account.account_id,
        role=account.role if account.active else "public",
        department_id=account.department_id if account.active else None,
        subject_ids=account.subject_ids if account.active else frozenset(),
        mask_person_names=privacy.mask_person_names,
        mask_addresses=privacy.mask_addresses,
    )


def keep_arrived_caller(context: ContextTypes.DEFAULT_TYPE, account: CallerAccount | None) -> None:
    """The flow dispatcher's read of the caller's account (`services.conversations.arrive`), kept for
    the first handler of this update that asks `viewer_of`, so the account is read once per update."""
    vars(context)[_ARRIVED_CALLER] = account


async def viewer_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Viewer:
    """What the caller may see: from the account the dispatcher read at the start of this update
    (used once, so a handler that changed the account meanwhile reads it afresh), else as `caller`."""
    arrived = vars(context).pop(_ARRIVED_CALLER, None)
    if arrived is not None:
        return viewer_for(arrived, services(context).settings.privacy)
    return (await caller(update, context))[1]


async def caller(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Account, Viewer]:
    """The caller's account (created as `public` on first contact) and what it may see, read afresh."""
    user = update.effective_user
    assert user is not None
    vars(context).pop(_ARRIVED_CALLER, None)  # the account may change from here on in this update
    privacy = services(context).settings.privacy
    async with services(context).db.transaction() as s:
        account = await account_for_user(s, user.id, user.full_name)
        await account.awaitable_attrs.department
        subjects = await account.awaitable_attrs.subjects
        read = CallerAccount(account.id, account.role, account.active, account.department_id,
                      frozenset(sub.id for sub in subjects))
    return account, viewer_for(read, privacy)


async def reply(update: Update, text: str, buttons: Buttons | None = None) -> None:
    """Answer in the chat the update came from, whether it was a message or a button press."""
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text, reply_markup=keyboard(buttons))


@asynccontextmanager
async def heavy_job(update: Update, context: ContextTypes.DEFAULT_TYPE, what: str) -> AsyncIterator[None]:
    """Run the block in one of the process's few heavy-job slots (services/heavy.py): told when it
    must queue, refused when this user already has one running. Ordinary questions never wait here."""
    user = update.effective_user

    async def queued(position: int) -> None:
        await reply(update, f"正在处理其他用户的任务，您的{what}已排队（第 {position} 位），完成后会自动发送，请稍候……")

    async with services(context).heavy.slot(user.id if user else None, queued):
        yield


async def resend_attachments(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    attachments: Iterable[Mapping[str, Any]],
    with_names: bool = False,
) -> None:
    """Send stored attachments again by Telegram file id: the bot keeps no copies of the files."""
    chat = update.effective_chat
    assert chat is not None
    for a in attachments:
        caption = a.get("name") if with_names else None
        try:
            if a.get("kind") == "photo":
                await context.bot.send_photo(chat.id, a["file_id"], caption=caption)
            else:
                await context.bot.send_document(chat.id, a["file_id"], caption=caption)
        except TelegramError:
            await reply(update, f"附件 {a.get('name') or ''} 无法取回。")
