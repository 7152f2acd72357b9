"""Updates side by side across users, one at a time per user.

PTB processes updates strictly one after another by default, so one user's PDF or file check made
everybody else wait for it (a `/report` of 1.5 s was 1.5 s added to every answer queued behind it).
Processing all updates concurrently instead would let one user's two quick updates overtake each
other: a button press before the message that showed it, two steps of a conversation racing for its
state. This processor runs different users' updates concurrently and each user's in the order they
came, which is what every conversation here assumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 64


def _sender(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` at once; a user's updates in arrival order."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # updates in flight per user, to drop idle locks

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """The user's turn first, then a slot: a user who floods waits on their own lock without
        holding any of the slots everybody else needs."""
        key = _sender(update)
        if key is None:
            await super().process_update(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await super().process_update(update, coroutine)
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
