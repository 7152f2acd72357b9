"""Models of the WeChat 服务号 (official account) channel and of the download links it sends.

- `WeChatUser`: an OpenID (per AppID) and the integer id PTB needs for it, allocated once and stored
  (as for WeCom members), in its own range so one Application tells the channels apart by the id.
- `WeChatChoice`: the numbered choices of the latest message a chat received. WeChat has no inline
  buttons, so a keyboard is sent as numbered lines and a reply "2" is the press of the second button:
  the stored data goes back to the handlers as the callback data that button carried, and is checked
  there like any other (render/buttons.py).
- `DownloadLink`: a document handed to one account as a link (the 客服消息 API cannot send a PDF):
  the bytes sealed until the link expires, how often it may still be opened, what it is, and the
  WeChat user (OpenID) who alone may open it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class WeChatUser(Base):
    __tablename__ = "wechat_users"
    __table_args__ = (UniqueConstraint("app_id", "openid", name="uq_wechat_users_app_openid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    ptb_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WeChatChoice(Base):
    __tablename__ = "wechat_choices"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(Integer)  # the sent message (wecom_messages row) they belong to
    # [[label, callback_data], ...] in the order they were numbered.
    buttons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DownloadLink(Base):
    __tablename__ = "download_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    # The OpenID of the WeChat user the link was handed to: only a browser proving to be that user
    # (网页授权, snsapi_base) opens it. None for a recipient outside WeChat (the link is single-use).
    recipient: Mapped[str | None] = mapped_column(String(64))
    # The issued document the bytes are (found by their SHA-256 in issued_documents), for the audit.
    document_number: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id", ondelete="SET NULL"))
    file_name: Mapped[str] = mapped_column(String(128))
    media_type: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    # db.upload_store.seal with the links' own label; None once expired (or used up).
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    opens_left: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_opened_at: Mapped[dt.datetime | None] = mapped_column()
