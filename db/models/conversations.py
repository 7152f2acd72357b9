"""Where a user is in a multi-step chat flow (issue 12): one row per (chat, user).

Replicas behind one webhook see a user's consecutive updates in different processes, and a restart
forgets everything in memory, so the open flow, its step and its answers so far live here. `version`
grows with every step: a step is applied only to the version it was read at, so two processes can
never both apply one (optimistic concurrency). `data` is small and holds typed text only masked (no
ID or mobile number in clear, as everywhere at rest).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class Conversation(Base):
    """The open flow of `user_id` in `chat_id`: its name, step and answers, and when it times out."""

    __tablename__ = "conversations"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class AppliedUpdate(Base):
    """An update (a message or a button press, by `handlers.flow.update_key`) that applied a step of
    some flow of `user_id` in `chat_id`. Kept for a while after the flow ended
    (`services.conversations.KEYS_KEPT`): Telegram redelivers an update after a webhook retry or a
    crash before the polling offset was confirmed, possibly after later steps or after the end, and
    such a redelivery must be dropped, not taken as the answer to whatever step is current."""

    __tablename__ = "applied_updates"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    applied_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
