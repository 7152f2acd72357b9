"""An in-process Bot API: the Telegram side of the conversation, answered without a network.

The real PTB Application, its handlers, conversation states and keyboards run unchanged on top of
it; only the HTTP hop to api.telegram.org is replaced. The console channel and the tests use it to
see exactly what the bot would have sent.

It refuses what the real Bot API refuses, with the real error (https://core.telegram.org/bots/api:
sendMessage text 1-4096 characters, captions 0-1024, callback_data 1-64 bytes, answerCallbackQuery
text 0-200 and once per query, an edit that changes nothing, files over 50 MB, a user who blocked
the bot, and on demand a passing outage), so a test fails where Telegram would have refused the reply.
setWebhook is checked as the Bot API server does it (tdlib/telegram-bot-api, Client.cpp
`do_set_webhook` and WebhookActor.cpp): secret_token at most 256 characters of A-Z a-z 0-9 _ -,
an HTTPS URL on port 443, 80, 88 or 8443 whose host is not a reserved address, at most one new
webhook a second, and no getUpdates while a webhook is set.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from telegram.request import BaseRequest, RequestData

from render.chunks import utf16_units

# Limits of the Bot API (https://core.telegram.org/bots/api), counted as Telegram counts.
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_SECRET_TOKEN = 256
WEBHOOK_PORTS = (443, 80, 88, 8443)
_SECRET_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
_BAD_WEBHOOK = "Bad Request: bad webhook: "


class BotAPIRefusal(Exception):
    """What the real Bot API would answer with `ok: false` (and `parameters`, e.g. retry_after)."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _check_webhook(url: str, secret: str) -> None:
    """setWebhook's refusals for a non-empty `url`, in the order the Bot API server makes them."""
    parts = urlsplit(url if "://" in url else f"https://{url}")  # a URL without scheme is HTTPS
    try:
        port = parts.port or (80 if parts.scheme.lower() == "http" else 443)
    except ValueError:
        port = -1
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or port < 0:
        raise BotAPIRefusal(400, "Bad Request: invalid webhook URL specified")
    if len(secret) > MAX_SECRET_TOKEN:
        raise BotAPIRefusal(400, "Bad Request: secret token is too long")
    if not _SECRET_ALPHABET.fullmatch(secret):
        raise BotAPIRefusal(400, "Bad Request: secret token contains unallowed characters")
    if parts.scheme.lower() != "https":
        raise BotAPIRefusal(400, _BAD_WEBHOOK + "An HTTPS URL must be provided for webhook")
    if port not in WEBHOOK_PORTS:
        raise BotAPIRefusal(400, _BAD_WEBHOOK + "Webhook can be set up only on ports 80, 88, 443 or 8443")
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith(".localhost"):
        host = "127.0.0.1"  # what it resolves to everywhere
    elif host.endswith(".invalid"):  # RFC 2606: never resolves
        raise BotAPIRefusal(400, _BAD_WEBHOOK + "Failed to resolve host: Name or service not known")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a host name: the stand-in cannot resolve it and takes it as public
    if address.version == 6:
        raise BotAPIRefusal(400, _BAD_WEBHOOK + "IPv6-only addresses are not allowed")
    if not address.is_global or address.is_multicast:
        raise BotAPIRefusal(400, _BAD_WEBHOOK + f"IP address {address} is reserved")


def _check_text(text: Any, edit: bool = False) -> None:
    if not isinstance(text, str) or not text.strip():
        raise BotAPIRefusal(400, "Bad Request: message text is empty")
    if utf16_units(text) > MAX_TEXT:
        raise BotAPIRefusal(400, "Bad Request: message is too long")


def _check_caption(caption: Any) -> None:
    if isinstance(caption, str) and utf16_units(caption) > MAX_CAPTION:
        raise BotAPIRefusal(400, "Bad Request: message caption is too long")


def _check_markup(markup: Any) -> None:
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise BotAPIRefusal(400, "Bad Request: BUTTON_DATA_INVALID")
            if not str(button.get("text") or "").strip():
                raise BotAPIRefusal(400, "Bad Request: text buttons are unallowed in the inline keyboard")

BOT_USER: dict[str, Any] = {
    "id": 700000001,
    "is_bot": True,
    "first_name": "信用通",
    "username": "xinyongtong_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Outgoing:
    """One action of the bot, as a person at the other end would see it."""

    method: str
    chat_id: int | None
    text: str | None = None
    message_id: int | None = None
    buttons: list[list[str]] = field(default_factory=list)
    callback_data: list[list[str | None]] = field(default_factory=list)
    inline: bool = True
    file_name: str | None = None
    content: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "chat_id": self.chat_id, "text": self.text}
        if self.buttons:
            out["buttons"] = self.buttons
        if self.message_id is not None and self.method.startswith("edit"):
            out["message_id"] = self.message_id
        if self.file_name is not None:
            out["document"] = self.file_name
        return out


