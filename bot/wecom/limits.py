"""WeCom's sending limits, respected by waiting rather than by losing messages.

Sources: WeCom's message/send documentation (text and markdown content at most 2048 bytes, longer
content is cut off) and its frequency limits for app messages (per member about 30 a minute and
1,000 an hour; beyond that messages are dropped silently, so the bot must hold them back itself).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from render.chunks import split_message, utf8_bytes

if TYPE_CHECKING:
    from db.session import Database

TEXT_LIMIT_BYTES = 2048
# (messages, seconds) windows per member.
MEMBER_WINDOWS: tuple[tuple[int, float], ...] = ((30, 60.0), (1000, 3600.0))


def split_bytes(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Cut `text` into pieces of at most `limit` UTF-8 bytes, at line ends where possible, never
    inside a character (render.chunks, the splitter Telegram's replies use, measured in bytes).
    Blank pieces are dropped: WeCom refuses an empty text. An empty text gives no pieces."""
    return [piece for piece in split_message(text, limit, utf8_bytes) if piece.strip()]


class MemberRateLimiter:
    """Sliding windows per member: `acquire(member)` returns when one more message may go out now.

    Waiters of one member are served in order (a lock per member), so a long answer keeps its order
    when it has to wait. Per process only: replicas each keep their own windows, so production uses
    `SharedMemberRateLimiter`; this one serves a single process (and the benchmark)."""

    def __init__(
        self,
        windows: tuple[tuple[int, float], ...] = MEMBER_WINDOWS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.windows = windows
        self.clock = clock
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._locks: dict[str, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self.waited = 0.0  # total seconds spent waiting (for the logs and the tests)

    def _delay(self, member: str, now: float) -> float:
        sent = self._sent[member]
        longest = max(seconds for _n, seconds in self.windows)
        while sent and sent[0] <= now - longest:
            sent.popleft()
        delay = 0.0
        for limit, seconds in self.windows:
            recent = [t for t in sent if t > now - seconds]
            if len(recent) >= limit:
                delay = max(delay, recent[-limit] + seconds - now)
        return delay

    async def acquire(self, member: str) -> None:
        async with self._locks[member]:
            while (delay := self._delay(member, self.clock())) > 0:
                self.waited += delay
                await asyncio.sleep(delay)
            self._sent[member].append(self.clock())


class SharedMemberRateLimiter:
    """The same windows counted in the database (`wecom_sends`), so that replicas together stay
    within the platform's per-member limit. Same interface as `MemberRateLimiter`."""

    def __init__(self, db: Database, windows: tuple[tuple[int, float], ...] = MEMBER_WINDOWS) -> None:
        self.db = db
        self.windows = windows
        self._locks: dict[str, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self.waited = 0.0

    async def acquire(self, member: str) -> None:
        from bot.wecom.store import reserve_send

        async with self._locks[member]:
            while (delay := await reserve_send(self.db, member, self.windows)) > 0:
                self.waited += delay
                await asyncio.sleep(min(delay, 5.0))  # look again: another replica's sends age too
