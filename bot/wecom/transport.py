"""The Bot API, translated into WeCom API calls: the handlers talk Telegram, WeCom users see WeCom.

A `telegram.request.BaseRequest`, like the console's in-process Bot API (bot/transport.py):
- sendMessage → text message(s), cut at WeCom's 2,048-byte limit; with an inline keyboard → button
  cards (template_card, button_interaction), at most 6 buttons per card, further buttons on further
  cards; a short text rides in the card itself, a longer one goes first as text;
- editMessageText after a button press → an update of the pressed card (once, by its response code),
  else the new text as a new message (a progress counter at most every 30 s);
  editMessageReplyMarkup(None) → the pressed card's button greyed out;
- sendDocument / sendPhoto → media/upload + file / image message (a stored "wecom-" file id is sent
  again by its media_id); getFile + download → media/get;
- answerCallbackQuery → nothing (WeCom has no toast); getMe and the like are answered locally.
Platform errors come back to PTB as a Bot API error ("wecom errcode N"): the handlers' error paths
and the application's error handler take over, so the user gets a Chinese apology, never the code.
The HTTP status says what kind of failure it is, the way Telegram's would (`api_error`): a transient
one (busy, token, egress IP, non-JSON) is 502, which PTB raises as NetworkError, so the outbox retries
it; a recipient that cannot be reached (81013 …) is 403, raised as Forbidden, refused for good; any
other (a malformed request) 400, BadRequest.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import secrets
import time
from typing import Any

from bot.callbacks.botapi import ChannelBotAPI
from bot.wecom import store
from bot.wecom.api import TRANSIENT_ERRORS, UNREACHABLE_ERRORS, WeComClient, WeComError
from bot.wecom.limits import split_bytes

log = logging.getLogger(__name__)

FILE_PREFIX = "wecom-"
CARD_BUTTONS = 6  # button_interaction: button_list holds at most 6 buttons
CARD_TITLE_CHARS = 36  # main_title.title, as WeCom's card documentation recommends
CARD_TEXT_CHARS = 160  # sub_title_text
MORE_TITLE = "请选择："
MEDIA_CACHE = 32  # files fetched for an inbound message, kept for the handler's getFile


def inline_buttons(markup: Any) -> list[tuple[str, str]]:
    """[(label, callback_data)] of an inline keyboard, row by row; other markups give none."""
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return []
    return [(b["text"], b.get("callback_data") or "") for row in markup.get("inline_keyboard", []) for b in row]


def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    return markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None


def card_body(title: str, text: str | None, buttons: list[tuple[str, str]], task_id: str) -> dict[str, Any]:
    """One button_interaction template card. Keys are the callback data (unique within a card, as
    WeCom requires; a repeated one is replaced by its position, "#N")."""
    seen: set[str] = set()
    button_list = []
    for index, (label, data) in enumerate(buttons):
        key = data if data and data not in seen else f"#{index}"
        seen.add(key)
        button_list.append({"text": label, "style": 1, "key": key})
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        "task_id": task_id,
        "button_list": button_list,
    }
    if text:
        card["sub_title_text"] = text
    return card


def fits_in_card(text: str) -> tuple[str, str] | None:
    """(title, body) when the text fits a card's title and sub-title, else None."""
    title, _, rest = text.strip().partition("\n")
    if not title or len(title) > CARD_TITLE_CHARS or len(rest.strip()) > CARD_TEXT_CHARS:
        return None
    return title, rest.strip()


