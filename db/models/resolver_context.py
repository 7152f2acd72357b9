"""The subject a chat is talking about (issue 11): follow-up questions refer to it.

After a card, officials type only the matter ("政府采购"), a category ("许可呢") or "更多". Replicas
behind one webhook see a user's consecutive messages in different processes, so the subject last
shown lives here, not in a process's memory: one row per (chat, user), overwritten by every card.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class ChatSubject(Base):
    """The subject last shown to `user_id` in `chat_id`, and when (UTC)."""

    __tablename__ = "chat_subjects"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    shown_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
