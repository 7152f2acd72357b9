"""Errors as `application/problem+json` (RFC 9457) with a Chinese `detail`.

Every error the port answers goes through here: refusals of the use cases, bad requests (422 with
one entry per field: where, which field, why), and anything unexpected (500 with a Chinese sentence;
the log line carries only the exception type and the path, never SQL, parameters or a trace of
personal data).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, TOO_LARGE, Refusal

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
TITLES = {
    400: "请求有误", 401: "未认证", 403: "无权访问", 404: "未找到", 405: "方法不允许", 408: "请求超时", 409: "冲突",
    413: "请求过大", 415: "媒体类型不支持", 422: "请求内容无效", 429: "请求过于频繁", 500: "服务器内部错误",
    503: "服务尚未就绪",
}
_FIELD_REASONS = {
    "missing": "缺少必填字段",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "too_long": "条目过多",
    "too_short": "条目过少",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为字符串",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "enum": "不是允许的取值",
    "literal_error": "不是允许的取值",
    "json_invalid": "不是有效的 JSON",
    "extra_forbidden": "不允许的字段",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "greater_than": "数值过小",
    "less_than": "数值过大",
}


# What each error status means on any route; a route names its own 404, 409 and 422 where it says more.
WHY = {
    400: "请求体无法解析（例如不是 UTF-8 编码的 JSON）",
    401: "缺少接口密钥（X-API-Key），或密钥无效、已被吊销",
    403: "接口密钥没有该接口所需的权限",
    404: "没有找到",
    408: "请求体未在规定时间（api.request_body_seconds）内发送完",
    409: "冲突",
    413: "请求体超过上限（api.max_body_mb）",
    422: "请求内容无效：errors 列出每处问题（位置、字段、序号、原因）；名称含控制字符或改变显示方向的字符、"
         "请求含 NUL 字符也在此列",
    429: "请求过于频繁：请按 Retry-After 响应头（秒）后重试",
    500: "服务器内部错误（请稍后重试；日志只记录异常类型）",
    503: "服务繁忙：本工作进程的连接或处理中的请求已达上限，请按 Retry-After 重试",
}
# Sent on every route by the server and its middleware, before any route runs.
EVERY_ROUTE = (408, 413, 422, 500, 503)
KEYED = (401, 403, 429)  # routes that need an API key
IDEMPOTENT_409 = "使用该 Idempotency-Key 的同一请求仍在处理中（等待后仍未完成）：请按 Retry-After 重试，将得到第一次的结果"


def problem_responses(*statuses: int, **why: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route really sends (EVERY_ROUTE added), each with
    the ProblemOut body; `why` gives a route's own description by status (`s404="..."`)."""
    from bot.api.schemas import ProblemOut

    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, *EVERY_ROUTE}):
        out[status] = {"model": ProblemOut, "description": why.get(f"s{status}", WHY[status])}
    return out


def problem_json_in(openapi: dict[str, Any]) -> dict[str, Any]:
    """Error bodies are `application/problem+json`, not the `application/json` FastAPI writes for a
    response model: renamed in the generated document, so a client generated from it expects them."""
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[:1] in "45" and "application/json" in content:
                    content[PROBLEM] = content.pop("application/json")
    return openapi


# Starlette's own errors (English, generic) said in Chinese.
DETAILS = {
    400: "请求体无法解析：应为 UTF-8 编码的 JSON。",
    404: "没有这个接口地址，请对照 /openapi.json 或 /docs。",
    405: "该接口地址不支持这种请求方法，请对照 /openapi.json 或 /docs。",
}


# A use case's refusal as an HTTP status (services.errors); one without a kind is unprocessable.
REFUSAL_STATUS = {FORBIDDEN: 403, NOT_FOUND: 404, INVALID: 422, TOO_LARGE: 413, CONFLICT: 409}


class ApiProblem(Exception):
    """An answer only HTTP has (401 without a key, 429 over the rate, 413 over the body size):
    raised by the port's own plumbing, never by a use case."""

    def __init__(self, status: int, detail: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra or {}


def problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "错误"), "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _reason(err: dict[str, Any]) -> str:
    """A field's problem in Chinese: pydantic's kinds by the table, our own field rules (a
    ValueError raised in Chinese, e.g. rules/text_input's refusals) by their own words."""
    kind = str(err.get("type"))
    if kind == "value_error" and (err.get("ctx") or {}).get("error") is not None:
        return str(err["ctx"]["error"])
    if kind in ("too_long", "too_short") and isinstance(err.get("input"), str):
        # A length limit placed after our own validator (NameText with Query(max_length=...)) is
        # checked by pydantic's generic rule, which says too_long for strings too: not 条目过多.
        kind = "string_" + kind
    return _FIELD_REASONS.get(kind, "取值无效")


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors()[:100]:
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "body"
        path = loc[1:]
        # A JSON syntax error's location is a character offset, not an item's position.
        index = None if err.get("type") == "json_invalid" else next((int(p) for p in path if p.isdigit()), None)
        out.append({
            "in": where,
            "field": ".".join(p for p in path if not p.isdigit()) or None,
            "index": index,
            "reason": _reason(err),
        })
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _problem(_request: Request, exc: ApiProblem) -> JSONResponse:
        headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        return problem(exc.status, exc.detail, headers=headers, **exc.extra)

    @app.exception_handler(Refusal)
    async def _refusal(_request: Request, exc: Refusal) -> JSONResponse:
        return problem(REFUSAL_STATUS.get(exc.code or "", 422), exc.reason, **exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        first = errors[0] if errors else {}
        where = f"字段“{first.get('field')}”" if first.get("field") else "请求"
        return problem(422, f"{where}{first.get('reason', '无效')}；共 {len(errors)} 处问题，见 errors。", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else DETAILS.get(
            exc.status_code, TITLES.get(exc.status_code, "请求无法处理"))
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("API %s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return problem(500, "服务器处理请求时出错，请稍后重试；如持续出现请联系平台管理员。")


class CrashToProblem:
    """Plain ASGI middleware: an exception escaping a route becomes a problem+json 500 and one log
    line with the exception type only (Starlette's outer error middleware would log the whole
    traceback, with whatever values the frames held)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.error("API %s %s failed: %s", scope.get("method"), scope.get("path"), type(exc).__name__)
            if not started:
                response = problem(500, "服务器处理请求时出错，请稍后重试；如持续出现请联系平台管理员。")
                await response(scope, receive, send)
