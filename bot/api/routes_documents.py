"""Checking an issued document (信用报告, 事前告知书): the address its QR code points to.

Anyone holding a paper or PDF copy may ask, so no key is needed; the answer reveals no more than the
document itself printed (rules/verification.py, services/issued_documents.py), and each check is in
the audit trail. Keyless callers are limited per client address instead of per key.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from bot.api.problems import ApiProblem, problem_responses
from bot.api.security import RateLimiter
from bot.web import verify_page
from bot.web.page import wants_html
from rules.verification import VERIFY_PATH
from services.issued_documents import check_document

router = APIRouter()
# Per client address and worker (`api.verify_per_minute`): a person checking papers, not a crawler
# walking numbers; a short burst is allowed.
CHECK_BURST = 10
STATUS_TEXT = {
    "genuine": "真实有效：该文件由本平台出具。",
    "altered": "文件已被改动：编号和核验码正确，但文件内容与平台出具的不一致。",
    "wrong_code": "核验码不正确：请核对文件上的核验码。",
    "unknown": "查无此编号：本平台没有出具过该编号的文件。",
}


class DocumentCheckOut(BaseModel):
    status: str = Field(description="genuine 真实有效；altered 文件被改动；wrong_code 核验码不正确；unknown 查无此编号")
    message: str = Field(description="核验结论（中文）")
    number: str = Field(description="文件编号")
    kind: str | None = Field(None, description="文件类别（信用报告、事前告知书）；仅核验码正确时给出")
    subject_name: str | None = Field(None, description="文件所载主体名称（与文件所印一致）")
    subject_code: str | None = Field(None, description="文件所载主体代码（自然人为脱敏证件号）")
    issued_to: str | None = Field(None, description="报告使用人")
    issuer: str | None = Field(None, description="出具机构")
    issued_at: dt.datetime | None = Field(None, description="出具时间（UTC）")
    sha256: str | None = Field(None, description="平台出具文件的 SHA-256，可与手中文件比对")


@router.get(
    VERIFY_PATH,
    response_model=DocumentCheckOut,
    tags=["文件核验"],
    summary="核验信用报告或事前告知书（扫描二维码即到此处）",
    description="浏览器（Accept 优先 text/html）得到供人阅读的核验页面，其他客户端得到 JSON。"
    "浏览器不带编号和核验码打开时，得到输入编号和核验码的表单；其他客户端必须提供二者。",
    responses={
        200: {"content": {"text/html": {}}},
        **problem_responses(429, s429="核验过于频繁（按来源地址计，api.verify_per_minute）：请按 Retry-After 重试"),
    },
)
async def verify_document(
    request: Request,
    number: str | None = Query(None, min_length=1, max_length=64, description="文件编号（必填；浏览器不填时得到输入表单）"),
    code: str | None = Query(None, min_length=1, max_length=64, description="核验码（必填；浏览器不填时得到输入表单）"),
    sha256: str | None = Query(None, pattern="^[0-9a-fA-F]{64}$", description="可选：手中文件的 SHA-256，用于判断是否被改动"),
) -> DocumentCheckOut | HTMLResponse:
    settings = request.app.state.api.services.settings
    if number is None or code is None:
        if wants_html(request.headers.get("accept")):  # typed in by a person: the form, no check, no limit
            return verify_page.form_page(settings, number or "", code or "")
        missing = [name for name, value in (("number", number), ("code", code)) if value is None]
        raise RequestValidationError([{"type": "missing", "loc": ("query", name), "msg": "Field required", "input": None}
                                      for name in missing])
    limiter: RateLimiter = request.app.state.verify_limiter
    client = request.client.host if request.client else "-"
    wait = limiter.take(hash(client))
    if wait:
        seconds = int(wait) + 1
        raise ApiProblem(429, f"核验过于频繁，请 {seconds} 秒后再试。", {"retry_after": seconds})
    result = await check_document(request.app.state.api.services.db, number, code, sha256, channel="api")
    if wants_html(request.headers.get("accept")):  # a person's phone: the page (bot/web/verify_page.py)
        return verify_page.result_page(result, settings)
    return DocumentCheckOut(
        status=result.status, message=STATUS_TEXT[result.status], number=result.number, kind=result.kind,
        subject_name=result.subject_name, subject_code=result.subject_code, issued_to=result.issued_to,
        issuer=result.issuer, issued_at=result.issued_at, sha256=result.sha256,
    )
