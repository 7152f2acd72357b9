"""A client of the WeChat official account API (公众号): token, 客服消息, template and subscription
notices, menu, temporary media.

The access token (cgi-bin/token, valid 7,200 s) is shared by every replica through the database
(the token table the WeCom channel uses, under "wechat:<AppID>"): WeChat invalidates the previous
token when a new one is fetched, so replicas must not each fetch their own. A call refused for its
token (40001 invalid credential, 40014 invalid token, 41001 missing, 42001 expired) fetches a new
token once and is retried once. Errors are raised as `WeChatError` with the code; logged with code
and API path only, never the URL (it carries the token), the secret or the content.

Error codes the channel acts on (the official account's global return codes):
45015 the user has not written within 48 hours (客服消息 refused); 45047 too many 客服消息 since the
user last wrote; 45009 the API's daily quota is used up; 43004 / 40003 the user unsubscribed or
the OpenID is not this account's; 43101 the user did not accept the subscription notice; -1 busy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx

from bot.callbacks.botapi import PlatformError
from bot.wecom import store as tokens
from db.session import Database

log = logging.getLogger(__name__)

PUBLIC_API = "https://api.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 40014, 41001, 42001})
OUT_OF_WINDOW = 45015
TOO_MANY_REPLIES = 45047
BUSY = -1
# Retried later by the outbox: busy, quota, token still failing, non-JSON (-2), too many replies.
TRANSIENT_ERRORS = TOKEN_ERRORS | frozenset({BUSY, -2, 45009, TOO_MANY_REPLIES})
# The user cannot be reached this way; retrying cannot help.
UNREACHABLE_ERRORS = frozenset({OUT_OF_WINDOW, 43004, 40003, 43101, -3})
TOKEN_MARGIN = dt.timedelta(minutes=5)


class WeChatError(PlatformError):
    """A WeChat API call failed. str() is safe for logs: code and path, no content."""

    platform = "wechat"


@dataclass(frozen=True)
class WeChatApp:
    app_id: str
    secret: str
    base_url: str = PUBLIC_API

    @property
    def key(self) -> str:
        return f"wechat:{self.app_id}"


_FILENAME_RE = re.compile(r"filename\*?=(?:UTF-8''|\")?([^\";]+)", re.IGNORECASE)


class WeChatClient:
    """One official account's API client; one per process."""

    def __init__(self, app: WeChatApp, db: Database, http: httpx.AsyncClient | None = None, busy_wait: float = 1.0) -> None:
        self.app = app
        self.db = db
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0))
        self.busy_wait = busy_wait
        self._token: str | None = None
        self._token_lock = asyncio.Lock()

    async def close(self) -> None:
        await self.http.aclose()

    def _url(self, path: str) -> str:
        return f"{self.app.base_url.rstrip('/')}/cgi-bin/{path}"

    async def token(self, failed: str | None = None) -> str:
        """A valid access token. `failed`: the token a call was just refused with (fetch a new one)."""
        async with self._token_lock:
            if failed is not None:
                await tokens.forget_token(self.db, self.app.key, failed)
                if self._token == failed:
                    self._token = None
            if self._token is None:
                self._token = await tokens.cached_token(self.db, self.app.key, TOKEN_MARGIN)
            if self._token is None:
                response = await self.http.get(
                    self._url("token"),
                    params={"grant_type": "client_credential", "appid": self.app.app_id, "secret": self.app.secret},
                )
                body = self._json(response, "token")
                self._token = str(body["access_token"])
                await tokens.store_token(self.db, self.app.key, self._token, int(body.get("expires_in", 7200)))
            return self._token

    @staticmethod
    def _errcode(response: httpx.Response) -> int:
        try:
            return int(response.json().get("errcode", 0) or 0)
        except ValueError:
            return -2

    def _json(self, response: httpx.Response, path: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise WeChatError(-2, path)
        code = self._errcode(response)
        if code:
            raise WeChatError(code, path)
        return dict(response.json())

    async def _call(self, path: str, send: Any) -> httpx.Response:
        """`send(token)`; a token error fetches a new token once and retries once; busy waits once."""
        token = await self.token()
        response = await send(token)
        code = self._errcode(response) if "json" in response.headers.get("content-type", "") else 0
        if code in TOKEN_ERRORS:
            log.info("wechat %s: access token refused (errcode %s), fetching a new one", path, code)
            response = await send(await self.token(failed=token))
        elif code == BUSY:
            await asyncio.sleep(self.busy_wait)
            response = await send(token)
        return response

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        async def send(token: str) -> httpx.Response:
            return await self.http.post(
                self._url(path), params={"access_token": token}, content=_json_bytes(payload),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )

        try:
            return self._json(await self._call(path, send), path)
        except WeChatError as exc:
            log.warning("wechat call failed: %s", exc)
            raise

    # -- messages ----------------------------------------------------------------------------------
    async def send(self, openid: str, msgtype: str, body: dict[str, Any]) -> dict[str, Any]:
        """客服消息 (message/custom/send): only within 48 hours of the user's last message."""
        return await self.post("message/custom/send", {"touser": openid, "msgtype": msgtype, msgtype: body})

    async def send_notice(
        self, openid: str, kind: str, template_id: str, link: str, data: dict[str, str]
    ) -> dict[str, Any]:
        """A template message (模板消息) or a subscription notice (订阅通知, bizsend) with a link."""
        values = {key: {"value": value} for key, value in data.items()}
        if kind == "subscribe":
            payload = {"touser": openid, "template_id": template_id, "page": link, "data": values}
            return await self.post("message/subscribe/bizsend", payload)
        payload = {"touser": openid, "template_id": template_id, "url": link, "data": values}
        return await self.post("message/template/send", payload)

    async def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        return await self.post("menu/create", menu)

    # -- media -------------------------------------------------------------------------------------
    async def upload(self, kind: str, file_name: str, content: bytes) -> str:
        """Temporary media (media/upload, valid 3 days): an image for a 客服消息."""

        async def send(token: str) -> httpx.Response:
            return await self.http.post(
                self._url("media/upload"), params={"access_token": token, "type": kind},
                files={"media": (file_name, content)},
            )

        try:
            return str(self._json(await self._call("media/upload", send), "media/upload")["media_id"])
        except WeChatError as exc:
            log.warning("wechat call failed: %s", exc)
            raise

    async def media(self, media_id: str) -> tuple[bytes, str | None]:
        """media/get: the bytes of what a user sent (an image) and its name, if given."""

        async def send(token: str) -> httpx.Response:
            return await self.http.get(self._url("media/get"), params={"access_token": token, "media_id": media_id})

        response = await self._call("media/get", send)
        if response.status_code != 200 or "json" in response.headers.get("content-type", ""):
            error = WeChatError(self._errcode(response) or -2, "media/get")
            log.warning("wechat call failed: %s", error)
            raise error
        match = _FILENAME_RE.search(response.headers.get("content-disposition", ""))
        return response.content, unquote(match.group(1)) if match else None


def _json_bytes(payload: dict[str, Any]) -> bytes:
    """The body as WeChat wants it: UTF-8 JSON with Chinese as characters, not \\u escapes (WeChat
    shows escapes of some clients literally, and counts its limits on what it receives)."""
    return json.dumps(payload, ensure_ascii=False).encode()
