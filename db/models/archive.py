"""Typed ORM models of the credit archive.

One credit file (信用档案) per subject; every record a department reports hangs off it. Personal
ID numbers are never stored in clear: a keyed hash lets us match a typed number, and the masked
form (first 6, last 4) is all that can ever be rendered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, utcnow
from rules.canonical import canonical_key


class Division(Base):
    """Administrative divisions (行政区划) of the configured region: from data, never hard-coded."""

    __tablename__ = "divisions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    short_name: Mapped[str] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(String(12))
    # Earlier codes of the same place (610928 旬阳县 → 610981 旬阳市).
    former_codes: Mapped[str | None] = mapped_column(String(64))


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    short_name: Mapped[str | None] = mapped_column(String(64))
    division_code: Mapped[str] = mapped_column(String(12))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))

    parent: Mapped[Department | None] = relationship(remote_side=[id])


class Subject(Base):
    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # 自然人 / 法人 / 非法人组织 / 个体工商户
    name: Mapped[str] = mapped_column(String(200), index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_masked: Mapped[str | None] = mapped_column(String(18))
    legal_rep: Mapped[str | None] = mapped_column(String(64))
    division_code: Mapped[str | None] = mapped_column(String(12), index=True)
    address: Mapped[str | None] = mapped_column(String(255))
    established: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="存续")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # When the row last changed (imports find their own rows by it). The name index follows the
    # subject change stream instead (db/models/changes.SubjectChange, written by triggers).
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    aliases: Mapped[list[SubjectAlias]] = relationship(
        back_populates="subject", cascade="all, delete-orphan", lazy="selectin"
    )
    records: Mapped[list[CreditRecord]] = relationship(back_populates="subject")


class SubjectAlias(Base):
    __tablename__ = "subject_aliases"
    __table_args__ = (UniqueConstraint("subject_id", "alias", name="subject_alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # 曾用名 / 简称

    subject: Mapped[Subject] = relationship(back_populates="aliases")


def _catalogue_edition() -> str:
    from db.catalogue import current_edition

    return current_edition()


def _doc_key_default(context: Any) -> str:
    return canonical_key(context.get_current_parameters()["doc_number"])


class CreditRecord(Base):
    __tablename__ = "credit_records"
    __table_args__ = (
        UniqueConstraint("source_key", "category", "doc_number", name="record_source_doc"),
        Index("ix_credit_records_subject_category", "subject_id", "category"),
        # The real identity (migration 0005): the canonical 文书号, so 〔2025〕 and [2025] are one record.
        Index("record_source_doc_key", "source_key", "category", "doc_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    category: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # The reporting unit as the file names it (USCC, else its name): the key for "same record".
    source_key: Mapped[str] = mapped_column(String(128))
    source_name: Mapped[str] = mapped_column(String(128))
    doc_number: Mapped[str] = mapped_column(String(128))  # as first written, for display
    # Filled from doc_number on every insert that does not give it (declarations, listings, demo).
    doc_key: Mapped[str] = mapped_column(String(128), default=_doc_key_default)
    title: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str | None] = mapped_column(Text)
    decision_date: Mapped[dt.date] = mapped_column(Date, index=True)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    late_working_days: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str | None] = mapped_column(String(4))  # 轻微 / 一般 / 严重
    rule_edition: Mapped[str | None] = mapped_column(String(8))  # 2019 / 2023 / 2026
    publication_end: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A list entry's type (rules.catalogue list type key) when it was decided here or told by its
    # department; else the card identifies it from the title (Catalogue.identify).
    list_type: Mapped[str | None] = mapped_column(String(32))
    # The catalogue edition the record was collected under (db/catalogue.py); NULL before 0018.
    catalogue_edition: Mapped[str | None] = mapped_column(String(40), default=_catalogue_edition)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Indexed (migration 0022): an import finds the rows it wrote by its own timestamp (services/changes.py).
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    subject: Mapped[Subject] = relationship(back_populates="records")
    department: Mapped[Department | None] = relationship()


class RecordChange(Base):
    """History of corrections: what changed, when, from which file."""

    __tablename__ = "record_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source_file: Mapped[str | None] = mapped_column(String(255))
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(12), default="public")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship(lazy="joined")
    subjects: Mapped[list[Subject]] = relationship(secondary="account_subjects", lazy="selectin")


class AccountSubject(Base):
    __tablename__ = "account_subjects"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True)


class BindingCode(Base):
    """One-time code an admin hands out; only its hash is kept."""

    __tablename__ = "binding_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(12))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column()
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    role: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Check(Base):
    """One 逢办必查 loop: raised (发起), answered (响应), reported back (反馈)."""

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    matter: Mapped[str] = mapped_column(String(16))
    measures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    feedback: Mapped[str | None] = mapped_column(String(16))
    feedback_note: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[dt.datetime | None] = mapped_column()
