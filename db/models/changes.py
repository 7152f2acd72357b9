"""The change feed (issue 25): one row per change a department system or the city's website must
learn of — a record added or changed, a listing effective, a repair, a masking, a record leaving
publication.

A row is written with `seq` empty; readers page by `seq`, which is given to committed rows only,
in batches, one batch at a time (services/changes.py explains why: ids are not in commit order on
PostgreSQL). AUTOINCREMENT keeps SQLite from ever reusing an id of a pruned row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow

EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")


class ChangeEvent(Base):
    __tablename__ = "change_events"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)  # commit order, given after commit
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    person: Mapped[bool] = mapped_column(Boolean, default=False)  # a natural person: keys need idquery
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # may change what the public sees
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SubjectChange(Base):
    """One row per change of what the name index holds of a subject (migration 0026a).

    Written by the database itself: triggers on `subjects` (a subject inserted or deleted, or its
    name, kind, USCC or division changed) and on `subject_aliases` (any alias written or removed) add
    the subject's id, so every writer — an import, an admin edit, a script — is covered and a
    change the index cannot see (a status, an address) costs nothing. No foreign key: the row of a
    deleted subject must outlive it, it is how every process learns to drop the subject.
    `seq` is given after commit exactly as for `ChangeEvent` (services.changes.stamp_log). No
    AUTOINCREMENT on SQLite (it costs every trigger a write to sqlite_sequence): pruning always
    keeps the newest row, so an id is never handed out twice anyway.
    """

    __tablename__ = "subject_changes"

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)  # commit order, given after commit
    subject_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(server_default=func.current_timestamp())
