"""One Bot API for every channel: Telegram, WeCom and WeChat users served by the same Application.

PTB has one `Bot` per Application, so one request object must answer for all. This one looks at
what a call is about (the chat id, a file id, a callback query id) and hands it to the channel that
owns it, or to the real Telegram request; calls about no chat (getMe, setMyCommands, getUpdates)
go to Telegram when it is configured, else to the first channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from telegram.request import BaseRequest, RequestData


@dataclass(frozen=True)
class Route:
    """A channel's transport, the chat ids it owns and the prefix of its file and press ids."""

    transport: BaseRequest
    owns_chat: Callable[[Any], bool]
    prefix: str


def wecom_route(transport: BaseRequest) -> Route:
    from bot.wecom.store import is_wecom_chat
    from bot.wecom.transport import FILE_PREFIX

    return Route(transport, is_wecom_chat, FILE_PREFIX)


def wechat_route(transport: BaseRequest) -> Route:
    from bot.wechat.store import is_wechat_chat
    from bot.wechat.transport import FILE_PREFIX

    return Route(transport, is_wechat_chat, FILE_PREFIX)


class ChannelRouter(BaseRequest):
    def __init__(self, telegram: BaseRequest | None, *routes: Route) -> None:
        assert telegram is not None or routes, "a router needs at least one channel"
        self.telegram = telegram
        self.routes = routes

    @property
    def read_timeout(self) -> float | None:
        return 30.0

    async def initialize(self) -> None:
        for route in self.routes:
            await route.transport.initialize()
        if self.telegram is not None:
            await self.telegram.initialize()

    async def shutdown(self) -> None:
        for route in self.routes:
            await route.transport.shutdown()
        if self.telegram is not None:
            await self.telegram.shutdown()

    def route_for(self, url: str, request_data: RequestData | None) -> BaseRequest:
        if "/file/bot" in url:
            name = unquote(url.rsplit("/", 1)[-1])
            found = [r for r in self.routes if name.startswith(r.prefix)]
        else:
            params = request_data.parameters if request_data else {}
            found = [
                r for r in self.routes
                if r.owns_chat(params.get("chat_id"))
                or any(str(params.get(k, "")).startswith(r.prefix) for k in ("file_id", "callback_query_id"))
            ]
        if found:
            return found[0].transport
        return self.telegram if self.telegram is not None else self.routes[0].transport

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
        target = self.route_for(url, request_data)
        return await target.do_request(url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout)
