"""Transient database failures inside the handlers, for updates a callback channel will run again.

PTB hands a handler's exception to the error handlers, never to the caller of `process_update`, so
the inbox worker cannot see that a handler failed because SQLite was locked (or PostgreSQL chose it
as a deadlock victim). While the worker runs an update it opens a `deferring()` box; the one error
handler (bot/app.py) asks `defer_to_inbox(error)` first: for a transient failure it puts the error
in the box and says nothing to the user, and the worker then puts the event back to be handled again
instead of apologising for a message that was acknowledged to the platform already.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from db.transient import is_transient

_box: ContextVar[list[BaseException] | None] = ContextVar("inbox_retry_box", default=None)


def defer_to_inbox(error: BaseException | None) -> bool:
    """True when `error` is transient and the update being handled comes from an inbox that will run
    it again; the error handler then stays silent."""
    box = _box.get()
    if box is None or error is None or not is_transient(error):
        return False
    box.append(error)
    return True


@contextlib.contextmanager
def deferring() -> Iterator[list[BaseException]]:
    """The box of transient failures deferred while the block runs (empty when there were none)."""
    box: list[BaseException] = []
    token = _box.set(box)
    try:
        yield box
    finally:
        _box.reset(token)
