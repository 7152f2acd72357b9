"""Models of the WeCom (企业微信 / 政务微信) channel: stored state every replica shares.

- `WeComUser`: a WeCom user id (a string, per corp) and the integer id PTB needs for it. The integer
  is allocated once and stored, never derived from the string, so it survives renames of the hashing
  or of the corp and two replicas always agree.
- `WeComToken`: the app's access token from gettoken, cached until shortly before it expires, so
  replicas share one token instead of each calling gettoken (which WeCom rate-limits).
- The callbacks themselves, their dedupe keys and whose turn it is live in the channels' shared
  inbox (db/models/inbound.py).
- `WeComSend`: recent sends per member, so the per-member sending limit holds for all replicas together.
- `WeComMessage` / `WeComCard`: what the bot sent, as the Telegram message the handlers believe they
  sent (a card click is delivered back as a callback query on that message, on any replica), and the
  button cards standing for its inline keyboard with the response code that may update each once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class WeComUser(Base):
    __tablename__ = "wecom_users"
    __table_args__ = (UniqueConstraint("corp_id", "user_id", name="wecom_corp_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    corp_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    # The user's (and private chat's) id inside PTB: far above any Telegram user id.
    ptb_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WeComToken(Base):
    __tablename__ = "wecom_tokens"

    # "<corp id>:<agent id>" (one token per app secret).
    app_key: Mapped[str] = mapped_column(String(96), primary_key=True)
    access_token: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[dt.datetime] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WeComSend(Base):
    """One message sent to a member: the per-member sending windows, counted across replicas."""

    __tablename__ = "wecom_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    member: Mapped[str] = mapped_column(String(96), index=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)


class WeComMessage(Base):
    __tablename__ = "wecom_messages"

    # Doubles as the Telegram message_id the handlers see: unique across replicas.
    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # The Telegram Message dict (text, reply_markup, ...) as returned to PTB.
    message: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WeComCard(Base):
    __tablename__ = "wecom_cards"

    task_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("wecom_messages.id", ondelete="CASCADE"), index=True)
    # Index of this card's first button among the message's buttons (row by row).
    first_button: Mapped[int] = mapped_column(Integer, default=0)
    # From the click event; lets the app update this card once (within 72 h).
    response_code: Mapped[str | None] = mapped_column(String(255))
