"""The real Application on a test database, talking to the WeCom stand-in over real HTTP.

Members' messages are encrypted callbacks posted to the bot's own callback endpoint; the bot's
answers are WeCom API calls the stand-in checks and records.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import tornado.httpserver

import bot.app as bot_app
from bot.wecom import store
from bot.wecom.api import WeComApp, WeComClient
from bot.wecom.endpoint import WeComChannel
from bot.wecom.transport import WeComBotAPI
from db.session import Database
from services.accounts import ensure_local_account
from tests.conftest import settings_for
from tests.test_webhook import free_port
from tests.wecom_standin import AGENT_ID, CORP_ID, SECRET, Delivered, StandIn


def _serves_connections(task: asyncio.Task[object]) -> bool:
    """Tasks of the HTTP servers and clients themselves: they live as long as a connection does."""
    code = getattr(task.get_coro(), "cr_code", None)
    name = code.co_filename if code is not None else ""
    return any(part in name for part in ("tornado", "httpcore", "anyio", "httpx"))


async def settle(before: set[asyncio.Task[object]], limit: float = 60.0) -> None:
    """Wait for every task started since `before` (handlers with block=False, callbacks) to end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    me = asyncio.current_task()
    while True:
        pending = {
            t for t in asyncio.all_tasks()
            if t not in before and t is not me and not t.done() and not _serves_connections(t)
        }
        if not pending or loop.time() > deadline:
            return
        await asyncio.wait(pending, timeout=deadline - loop.time())


class Replica:
    """One bot process: its own Application, transport, API client and callback endpoint."""

    def __init__(self, standin: StandIn, database: Database) -> None:
        self.client = WeComClient(WeComApp(CORP_ID, AGENT_ID, SECRET, standin.url), database, busy_backoff=0.01)
        self.transport = WeComBotAPI(self.client)
        self.app = bot_app.build_application(settings_for(database), self.transport, db=database)
        self.channel: WeComChannel | None = None
        self.server: tornado.httpserver.HTTPServer | None = None
        self.url = ""

    async def start(self) -> None:
        await self.app.initialize()
        await bot_app.start_services(self.app)
        await self.app.start()  # as `creditbot run` does: jobs run, block=False handlers are awaited
        self.channel = WeComChannel(self.app, standin_crypto(), self.transport)
        self.channel.start()
        port = free_port()
        self.server = self.channel.listen(port, "127.0.0.1", "/wecom")
        self.url = f"http://127.0.0.1:{port}/wecom"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.channel is not None:
            await self.channel.stop()
        await self.app.stop()
        await self.client.close()
        await self.app.shutdown()


def standin_crypto():  # type: ignore[no-untyped-def]
    from bot.callbacks.crypto import CallbackCrypto
    from tests.wecom_standin import AES_KEY, TOKEN

    return CallbackCrypto(TOKEN, AES_KEY, CORP_ID)


class WeComHarness:
    def __init__(self, standin: StandIn, replicas: list[Replica], database: Database) -> None:
        self.standin = standin
        self.replicas = replicas
        self.db = database
        self._next = 0

    @property
    def app(self):  # type: ignore[no-untyped-def]
        return self.replicas[0].app

    async def member(self, role: str = "public", dept: str | None = None, subject: str | None = None) -> str:
        """A WeCom member with a bound account of `role`; returns the WeCom user id."""
        self._next += 1
        user = f"zhang.san{self._next}"
        ptb_id = await store.ptb_id_for(self.db, CORP_ID, user)
        await ensure_local_account(self.db, ptb_id, role, dept, subject, "测试用户")
        return user

    async def post(self, event: dict[str, str], replica: int = 0) -> list[Delivered]:
        """Post one callback to a replica and wait until it is fully handled; returns what the
        member received meanwhile."""
        target = self.replicas[replica]
        assert target.channel is not None
        self.standin.callback_url = target.url
        start = len(self.standin.delivered)
        before = asyncio.all_tasks()
        response = await self.standin.post_callback(event)
        assert response.status_code == 200 and response.text == ""
        await target.channel.drain()
        await settle(before)
        return [d for d in self.standin.delivered[start:] if d.user == event["FromUserName"]]

    async def say(self, user: str, text: str, replica: int = 0) -> list[Delivered]:
        return await self.post(self.standin.text_event(user, text), replica)

    async def press(self, user: str, n: int, replica: int = 0, card: Delivered | None = None) -> list[Delivered]:
        """Press the n-th button (1-based) of `card`, or, like the console's #N, of the latest
        message with buttons: all the cards that carry its keyboard, in order."""
        if card is None:
            latest = self.standin.latest_card(user)
            prefix = latest.body["task_id"].split("_", 1)[0] + "_"
            cards = [c for c in self.standin.inbox(user) if c.msgtype == "template_card" and c.body["task_id"].startswith(prefix)]
            for c in cards:
                if n <= len(c.buttons):
                    card = c
                    break
                n -= len(c.buttons)
            assert card is not None, "no such button"
        return await self.post(self.standin.click_event(user, card, n), replica)

    async def refresh(self) -> None:
        from services.name_index import refresh_index

        for r in self.replicas:
            await refresh_index(r.app.bot_data["services"])


async def open_harness(db: Database, replicas: int = 1) -> AsyncIterator[WeComHarness]:
    standin = StandIn()
    standin.start(free_port())
    started: list[Replica] = []
    try:
        for _ in range(replicas):
            r = Replica(standin, db)
            await r.start()
            started.append(r)
        yield WeComHarness(standin, started, db)
    finally:
        for r in started:
            await r.stop()
        await standin.aclose()


@pytest.fixture
async def wecom(db: Database) -> AsyncIterator[WeComHarness]:
    async for h in open_harness(db):
        yield h


__all__ = ["WeComHarness", "open_harness", "replace", "wecom"]
