"""Documents handed out as links: for a channel that cannot send a file (WeChat's 客服消息 API sends
text, images and cards, not PDFs), and for a notice read outside WeChat's 48-hour window.

A link is issued to one account for one set of bytes (any issued document — 信用报告, 专项报告,
告知书 — or a notice's text), and is:
- signed: `<id>.<expiry>.<HMAC>` under a key derived from `privacy.id_hash_key` with its own label;
  a forged, altered or truncated token is refused before the database is read;
- single-user: a link handed to a WeChat user records their OpenID (`recipient`), and is opened
  only by a browser that proved to be that user through WeChat's 网页授权 (OAuth2 with scope
  snsapi_base, bot/wechat/oauth.py: WeChat hands the page a one-time code, the server exchanges
  it for the OpenID). The proof is kept for the link only, signed (`proof_for`), for
  `PROOF_MINUTES`. Anyone else holding the URL is refused (`WRONG_USER`), and the refusal is
  audited with who tried. A recipient outside WeChat (Telegram, WeCom, the console send files
  themselves and rarely get a link) has no such proof in a browser: their link opens once only;
- short-lived: `web.download_minutes` (a notice's page `web.notice_link_hours`); the sealed bytes are
  dropped once it expires (each new link clears expired ones in its own transaction);
- limited: at most `web.download_opens` downloads, counted with one conditional UPDATE, so two
  requests racing for the last one cannot both have it;
- audited: issuing, every download and every refusal are in the audit trail, with who opened it
  (the account of the proven OpenID), the account the link was issued to, the document's number
  and subject when the bytes are an issued document, and the result.
The bytes are sealed at rest (db.upload_store.seal), like uploads and notices.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select, update

from db.models import Account, AuditEntry, DownloadLink, IssuedDocument, WeChatUser, utcnow
from db.session import Database
from db.upload_store import SealError, seal, unseal
from services.errors import NOT_FOUND, Refusal

SEAL_LABEL = b"creditbot download link v1\x00"
SIGN_LABEL = b"creditbot download link signature v1\x00"
PROOF_LABEL = b"creditbot download link opener proof v1\x00"
PROOF_MINUTES = 15
PATH = "/dl/"
INVALID = "链接无效：请回到公众号重新获取。"
EXPIRED = "链接已过期：请回到公众号重新获取。"
USED_UP = "该链接的下载次数已用完：请回到公众号重新获取。"
WRONG_USER = "此链接是发给另一位微信用户的，您无法打开。请在公众号中自行办理以获取您本人的文件。"
PROOF_NEEDED = "请在微信中打开此链接。"
GONE_CODE = "gone"
WRONG_USER_CODE = "wrong_user"
PROOF_CODE = "proof_needed"  # the web page asks WeChat who the user is (网页授权), nothing is audited


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


def proof_for(secret: str, link_id: int, openid: str, expires_at: dt.datetime) -> str:
    """A cookie value saying "this browser proved to be `openid`, for link `link_id`, until
    `expires_at`": `<OpenID, base64url>.<expiry>.<HMAC>`, under its own key label."""
    expires = int(expires_at.timestamp())
    who = base64.urlsafe_b64encode(openid.encode()).decode().rstrip("=")
    key = hashlib.sha256(PROOF_LABEL + secret.encode()).digest()
    mac = hmac.new(key, f"{link_id}.{who}.{expires}".encode(), hashlib.sha256).digest()
    return f"{who}.{expires}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')[:32]}"


def read_proof(secret: str, link_id: int, proof: str | None, now: dt.datetime) -> str | None:
    """The OpenID a `proof_for` value proves for `link_id`, if it is genuine and not expired."""
    parts = (proof or "").split(".")
    if len(parts) != 3 or not parts[1].isascii() or not parts[1].isdigit() or len(parts[0]) > 120:
        return None
    try:
        openid = base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    try:
        expires_at = dt.datetime.fromtimestamp(int(parts[1][:12]), dt.UTC)
    except (ValueError, OverflowError, OSError):  # a year past 9999: not ours
        return None
    if expires_at <= now or not hmac.compare_digest(proof_for(secret, link_id, openid, expires_at), proof or ""):
        return None
    return openid


def opener_tag(openid: str) -> str:
    """What the audit keeps of an OpenID that has no account here: enough to tell repeated tries
    apart, not the identifier itself."""
    return hashlib.sha256(openid.encode()).hexdigest()[:12]


