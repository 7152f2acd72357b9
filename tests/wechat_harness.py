"""The real Application on a test database, talking to the WeChat stand-in over real HTTP, with the
web pages (download links) served by the HTTP port's app on 127.0.0.1.

Users' messages are security-mode callbacks posted to the bot's server URL; the bot's answers are
客服消息 the stand-in checks and records. A user opens links in their WeChat's browser (`browser`,
`fetch(url, as_user=openid)`): requests carry who they are to the stand-in's 网页授权, as WeChat's
own browser would. `restart()` stops the bot process and starts a new one on
the same database, as a deployment or a crash would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
import tornado.httpserver

import bot.app as bot_app
from bot.callbacks.crypto import CallbackCrypto
from bot.wechat import store
from bot.wechat.api import WeChatApp, WeChatClient
from bot.wechat.endpoint import WeChatChannel
from bot.wechat.transport import LinkSettings, WeChatBotAPI
from db.session import Database
from services.accounts import ensure_local_account
from services.settings import WeChatSettings
from tests.conftest import settings_for
from tests.test_webhook import free_port
from tests.web_server import serving
from tests.wechat_standin import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TEMPLATE_ID,
    TOKEN,
    WECHAT_USER_HEADER,
    Delivered,
    WeChatStandIn,
)
from tests.wecom_harness import settle


def wechat_settings(db: Database, public_url: str, standin: WeChatStandIn):  # type: ignore[no-untyped-def]
    """The test settings with the 服务号 at the stand-in (its API and its 网页授权)."""
    base = settings_for(db)
    wechat = WeChatSettings(app_id=APP_ID, app_secret=APP_SECRET, token=TOKEN, encoding_aes_key=AES_KEY,
                            api_base_url=standin.url, oauth_base_url=standin.url)
    return replace(base, region=replace(base.region, public_url=public_url), wechat=wechat)


class Replica:
    """One bot process serving the 服务号."""

    def __init__(self, standin: WeChatStandIn, database: Database, public_url: str, template: bool,
                 kind: str = "template") -> None:
        self.settings = wechat_settings(database, public_url, standin)
        self.client = WeChatClient(WeChatApp(APP_ID, APP_SECRET, standin.url), database, busy_wait=0.01)
        links = LinkSettings(secret=self.settings.privacy.id_hash_key, public_url=public_url, notice_kind=kind,
                             notice_template_id=TEMPLATE_ID if template else "", timezone=self.settings.tz)
        self.transport = WeChatBotAPI(self.client, links)
        self.app = bot_app.build_application(self.settings, self.transport, db=database)
        self.channel: WeChatChannel | None = None
        self.server: tornado.httpserver.HTTPServer | None = None
        self.url = ""

    async def start(self) -> None:
        await self.app.initialize()
        await bot_app.start_services(self.app)
        await self.app.start()
        self.channel = WeChatChannel(self.app, CallbackCrypto(TOKEN, AES_KEY, APP_ID), self.transport)
        self.channel.start()
        port = free_port()
        self.server = self.channel.listen(port, "127.0.0.1", "/wechat")
        self.url = f"http://127.0.0.1:{port}/wechat"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.channel is not None:
            await self.channel.stop()
        await self.app.stop()
        await self.client.close()
        await self.app.shutdown()


class WeChatHarness:
    def __init__(self, standin: WeChatStandIn, replica: Replica, database: Database, web: str, template: bool,
                 kind: str = "template") -> None:
        self.standin = standin
        self.replica = replica
        self.db = database
        self.web = web
        self.template = template
        self.kind = kind
        self._next = 0

    @property
    def app(self):  # type: ignore[no-untyped-def]
        return self.replica.app

    async def restart(self) -> None:
        await self.replica.stop()
        self.replica = Replica(self.standin, self.db, self.web, self.template, self.kind)
        await self.replica.start()

    async def user(self, role: str = "public", dept: str | None = None, subject: str | None = None) -> str:
        """A follower with an account of `role`; returns the OpenID."""
        self._next += 1
        openid = f"oAbCd{self._next:04d}efGhIjKlMnOpQrStUvWx"[:28]
        ptb_id = await store.ptb_id_for(self.db, APP_ID, openid)
        await ensure_local_account(self.db, ptb_id, role, dept, subject, "测试用户")
        self.standin.follow(openid)
        return openid

    async def post(self, event: dict[str, str]) -> list[Delivered]:
        """Post one callback and wait until it is handled; returns what the user received meanwhile."""
        channel = self.replica.channel
        assert channel is not None
        self.standin.callback_url = self.replica.url
        start = len(self.standin.delivered)
        before = asyncio.all_tasks()
        response = await self.standin.post_callback(event)
        assert response.status_code == 200 and response.text == "success"
        await channel.drain()
        await settle(before)
        return [d for d in self.standin.delivered[start:] if d.openid == event["FromUserName"]]

    async def say(self, openid: str, text: str) -> list[Delivered]:
        return await self.post(self.standin.text_event(openid, text))

    async def choose(self, openid: str, label: str) -> list[Delivered]:
        """Reply with the number of the choice `label` (or starting with it) of the latest choices."""
        latest = next(d for d in reversed(self.standin.inbox(openid)) if d.choices)
        n = next(i for i, c in enumerate(latest.choices, 1) if c == label or c.startswith(label))
        return await self.say(openid, str(n))

    async def refresh(self) -> None:
        from services.name_index import refresh_index

        await refresh_index(self.app.bot_data["services"])

    @staticmethod
    def browser(as_user: str | None = None) -> httpx.AsyncClient:
        """A phone's browser with its own cookies, following redirects: WeChat's in-app browser of
        `as_user` (an OpenID), or any other browser (None)."""
        headers = {WECHAT_USER_HEADER: as_user} if as_user else {}
        return httpx.AsyncClient(timeout=10, follow_redirects=True, headers=headers)

    async def fetch(self, url: str, as_user: str | None = None) -> httpx.Response:
        async with self.browser(as_user) as client:
            return await client.get(url)


async def open_harness(db: Database, template: bool = True, kind: str = "template") -> AsyncIterator[WeChatHarness]:
    standin = WeChatStandIn()
    standin.start(free_port())
    port = free_port()
    web = f"http://127.0.0.1:{port}"
    replica = Replica(standin, db, web, template, kind)
    async with serving(replica.settings, db, port):
        try:
            await replica.start()
            harness = WeChatHarness(standin, replica, db, web, template, kind)
            yield harness
        finally:
            await harness.replica.stop() if "harness" in locals() else await replica.stop()
            await standin.aclose()


@pytest.fixture
async def wechat(db: Database) -> AsyncIterator[WeChatHarness]:
    async for h in open_harness(db):
        yield h


def texts(out: list[Delivered]) -> str:
    return "\n".join(d.text for d in out)


__all__ = ["WeChatHarness", "open_harness", "texts", "wechat"]
