"""Models of a record's life after filing: numbered documents, prior notices, objections, repairs.

A proposed blacklist entry is a CreditRecord with status "proposed" from the first day (so officials
see it on the card, marked 拟列入, through the same visibility rules) plus a `Listing` row that carries
the procedure: the notice, its objection deadline, and what happened. Documents the platform issues
(事前告知书, 信用报告) take their number from `DocumentSequence`, one counter per kind and year,
advanced with an atomic UPDATE ... RETURNING so two processes never hand out the same number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class DocumentSequence(Base):
    __tablename__ = "document_sequences"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # notice / report
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Listing(Base):
    """One 严重失信主体名单 procedure: proposed → (objected) → effective, or withdrawn."""

    __tablename__ = "listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    proposed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # proposed / effective / withdrawn / expired (its period ran out)
    status: Mapped[str] = mapped_column(String(12), default="proposed", index=True)
    list_type: Mapped[str | None] = mapped_column(String(32))  # rules.catalogue list type; NULL before 0018
    basis: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text)
    measures: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"items": [text, ...]}
    notice_number: Mapped[str] = mapped_column(String(40), unique=True)
    notice_date: Mapped[dt.date] = mapped_column(Date)
    objection_days: Mapped[int] = mapped_column(Integer)
    objection_deadline: Mapped[dt.date] = mapped_column(Date, index=True)
    notice_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    notice_sha256: Mapped[str | None] = mapped_column(String(64))
    effective_on: Mapped[dt.date | None] = mapped_column(Date)
    # The validity the list type gives (or the decision chose within its range), in months.
    period_months: Mapped[int | None] = mapped_column(Integer)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)  # first day no longer listed
    # The 列入决定书 issued when the listing took effect (services/listings.issue_decision).
    decision_number: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)
    decision_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    decision_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Objection(Base):
    """An objection (异议) of a subject to one of its records or proposed listings."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    reason: Mapped[str] = mapped_column(Text)
    attachments: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"items": [{file_id, kind, name}]}
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending/upheld/corrected/revoked
    prior_status: Mapped[str] = mapped_column(String(12))
    filed_on: Mapped[dt.date] = mapped_column(Date)
    answer_due: Mapped[dt.date] = mapped_column(Date, index=True)
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    corrections: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RepairRequest(Base):
    """A credit repair (信用修复) case for one adverse record: received → accepted (受理) or refused
    (不予受理) → approved (准予修复) or rejected (不予修复), each step within its working-day limit
    (rules/repair_case.py). Applications filed in chat have an `account_id`; those that reach the
    city from 信用中国 or the provincial platform carry that platform's 受理编号 (`external_ref`)."""

    __tablename__ = "repair_requests"
    __table_args__ = (UniqueConstraint("origin", "external_ref", name="repair_request_external_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_records.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    obligations_met: Mapped[bool] = mapped_column()
    proof: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"items": [{file_id, kind, name}]}
    commitment: Mapped[str] = mapped_column(Text)
    # received / accepted / refused / approved / rejected
    status: Mapped[str] = mapped_column(String(12), default="received", index=True)
    filed_on: Mapped[dt.date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(12), default="chat")  # chat / creditchina / province
    external_ref: Mapped[str | None] = mapped_column(String(64))  # 受理编号 of 信用中国 / the province
    applicant: Mapped[str | None] = mapped_column(String(100))  # 经办人 of an external application
    accept_due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    accepted_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decide_due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # The limits that passed before the step was taken, and the reason the department gave.
    missed: Mapped[str | None] = mapped_column(String(16))  # "accept", "decide" or "accept,decide"
    missed_reason: Mapped[str | None] = mapped_column(Text)
    # Claims of the deadline scan: the stage ("accept"/"decide") last reminded, and last escalated.
    reminded_for: Mapped[str | None] = mapped_column(String(8))
    escalated_for: Mapped[str | None] = mapped_column(String(8))
    decision_number: Mapped[str | None] = mapped_column(String(40))  # the 信用修复决定书
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CreditReport(Base):
    """Every credit report issued: who got which subject's report, as which role; the hash proves
    which bytes were handed out without keeping a copy of personal data."""

    __tablename__ = "credit_reports"
    __table_args__ = (UniqueConstraint("number", name="credit_report_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    role: Mapped[str] = mapped_column(String(12))
    records: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
