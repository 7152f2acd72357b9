"""The port's HTTP server: uvicorn, with the limits an endpoint reachable by other systems needs.

uvicorn's defaults suit a server behind a reverse proxy that buffers requests: a connection that
sends half a request head is kept open for ever, there is no limit on connections, and the open-file
limit of the process (often 1,024 by default) is all that bounds them. 1,100 half-sent requests then
used every descriptor and ordinary requests failed. Here, from `[api]`:

- the open-file limit is raised to what the system allows (as Go's runtime does at start-up), and
  each worker's connection limit (`limit_concurrency`, 503 beyond it) is kept below it;
- a request head must arrive within `request_head_seconds` and hold at most `max_head_kb` (431
  beyond it); a connection still waiting for its head then is closed;
- when the connections reach the limit, the one that has waited longest for a head is closed to
  make room (a slow client loses its place, an ordinary request gets one), so half-sent requests
  never crowd out answered ones;
- idle kept-alive connections close after `timeout_keep_alive`; the body has its own deadline
  (`request_body_seconds`, bot/api/limits.py);
- `X-Forwarded-For` and `X-Forwarded-Proto` are believed only from `forwarded_allow_ips` (uvicorn
  otherwise trusts 127.0.0.1, so any local client could claim any address past the `/verify` limit);
- the 503 past the connection limit, the 431 and the 400 for a request the HTTP parser cannot read
  (unencoded Chinese in the URL) are problem+json like every other error of the port.

It extends uvicorn's httptools protocol (its callbacks `on_url`, `on_header`, `send_400_response`,
`_start_asgi_task`): tests/test_api_http_server.py drives each behaviour through a real server, so an
uvicorn release that changes them fails there.

The values reach each worker's protocol through the ASGI lifespan state (`protocol_state`), which
uvicorn hands to every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
from collections import OrderedDict
from typing import Any, ClassVar

from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from services.settings import ApiSettings

STATE_KEY = "creditbot.http_limits"
# Descriptors a worker keeps for itself beyond connections: database pool, logs, index snapshot, imports.
RESERVED_FILES = 128
_UNLIMITED_TARGET = 1 << 20
OVERLOADED = json.dumps({"type": "about:blank", "title": "服务繁忙", "status": 503,
                         "detail": "服务器当前处理的请求过多，请稍后按 Retry-After 重试。"}, ensure_ascii=False).encode()
_HEAD_BODY = json.dumps({"type": "about:blank", "title": "请求头过大", "status": 431,
                         "detail": "请求头超过上限（api.max_head_kb），请精简后重试。"}, ensure_ascii=False).encode()
TOO_LARGE_HEAD = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/problem+json\r\n"
                  b"content-length: " + str(len(_HEAD_BODY)).encode() + b"\r\nconnection: close\r\n\r\n" + _HEAD_BODY)

# A request the HTTP parser cannot read (unencoded Chinese in the URL, a broken request line): uvicorn
# answers before any app code runs, in plain English ("Invalid HTTP request received."); ours says
# it in the port's problem+json. The connection is closed, as uvicorn does.
_MALFORMED_BODY = json.dumps({"type": "about:blank", "title": "请求有误", "status": 400,
                              "detail": "无法解析该 HTTP 请求：请求行或请求头不符合 HTTP 规范。网址中的中文等字符须按"
                                        " UTF-8 百分号编码（例如 curl 加 -G --data-urlencode \"q=名称\"）。"},
                             ensure_ascii=False).encode()
MALFORMED = (b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\n"
             b"content-length: " + str(len(_MALFORMED_BODY)).encode() + b"\r\nconnection: close\r\n\r\n"
             + _MALFORMED_BODY)


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (a service started with the common default of
    1,024 may hold far more); returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connection_limit(api: ApiSettings) -> int:
    """Connections (and requests in flight) one worker accepts: `limit_concurrency`, kept below what
    the open-file limit leaves after the worker's own files."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    room = api.limit_concurrency if soft == resource.RLIM_INFINITY else soft - RESERVED_FILES
    return max(16, min(api.limit_concurrency, room))


def protocol_state(api: ApiSettings) -> dict[str, Any]:
    """What the lifespan hands to every connection's protocol (see `HeadLimits`)."""
    return {STATE_KEY: (float(api.request_head_seconds), api.max_head_kb * 1024, connection_limit(api))}


