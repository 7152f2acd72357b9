"""What a request may carry, checked as plain ASGI middleware before any parsing: a body size
limit (413), a deadline for the whole body (408: a client sending its body byte by byte holds no
worker for ever; the head has its own deadline, bot/api/server.py) and no NUL character anywhere (422).

A declared `Content-Length` above the limit is refused at once; a body without one (chunked) is
read here while it arrives and refused as soon as it passes the limit. A NUL (raw, or escaped as
\u0000 in JSON, or %00 in the address) is typed by no person and refused by PostgreSQL in text, so it
is answered here instead of failing deep inside a use case.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL_DETAIL = "请求中含有不可见的控制字符（NUL），请删除后重新提交。"
_NUL_FORMS = (b"\x00", b"\\u0000", b"%00")
SLOW_DETAIL = "请求内容发送过慢，未能在规定时间内收完，请检查网络后重新提交。"
DETAIL = "请求内容超过 {mb} MB 的上限，请分批提交（报送每批最多 5000 条，批量核查每次最多 1000 个主体）。"


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, body_seconds: float = 60.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_seconds = body_seconds

    async def _refuse(self, send: Send, status: int = 413) -> None:
        detail = {413: DETAIL.format(mb=self.max_bytes // (1024 * 1024)), 408: SLOW_DETAIL}.get(status, NUL_DETAIL)
        title = {413: "请求过大", 408: "请求超时"}.get(status, "请求内容无效")
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": detail}, ensure_ascii=False
        ).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if any(form in (scope.get("query_string") or b"") or form in (scope.get("raw_path") or b"") for form in _NUL_FORMS):
            await self._refuse(send, 422)
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
        deadline = asyncio.get_running_loop().time() + self.body_seconds
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                await self._refuse(send, 408)
                return
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

        if any(form in m.get("body", b"") for m in body for form in _NUL_FORMS):
            await self._refuse(send, 422)
            return

        async def replay() -> Message:
            return body.pop(0) if body else await receive()

        await self.app(scope, replay, send)
