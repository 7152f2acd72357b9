"""Models of credit evaluation and risk warnings (issue 17).

- `SubjectEvaluation`: each subject's current score, grade and risk class, with the model version,
  the time and the explanation (the records that moved the score most, with their points).
- `GradeChange`: every change of grade, for the admins' "changes this month" list.
- `RiskWarning`: a warning fired for a subject, unique per (subject, cause): a cause fires once.
- `WarningDelivery`: which warning reached which person (in which day's digest), so a digest never
  repeats a warning and a failed send can be retried.
- `WatchSubscription`: an official watching a subject (/watch).
The daily digest itself is claimed in `reminder_claims` (key "risk digest"), like the reminders.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class SubjectEvaluation(Base):
    __tablename__ = "subject_evaluations"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(8), index=True)
    risk_class: Mapped[str] = mapped_column(String(8), index=True)  # low / general / high / severe
    # {"top": [{"ref", "indicator", "label", "points", "date", "title"}], "capped": [indicator, ...]}
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GradeChange(Base):
    __tablename__ = "grade_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(16))
    old_grade: Mapped[str] = mapped_column(String(8))
    new_grade: Mapped[str] = mapped_column(String(8))
    old_score: Mapped[int] = mapped_column(Integer)
    new_score: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class RiskWarning(Base):
    __tablename__ = "risk_warnings"
    __table_args__ = (UniqueConstraint("subject_id", "cause", name="risk_warning_subject_cause"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(32))  # a model warning key, or "new_record" for watchers
    cause: Mapped[str] = mapped_column(String(96))
    label: Mapped[str] = mapped_column(Text)
    risk: Mapped[str] = mapped_column(String(8))
    # departments: officials of departments holding records of the subject, and watchers;
    # watchers: only those who watch the subject.
    audience: Mapped[str] = mapped_column(String(12), default="departments")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class WarningDelivery(Base):
    __tablename__ = "warning_deliveries"
    __table_args__ = (UniqueConstraint("warning_id", "account_id", name="warning_delivery_warning_account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("risk_warnings.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    delivered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WatchSubscription(Base):
    __tablename__ = "watch_subscriptions"
    __table_args__ = (UniqueConstraint("account_id", "subject_id", name="watch_subscription_account_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
