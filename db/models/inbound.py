"""Callbacks acknowledged to a platform and not yet handled: the durable inbox of the callback channels.

WeCom and WeChat take an HTTP 200 as "delivered" and never send that callback again, so a callback
is written here (decrypted, its fields sealed) before the 200 goes out, and handled from here: a
process that dies mid-way, a locked database or a second replica loses nothing. The row doubles as
the dedupe key of the platform's retries (`channel` + `dedupe_key`, unique), kept at least as long as
the replay window refuses older callbacks.

One member's events are handled one at a time and in order, on any replica: only the oldest pending
event of a member can be claimed (`claimed_by` / `claimed_until`, a lease renewed while it is handled,
guarded by `version`), so the next one waits until it is done.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class InboundEvent(Base):
    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("channel", "dedupe_key", name="uq_inbound_events_channel_key"),
        Index("ix_inbound_events_queue", "channel", "status", "member", "id"),
    )

    # Also the update and message id the handlers see: unique and stable, so a callback handled again
    # after a crash is recognised by the flows (applied_updates) as the same update.
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # wecom / wechat
    dedupe_key: Mapped[str] = mapped_column(String(128))  # MsgId, or a hash of user + event + time
    member: Mapped[str] = mapped_column(String(128))  # the platform's user id (WeCom userid, OpenID)
    # The decrypted callback's fields as JSON, sealed (db.upload_store.seal, the inbox's own label):
    # a typed ID number must not rest in clear. Emptied once the event is handled or given up.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending / done / failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime] = mapped_column(default=utcnow)  # a retry waits until then
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(64))  # the error's class, never its text
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    done_at: Mapped[dt.datetime | None] = mapped_column()
