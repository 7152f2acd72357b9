"""WeChat official account callbacks → genuine Telegram `Update`s, so the handlers run unchanged.

| WeChat (decrypted XML)                      | Update                                                  |
|---------------------------------------------|---------------------------------------------------------|
| MsgType text                                | a message (a leading /cmd is a command)                 |
| MsgType text "2" after numbered choices      | a button press: the second button's callback data, on the message that carried it |
| MsgType image (MediaId)                     | a message with a photo; its file_id fetches by media/get |
| Event subscribe (with qrscene_…) / SCAN     | /start, or the command a parameter QR code stands for (bot/wechat/menu.py) |
| Event CLICK (a menu item)                   | that item's command                                     |
Voice, video, location, link and file messages get a short Chinese answer; other events (VIEW,
unsubscribe, template delivery reports) are ignored.

The OpenID is mapped to a stored integer id (bot/wechat/store.py): that integer is the account key,
exactly like a Telegram user id, so binding codes (授权码 / 绑定码), roles and masking apply alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from typing import Any

from telegram import Bot, CallbackQuery, Chat, Message, MessageEntity, PhotoSize, Update, User

from bot.wechat import menu, store
from bot.wechat.transport import WeChatBotAPI, media_file_id
from bot.wecom import store as sent_messages

UNSUPPORTED_KINDS = frozenset({"voice", "video", "shortvideo", "location", "link", "file"})
UNSUPPORTED_ANSWER = "暂不支持语音、视频、位置、链接和文件消息。请发送文字，或以图片发送材料；点击下方菜单或发送 /help 查看用法。"
MAX_CHOICE_DIGITS = 2


def dedupe_key(fields: dict[str, str]) -> str:
    """MsgId for messages; for events (which have none) OpenID + time + event + key, as WeChat's
    documentation recommends (FromUserName + CreateTime)."""
    if fields.get("MsgId"):
        return f"msg:{fields['MsgId']}"
    parts = [fields.get(k, "") for k in ("FromUserName", "CreateTime", "Event", "EventKey")]
    return "evt:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def choice_number(text: str) -> int | None:
    """The number of a reply that is only a number ("2", "２", " 2 "), else None."""
    folded = unicodedata.normalize("NFKC", text).strip()
    return int(folded) if folded.isascii() and folded.isdigit() and len(folded) <= MAX_CHOICE_DIGITS else None


def _entities(text: str) -> list[MessageEntity] | None:
    if not text.startswith("/"):
        return None
    command = text.split(maxsplit=1)[0]
    return [MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command.encode("utf-16-le")) // 2)]


def _command_of(fields: dict[str, str]) -> str | None:
    event = fields.get("Event", "").lower()
    if event == "subscribe":
        return menu.command_for_scene(fields.get("EventKey", ""))
    if event == "scan":
        return menu.command_for_scene(fields.get("EventKey", ""))
    if event == "click":
        return menu.command_for_click(fields.get("EventKey", ""))
    return None


async def update_from_event(
    fields: dict[str, str], event_id: int, app_id: str, transport: WeChatBotAPI, bot: Bot
) -> Update | None:
    """The Update a decrypted callback stands for, or None. `event_id` (the inbox row) is its update
    id, message id and press id: stable when the event is handled again after a failure."""
    openid = fields.get("FromUserName", "")
    if not openid:
        return None
    ptb_id = transport.known_ids.get(openid)
    if ptb_id is None:
        ptb_id = await store.ptb_id_for(transport.db, app_id, openid)
        transport.remember(ptb_id, openid)
    user = User(id=ptb_id, first_name="微信用户", is_bot=False, language_code="zh-hans")
    chat = Chat(id=ptb_id, type=Chat.PRIVATE, first_name="微信用户")
    created = dt.datetime.fromtimestamp(int(fields.get("CreateTime") or 0) or dt.datetime.now(dt.UTC).timestamp(), dt.UTC)

    def message(**extra: Any) -> Message:
        return Message(message_id=event_id, date=created, chat=chat, from_user=user, **extra)

    kind = fields.get("MsgType")
    update: Update | None = None
    if kind == "text":
        text = fields.get("Content", "").strip()
        number = choice_number(text)
        if number is not None:
            update = await _press(number, event_id, user, transport, bot)
        if update is None and text:
            update = Update(event_id, message=message(text=text, entities=_entities(text)))
    elif kind == "image" and fields.get("MediaId"):
        media_id = fields["MediaId"]
        photo = PhotoSize(media_file_id(media_id), hashlib.sha256(media_id.encode()).hexdigest()[:16], width=0, height=0)
        update = Update(event_id, message=message(photo=(photo,)))
    elif kind == "event":
        command = _command_of(fields)
        if command:
            update = Update(event_id, message=message(text=command, entities=_entities(command)))
    if update is None:
        return None
    return Update.de_json(json.loads(json.dumps(update.to_dict())), bot)


async def _press(number: int, event_id: int, user: User, transport: WeChatBotAPI, bot: Bot) -> Update | None:
    """A numbered reply as the press of that button of the chat's latest message, if it had one."""
    found = await store.choice(transport.db, user.id, number)
    if found is None:
        return None
    message_id, data = found
    stored = await sent_messages.load_message(transport.db, user.id, message_id)
    if stored is None:
        return None
    query = CallbackQuery(
        id=f"wechat-e{event_id}", from_user=user, chat_instance=f"wechat-{user.id}", data=data,
        message=Message.de_json(stored, bot),
    )
    return Update(event_id, callback_query=query)
