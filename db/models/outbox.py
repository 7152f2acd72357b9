"""How far each outbox spool file has been written to the primary (db/outbox.py).

A batch of deferred writes and the advance of its spool's `last_seq` commit in one transaction, so
a process that dies between the commit and noting it locally re-sends nothing: the next process
skips every entry at or below `last_seq`. Spool names are unique (host, process, random part), so a
row is never reused; rows untouched for a month are pruned.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class OutboxProgress(Base):
    __tablename__ = "outbox_progress"

    spool: Mapped[str] = mapped_column(String(96), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
