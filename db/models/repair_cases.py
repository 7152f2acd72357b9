"""Models of repair under the 2026 rules (issue 25): the 信用修复告知书 owed for a penalty or a
listing (两书同达), the PDFs of the platform's own documents, temporary masking (暂时屏蔽) during a
court-approved reorganisation or settlement, and the subject's authorisations for a 专项信用报告.

The repair case itself is `RepairRequest` (db/models/lifecycle.py), which carries its deadlines.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class RepairNotice(Base):
    """A 信用修复告知书 owed for one record: written "pending" in the transaction that imported the
    penalty or made the listing effective, issued (numbered, rendered, registered) right after by
    the job or on the first request for it. One per record."""

    __tablename__ = "repair_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id", ondelete="CASCADE"), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    cause: Mapped[str] = mapped_column(String(12))  # penalty / listing
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending / issued
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[dt.datetime | None] = mapped_column()


class StoredDocument(Base):
    """The exact bytes of a document the platform issued and must hand out again (告知书, 决定书,
    专项信用报告), by the number printed on it; `issued_documents` holds its registry entry."""

    __tablename__ = "stored_documents"

    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SubjectMasking(Base):
    """暂时屏蔽: a subject under a reorganisation plan (重整计划) or settlement (和解协议) approved by a
    court has its adverse records masked and their measures lifted until the ruling ends or is
    revoked. `records` keeps each masked record with the status it had, to restore it."""

    __tablename__ = "subject_maskings"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    basis: Mapped[str] = mapped_column(String(12))  # 重整计划 / 和解协议
    court: Mapped[str] = mapped_column(String(128))
    ruling_number: Mapped[str] = mapped_column(String(128))
    ruling_date: Mapped[dt.date] = mapped_column(Date)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date, index=True)  # the plan's term, if the ruling sets one
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)  # active / ended / revoked
    records: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"items": [[record_id, prior_status], ...]}
    recorded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    ended_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReportAuthorisation(Base):
    """A subject's one-time 授权码 letting a department obtain its 专项信用报告; only the hash is kept."""

    __tablename__ = "report_authorisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column()
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
