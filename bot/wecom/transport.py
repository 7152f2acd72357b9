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
import re
import secrets
import time
from typing import Any
from urllib.parse import quote, unquote

from telegram.request import BaseRequest, RequestData

from bot.transport import BOT_USER
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
# WeCom cannot edit a sent text, so an edit arrives as a new message; an edit that only changes
# numbers (a progress counter) is shown again at most this often.
COUNTER_EDIT_SECONDS = 30.0
_NUMBERS = re.compile(r"\d+")


def api_error(exc: WeComError) -> tuple[int, str]:
    """The Bot API status and description a WeCom error stands for (see the module docstring)."""
    if exc.errcode in TRANSIENT_ERRORS:
        return 502, f"Bad Gateway: {exc}"
    if exc.errcode in UNREACHABLE_ERRORS:
        return 403, f"Forbidden: {exc}"
    return 400, f"Bad Request: {exc}"


def media_file_id(media_id: str) -> str:
    return FILE_PREFIX + quote(media_id, safe="")


def media_id_of(file_id: str) -> str | None:
    return unquote(file_id[len(FILE_PREFIX) :]) if file_id.startswith(FILE_PREFIX) else None


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


class WeComBotAPI(BaseRequest):
    """Answers the Bot API by calling WeCom for the member a chat id stands for."""

    def __init__(self, client: WeComClient) -> None:
        self.client = client
        self.db = client.db
        self._users: dict[int, str] = {}
        self.known_ids: dict[str, int] = {}  # WeCom user id -> stored PTB id
        self._edit_shown: dict[tuple[int, int], float] = {}  # (chat, message) -> when an edit was last sent
        self._media: collections.OrderedDict[str, tuple[bytes, str | None]] = collections.OrderedDict()

    # -- BaseRequest -------------------------------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        return 30.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        try:
            if "/file/bot" in url:
                media_id = media_id_of(unquote(url.rsplit("/", 1)[-1]))
                if media_id is None:
                    return self._error(404, "Not Found")
                content, _name = await self.fetch_media(media_id)
                return 200, content
            endpoint = url.rsplit("/", 1)[-1]
            params = dict(request_data.parameters) if request_data else {}
            uploads = request_data.multipart_data if request_data and request_data.contains_files else {}
            handler = getattr(self, f"_api_{endpoint}", None)
            if handler is None:
                return self._error(400, f"Bad Request: method {endpoint} is not available on WeCom")
            result = await handler(params, uploads or {})
        except WeComError as exc:
            return self._error(*api_error(exc))
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()

    @staticmethod
    def _error(code: int, description: str) -> tuple[int, bytes]:
        return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()

    # -- helpers -----------------------------------------------------------------------------------
    def remember(self, ptb_id: int, user: str) -> None:
        self._users[ptb_id] = user

    async def user_of(self, chat_id: Any) -> str:
        ptb_id = int(chat_id)
        if ptb_id not in self._users:
            user = await store.wecom_user_of(self.db, ptb_id)
            if user is None:
                raise WeComError(-3, "no such member")  # a chat that is not a WeCom member
            self._users[ptb_id] = user
        return self._users[ptb_id]

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

    @staticmethod
    def _message(chat_id: int, extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            **extra,
        }

    # -- Bot API methods -------------------------------------------------------------------------
    async def _api_getMe(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        return BOT_USER

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
            key, now = (chat_id, message_id), time.monotonic()
            counter_only = (
                pressed is None
                and not buttons
                and _NUMBERS.sub("#", str(message.get("text", ""))) == _NUMBERS.sub("#", text)
                and now - self._edit_shown.get(key, float("-inf")) < COUNTER_EDIT_SECONDS
            )
            if not counter_only:
                await self._send_content(user, message_id, text, buttons)
                self._edit_shown[key] = now
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
            name, content = "file", b""
            for part in uploads.values():
                name, content = part[0], part[1] if isinstance(part[1], bytes) else part[1].read()
            media_id = await self.client.upload(kind, name, content)
            size: int | None = len(content)
        else:
            media_id = media_id_of(str(params.get(field, "")))
            if media_id is None:
                raise WeComError(40007, f"{method} (file not from this channel)")
            name, size = None, None
        if params.get("caption"):
            await self._send_texts(user, params["caption"])
        await self.client.send(user, kind, {"media_id": media_id})
        file_id = media_file_id(media_id)
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
        media_id = media_id_of(file_id)
        if media_id is None:
            raise WeComError(40007, "getFile (file not from this channel)")
        content, _name = await self.fetch_media(media_id)
        return {
            "file_id": file_id,
            "file_unique_id": hashlib.sha256(media_id.encode()).hexdigest()[:16],
            "file_size": len(content),
            "file_path": file_id,
        }

    async def _api_answerCallbackQuery(self, params: dict[str, Any], uploads: Any) -> bool:
        return True

    async def _api_deleteMessage(self, params: dict[str, Any], uploads: Any) -> bool:
        return True

    async def _api_sendChatAction(self, params: dict[str, Any], uploads: Any) -> bool:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any], uploads: Any) -> bool:
        return True

    async def _api_deleteMyCommands(self, params: dict[str, Any], uploads: Any) -> bool:
        return True

    async def _api_getUpdates(self, params: dict[str, Any], uploads: Any) -> list[Any]:
        return []

    async def _api_close(self, params: dict[str, Any], uploads: Any) -> bool:
        return True
