"""A client of the WeCom server API (企业微信 / 政务微信): token, message/send, cards, media.

The access token comes from gettoken, is cached in memory and in the database (replicas share it)
until shortly before it expires, and is refreshed once when a call answers with an invalid or
expired token (40014, 42001, 41001). Errors are raised as `WeComError` carrying the code; they are
logged with code and API path only: never the URL (it carries the token), the secret or the content.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx

from bot.callbacks.botapi import PlatformError
from bot.wecom import store
from bot.wecom.limits import MemberRateLimiter, SharedMemberRateLimiter
from db.session import Database

log = logging.getLogger(__name__)

PUBLIC_API = "https://qyapi.weixin.qq.com"
TOKEN_ERRORS = frozenset({40014, 41001, 42001})  # invalid / missing / expired access_token
BUSY_ERRORS = frozenset({-1, 45009, 45033})  # system busy / API frequency / concurrency: retry later
# Still failing after the client's own retries, these say nothing about the recipient: the platform is
# busy, the answer was not JSON (-2: a proxy's error page, HTTP 5xx), the token could not be renewed,
# or the server's egress IP is not on the trusted list yet (60020, after an IP change). Retried later.
TRANSIENT_ERRORS = BUSY_ERRORS | TOKEN_ERRORS | frozenset({-2, 60020})
# The recipient cannot be reached this way, so retrying cannot help (WeCom's global error codes):
# 81013 all recipients invalid or out of the app's visible range; 60111 no such userid; 60011 no
# privilege for that member; 46004 no such member; -3 our own "no such member" for a chat id.
UNREACHABLE_ERRORS = frozenset({81013, 60111, 60011, 46004, -3})
TOKEN_MARGIN = dt.timedelta(minutes=5)


class WeComError(PlatformError):
    """A WeCom API call failed. str() is safe for logs: code and path, no content."""

    platform = "wecom"


@dataclass(frozen=True)
class WeComApp:
    corp_id: str
    agent_id: int
    secret: str
    base_url: str = PUBLIC_API

    @property
    def key(self) -> str:
        return f"{self.corp_id}:{self.agent_id}"


_FILENAME_RE = re.compile(r"filename\*?=(?:UTF-8''|\")?([^\";]+)", re.IGNORECASE)


class WeComClient:
    """One app's API client; one per process, shared by the outbound transport and the endpoint."""

    def __init__(
        self,
        app: WeComApp,
        db: Database,
        limiter: MemberRateLimiter | SharedMemberRateLimiter | None = None,
        http: httpx.AsyncClient | None = None,
        busy_retries: int = 3,
        busy_backoff: float = 1.0,
    ) -> None:
        self.app = app
        self.db = db
        self.limiter = limiter or SharedMemberRateLimiter(db)
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0))
        self._token: str | None = None
        self._token_lock = asyncio.Lock()
        self.busy_retries = busy_retries
        self.busy_backoff = busy_backoff

    async def close(self) -> None:
        await self.http.aclose()

    def _url(self, path: str) -> str:
        return f"{self.app.base_url.rstrip('/')}/cgi-bin/{path}"

    # -- token -------------------------------------------------------------------------------------
    async def token(self, failed: str | None = None) -> str:
        """A valid access token. `failed`: the token a call was just refused with (refresh it)."""
        async with self._token_lock:
            if failed is not None:
                await store.forget_token(self.db, self.app.key, failed)
                if self._token == failed:
                    self._token = None
            if self._token is None:
                self._token = await store.cached_token(self.db, self.app.key, TOKEN_MARGIN)
            if self._token is None:
                response = await self.http.get(
                    self._url("gettoken"), params={"corpid": self.app.corp_id, "corpsecret": self.app.secret}
                )
                body = self._json(response, "gettoken")
                self._token = str(body["access_token"])
                await store.store_token(self.db, self.app.key, self._token, int(body.get("expires_in", 7200)))
            return self._token

    @staticmethod
    def _json(response: httpx.Response, path: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            log.error("wecom %s answered HTTP %s without JSON", path, response.status_code)
            raise WeComError(-2, path) from None
        code = int(body.get("errcode", 0) or 0)
        if code:
            raise WeComError(code, path)
        return body

    async def _call(self, path: str, send: Any) -> httpx.Response:
        """Run `send(token)`; refresh the token once on a token error, wait and retry when busy."""
        token = await self.token()
        refreshed = False
        for attempt in range(self.busy_retries + 1):
            response = await send(token)
            if "json" not in response.headers.get("content-type", "") or response.status_code != 200:
                return response
            try:
                code = int(response.json().get("errcode", 0) or 0)
            except ValueError:
                return response
            if code in TOKEN_ERRORS and not refreshed:
                log.info("wecom %s: access token refused (errcode %s), refreshing once", path, code)
                refreshed = True
                token = await self.token(failed=token)
                response = await send(token)
                try:
                    code = int(response.json().get("errcode", 0) or 0)
                except ValueError:
                    return response
            if code in BUSY_ERRORS and attempt < self.busy_retries:
                await asyncio.sleep(self.busy_backoff * (attempt + 1))
                continue
            return response
        return response  # pragma: no cover - the loop always returns

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        async def send(token: str) -> httpx.Response:
            return await self.http.post(self._url(path), params={"access_token": token}, json=payload)

        try:
            return self._json(await self._call(path, send), path)
        except WeComError as exc:
            log.warning("wecom call failed: %s", exc)
            raise

    # -- messages --------------------------------------------------------------------------------
    async def send(self, user_id: str, msgtype: str, body: dict[str, Any]) -> dict[str, Any]:
        """message/send to one member, after waiting for that member's sending window."""
        await self.limiter.acquire(user_id)
        payload = {"touser": user_id, "msgtype": msgtype, "agentid": self.app.agent_id, msgtype: body}
        answer = await self.post("message/send", payload)
        if answer.get("invaliduser"):
            log.warning("wecom message/send: recipient not reachable by this app")
            raise WeComError(81013, "message/send")
        return answer

    async def update_card(self, user_id: str, response_code: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = {"userids": [user_id], "agentid": self.app.agent_id, "response_code": response_code, **body}
        return await self.post("message/update_template_card", payload)

    # -- media -----------------------------------------------------------------------------------
    async def upload(self, kind: str, file_name: str, content: bytes) -> str:
        """media/upload (kind: file / image); the media_id is valid for 3 days."""

        async def send(token: str) -> httpx.Response:
            return await self.http.post(
                self._url("media/upload"),
                params={"access_token": token, "type": kind},
                files={"media": (file_name, content)},
            )

        try:
            return str(self._json(await self._call("media/upload", send), "media/upload")["media_id"])
        except WeComError as exc:
            log.warning("wecom call failed: %s", exc)
            raise

    async def media(self, media_id: str) -> tuple[bytes, str | None]:
        """media/get: the file's bytes and its name from Content-Disposition (if given)."""

        async def send(token: str) -> httpx.Response:
            return await self.http.get(self._url("media/get"), params={"access_token": token, "media_id": media_id})

        response = await self._call("media/get", send)
        if response.status_code != 200 or "json" in response.headers.get("content-type", ""):
            error = WeComError(self._errcode(response), "media/get")
            log.warning("wecom call failed: %s", error)
            raise error
        match = _FILENAME_RE.search(response.headers.get("content-disposition", ""))
        return response.content, unquote(match.group(1)) if match else None

    @staticmethod
    def _errcode(response: httpx.Response) -> int:
        try:
            return int(response.json().get("errcode", -2))
        except ValueError:
            return -2
