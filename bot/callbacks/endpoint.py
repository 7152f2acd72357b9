"""The callback URL both platforms post to, and what a callback channel has in common.

GET   URL verification, as the channel defines it (WeCom: decrypt echostr; WeChat: plain signature).
POST  a message or event: opened by the channel (outer XML, signature, decryption, receive id, replay
      window), then stored in the inbox and only then acknowledged (200); the inbox worker handles it.

What is answered:
- 200 (WeCom: empty; WeChat: "success") once the callback is stored, or was stored before (a retry);
- 400 for a body that is not a callback document (bad XML, a declared GBK encoding, a DTD, a bomb,
  a wrong root, a ciphertext that does not decrypt to the documented layout);
- 403 for a callback that fails a check (signature, receive id, outside the replay window);
- 503 when the inbox cannot be written (the database is down or stays locked): the platform retries
  an unanswered callback, so nothing acknowledged is ever lost.
Every refusal is one log line with a short reason, never the request's content; no traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.ext import Application

from bot.callbacks import inbox
from bot.callbacks.botapi import ChannelBotAPI
from bot.callbacks.crypto import CallbackCrypto, check_timestamp
from bot.callbacks.inbox import Event
from bot.callbacks.safexml import CallbackRefused
from bot.callbacks.worker import InboxWorker
from db.transient import backoff, failure_kind, is_transient
from services.runtime import SERVICES_KEY

log = logging.getLogger(__name__)
MAX_CALLBACK_BYTES = 1024 * 1024
# Storing a callback is retried while the database is locked, within the time the platform waits
# for an answer (5 s on both platforms), so a burst on SQLite is stored rather than refused.
STORE_BUDGET_SECONDS = 3.0
Query = Callable[[str], str]


class CallbackChannel:
    """A callback channel of one Application: opens callbacks, stores them, handles them from the
    inbox. Subclasses say how to verify and open a callback and what Update an event stands for."""

    name = "callbacks"
    ack = ""  # the body of a 200

    def __init__(
        self, app: Application, crypto: CallbackCrypto, transport: ChannelBotAPI, window_seconds: int = 300,
        secret: str | None = None,
    ) -> None:
        self.app = app
        self.db = transport.db
        self.crypto = crypto
        self.transport = transport
        self.window_seconds = window_seconds
        # The inbox seals callbacks under a key derived from privacy.id_hash_key (its own label).
        self.secret = secret or app.bot_data[SERVICES_KEY].settings.privacy.id_hash_key
        self.stored = 0
        self.duplicates = 0
        self._waiting: list[tuple[dict[str, str], asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.arriving = 0  # callbacks being opened or stored right now
        self.worker = InboxWorker(
            app, self.db, self.name, self.to_update, self.secret, arriving=lambda: self.arriving > 0,
            given_up=self.apologise,
        )

    # -- what a channel defines --------------------------------------------------------------------
    def verify_url(self, query: Query) -> str:
        raise NotImplementedError

    def open_callback(self, query: Query, body: bytes) -> dict[str, str]:
        """The decrypted fields; raises CallbackRefused. Subclasses call `check_window`."""
        raise NotImplementedError

    def dedupe_key(self, fields: dict[str, str]) -> str:
        raise NotImplementedError

    async def to_update(self, event: Event) -> Update | None:
        raise NotImplementedError

    async def apologise(self, event: Event) -> None:
        """An event given up after every retry: its sender hears so instead of nothing."""
        from bot.app import SORRY

        chat = self.transport.known_ids.get(event.member)
        if chat is not None:
            await self.app.bot.send_message(chat, SORRY)

    # -- shared --------------------------------------------------------------------------------------
    def check_window(self, timestamp: str) -> None:
        check_timestamp(timestamp, self.window_seconds)

    async def receive(self, fields: dict[str, str]) -> bool:
        """Store an opened callback (True: new, False: a repeat); raises when it could not be stored
        within the budget. Callbacks arriving while a write is under way are written together next."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((fields, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_waiting())
        new = await done
        if new:
            self.stored += 1
            self.worker.wake()
        else:
            self.duplicates += 1
            log.info("%s callback repeated; acknowledged again", self.name)
        return new

    async def _write_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            batch, self._waiting = self._waiting, []
            rows = [(self.dedupe_key(f), f.get("FromUserName", ""), f) for f, _done in batch]
            deadline = loop.time() + STORE_BUDGET_SECONDS
            attempt = 0
            while True:
                attempt += 1
                try:
                    results = await inbox.store(self.db, self.name, rows, self.secret)
                except Exception as exc:
                    delay = backoff(attempt, 0.02)
                    if is_transient(exc) and loop.time() + delay < deadline:
                        await asyncio.sleep(delay)
                        continue
                    for _f, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    break
                for (_f, done), new in zip(batch, results, strict=True):
                    if not done.done():
                        done.set_result(new)
                break

    async def forget_old(self) -> int:
        return await inbox.forget(self.db, self.name, inbox.retention(self.window_seconds))

    def start(self) -> None:
        self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()

    async def drain(self) -> None:
        await self.worker.drain()

    def web_app(self, path: str) -> tornado.web.Application:
        return tornado.web.Application([(path, CallbackHandler, {"channel": self})], log_function=_access_log)

    def listen(self, port: int, address: str, path: str) -> tornado.httpserver.HTTPServer:
        """Serve the callback URL; callbacks are small XML documents, so big bodies are refused."""
        return self.web_app(path).listen(port, address, max_body_size=MAX_CALLBACK_BYTES)


def _access_log(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access line without the query string: it carries the user's OpenID and signatures."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    log.log(level, "%s %s %s %.1f ms", status, handler.request.method, handler.request.path,
            1000.0 * handler.request.request_time())


class CallbackHandler(tornado.web.RequestHandler):
    channel: CallbackChannel

    def initialize(self, channel: CallbackChannel) -> None:
        self.channel = channel

    def _query(self, name: str) -> str:
        # The platforms URL-encode the parameters; a proxy that decodes "+" to " " must not break base64.
        return self.get_query_argument(name, "").replace(" ", "+")

    def _answer(self, status: int, body: str = "") -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(body)

    def _refuse(self, exc: CallbackRefused) -> None:
        log.warning("%s callback refused (%s): %s", self.channel.name, exc.status, exc.reason)
        self._answer(exc.status)

    def get(self) -> None:
        try:
            echo = self.channel.verify_url(self._query)
        except CallbackRefused as exc:
            self._refuse(exc)
            return
        self._answer(200, echo)

    async def post(self) -> None:
        self.channel.arriving += 1
        try:
            await self._post()
        finally:
            self.channel.arriving -= 1

    async def _post(self) -> None:
        try:
            fields = self.channel.open_callback(self._query, self.request.body)
        except CallbackRefused as exc:
            self._refuse(exc)
            return
        except Exception as exc:  # whatever else a hostile body provokes is still a bad request
            self._refuse(CallbackRefused(f"unreadable ({type(exc).__name__})", 400))
            return
        try:
            await self.channel.receive(fields)
        except Exception as exc:  # not stored, so not acknowledged: the platform will retry
            log.error("%s callback not stored (%s); answered 503", self.channel.name, failure_kind(exc))
            self._answer(503)
            return
        self._answer(200, self.channel.ack)

    def write_error(self, status_code: int, **kwargs: object) -> None:
        """Tornado's own errors (a body over the limit, a bad request line): no traceback page."""
        self.finish("")
