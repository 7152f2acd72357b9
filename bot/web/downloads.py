"""Document downloads by link (services/download_links.py): what a WeChat user opens when the bot
hands them a report or a notice it could not send as a file or a message.

GET /dl/<token>        a page naming the document (file name, its number, until when, downloads
                       left) with a download button; opening it takes no download, so a link
                       preview or a second look costs nothing. A notice's text is shown here.
GET /dl/<token>/file   the bytes (one download counted and audited), `inline` so that a phone
                       previews the PDF; never cached, no referrer.
GET /dl/<token>/auth   where WeChat sends the browser back from 网页授权 (bot/wechat/oauth.py).
A link handed to a WeChat user opens only for that user: without a proof for the link, both pages
send the browser to WeChat's 网页授权 (snsapi_base, silent), with a nonce as `state` kept in a
cookie; on the way back the code is exchanged for the OpenID on the server, and a signed proof for
this link (services/download_links.py `proof_for`) is kept in a cookie scoped to the link's path for
a few minutes. Someone else gets 403 with a Chinese page, as does a refused or replayed code.
A forged or unknown link is 404, an expired or used-up one 410, each with a Chinese page.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.web.page import esc, page
from bot.wechat import oauth
from bot.wechat.api import WeChatApp, WeChatError
from db.models import utcnow
from services import download_links
from services.download_links import GONE_CODE, PROOF_CODE, PROOF_MINUTES, WRONG_USER_CODE, LinkContent
from services.errors import Refusal
from services.runtime import Services

router = APIRouter(include_in_schema=False)


def _services(request: Request) -> Services:
    return request.app.state.api.services  # type: ignore[no-any-return]


PROOF_COOKIE = "dl_proof"
STATE_COOKIE = "dl_state"
STATE_SECONDS = 300  # a 网页授权 code is valid for 5 minutes; the nonce no longer
AUTH_FAILED = "微信授权未通过（错误码 {code}）：请回到公众号，重新点开文件链接。"
AUTH_EXPIRED = "授权已失效：请回到公众号，重新点开文件链接。"
NO_OAUTH = "本平台未启用微信网页授权，无法确认您的身份，暂不能打开此链接。"


def _refused(services: Services, exc: Refusal | str, status: int | None = None) -> HTMLResponse:
    reason = exc if isinstance(exc, str) else exc.reason
    code = None if isinstance(exc, str) else exc.code
    status = status or (410 if code == GONE_CODE else 403 if code == WRONG_USER_CODE else 404)
    kind = ' data-refusal="wrong_user"' if code == WRONG_USER_CODE else ""
    body = f'<h1>无法打开</h1><div class="verdict unknown" id="verdict"{kind}>{esc(reason)}</div>'
    return page("文件下载", services.settings.region.platform_name, body, status=status)


def _cookie(response: Response, services: Services, token: str, name: str, value: str, seconds: int) -> None:
    """A cookie for this link's pages only: not readable by script, not sent by other sites' requests
    but a top-level navigation (WeChat's redirect back), https-only where the site is."""
    secure = services.settings.region.public_url.startswith("https://")
    response.set_cookie(name, value, max_age=seconds, path=f"/dl/{token}", secure=secure, httponly=True, samesite="lax")


def _authorize(request: Request, services: Services, token: str, then: str) -> Response:
    """Send the browser to WeChat's 网页授权 to learn who it is; the nonce comes back as `state`,
    and the way back leads to the page asked for (`then`: "file" for the download, else the landing)."""
    wechat = services.settings.wechat
    if not wechat.enabled:
        return _refused(services, NO_OAUTH, 403)
    state = secrets.token_hex(16)
    back = f"{services.settings.region.public_url.rstrip('/')}/dl/{token}/auth" + ("?then=file" if then == "file" else "")
    response = RedirectResponse(oauth.authorize_url(wechat.app_id, back, state, wechat.oauth_base_url), status_code=302)
    _cookie(response, services, token, STATE_COOKIE, state, STATE_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _opener(request: Request, services: Services, token: str) -> str | None:
    """The OpenID this browser proved for this link, if it did (and recently)."""
    found = download_links.read_token(services.settings.privacy.id_hash_key, token)
    if found is None:
        return None
    return download_links.read_proof(services.settings.privacy.id_hash_key, found[0], request.cookies.get(PROOF_COOKIE), utcnow())


async def _open(request: Request, token: str, take: bool, then: str = "") -> LinkContent | Response:
    services = _services(request)
    opener = _opener(request, services, token)
    try:
        return await download_links.open_link(services.db, services.settings.privacy.id_hash_key, token, take, opener)
    except Refusal as exc:
        if exc.code == PROOF_CODE:
            return _authorize(request, services, token, then)
        return _refused(services, exc)


def _is_text(link: LinkContent) -> bool:
    return link.media_type.startswith("text/plain")


@router.get("/dl/{token}", response_class=HTMLResponse)
async def landing(request: Request, token: str) -> Response:
    services = _services(request)
    probe = await _open(request, token, take=False)
    if isinstance(probe, Response):
        return probe
    platform = services.settings.region.platform_name
    if _is_text(probe):  # a notice: its text is the document
        opened = await _open(request, token, take=True)
        if isinstance(opened, Response):
            return opened
        text = (opened.content or b"").decode("utf-8", "replace")
        return page("通知", platform, f'<h1>通知</h1><pre id="notice">{esc(text)}</pre>')
    expires = probe.expires_at.astimezone(services.settings.tz)
    rows = [("文件", probe.file_name), ("文件编号", probe.document_number),
            ("有效期至", f"{expires:%Y年%m月%d日 %H:%M}"), ("剩余下载次数", str(probe.opens_left))]
    body = (
        "<h1>文件下载</h1><dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows if v) + "</dl>"
        f'<a class="button" id="download" href="/dl/{esc(token)}/file">下载文件</a>'
        '<p class="note">此链接仅供本人使用，请勿转发。下载后可在“文件核验”中比对文件是否被改动。</p>'
    )
    return page("文件下载", platform, body)


@router.get("/dl/{token}/file")
async def download(request: Request, token: str) -> Response:
    opened = await _open(request, token, take=True, then="file")
    if isinstance(opened, Response):
        return opened
    headers = {
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(opened.file_name)}",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(opened.content or b"", media_type=opened.media_type, headers=headers)


@router.get("/dl/{token}/auth")
async def authorized(request: Request, token: str, code: str = "", state: str = "", then: str = "") -> Response:
    """WeChat's redirect back from 网页授权: check the nonce, exchange the code for the OpenID on the
    server, and keep a proof for this link when it is the recipient (else the audited refusal)."""
    services = _services(request)
    secret = services.settings.privacy.id_hash_key
    found = download_links.read_token(secret, token)
    if found is None:
        return _refused(services, download_links.INVALID, 404)
    expected = request.cookies.get(STATE_COOKIE, "")
    if not code or not expected or not hmac.compare_digest(expected.encode(), state.encode()):
        return _refused(services, AUTH_EXPIRED, 403)
    wechat = services.settings.wechat
    if not wechat.enabled:
        return _refused(services, NO_OAUTH, 403)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as http:
        try:
            openid = await oauth.openid_for_code(http, WeChatApp(wechat.app_id, wechat.app_secret, wechat.api_base_url), code)
        except WeChatError as exc:
            return _refused(services, AUTH_FAILED.format(code=exc.errcode), 403)
    try:
        await download_links.open_link(services.db, secret, token, take=False, opener=openid)
    except Refusal as exc:
        response: Response = _refused(services, exc)
    else:
        response = RedirectResponse(f"/dl/{token}" + ("/file" if then == "file" else ""), status_code=303)
        until = utcnow() + dt.timedelta(minutes=PROOF_MINUTES)
        _cookie(response, services, token, PROOF_COOKIE, download_links.proof_for(secret, found[0], openid, until),
                PROOF_MINUTES * 60)
    response.delete_cookie(STATE_COOKIE, path=f"/dl/{token}")
    response.headers["Cache-Control"] = "no-store"
    return response
