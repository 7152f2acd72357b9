"""What reaches the conversations at all: private chats only, and not faster than a person types.

Registered before every conversation (handler groups of their own), so no handler has to think
about either:

- Text with control characters (NUL and the like; no keyboard types them) or bidirectional
  overrides (U+202E, which show a text as another) is answered once and goes no further.
- Personal and official data go only to private chats. In a group or supergroup the bot answers a
  message addressed to it (a command, a mention, a reply to the bot, a button press) once with a
  pointer to a private chat and handles nothing; other group talk, channel posts, posts of
  anonymous admins or linked channels (they carry `sender_chat`, not a person) and edited messages
  are dropped quietly. The same policy holds on every channel.
- A per-user flood limit (`limits.messages_per_minute`): past it the user hears once that they
  should wait, and further updates are dropped until the minute has passed. Counted in this
  process: with replicas each counts its own share, which still bounds a flood.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from rules.text_input import refusal

PRIVATE_ONLY = "为保护个人信息和办事数据，信用查询等功能只在与我的私聊中使用。请点击下方按钮与我私聊。"
TOO_FAST = "您发送得太快了，请 {seconds} 秒后再试。"
# What a name may not hold (rules/text_input.py: controls, bidirectional overrides) is refused here
# for every message, since any message may be a name; the same rule guards the port and imports.
CONTROL_CHARACTERS = "消息{reason}，请删除后重新发送。"
WINDOW_SECONDS = 60.0
MAX_TRACKED_USERS = 100_000


def _addressed_to_bot(update: Update, username: str | None) -> bool:
    message = update.effective_message
    if message is None:
        return False
    if message.reply_to_message and message.reply_to_message.from_user and message.reply_to_message.from_user.is_bot:
        return True
    for entity, text in message.parse_entities([MessageEntity.BOT_COMMAND, MessageEntity.MENTION]).items():
        if entity.type == MessageEntity.BOT_COMMAND:
            return "@" not in text or (username is not None and text.endswith(f"@{username}"))
        if username is not None and text == f"@{username}":
            return True
    return False


async def chat_policy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.channel_post or update.edited_channel_post or update.edited_message:
        raise ApplicationHandlerStop
    chat, user = update.effective_chat, update.effective_user
    if user is None or chat is None:
        raise ApplicationHandlerStop
    message = update.effective_message
    if chat.type == Chat.PRIVATE:
        reason = refusal(message.text or message.caption or "") if message is not None else None
        if message is not None and reason is not None:
            await message.reply_text(CONTROL_CHARACTERS.format(reason=reason))
            raise ApplicationHandlerStop
        return
    if message is not None and message.sender_chat is not None:
        raise ApplicationHandlerStop  # an anonymous admin or a linked channel: no person to answer
    username = context.bot.username
    if update.callback_query:
        await update.callback_query.answer(PRIVATE_ONLY, show_alert=True)
    elif message is not None and _addressed_to_bot(update, username):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("与信用通私聊", url=f"https://t.me/{username}")]])
        await message.reply_text(PRIVATE_ONLY, reply_markup=markup)
    raise ApplicationHandlerStop


class FloodLimit:
    """Sliding 60-second window of update times per user, bounded in memory (oldest users evicted)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: dict[int, float] = {}

    def wait_seconds(self, user_id: int, now: float) -> float:
        """0 when this update may pass (and is counted); otherwise the seconds to wait."""
        times = self._seen.pop(user_id, None) or deque()
        self._seen[user_id] = times
        while times and now - times[0] >= WINDOW_SECONDS:
            times.popleft()
        if len(self._seen) > MAX_TRACKED_USERS:
            evicted, _ = self._seen.popitem(last=False)
            self._warned.pop(evicted, None)
        if len(times) < self.per_minute:
            times.append(now)
            return 0.0
        return WINDOW_SECONDS - (now - times[0])

    def first_warning(self, user_id: int, now: float) -> bool:
        """Whether to say "wait" now: once per window, not to every dropped update."""
        last = self._warned.get(user_id)
        if last is not None and now - last < WINDOW_SECONDS:
            return False
        self._warned[user_id] = now
        return True


def flood_guard(limit: FloodLimit) -> TypeHandler[Update, None]:
    async def check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        now = time.monotonic()
        wait = limit.wait_seconds(user.id, now)
        if not wait:
            return
        if update.callback_query:
            await update.callback_query.answer(TOO_FAST.format(seconds=int(wait) + 1))
        elif limit.first_warning(user.id, now) and update.effective_chat:
            await update.effective_chat.send_message(TOO_FAST.format(seconds=int(wait) + 1))
        raise ApplicationHandlerStop

    return TypeHandler(Update, check)


# Handler groups of their own, ahead of everything the conversations register (PTB runs only the
# first matching handler of a group, so sharing a group would silence a conversation's own guard).
CHAT_POLICY_GROUP, FLOOD_GROUP = -20, -10


def install_guards(app: Application, messages_per_minute: int) -> None:
    """Register both guards ahead of every conversation."""
    app.add_handler(TypeHandler(Update, chat_policy), group=CHAT_POLICY_GROUP)
    app.add_handler(flood_guard(FloodLimit(messages_per_minute)), group=FLOOD_GROUP)
