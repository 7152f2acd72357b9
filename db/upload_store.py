"""Raw upload bytes at rest: sealed while a confirmation needs them, deleted as soon as it does not.

A department's file carries natural persons' ID numbers in clear. It must outlive the check only so
that 确认导入 works after a restart or on another bot process, so it is stored encrypted
(Fernet: AES-128-CBC + HMAC-SHA256, from the `cryptography` package) under a key derived from
`privacy.id_hash_key` with its own label (the hash key itself never encrypts anything), and the
column is emptied at confirmation, cancellation, rejection, or after `privacy.upload_retention_hours`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Upload
from db.session import Database

DEFAULT_RETENTION = dt.timedelta(hours=24)
_LABEL = b"creditbot upload sealing v1\x00"
WAITING = ("checking", "pending", "importing")


class SealError(Exception):
    """The sealed bytes cannot be opened (the key changed); str() is one Chinese sentence."""


def _fernet(secret: str, label: bytes) -> Fernet:
    key = hashlib.sha256(label + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(content: bytes, secret: str, label: bytes = _LABEL) -> bytes:
    """Shape: Fernet token bytes (about 4/3 of the input plus 57 bytes). Another use of the same
    secret (the notice outbox) passes its own `label`, so its key differs from the uploads' key."""
    return _fernet(secret, label).encrypt(content)


def unseal(token: bytes, secret: str, label: bytes = _LABEL) -> bytes:
    try:
        return _fernet(secret, label).decrypt(token)
    except InvalidToken:
        raise SealError("暂存的文件无法解密（系统密钥已更换），请重新发送文件。") from None


def is_expired(created_at: dt.datetime, now: dt.datetime, retention: dt.timedelta) -> bool:
    return created_at + retention <= now


async def expire_uploads(session: AsyncSession, now: dt.datetime, retention: dt.timedelta) -> int:
    """Delete the bytes of every upload that waited longer than `retention`; returns how many.

    Runs inside the caller's transaction: each new upload and each confirmation call it, and the
    bot's hourly job (`purge_expired`) covers the hours when nobody does."""
    result = await session.execute(
        update(Upload)
        .where(Upload.status.in_(WAITING), Upload.created_at <= now - retention)
        .values(status="expired", content=None, decided_at=now)
    )
    return int(result.rowcount or 0)


async def purge_expired(db: Database, now: dt.datetime, retention: dt.timedelta) -> int:
    """One transaction of `expire_uploads`: the hourly job, so the bytes go even if nobody uploads."""
    async with db.transaction() as session:
        return await expire_uploads(session, now, retention)


__all__ = ["DEFAULT_RETENTION", "SealError", "expire_uploads", "is_expired", "purge_expired", "seal", "unseal"]
