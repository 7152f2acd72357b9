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
    # The last update applied (a message or a button press), so a redelivery is recognised.
    last_key: Mapped[str | None] = mapped_column(String(48))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
