"""Failed attempts at something guessable (a binding code, a link proof), and the cool-down they cause.

One row per (scope, key): the scope names what is being guessed and by whom it is counted
("bind:account", "link:subject"), the key who or what (an account id, a subject id). Kept in the
database, so that a restart or another process resets nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class AttemptLimit(Base):
    __tablename__ = "attempt_limits"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column()