class HeadLimits:
    """Mixin for uvicorn's HTTP protocols: a deadline and a size limit for each request head, and
    room made for new connections by closing the one waiting longest for its head.

    "Waiting for a head" is decided by uvicorn's own state: no request cycle, or the last one
    answered. The deadline runs from the connection's start, or from the first byte of the next
    request on a kept-alive connection (an idle one is closed by uvicorn's keep-alive timeout)."""

    # Per worker process: connections waiting for a head, oldest first.
    _waiting: ClassVar[OrderedDict[HeadLimits, float]] = OrderedDict()
    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0

    # Provided by uvicorn's protocol class.
    app_state: dict[str, Any]
    connections: set[Any]
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def _limits(self) -> tuple[float, int, int]:
        return self.app_state.get(STATE_KEY) or protocol_state(ApiSettings())[STATE_KEY]  # type: ignore[no-any-return]

    def _awaiting_head(self) -> bool:
        return self.cycle is None or bool(self.cycle.response_complete)

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(self._limits()[0], self._expired)
            self._waiting[self] = self.loop.time()

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._waiting.pop(self, None)

    def _expired(self) -> None:
        self._head_timer = None
        self._waiting.pop(self, None)
        if self._awaiting_head() and not self.transport.is_closing():
            self.transport.close()

    def _make_room(self) -> None:
        """Close the connections waiting longest for a head until this one fits under the limit, with
        a margin: a closed connection leaves uvicorn's count only a loop iteration later, and a
        request whose head arrives meanwhile must not find the count at the limit (503)."""
        limit = self._limits()[2]
        room = limit - max(8, limit // 16)
        if len(self.connections) <= room:
            return
        excess = sum(1 for c in self.connections if not c.transport.is_closing()) - room
        while excess > 0 and self._waiting:
            oldest = next(iter(self._waiting))
            oldest._disarm()
            if not oldest.transport.is_closing():
                oldest.transport.close()
                excess -= 1

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._make_room()
        self._arm()

    def data_received(self, data: bytes) -> None:
        counting = False
        if self._awaiting_head():
            self._arm()
            # The rest of the body of a request answered early (a 413) is no head: not counted.
            counting = self.cycle is None or not self.cycle.more_body
        super().data_received(data)  # type: ignore[misc]
        if not self._awaiting_head():
            self._disarm()  # a head completed in this data (its body may have come with it)
        elif counting:
            self._head_bytes += len(data)
            if self._head_bytes > self._limits()[1]:
                self._disarm()
                self.transport.write(TOO_LARGE_HEAD)
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]


class HttpToolsHeadLimits(HeadLimits, HttpToolsProtocol):
    """uvicorn's C-parser protocol (what its "auto" picks) with `HeadLimits`, answering its
    connection limit with problem+json like every other error of the port."""

    _head_size = 0
    _head_too_large = False

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        super()._start_asgi_task(cycle, overloaded if app is service_unavailable else app)

    # A head that arrives whole in one read is measured by the parser's callbacks: over the limit,
    # the callback's error stops the parser, and uvicorn's 400 for it becomes our 431.
    def on_message_begin(self) -> None:
        self._head_size = 0
        super().on_message_begin()

    def _count_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self._limits()[1]:
            self._head_too_large = True
            raise ValueError("request head too large")

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request its parser refused (`msg` is its English reason, not sent):
        431 for a head over the limit, else the port's Chinese 400."""
        self._disarm()
        self.transport.write(TOO_LARGE_HEAD if self._head_too_large else MALFORMED)
        self.transport.close()


async def overloaded(scope: Any, receive: Any, send: Any) -> None:
    """uvicorn's answer past `limit_concurrency` (a plain-text 503) as problem+json, with Retry-After."""
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(OVERLOADED)).encode()),
        (b"retry-after", b"1"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": OVERLOADED})


def uvicorn_options(api: ApiSettings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` from the settings (host, port and workers aside)."""
    trusted = api.forwarded_allow_ips.strip()
    return {
        "http": HttpToolsHeadLimits,
        "timeout_keep_alive": api.timeout_keep_alive,
        "limit_concurrency": connection_limit(api),
        "backlog": api.backlog,
        "h11_max_incomplete_event_size": api.max_head_kb * 1024,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or "",
        "access_log": False,
        "server_header": False,
    }
