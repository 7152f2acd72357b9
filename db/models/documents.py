"""Registry of issued documents: every 信用报告 and 事前告知书 the platform hands out, so anyone
holding one can have it verified (number + verification code → genuine or not, and the file's hash).

What a check may reveal is exactly what the document itself showed, so the subject and the reader
are kept as the labels printed on it (name, the code as shown — a person's ID only masked — and the
reader's role), not looked up again: a later rename or an unmasked field elsewhere cannot leak
through a check. The verification code itself is not stored, only a digest of number and code
(rules.verification.code_digest).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class IssuedDocument(Base):
    __tablename__ = "issued_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # report / notice / decision
    code_digest: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))  # of the exact bytes handed out
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    subject_name: Mapped[str] = mapped_column(String(200))  # as printed
    subject_code: Mapped[str] = mapped_column(String(40))  # as printed: USCC, or the masked ID
    issued_to: Mapped[str] = mapped_column(String(100))  # as printed: 办事人员 / 企业（主体本人） / 告知对象
    issuer: Mapped[str] = mapped_column(String(200))  # the platform, or the department of a notice
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    period_start: Mapped[dt.date | None] = mapped_column(Date)  # a report's time span, when chosen
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
