"""A small shared limiter for CPU-heavy work: file checks and imports, PDFs, charts, evaluation runs.

Each of these costs a second or more of CPU. Two at a time already fill the machine's cores; more
would only make every one of them, and every ordinary answer, slower. So at most `slots` run at
once, the rest wait their turn in arrival order (the chat tells the user it is queued), and one user
has at most one heavy job at a time: a second one is refused with a Chinese reason instead of
piling up behind the first. Scheduled work (the nightly evaluation) takes a slot like anyone else.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from services.errors import Refusal

DEFAULT_SLOTS = 1
# A waiting job still holds one of the bot's places for concurrent updates (bot/updates.py, 64):
# past this many waiting, a new one is refused at once, so waiting jobs can never fill those places
# and freeze everybody else's questions.
MAX_WAITING = 8
BUSY = "您的上一项任务（生成报告、检查或导入文件、绘制图表）还在处理中，请等它完成后再发送。"
FULL = "当前排队处理的任务较多，请过几分钟再发送。"


SWITCH_INTERVAL_S = 0.001


def favour_event_loop() -> None:
    """Let the event loop's thread take the GIL back from a rendering thread within 1 ms instead of
    Python's default 5 ms: every database answer of every user's request waits for that hand-over
    while a PDF or chart is drawn in a worker thread."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


class HeavyWork:
    """At most `slots` heavy jobs at once, one per user; the others wait in order."""

    def __init__(self, slots: int = DEFAULT_SLOTS, max_waiting: int = MAX_WAITING) -> None:
        self._slots = asyncio.Semaphore(max(1, slots))
        self._max_waiting = max_waiting
        self._users: set[int] = set()
        self.waiting = 0
        self.running = 0

    @asynccontextmanager
    async def slot(
        self, user: int | None = None, on_queued: Callable[[int], Awaitable[None]] | None = None
    ) -> AsyncIterator[None]:
        """Hold a slot for the block. `on_queued(position)` is awaited first when the job must wait;
        a user who already has a job running or queued is refused (`Refusal` BUSY), and so is any
        user's job when MAX_WAITING are waiting already (`Refusal` FULL); scheduled work (no user)
        always waits its turn."""
        if user is not None and self._slots.locked() and self.waiting >= self._max_waiting:
            raise Refusal(FULL)
        if user is not None:
            if user in self._users:
                raise Refusal(BUSY)
            self._users.add(user)
        try:
            if self._slots.locked() and on_queued is not None:
                await on_queued(self.waiting + 1)
            self.waiting += 1
            try:
                await self._slots.acquire()
            finally:
                self.waiting -= 1
            self.running += 1
            try:
                yield
            finally:
                self.running -= 1
                self._slots.release()
        finally:
            if user is not None:
                self._users.discard(user)


__all__ = ["BUSY", "DEFAULT_SLOTS", "FULL", "MAX_WAITING", "HeavyWork", "favour_event_loop"]
