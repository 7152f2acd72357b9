"""Runs of the daily jobs that are not per person (the full evaluation, the risk digest's run).

`ScheduledRun` is one job's run for one slot (the local day whose run time has passed), claimed
before the work starts and marked finished after it: a catch-up scan at start-up, the next scan
and every replica find the claim and do not run the slot again (services/scheduled_runs.py).
Reminders and each official's digest are claimed per person in `reminder_claims` instead.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class ScheduledRun(Base):
    __tablename__ = "scheduled_runs"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
