"""Models of collection (issue 6): reporting duties, uploads awaiting confirmation, monthly
period reports, and reminder claims.

Everything the reminder scan needs lives here, in the database, not in the JobQueue: jobs are not
picklable and die with the process, while a row survives a restart and is shared by every bot
process on one PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class ReportingDuty(Base):
    """A department must report one category (报送职责). Removing a duty deactivates it rather than
    deleting it, so the seeding from the region file never brings back what an admin removed."""

    __tablename__ = "reporting_duties"
    __table_args__ = (UniqueConstraint("department_id", "category", name="reporting_duty_dept_category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # One named collector answers for this duty; None means every collector of the department.
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Upload(Base):
    """A file a collector sent. While it waits for 确认导入 its bytes are kept *encrypted*
    (db/upload_store.py), so the button still works after a restart or on another bot process; they
    are deleted at confirmation, cancellation, rejection or expiry (`privacy.upload_retention_hours`),
    because the raw file carries natural persons' ID numbers in clear."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed bytes; None once decided
    # checking → pending (valid, waits for 确认导入) | rejected (errors);
    # pending → importing (a confirmation holds the upload's lease, db/leases.py) → confirmed, in the
    # import's own transaction; a failed import goes back to pending with `failure`; an importing
    # upload whose lease nobody holds was stranded by a killed process and may be confirmed again;
    # pending / rejected / stranded → cancelled | expired.
    status: Mapped[str] = mapped_column(String(12), default="checking")
    kind: Mapped[str | None] = mapped_column(String(16))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updating: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # Earliest 7-working-day deadline among the file's rows: reminders chase the upload until then.
    earliest_due: Mapped[dt.date | None] = mapped_column(Date)
    categories: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    # Confirmations started (a stranded or failed one is confirmed again), the latest one's start,
    # and why the latest one did not finish (one Chinese sentence, no data from the file).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_at: Mapped[dt.datetime | None] = mapped_column()
    failure: Mapped[str | None] = mapped_column(String(200))


class PeriodReport(Base):
    """A monthly duty fulfilled for one period (YYYY-MM): by confirmed records or by 本期无新增."""

    __tablename__ = "period_reports"
    __table_args__ = (
        UniqueConstraint("department_id", "category", "period", name="period_report_dept_category_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(8))  # records / zero
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    upload_id: Mapped[str | None] = mapped_column(String(32))
    reported_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReminderClaim(Base):
    """One reminder to one person on one day, claimed before it is sent: the INSERT that loses the
    unique race does not send, so restarts, double runs and replicas never repeat a reminder.
    The key `mute` marks a person who asked for no more reminders that day."""

    __tablename__ = "reminder_claims"
    __table_args__ = (
        UniqueConstraint("account_id", "key", "day", name="reminder_claim_account_key_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