def _keyboard(markup: Any) -> tuple[list[list[str]], list[list[str | None]], bool]:
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return [], [], True
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        return (
            [[b["text"] for b in row] for row in rows],
            [[b.get("callback_data") for b in row] for row in rows],
            True,
        )
    if "keyboard" in markup:
        rows = markup["keyboard"]
        labels = [[b if isinstance(b, str) else b["text"] for b in row] for row in rows]
        return labels, [[None] * len(r) for r in labels], False
    return [], [], True


class InProcessBotAPI(BaseRequest):
    """Answers Bot API calls from memory and records every outgoing action."""

    FILE_MARK = "/file/bot"

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.listeners: list[Callable[[Outgoing], None]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        # From the clock, so a restarted process never reuses an id (Telegram's ids only grow).
        self._message_ids = itertools.count(time.time_ns() // 1_000_000)
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._next_set_webhook = 0.0  # monotonic time before which a new webhook is refused (429)
        self.pending_updates: list[dict[str, Any]] = []
        # Users who blocked the bot: sending to them fails as it would on Telegram.
        self.blocked: set[int] = set()
        # Chats Telegram cannot reach for now (502 Bad Gateway, PTB's NetworkError): a send fails but
        # may succeed later, as after an outage.
        self.unreachable: set[int] = set()
        # Refusals answered so far (method, description): tests assert there were none.
        self.refused: list[tuple[str, str]] = []
        # Callback queries already answered: Telegram accepts one answer per query.
        self._answered_queries: set[str] = set()

    # -- BaseRequest ---------------------------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        return 5.0

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
        if self.FILE_MARK in url:
            file_id = url.rsplit("/", 1)[-1]
            if file_id not in self.files:
                return 404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'
            return 200, self.files[file_id][0]
        endpoint = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        uploads = request_data.multipart_data if request_data and request_data.contains_files else {}
        handler = getattr(self, f"_api_{endpoint}", None)
        if handler is None:
            return self._error(400, f"Bad Request: method {endpoint} is not served in-process")
        try:
            self._check_limits(endpoint, params, uploads)
            result = handler(params, uploads)
        except BotAPIRefusal as exc:
            self.refused.append((endpoint, exc.description))
            return self._error(exc.code, exc.description, exc.parameters)
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()

    def _check_limits(self, endpoint: str, params: dict[str, Any], uploads: Any) -> None:
        if "chat_id" in params and endpoint.startswith("send") and int(params["chat_id"]) in self.blocked:
            raise BotAPIRefusal(403, "Forbidden: bot was blocked by the user")
        if "chat_id" in params and endpoint.startswith("send") and int(params["chat_id"]) in self.unreachable:
            raise BotAPIRefusal(502, "Bad Gateway")
        if endpoint in ("sendMessage", "editMessageText"):
            _check_text(params.get("text"))
        if endpoint in ("sendDocument", "sendPhoto", "editMessageCaption"):
            _check_caption(params.get("caption"))
            size = sum(len(part[1]) for part in (uploads or {}).values() if isinstance(part[1], bytes))
            if size > MAX_UPLOAD_BYTES:
                raise BotAPIRefusal(413, "Request Entity Too Large")
        if endpoint == "answerCallbackQuery" and utf16_units(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER:
            raise BotAPIRefusal(400, "Bad Request: MESSAGE_TOO_LONG")
        _check_markup(params.get("reply_markup"))
        if endpoint == "editMessageText":
            current = self.messages.get((int(params["chat_id"]), int(params["message_id"])))
            markup = params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup
            if current is not None and current.get("text") == params.get("text") and current.get("reply_markup") == markup:
                raise BotAPIRefusal(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup are "
                    "exactly the same as a current content and reply markup of the message",
                )

    # -- inbound files -------------------------------------------------------------------------
    def register_file(self, content: bytes, file_name: str) -> dict[str, Any]:
        """Store a file a user sends; returns the Telegram Document dict for the update."""
        digest = hashlib.sha256(content).hexdigest()
        file_id = f"local-{digest[:24]}"
        self.files[file_id] = (content, file_name)
        return {
            "file_id": file_id,
            "file_unique_id": digest[:16],
            "file_name": file_name,
            "file_size": len(content),
        }

    def next_message_id(self) -> int:
        """Message ids of a chat form one growing sequence, the user's messages and the bot's alike."""
        return next(self._message_ids)

    def latest_with_buttons(self, chat_id: int) -> dict[str, Any] | None:
        for (chat, _mid), message in sorted(self.messages.items(), key=lambda kv: kv[0][1], reverse=True):
            if chat == chat_id and message.get("reply_markup"):
                return message
        return None

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> tuple[int, bytes]:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return code, json.dumps(body).encode()

    def _emit(self, out: Outgoing) -> None:
        self.sent.append(out)
        for listener in self.listeners:
            listener(out)

    def _new_message(self, chat_id: int, extra: dict[str, Any]) -> dict[str, Any]:
        message_id = self.next_message_id()
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            **extra,
        }
        self.messages[(chat_id, message_id)] = message
        return message

    def _outgoing(self, method: str, params: dict[str, Any], message: dict[str, Any] | None) -> Outgoing:
        labels, data, inline = _keyboard(params.get("reply_markup"))
        return Outgoing(
            method=method,
            chat_id=int(params["chat_id"]) if "chat_id" in params else None,
            text=params.get("text") or params.get("caption"),
            message_id=message["message_id"] if message else params.get("message_id"),
            buttons=labels,
            callback_data=data,
            inline=inline,
            params=params,
        )

    # -- Bot API methods -----------------------------------------------------------------------
    def _api_getMe(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        return BOT_USER

    def _api_sendMessage(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        markup = params.get("reply_markup")
        extra: dict[str, Any] = {"text": params["text"]}
        if markup is not None:
            extra["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        message = self._new_message(int(params["chat_id"]), extra)
        self._emit(self._outgoing("sendMessage", params, message))
        return message

    def _api_editMessageText(self, params: dict[str, Any], uploads: Any) -> dict[str, Any] | bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            message = self._new_message(key[0], {})
        message["text"] = params["text"]
        markup = params.get("reply_markup")
        if markup is not None:
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        self._emit(self._outgoing("editMessageText", params, message))
        return message

    def _api_editMessageReplyMarkup(self, params: dict[str, Any], uploads: Any) -> dict[str, Any] | bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key) or self._new_message(key[0], {})
        markup = params.get("reply_markup")
        if markup is not None:
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        else:
            message.pop("reply_markup", None)
        self._emit(self._outgoing("editMessageReplyMarkup", params, message))
        return message

    def _send_file(self, method: str, field_name: str, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        name, content = "file", b""
        for part in uploads.values():
            name, content = part[0], part[1] if isinstance(part[1], bytes) else part[1].read()
        document = self.register_file(content, name)
        if method == "sendPhoto":
            payload: Any = [{**document, "width": 800, "height": 600}]
        else:
            payload = document
        extra: dict[str, Any] = {field_name: payload}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        message = self._new_message(int(params["chat_id"]), extra)
        out = self._outgoing(method, params, message)
        out.file_name, out.content = name, content
        self._emit(out)
        return message

    def _api_sendDocument(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        return self._send_file("sendDocument", "document", params, uploads)

    def _api_sendPhoto(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        return self._send_file("sendPhoto", "photo", params, uploads)

    def _api_getFile(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        file_id = params["file_id"]
        content, _name = self.files.get(file_id, (b"", ""))
        return {
            "file_id": file_id,
            "file_unique_id": file_id[-16:],
            "file_size": len(content),
            "file_path": file_id,
        }

    def _api_answerCallbackQuery(self, params: dict[str, Any], uploads: Any) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id in self._answered_queries:
            raise BotAPIRefusal(400, "Bad Request: query is too old and response timeout expired or query id is invalid")
        self._answered_queries.add(query_id)
        if params.get("text"):
            self._emit(Outgoing("answerCallbackQuery", None, text=params["text"], params=params))
        return True

    def _api_deleteMessage(self, params: dict[str, Any], uploads: Any) -> bool:
        self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
        return True

    def _api_sendChatAction(self, params: dict[str, Any], uploads: Any) -> bool:
        return True

    def _api_setMyCommands(self, params: dict[str, Any], uploads: Any) -> bool:
        return True

    def _api_deleteMyCommands(self, params: dict[str, Any], uploads: Any) -> bool:
        return True

    def _api_setWebhook(self, params: dict[str, Any], uploads: Any) -> bool:
        url, secret = str(params.get("url") or ""), str(params.get("secret_token") or "")
        if not url:
            return self._api_deleteWebhook(params, uploads)
        now = time.monotonic()
        if now < self._next_set_webhook:
            raise BotAPIRefusal(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._next_set_webhook = now + 1
        _check_webhook(url, secret)
        self.webhook_url, self.webhook_secret = url, secret or None
        return True

    def _api_deleteWebhook(self, params: dict[str, Any], uploads: Any) -> bool:
        self.webhook_url = self.webhook_secret = None
        return True

    def _api_getUpdates(self, params: dict[str, Any], uploads: Any) -> list[Any]:
        """Hands out queued updates, as Telegram would to a polling bot (offset acknowledges)."""
        if self.webhook_url:
            raise BotAPIRefusal(
                409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                "the webhook first",
            )
        offset = int(params.get("offset") or 0)
        self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        return list(self.pending_updates)

    def _api_close(self, params: dict[str, Any], uploads: Any) -> bool:
        return True
