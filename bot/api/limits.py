"""Request body size limit (413), as plain ASGI middleware so it runs before any parsing.

A declared `Content-Length` above the limit is refused at once; a body without one (chunked) is
counted while it arrives and refused as soon as it passes the limit.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DETAIL = "请求内容超过 {mb} MB 的上限，请分批提交（报送每批最多 5000 条，批量核查每次最多 1000 个主体）。"


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"type": "about:blank", "title": "请求过大", "status": 413,
             "detail": DETAIL.format(mb=self.max_bytes // (1024 * 1024))},
            ensure_ascii=False,
        ).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    def __repr__(self) -> str:  # pragma: no cover
        return f"BodySizeLimit({self.max_bytes})"


__all__: list[Any] = ["BodySizeLimit"]
