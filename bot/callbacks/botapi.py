"""What the callback channels' Bot API translations share (bot/wecom/transport.py, bot/wechat/transport.py).

Each is a `telegram.request.BaseRequest` answering the Bot API by calling its platform for the user
a chat id stands for. Shared here: the dispatch of a Bot API method to `_api_<method>`, file
downloads by a channel file id (`<prefix><media id>`), the platform's errors as Telegram's statuses
(`PlatformError`: transient → 502, which PTB raises as NetworkError, so the outbox retries;
unreachable → 403, Forbidden, refused for good; anything else 400, BadRequest), the chat id → platform
user cache, the "is this edit only a progress counter" rule, and the methods WeChat and WeCom have no
counterpart for (answered as done).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, ClassVar
from urllib.parse import quote, unquote

from telegram.request import BaseRequest, RequestData

from bot.transport import BOT_USER
from db.session import Database

# WeCom and WeChat cannot edit a sent text, so an edit arrives as a new message; an edit that only
# changes numbers (a progress counter) is shown again at most this often.
COUNTER_EDIT_SECONDS = 30.0
_NUMBERS = re.compile(r"\d+")


class PlatformError(Exception):
    """A platform API call failed. str() is safe for logs: platform, path and code, no content."""

    platform: ClassVar[str] = "platform"

    def __init__(self, errcode: int, path: str) -> None:
        super().__init__(f"{self.platform} {path} errcode {errcode}")
        self.errcode = errcode
        self.path = path


class ChannelBotAPI(BaseRequest):
    """The shared half; a channel sets `prefix`, `error` and its error code sets, and implements
    `lookup_user`, `file_content` and its `_api_<method>`s."""

    prefix: ClassVar[str] = ""  # of the channel's file ids and button press ids
    error: ClassVar[type[PlatformError]] = PlatformError
    transient_errors: ClassVar[frozenset[int]] = frozenset()
    unreachable_errors: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, db: Database) -> None:
        self.db = db
        self._users: dict[int, str] = {}
        self.known_ids: dict[str, int] = {}  # platform user id -> stored PTB id
        self._edit_shown: dict[tuple[int, int], float] = {}  # (chat, message) -> when an edit was last sent

    # -- what a channel implements -----------------------------------------------------------------
    async def lookup_user(self, ptb_id: int) -> str | None:
        raise NotImplementedError

    async def file_content(self, media_id: str) -> bytes:
        raise NotImplementedError

    # -- BaseRequest -------------------------------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        return 30.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def api_error(self, exc: PlatformError) -> tuple[int, str]:
        """The Bot API status and description a platform error stands for (see the module docstring)."""
        if exc.errcode in self.transient_errors:
            return 502, f"Bad Gateway: {exc}"
        if exc.errcode in self.unreachable_errors:
            return 403, f"Forbidden: {exc}"
        return 400, f"Bad Request: {exc}"

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
                media_id = self.media_id_of(unquote(url.rsplit("/", 1)[-1]))
                if media_id is None:
                    return self._error(404, "Not Found")
                return 200, await self.file_content(media_id)
            endpoint = url.rsplit("/", 1)[-1]
            params = dict(request_data.parameters) if request_data else {}
            uploads = request_data.multipart_data if request_data and request_data.contains_files else {}
            handler = getattr(self, f"_api_{endpoint}", None)
            if handler is None:
                return self._error(400, f"Bad Request: method {endpoint} is not available on {self.error.platform}")
            result = await handler(params, uploads or {})
        except PlatformError as exc:
            return self._error(*self.api_error(exc))
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()

    @staticmethod
    def _error(code: int, description: str) -> tuple[int, bytes]:
        return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()

    # -- helpers -----------------------------------------------------------------------------------
    @classmethod
    def media_file_id(cls, media_id: str) -> str:
        return cls.prefix + quote(media_id, safe="")

    @classmethod
    def media_id_of(cls, file_id: str) -> str | None:
        return unquote(file_id[len(cls.prefix) :]) if file_id.startswith(cls.prefix) else None

    def remember(self, ptb_id: int, user: str) -> None:
        self._users[ptb_id] = user
        self.known_ids[user] = ptb_id

    async def user_of(self, chat_id: Any) -> str:
        """The platform user of a chat id; -3 (unreachable) for a chat that is not this channel's."""
        ptb_id = int(chat_id)
        if ptb_id not in self._users:
            user = await self.lookup_user(ptb_id)
            if user is None:
                raise self.error(-3, "no such user")
            self._users[ptb_id] = user
        return self._users[ptb_id]

    @staticmethod
    def uploaded(uploads: dict[str, Any], default_name: str) -> tuple[str, bytes]:
        """(file name, bytes) of the file a sendDocument / sendPhoto carries."""
        name, content = default_name, b""
        for part in uploads.values():
            name, content = part[0], part[1] if isinstance(part[1], bytes) else part[1].read()
        return name, content

    def counter_only(self, chat_id: int, message_id: int, old_text: str, new_text: str) -> bool:
        """True for an edit that only changes numbers within COUNTER_EDIT_SECONDS of the last one
        shown (then it is not sent again); otherwise notes that this edit is being shown."""
        key, now = (chat_id, message_id), time.monotonic()
        if _NUMBERS.sub("#", old_text) == _NUMBERS.sub("#", new_text) and (
            now - self._edit_shown.get(key, float("-inf")) < COUNTER_EDIT_SECONDS
        ):
            return True
        self._edit_shown[key] = now
        return False

    @staticmethod
    def _message(chat_id: int, extra: dict[str, Any]) -> dict[str, Any]:
        return {"date": int(time.time()), "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER, **extra}

    # -- Bot API methods without a counterpart -------------------------------------------------------
    async def _api_getMe(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        return BOT_USER

    async def _api_answerCallbackQuery(self, params: dict[str, Any], uploads: Any) -> bool:
        return True  # neither platform has a toast

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
