"""The callback URL of the WeCom app (回调 URL): a small tornado server, mountable elsewhere later.

GET  ?msg_signature&timestamp&nonce&echostr  URL verification: signature checked, echostr decrypted
                                            and returned as plain text (WeCom wants it within 1 s).
POST ?msg_signature&timestamp&nonce  <xml>   a message or event: signature and corp id checked, then
                                            an empty 200 at once; the event is handled afterwards.

WeCom retries an unanswered callback three times, so the answer never waits for the handlers; the
retries (and a slow first delivery) are dropped by MsgId, or by user + event + time for events,
through the database, so a retry reaching another replica is dropped too. Events of one member are
handled one at a time: in arrival order within a process, and across replicas by a lease in the
database (`wecom_turns`). A refused callback is logged with its reason only.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import uuid

import tornado.httpserver
import tornado.web
from telegram.ext import Application

from bot.wecom import store
from bot.wecom.crypto import CallbackRefused, WeComCrypto
from bot.wecom.inbound import UNSUPPORTED_ANSWER, UNSUPPORTED_KINDS, dedupe_key, update_from_event
from bot.wecom.transport import WeComBotAPI

log = logging.getLogger(__name__)
MAX_CALLBACK_BYTES = 1024 * 1024


class WeComChannel:
    """Inbound side of one WeCom app on one Application."""

    def __init__(self, app: Application, crypto: WeComCrypto, transport: WeComBotAPI) -> None:
        self.app = app
        self.crypto = crypto
        self.transport = transport
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self.handled = 0
        self.duplicates = 0
        self.holder = uuid.uuid4().hex  # this replica, as holder of members' turns
        self.lease = dt.timedelta(minutes=2)  # a crashed replica blocks a member at most this long
        # (member, start, end) of recent handlings, loop time: what the tests check for overlaps.
        self.turns: collections.deque[tuple[str, float, float]] = collections.deque(maxlen=1000)

    def accept(self, fields: dict[str, str]) -> None:
        """Schedule a decrypted callback; returns at once."""
        task = asyncio.get_running_loop().create_task(self._handle(fields))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait_for_turn(self, member: str) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.lease.total_seconds()
        while not await store.take_turn(self.transport.db, member, self.holder, self.lease):
            if loop.time() > give_up:  # the holder's lease ran out meanwhile; take_turn would say so
                log.warning("wecom: waited a whole lease for a member's turn; handling anyway")
                return
            await asyncio.sleep(0.05)

    async def _handle(self, fields: dict[str, str]) -> None:
        member = fields.get("FromUserName", "")
        db = self.transport.db
        async with self._locks[member]:
            try:
                if not await store.claim_callback(db, dedupe_key(fields)):
                    self.duplicates += 1
                    log.info("wecom callback repeated; dropped")
                    return
                await self._wait_for_turn(member)
                start = asyncio.get_running_loop().time()
                try:
                    update = await update_from_event(fields, self.crypto.receive_id, self.transport, self.app.bot)
                    if update is not None:
                        await self.app.process_update(update)
                        self.handled += 1
                    elif fields.get("MsgType") in UNSUPPORTED_KINDS and member:
                        ptb_id = await store.ptb_id_for(db, self.crypto.receive_id, member)
                        await self.app.bot.send_message(ptb_id, UNSUPPORTED_ANSWER)
                finally:
                    self.turns.append((member, start, asyncio.get_running_loop().time()))
                    await store.end_turn(db, member, self.holder)
            except Exception as exc:  # the platform got its 200 already: log, never raise into the loop
                log.error("wecom callback could not be handled: %s", type(exc).__name__)

    async def drain(self) -> None:
        """Wait until every accepted callback (and what it started) has been handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def web_app(self, path: str = "/wecom") -> tornado.web.Application:
        return tornado.web.Application([(path, CallbackHandler, {"channel": self})])

    def listen(self, port: int, address: str, path: str = "/wecom") -> tornado.httpserver.HTTPServer:
        """Serve the callback URL; callbacks are small XML documents, so big bodies are refused."""
        return self.web_app(path).listen(port, address, max_body_size=MAX_CALLBACK_BYTES)


class CallbackHandler(tornado.web.RequestHandler):
    channel: WeComChannel

    def initialize(self, channel: WeComChannel) -> None:
        self.channel = channel

    def _query(self, name: str) -> str:
        # WeCom URL-encodes the parameters; a proxy that decodes "+" to " " must not break base64.
        return self.get_query_argument(name, "").replace(" ", "+")

    def _refuse(self, reason: str) -> None:
        log.warning("wecom callback refused: %s", reason)
        self.set_status(403)
        self.finish("")

    def get(self) -> None:
        try:
            echo = self.channel.crypto.verify_url(
                self._query("msg_signature"), self._query("timestamp"), self._query("nonce"), self._query("echostr")
            )
        except CallbackRefused as exc:
            self._refuse(exc.reason)
            return
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(echo)

    def post(self) -> None:
        try:
            fields = self.channel.crypto.decrypt_callback(
                self._query("msg_signature"), self._query("timestamp"), self._query("nonce"), self.request.body
            )
        except CallbackRefused as exc:
            self._refuse(exc.reason)
            return
        self.set_status(200)
        self.finish("")
        self.channel.accept(fields)
