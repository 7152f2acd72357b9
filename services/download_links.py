"""Documents handed out as links: for a channel that cannot send a file (WeChat's 客服消息 API sends
text, images and cards, not PDFs), and for a notice read outside WeChat's 48-hour window.

A link is issued to one account for one set of bytes (any issued document — 信用报告, 专项报告,
告知书 — or a notice's text), and is:
- signed: `<id>.<expiry>.<HMAC>` under a key derived from `privacy.id_hash_key` with its own label;
  a forged, altered or truncated token is refused before the database is read;
- short-lived: `web.download_minutes` (a notice's page `web.notice_link_hours`); the sealed bytes are
  dropped once it expires (each new link clears expired ones in its own transaction);
- limited: at most `web.download_opens` downloads, counted with one conditional UPDATE, so two
  requests racing for the last one cannot both have it;
- audited: issuing, every download and every refusal are in the audit trail, with the account the
  link was issued to and the document's number and subject when the bytes are an issued document.
The bytes are sealed at rest (db.upload_store.seal), like uploads and notices.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select, update

from db.models import Account, AuditEntry, DownloadLink, IssuedDocument, utcnow
from db.session import Database
from db.upload_store import SealError, seal, unseal
from services.errors import NOT_FOUND, Refusal

SEAL_LABEL = b"creditbot download link v1\x00"
SIGN_LABEL = b"creditbot download link signature v1\x00"
PATH = "/dl/"
INVALID = "链接无效：请回到公众号重新获取。"
EXPIRED = "链接已过期：请回到公众号重新获取。"
USED_UP = "该链接的下载次数已用完：请回到公众号重新获取。"
GONE_CODE = "gone"


@dataclass(frozen=True)
class IssuedLink:
    token: str
    url: str
    expires_at: dt.datetime
    document_number: str | None


@dataclass(frozen=True)
class LinkContent:
    """What a link stands for; `content` only when it was taken (a download)."""

    file_name: str
    media_type: str
    sha256: str
    document_number: str | None
    expires_at: dt.datetime
    opens_left: int
    content: bytes | None = None


def _signature(secret: str, link_id: int, expires: int) -> str:
    key = hashlib.sha256(SIGN_LABEL + secret.encode()).digest()
    mac = hmac.new(key, f"{link_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:32]


def token_for(secret: str, link_id: int, expires_at: dt.datetime) -> str:
    expires = int(expires_at.timestamp())
    return f"{link_id}.{expires}.{_signature(secret, link_id, expires)}"


def read_token(secret: str, token: str) -> tuple[int, dt.datetime] | None:
    """(link id, expiry) of a well-formed token with a valid signature, else None."""
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) < 16 for p in parts[:2]):
        return None
    link_id, expires = int(parts[0]), int(parts[1])
    if not hmac.compare_digest(_signature(secret, link_id, expires), parts[2]):
        return None
    return link_id, dt.datetime.fromtimestamp(expires, dt.UTC)


def _audit(s, account_id: int | None, action: str, subject_id: int | None, number: str | None, **detail: object) -> None:  # type: ignore[no-untyped-def]
    s.add(AuditEntry(account_id=account_id, role="link", action=action, subject_id=subject_id,
                     reason=(number or "")[:64] or None, detail=dict(detail)))


async def issue(
    db: Database,
    secret: str,
    public_url: str,
    chat_id: int,
    content: bytes,
    file_name: str,
    media_type: str,
    valid_for: dt.timedelta,
    opens: int,
) -> IssuedLink:
    """A link to `content` for the account of `chat_id` (the channel's user id). Shapes: `valid_for`
    a positive duration, `opens` ≥ 1; the URL is `<public_url>/dl/<token>`."""
    now = utcnow()
    digest = hashlib.sha256(content).hexdigest()
    async with db.transaction() as s:
        await s.execute(
            update(DownloadLink).where(DownloadLink.expires_at < now, DownloadLink.content.is_not(None)).values(content=None)
        )
        account_id = await s.scalar(select(Account.id).where(Account.telegram_user_id == chat_id))
        document = (await s.execute(
            select(IssuedDocument.number, IssuedDocument.subject_id).where(IssuedDocument.sha256 == digest)
        )).first()
        number, subject_id = (document.number, document.subject_id) if document is not None else (None, None)
        expires_at = (now + valid_for).replace(microsecond=0)
        row = DownloadLink(
            account_id=account_id, document_number=number, subject_id=subject_id, file_name=file_name[:128],
            media_type=media_type[:64], sha256=digest, content=seal(content, secret, SEAL_LABEL), opens_left=opens,
            expires_at=expires_at, created_at=now,
        )
        s.add(row)
        await s.flush()
        _audit(s, account_id, "download_link_issued", subject_id, number, link=row.id, file=file_name[:64])
        token = token_for(secret, row.id, expires_at)
    return IssuedLink(token, f"{public_url.rstrip('/')}{PATH}{token}", expires_at, number)


async def open_link(db: Database, secret: str, token: str, take: bool) -> LinkContent:
    """What `token` stands for; with `take`, one download is counted, audited and its bytes returned,
    all in one transaction.

    Raises Refusal (code NOT_FOUND) for a token that is not ours or whose link is gone, and
    (code "gone") for an expired or used-up link; each refusal of a genuine link is audited."""
    found = read_token(secret, token)
    if found is None:
        raise Refusal(INVALID, code=NOT_FOUND)
    link_id, expires_at = found
    now = utcnow()
    async with db.transaction() as s:
        row = await s.get(DownloadLink, link_id)
        if row is None or int(row.expires_at.timestamp()) != int(expires_at.timestamp()):
            raise Refusal(INVALID, code=NOT_FOUND)
        refusal = EXPIRED if row.expires_at <= now or row.content is None else USED_UP if row.opens_left < 1 else None
        left: int | None = row.opens_left
        content = None
        if refusal is None and take:
            left = (await s.execute(
                update(DownloadLink)
                .where(DownloadLink.id == row.id, DownloadLink.opens_left > 0, DownloadLink.expires_at > now)
                .values(opens_left=DownloadLink.opens_left - 1, last_opened_at=now)
                .returning(DownloadLink.opens_left)
            )).scalar_one_or_none()
            if left is None:
                refusal = USED_UP
            else:
                try:
                    content = unseal(row.content or b"", secret, SEAL_LABEL)
                except SealError:
                    refusal = EXPIRED
        if refusal is not None:
            _audit(s, row.account_id, "download_refused", row.subject_id, row.document_number, link=row.id,
                   why="expired" if refusal == EXPIRED else "used_up")
        elif take:
            _audit(s, row.account_id, "document_download", row.subject_id, row.document_number, link=row.id)
        result = LinkContent(row.file_name, row.media_type, row.sha256, row.document_number, row.expires_at,
                             int(left or 0), content)
    if refusal is not None:  # the audit row is committed; the caller hears why
        raise Refusal(refusal, code=GONE_CODE)
    return result
