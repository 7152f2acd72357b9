"""Models of the joint rewards-and-punishments port (联合奖惩应用端口, issue 15): API keys of the
department systems, the checks they raise, and stored answers for retried requests.

A key acts as an official of its department: it is backed by an `Account` (role official, no
Telegram id) so that the chat's use cases, visibility and masking apply unchanged, and the audit
trail and the checks point at an account as they do for a person in the chat.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class ApiKey(Base):
    """One key of one department system. Only a SHA-256 of the secret is stored; `prefix` (the
    first characters of the key) names it in lists and in the audit trail without revealing it."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    scopes: Mapped[str] = mapped_column(String(64))  # comma separated: check,push,query,idquery
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()


class ApiCheck(Base):
    """The department's side of a check raised through the port: its own case number and operator.
    A check with such a row came from the API; one without came from the chat."""

    __tablename__ = "api_checks"

    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    case_number: Mapped[str | None] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(64))
    batch: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiIdempotency(Base):
    """One request carrying an `Idempotency-Key`: claimed by one copy before the work (`owner`, until
    `lease_until`; no answer yet), then holding the first answer, returned again to every retry.
    `request_hash` tells a retry (same request) from a different request reusing the key
    (services/api_idempotency.py)."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("api_key_id", "idem_key", name="api_idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    idem_key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None while the first copy works
    body: Mapped[dict[str, Any] | None] = mapped_column()
    owner: Mapped[str | None] = mapped_column(String(32))  # the copy holding the claim
    lease_until: Mapped[dt.datetime | None] = mapped_column()  # after it, a copy may take the claim over
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