class WeComBotAPI(ChannelBotAPI):
    """Answers the Bot API by calling WeCom for the member a chat id stands for."""

    prefix = FILE_PREFIX
    error = WeComError
    transient_errors = TRANSIENT_ERRORS
    unreachable_errors = UNREACHABLE_ERRORS

    def __init__(self, client: WeComClient) -> None:
        super().__init__(client.db)
        self.client = client
        self._media: collections.OrderedDict[str, tuple[bytes, str | None]] = collections.OrderedDict()

    async def lookup_user(self, ptb_id: int) -> str | None:
        return await store.wecom_user_of(self.db, ptb_id)

    async def file_content(self, media_id: str) -> bytes:
        return (await self.fetch_media(media_id))[0]

    async def fetch_media(self, media_id: str) -> tuple[bytes, str | None]:
        """media/get, remembered briefly: the inbound side reads a file's name, the handler its bytes."""
        if media_id in self._media:
            return self._media[media_id]
        found = await self.client.media(media_id)
        self._media[media_id] = found
        while len(self._media) > MEDIA_CACHE:
            self._media.popitem(last=False)
        return found

    async def _send_texts(self, user: str, text: str) -> None:
        for piece in split_bytes(text):
            await self.client.send(user, "text", {"content": piece})

    async def _send_content(self, user: str, message_id: int, text: str, buttons: list[tuple[str, str]]) -> None:
        """Text and button cards standing for one Telegram message (its keyboard, if any)."""
        if not buttons:
            await self._send_texts(user, text)
            return
        in_card = fits_in_card(text)
        if in_card is None:
            await self._send_texts(user, text)
        cards: list[tuple[str, int]] = []
        for first in range(0, len(buttons), CARD_BUTTONS):
            task_id = f"m{message_id}_{first}_{secrets.token_hex(4)}"
            if first == 0 and in_card is not None:
                title, body = in_card
            else:
                title, body = MORE_TITLE, ""
            await self.client.send(user, "template_card", card_body(title, body, buttons[first : first + CARD_BUTTONS], task_id))
            cards.append((task_id, first))
        await store.save_cards(self.db, message_id, cards)

    # -- Bot API methods -------------------------------------------------------------------------
    async def _api_sendMessage(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        user = await self.user_of(chat_id)
        markup = _markup(params)
        extra: dict[str, Any] = {"text": params["text"]}
        if markup is not None:
            extra["reply_markup"] = markup
        message = await store.save_message(self.db, chat_id, self._message(chat_id, extra))
        await self._send_content(user, message["message_id"], params["text"], inline_buttons(markup))
        return message

    async def _api_editMessageText(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        user = await self.user_of(chat_id)
        message = await store.load_message(self.db, chat_id, message_id) or self._message(chat_id, {"message_id": message_id})
        markup = _markup(params)
        text = params["text"]
        buttons = inline_buttons(markup)
        pressed = await store.take_response_code(self.db, message_id)
        in_card = fits_in_card(text)
        if pressed is not None and in_card is not None and len(buttons) <= CARD_BUTTONS:
            task_id, code = pressed
            title, body = in_card
            if buttons:
                card = card_body(title, body, buttons, task_id)
            else:  # no buttons left: the card says what happened, its button greyed out
                card = {**card_body(title, body, [("已处理", "")], task_id)}
            await self.client.update_card(user, code, {"template_card": card})
        else:
            if pressed is not None:
                await self.client.update_card(user, pressed[1], {"button": {"replace_name": "已处理"}})
            counter = self.counter_only(chat_id, message_id, str(message.get("text", "")), text)
            if pressed is not None or buttons or not counter:
                await self._send_content(user, message_id, text, buttons)
        message = {**message, "text": text, "edit_date": int(time.time())}
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        await store.replace_message(self.db, chat_id, message_id, message)
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        user = await self.user_of(chat_id)
        message = await store.load_message(self.db, chat_id, message_id) or self._message(chat_id, {"message_id": message_id})
        markup = _markup(params)
        if markup is None:
            pressed = await store.take_response_code(self.db, message_id)
            if pressed is not None:
                await self.client.update_card(user, pressed[1], {"button": {"replace_name": "已选择"}})
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
            await self._send_content(user, message_id, MORE_TITLE, inline_buttons(markup))
        await store.replace_message(self.db, chat_id, message_id, message)
        return message

    async def _send_file(self, method: str, field: str, params: dict[str, Any], uploads: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        user = await self.user_of(chat_id)
        kind = "image" if method == "sendPhoto" else "file"
        if uploads:
            name, content = self.uploaded(uploads, "file")
            media_id = await self.client.upload(kind, name, content)
            size: int | None = len(content)
        else:
            media_id = self.media_id_of(str(params.get(field, "")))
            if media_id is None:
                raise WeComError(40007, f"{method} (file not from this channel)")
            name, size = None, None
        if params.get("caption"):
            await self._send_texts(user, params["caption"])
        await self.client.send(user, kind, {"media_id": media_id})
        file_id = self.media_file_id(media_id)
        unique = hashlib.sha256(media_id.encode()).hexdigest()[:16]
        info: dict[str, Any] = {"file_id": file_id, "file_unique_id": unique}
        if size is not None:
            info["file_size"] = size
        extra: dict[str, Any]
        if kind == "image":
            extra = {"photo": [{**info, "width": 0, "height": 0}]}
        else:
            extra = {"document": {**info, **({"file_name": name} if name else {})}}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return await store.save_message(self.db, chat_id, self._message(chat_id, extra))

    async def _api_sendDocument(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        return await self._send_file("sendDocument", "document", params, uploads)

    async def _api_sendPhoto(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        return await self._send_file("sendPhoto", "photo", params, uploads)

    async def _api_getFile(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        file_id = str(params["file_id"])
        media_id = self.media_id_of(file_id)
        if media_id is None:
            raise WeComError(40007, "getFile (file not from this channel)")
        content, _name = await self.fetch_media(media_id)
        return {
            "file_id": file_id,
            "file_unique_id": hashlib.sha256(media_id.encode()).hexdigest()[:16],
            "file_size": len(content),
            "file_path": file_id,
        }


media_file_id = WeComBotAPI.media_file_id
media_id_of = WeComBotAPI.media_id_of
