"""Document downloads by link (services/download_links.py): what a WeChat user opens when the bot
hands them a report or a notice it could not send as a file or a message.

GET /dl/<token>        a page naming the document (file name, its number, until when, downloads
                       left) with a download button; opening it takes no download, so a link
                       preview or a second look costs nothing. A notice's text is shown here.
GET /dl/<token>/file   the bytes (one download counted and audited), `inline` so that a phone
                       previews the PDF; never cached, no referrer.
A forged or unknown link is 404, an expired or used-up one 410, each with a Chinese page.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.web.page import esc, page
from services import download_links
from services.download_links import GONE_CODE, LinkContent
from services.errors import Refusal
from services.runtime import Services

router = APIRouter(include_in_schema=False)


def _services(request: Request) -> Services:
    return request.app.state.api.services  # type: ignore[no-any-return]


def _refused(services: Services, exc: Refusal) -> HTMLResponse:
    status = 410 if exc.code == GONE_CODE else 404
    body = f'<h1>无法打开</h1><div class="verdict unknown" id="verdict">{esc(exc.reason)}</div>'
    return page("文件下载", services.settings.region.platform_name, body, status=status)


async def _open(request: Request, token: str, take: bool) -> LinkContent | HTMLResponse:
    services = _services(request)
    try:
        return await download_links.open_link(services.db, services.settings.privacy.id_hash_key, token, take)
    except Refusal as exc:
        return _refused(services, exc)


def _is_text(link: LinkContent) -> bool:
    return link.media_type.startswith("text/plain")


@router.get("/dl/{token}", response_class=HTMLResponse)
async def landing(request: Request, token: str) -> Response:
    services = _services(request)
    probe = await _open(request, token, take=False)
    if isinstance(probe, HTMLResponse):
        return probe
    platform = services.settings.region.platform_name
    if _is_text(probe):  # a notice: its text is the document
        opened = await _open(request, token, take=True)
        if isinstance(opened, HTMLResponse):
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
    opened = await _open(request, token, take=True)
    if isinstance(opened, HTMLResponse):
        return opened
    headers = {
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(opened.file_name)}",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(opened.content or b"", media_type=opened.media_type, headers=headers)
