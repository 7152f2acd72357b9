"""The persons behind an organisation: its 法定代表人 and 主要负责人 as natural-person subjects.

A person is a `Subject` of kind 自然人 keyed by the keyed hash of the ID number (the clear number is
never stored; the masked form is what can be shown), so the same person heading two companies is one
row, and a person listed in their own name (失信被执行人) is the same row their companies point to.
Links are personal data: read only for officials, masked, and every read is audited (services/persons.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class SubjectPerson(Base):
    """Organisation `organisation_id` has person `person_id` in `role` (legal_rep / principal)."""

    __tablename__ = "subject_persons"
    __table_args__ = (UniqueConstraint("organisation_id", "role", name="subject_person_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))  # the file (or template) the link came from
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
