"""Request body size limit (413), as plain ASGI middleware so it runs before any parsing.

A declared `Content-Length` above the limit is refused at once; a body without one (chunked) is
read here while it arrives and refused as soon as it passes the limit.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DETAIL = "请求内容超过 {mb} MB 的上限，请分批提交（报送每批最多 5000 条，批量核查每次最多 1000 个主体）。"


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
        # Read the body here, within the limit, then hand it on: this also bounds a body without a
        # declared length (chunked) or with a false one. (Raising from inside the app's receive
        # would not do: FastAPI turns any error while reading a body into a 400.)
        body: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                body.append(message)
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            body.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return body.pop(0) if body else await receive()

        await self.app(scope, replay, send)
