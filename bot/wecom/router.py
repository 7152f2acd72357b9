"""One Bot API for two channels: Telegram and WeCom users served by the same Application.

PTB has one `Bot` per Application, so one request object must answer for both. This one looks at
what a call is about (the chat id, a file id, a callback query id) and hands it to the WeCom
translation layer or to the real Telegram request; calls about no chat (getMe, setMyCommands,
getUpdates) go to Telegram when it is configured.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from telegram.request import BaseRequest, RequestData

from bot.wecom.store import is_wecom_chat
from bot.wecom.transport import FILE_PREFIX, WeComBotAPI


class ChannelRouter(BaseRequest):
    def __init__(self, telegram: BaseRequest | None, wecom: WeComBotAPI) -> None:
        self.telegram = telegram
        self.wecom = wecom

    @property
    def read_timeout(self) -> float | None:
        return self.wecom.read_timeout

    async def initialize(self) -> None:
        await self.wecom.initialize()
        if self.telegram is not None:
            await self.telegram.initialize()

    async def shutdown(self) -> None:
        await self.wecom.shutdown()
        if self.telegram is not None:
            await self.telegram.shutdown()

    def is_for_wecom(self, url: str, request_data: RequestData | None) -> bool:
        if "/file/bot" in url:
            return unquote(url.rsplit("/", 1)[-1]).startswith(FILE_PREFIX)
        params = request_data.parameters if request_data else {}
        if is_wecom_chat(params.get("chat_id")):
            return True
        return any(str(params.get(k, "")).startswith(FILE_PREFIX) for k in ("file_id", "callback_query_id"))

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
        target: BaseRequest = self.wecom
        if self.telegram is not None and not self.is_for_wecom(url, request_data):
            target = self.telegram
        return await target.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