async def _account_of(s, openid: str) -> int | None:  # type: ignore[no-untyped-def]
    """The account of the WeChat user `openid` (wechat_users maps it to the id accounts know)."""
    return await s.scalar(  # type: ignore[no-any-return]
        select(Account.id).join(WeChatUser, WeChatUser.ptb_id == Account.telegram_user_id).where(WeChatUser.openid == openid)
    )


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
    a positive duration, `opens` ≥ 1; the URL is `<public_url>/dl/<token>`.

    A WeChat chat's link is bound to its OpenID (only that user opens it, `open_link`); any other
    chat's link allows one download whatever `opens` says, since no browser can prove its user."""
    now = utcnow()
    digest = hashlib.sha256(content).hexdigest()
    async with db.transaction() as s:
        await s.execute(
            update(DownloadLink).where(DownloadLink.expires_at < now, DownloadLink.content.is_not(None)).values(content=None)
        )
        account_id = await s.scalar(select(Account.id).where(Account.telegram_user_id == chat_id))
        recipient = await s.scalar(select(WeChatUser.openid).where(WeChatUser.ptb_id == chat_id))
        if recipient is None:
            opens = 1
        document = (await s.execute(
            select(IssuedDocument.number, IssuedDocument.subject_id).where(IssuedDocument.sha256 == digest)
        )).first()
        number, subject_id = (document.number, document.subject_id) if document is not None else (None, None)
        expires_at = (now + valid_for).replace(microsecond=0)
        row = DownloadLink(
            account_id=account_id, recipient=recipient, document_number=number, subject_id=subject_id, file_name=file_name[:128],
            media_type=media_type[:64], sha256=digest, content=seal(content, secret, SEAL_LABEL), opens_left=opens,
            expires_at=expires_at, created_at=now,
        )
        s.add(row)
        await s.flush()
        _audit(s, account_id, "download_link_issued", subject_id, number, link=row.id, file=file_name[:64],
               bound="wechat_openid" if recipient else "single_use")
        token = token_for(secret, row.id, expires_at)
    return IssuedLink(token, f"{public_url.rstrip('/')}{PATH}{token}", expires_at, number)


async def open_link(db: Database, secret: str, token: str, take: bool, opener: str | None = None) -> LinkContent:
    """What `token` stands for, to `opener` (the OpenID the browser proved through 网页授权, or
    None); with `take`, one download is counted, audited and its bytes returned, all in one
    transaction.

    Raises Refusal (code NOT_FOUND) for a token that is not ours or whose link is gone, (code
    "gone") for an expired or used-up link, (PROOF_CODE) when the link is bound to a WeChat user and
    no `opener` is given, and (WRONG_USER_CODE) when `opener` is someone else. Each refusal of a
    genuine link but the request for proof is audited: who tried, the document, why."""
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
        if refusal is None and row.recipient is not None and opener is None:
            raise Refusal(PROOF_NEEDED, code=PROOF_CODE)
        who = row.account_id if opener is None else await _account_of(s, opener)
        seen = {"proof": "wechat_oauth" if opener is not None else "none"}
        if opener is not None and who is None:
            seen["opener"] = opener_tag(opener)
        if refusal is None and row.recipient is not None and opener != row.recipient:
            _audit(s, who, "download_refused", row.subject_id, row.document_number, link=row.id, why="wrong_user",
                   issued_to=row.account_id, **seen)
            refused_user = True
        else:
            refused_user = False
        left: int | None = row.opens_left
        content = None
        if refusal is None and not refused_user and take:
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
            _audit(s, who, "download_refused", row.subject_id, row.document_number, link=row.id,
                   why="expired" if refusal == EXPIRED else "used_up", issued_to=row.account_id, **seen)
        elif take and not refused_user:
            _audit(s, who, "document_download", row.subject_id, row.document_number, link=row.id,
                   issued_to=row.account_id, opens_left=int(left or 0), **seen)
        result = LinkContent(row.file_name, row.media_type, row.sha256, row.document_number, row.expires_at,
                             int(left or 0), content)
    if refused_user:  # the audit row is committed; the caller hears why
        raise Refusal(WRONG_USER, code=WRONG_USER_CODE)
    if refusal is not None:
        raise Refusal(refusal, code=GONE_CODE)
    return result
