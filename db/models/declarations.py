"""Models of self-declaration (issue 5): the declaration itself, draft and conversation state in one
row, and the failed tries of public users proving a link to a subject.

The draft row is the source of truth of the conversation: it holds the current step and every answer,
and each step is written in the same transaction that checks it. PTB's own persistence flushes only
periodically and forgets timeouts, so after a restart (or on another process) the conversation is
rebuilt from this row, never from memory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class Declaration(Base):
    """One self-declaration, from the first step of the conversation to its verification.

    `open_key` is the account id while the declaration is a draft and NULL afterwards: its unique
    constraint gives every account at most one open draft, even when two processes race."""

    __tablename__ = "declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    open_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    receipt_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    # How the declarant is tied to the subject: bound (enterprise account) / proved (public user).
    link: Mapped[str | None] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(16))
    # draft / pending / verified / rejected / revoked / cancelled / expired
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    step: Mapped[str] = mapped_column(String(32), default="subject")
    # {"values": {field: value}, "link": {...answers while proving a link...}}
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # {"items": [{file_id, file_unique_id, kind, name, size, sha256}]}
    attachments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # {"keys": [...]}: the last updates handled, so a redelivered update is recognised and ignored.
    seen: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[dt.datetime] = mapped_column()
    commitment_version: Mapped[str | None] = mapped_column(String(16))
    commitment_text: Mapped[str | None] = mapped_column(Text)
    committed_at: Mapped[dt.datetime | None] = mapped_column()
    authorisation_version: Mapped[str | None] = mapped_column(String(16))
    authorisation_text: Mapped[str | None] = mapped_column(Text)
    authorised_at: Mapped[dt.datetime | None] = mapped_column()
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    commitment_record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"))
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    broken_record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LinkAttempts(Base):
    """Failed tries of one account to prove a link to a subject, and the cool-down they caused.

    Kept in the database so that restarting the bot (or using another process) resets nothing."""

    __tablename__ = "declaration_link_attempts"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column()
    # The last failure: failures older than the cool-down window are forgotten (they never expired).
    last_failed_at: Mapped[dt.datetime | None] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LinkSecret(Base):
    """A one-time 授权码 for proving a link to one subject (issue 12).

    The public facts a link proof asks for (USCC, legal representative, date of establishment) are on
    every business licence, so they prove nothing alone: the declarant must also type a code that an
    official, an admin or the subject's own enterprise account issued. Only the code's hash is kept;
    it expires and is spent by the first successful proof."""

    __tablename__ = "link_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column()
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # Revoked by an issuer (`/linkcode revoke`) or because the issuing account lost its binding.
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
