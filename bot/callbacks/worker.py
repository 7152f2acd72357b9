"""Handling the inbox: claim events, turn each into an Update, run it through the Application.

One worker per channel and process. It claims the oldest pending event of each member (so one
member's events are handled in order, one at a time, on any replica), at most `concurrency` at a
time, renews each claim while the event is handled, and settles it: done; or, when the handlers hit
a transient database failure (bot/callbacks/retry.py) or the platform could not be reached, put back
with a growing delay; or given up after `MAX_ATTEMPTS` with a log line. A process that dies mid-way
leaves its claims to lapse (`lease`), and any replica takes them again. New events wake the worker
at once; it also looks every `poll` seconds for retries that came due and events other replicas left.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import random
import uuid
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import Application

from bot.callbacks import inbox
from bot.callbacks.inbox import Event
from bot.callbacks.retry import deferring
from db.session import Database
from db.transient import failure_kind

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Delay before attempt n + 1 (n counted from 1), jittered: locks clear in milliseconds, a platform
# outage in minutes.
RETRY_DELAYS = (0.2, 0.5, 1.0, 3.0, 10.0, 60.0, 300.0)

ToUpdate = Callable[[Event], Awaitable[Update | None]]
# While callbacks are arriving, new handlings wait (at most this long at a stretch): the platform
# waits only 5 s for its 200, and handlers share this process's event loop with the endpoint.
MAX_HOLD_SECONDS = 1.0


def retry_delay(attempts: int) -> dt.timedelta:
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return dt.timedelta(seconds=random.uniform(base, base * 1.5))


class InboxWorker:
    def __init__(
        self,
        app: Application,
        db: Database,
        channel: str,
        to_update: ToUpdate,
        secret: str,
        *,
        concurrency: int = 8,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        poll: float = 2.0,
        arriving: Callable[[], bool] = lambda: False,
        given_up: Callable[[Event], Awaitable[None]] | None = None,
    ) -> None:
        self.app = app
        self.db = db
        self.channel = channel
        self.to_update = to_update
        self.secret = secret
        self.concurrency = concurrency
        self.lease = lease
        self.poll = poll
        self.arriving = arriving
        self.on_given_up = given_up
        self.max_attempts = MAX_ATTEMPTS
        self.holder = uuid.uuid4().hex  # this process, as holder of claims
        self._wake = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}  # member -> its event being handled
        self._loop: asyncio.Task[None] | None = None
        self.handled = 0
        self.retried = 0
        self.given_up = 0
        # (member, start, end) of recent handlings, loop time: what the tests check for overlaps.
        self.turns: collections.deque[tuple[str, float, float]] = collections.deque(maxlen=1000)

    # -- life cycle --------------------------------------------------------------------------------
    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop().create_task(self._run(), name=f"{self.channel}-inbox")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; wait for the events in hand (a cut-off one would be taken again anyway)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def drain(self, limit: float = 60.0) -> None:
        """Wait until every stored event of the channel is settled (tests, shutdown of a burst)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while loop.time() < deadline:
            if self._running:
                await asyncio.gather(*self._running.values(), return_exceptions=True)
                continue
            if not await inbox.waiting(self.db, self.channel):
                return
            self.wake()
            await asyncio.sleep(0.02)

    # -- the loop ----------------------------------------------------------------------------------
    async def _hold_while_arriving(self) -> None:
        """Acknowledging comes first: while the endpoint is storing callbacks, claim nothing new."""
        loop = asyncio.get_running_loop()
        until = loop.time() + MAX_HOLD_SECONDS
        while self.arriving() and loop.time() < until:
            await asyncio.sleep(0.01)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            await self._hold_while_arriving()
            free = self.concurrency - len(self._running)
            if free > 0:
                try:
                    events = await inbox.claim(
                        self.db, self.channel, self.holder, self.lease, self.secret, free, frozenset(self._running)
                    )
                except Exception as exc:  # a locked or unreachable database: look again shortly
                    log.warning("%s inbox: claim failed (%s)", self.channel, failure_kind(exc))
                    events = []
                    await asyncio.sleep(0.1)
                for event in events:
                    task = asyncio.get_running_loop().create_task(self._handle(event))
                    self._running[event.member] = task
                    task.add_done_callback(lambda _t, m=event.member: self._done(m))
                if events and len(self._running) < self.concurrency:
                    continue  # there may be more
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):  # no task per wait (wait_for would make one)
                    await self._wake.wait()

    def _done(self, member: str) -> None:
        self._running.pop(member, None)
        self._wake.set()  # that member's next event may be claimed now

    async def _keep_claim(self, event: Event) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            with contextlib.suppress(Exception):
                if not await inbox.renew(self.db, event, self.holder, self.lease):
                    log.warning("%s inbox: lost the claim of event %s", self.channel, event.id)
                    return

    async def _handle(self, event: Event) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        keeper = loop.create_task(self._keep_claim(event))
        failure: str | None = None
        try:
            with deferring() as deferred:
                update = await self.to_update(event)
                if update is not None:
                    await self.app.process_update(update)
            if deferred:
                failure = failure_kind(deferred[0])
        except Exception as exc:  # the platform or the database failed outside the handlers
            failure = failure_kind(exc)
        finally:
            keeper.cancel()
            self.turns.append((event.member, start, loop.time()))
        try:
            await self._settle(event, failure)
        except Exception as exc:  # the claim lapses and the event is handled again
            log.error("%s inbox: could not settle event %s (%s)", self.channel, event.id, failure_kind(exc))

    async def _settle(self, event: Event, failure: str | None) -> None:
        if failure is None:
            await inbox.finish(self.db, event, self.holder)
            self.handled += 1
        elif event.attempts >= self.max_attempts:
            log.error("%s inbox: event %s given up after %s attempts (%s)", self.channel, event.id, event.attempts, failure)
            await inbox.give_up(self.db, event, self.holder, failure)
            self.given_up += 1
            if self.on_given_up is not None:
                with contextlib.suppress(Exception):  # the apology is a courtesy; the log has it all
                    await self.on_given_up(event)
        else:
            delay = retry_delay(event.attempts)
            log.warning("%s inbox: event %s failed (%s), again in %.1f s", self.channel, event.id, failure, delay.total_seconds())
            await inbox.postpone(self.db, event, self.holder, delay, failure)
            self.retried += 1
