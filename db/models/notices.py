"""The notice outbox (issue 12): every message the bot owes a chat other than the caller's.

A notice row is written before it is sent, so a failed send is not forgotten: a repeating job
retries it with a growing delay until it arrives or is given up. Two processes never send one row
twice: a sender claims it first (`claimed_until`, guarded by `version`; on PostgreSQL the claim
query also skips rows another process holds locked).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class Notice(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(24))  # what it is about, e.g. objection_decided
    # Masked before it is stored (rules.masking.scrub): no ID or phone number in clear. This copy is
    # for logs and /undelivered; what is sent is `sealed`.
    text: Mapped[str] = mapped_column(Text)
    # The text as the official wrote it, encrypted (db.upload_store.seal, its own label), so the
    # recipient reads the phone number the official meant them to have; None once delivered or refused.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Who it is for, checked again before every retry: an account that was deactivated meanwhile, or
    # (`recipient` "subject") is no longer bound to `subject_id`, is not sent the notice.
    recipient_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    recipient: Mapped[str | None] = mapped_column(String(12))  # subject / declarant / official / other
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id", ondelete="SET NULL"))
    # A notice that is a document: the 事前告知书 of this listing (its stored PDF), `text` its caption.
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    file_name: Mapped[str | None] = mapped_column(String(128))
    # Or a stored document (信用修复告知书, 决定书: repair_cases.StoredDocument) by its number.
    document_number: Mapped[str | None] = mapped_column(String(40))
    # Whose decision owes the notice (an official), so they can see it if it never arrives.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    # pending (to send or retry) / delivered / refused (the chat refuses the bot) / given_up
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(64))  # the error's class, never its text
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column()
