"""WeCom callback events → genuine Telegram `Update`s, so the handlers run unchanged.

| WeCom (decrypted XML)                      | Update                                               |
|--------------------------------------------|------------------------------------------------------|
| MsgType text                               | a message with that text (a leading /cmd is a command) |
| MsgType image (MediaId)                    | a message with a photo; its file_id fetches by media/get |
| MsgType file (MediaId)                     | a message with a document named as media/get names it |
| Event enter_agent (the user opens the app) | the message /start                                    |
| Event template_card_event (a card button)  | a callback query on the message the card stands for, the button's key as data |
Voice, video, location and link messages get a short Chinese answer saying what the bot takes;
other events are ignored.

The WeCom user id (a string) is mapped to a stored integer id (bot/wecom/store.py): that integer is
the account key, exactly like a Telegram user id, so binding codes, roles and departments apply.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from telegram import Bot, CallbackQuery, Chat, Document, Message, MessageEntity, PhotoSize, Update, User

from bot.wecom import store
from bot.wecom.transport import WeComBotAPI, inline_buttons, media_file_id

UNSUPPORTED_KINDS = frozenset({"voice", "video", "location", "link"})
UNSUPPORTED_ANSWER = "暂不支持语音、视频、位置和链接消息。请发送文字，或以文件、图片发送材料；发送 /help 查看用法。"

def dedupe_key(fields: dict[str, str]) -> str:
    """MsgId for messages; for events (which have none) user + event + key + task + time."""
    if fields.get("MsgId"):
        return f"msg:{fields['MsgId']}"
    parts = [fields.get(k, "") for k in ("FromUserName", "CreateTime", "Event", "EventKey", "TaskId")]
    return "evt:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _entities(text: str) -> list[MessageEntity] | None:
    if not text.startswith("/"):
        return None
    command = text.split(maxsplit=1)[0]
    return [MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command.encode("utf-16-le")) // 2)]


async def update_from_event(
    fields: dict[str, str], event_id: int, corp_id: str, transport: WeComBotAPI, bot: Bot
) -> Update | None:
    """The Update a decrypted callback stands for, or None when the bot has nothing to do with it.

    `event_id` (the inbox row) is its update id, its message id and its button press id: stable, so
    an event handled again after a crash or a transient failure is the same update to the flows."""
    member = fields.get("FromUserName", "")
    if not member:
        return None
    ptb_id = transport.known_ids.get(member)
    if ptb_id is None:  # stored once, never changes: remember it
        ptb_id = transport.known_ids[member] = await store.ptb_id_for(transport.db, corp_id, member)
        transport.remember(ptb_id, member)
    user = User(id=ptb_id, first_name=member, is_bot=False, language_code="zh-hans")
    chat = Chat(id=ptb_id, type=Chat.PRIVATE, first_name=member)
    created = dt.datetime.fromtimestamp(int(fields.get("CreateTime") or 0) or dt.datetime.now(dt.UTC).timestamp(), dt.UTC)

    def message(**extra: Any) -> Message:
        return Message(message_id=event_id, date=created, chat=chat, from_user=user, **extra)

    kind = fields.get("MsgType")
    update: Update | None = None
    if kind == "text":
        text = fields.get("Content", "").strip()
        if text:
            update = Update(event_id, message=message(text=text, entities=_entities(text)))
    elif kind in ("image", "file") and fields.get("MediaId"):
        media_id = fields["MediaId"]
        unique = hashlib.sha256(media_id.encode()).hexdigest()[:16]
        if kind == "image":
            photo = PhotoSize(media_file_id(media_id), unique, width=0, height=0)
            update = Update(event_id, message=message(photo=(photo,)))
        else:
            content, name = await transport.fetch_media(media_id)
            document = Document(
                media_file_id(media_id), unique, file_name=fields.get("FileName") or name, file_size=len(content)
            )
            update = Update(event_id, message=message(document=document))
    elif kind == "event" and fields.get("Event") == "enter_agent":
        update = Update(event_id, message=message(text="/start", entities=_entities("/start")))
    elif kind == "event" and fields.get("Event") == "template_card_event":
        update = await _card_click(fields, event_id, user, transport, bot)
    if update is None:
        return None
    # Round trip through JSON: the Application sees what a Telegram webhook would hand it.
    return Update.de_json(json.loads(json.dumps(update.to_dict())), bot)


async def _card_click(fields: dict[str, str], event_id: int, user: User, transport: WeComBotAPI, bot: Bot) -> Update | None:
    found = await store.card_clicked(transport.db, fields.get("TaskId", ""), fields.get("ResponseCode"))
    if found is None:
        return None  # a card this app never sent (or long forgotten)
    stored, _first = found
    key = fields.get("EventKey", "")
    buttons = inline_buttons(stored.get("reply_markup"))
    data = key
    if key.startswith("#") and key[1:].isascii() and key[1:].isdigit():  # a repeated key was sent by its position
        index = int(key[1:])
        data = buttons[index][1] if index < len(buttons) else ""
    if not data:
        return None
    bot_message = Message.de_json(stored, bot)
    query = CallbackQuery(
        id=f"wecom-e{event_id}", from_user=user, chat_instance=f"wecom-{user.id}", data=data, message=bot_message
    )
    return Update(event_id, callback_query=query)
