"""`Idempotency-Key` for the writing endpoints: a request runs once, every copy gets the first answer
(marked `Idempotent-Replayed: true`), as services/api_idempotency.py explains.

What a client sees: the answer of the first copy, also when it arrives while that copy still runs
(it waits up to `api.idempotency_wait_seconds`); past that wait 409 with `Retry-After`; the same key
with a different request 422. The key is optional; without it every request runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from bot.api.problems import ApiProblem
from services.api_idempotency import (
    Claim,
    ClaimLost,
    KeyInUse,
    KeyReused,
    StoredAnswer,
    claim,
    finish,
    release,
    request_hash,
)
from services.apikeys import Principal

REPLAYED = "Idempotent-Replayed"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    stored: bool = False  # already written with the claim inside the work's transaction (finish_in)


Work = Callable[[Claim | None], Awaitable[Answer]]
Render = Callable[[int, dict[str, Any], dict[str, str]], Response]


def json_answer(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


async def run_once(
    request: Request, principal: Principal, idem_key: str | None, work: Work, render: Render = json_answer
) -> Response:
    """Run `work` once per key: it gets the claim (None without a key) and may store its answer
    in its own transaction with `finish_in`; otherwise the answer is stored after it. An ApiProblem
    or a Refusal raised by the work gives the key up, so a corrected retry may use it again."""
    if idem_key is None:
        answer = await work(None)
        return render(answer.status, answer.body, {})
    idem_key = idem_key.strip()
    if not idem_key:
        raise ApiProblem(422, "Idempotency-Key 不能为空。")
    api = request.app.state.api
    db, settings = api.services.db, api.services.settings.api
    req_hash = request_hash(request.method, request.url.path, await request.body(), request.url.query)
    while True:
        try:
            held = await claim(db, principal.key_id, idem_key, req_hash, lease_seconds=settings.idempotency_lease_seconds,
                               wait_seconds=settings.idempotency_wait_seconds)
        except KeyReused:
            raise ApiProblem(422, "该 Idempotency-Key 已用于另一个内容不同的请求，请换一个新的键。") from None
        except KeyInUse as exc:
            raise ApiProblem(409, f"使用该 Idempotency-Key 的同一请求仍在处理中，请 {exc.retry_after} 秒后重试，"
                                  "届时将返回第一次请求的结果。", {"retry_after": exc.retry_after}) from None
        if isinstance(held, StoredAnswer):
            return render(held.status_code, held.body, {REPLAYED: "true"})
        try:
            answer = await work(held)
        except ClaimLost:
            continue  # another copy took the claim over and answers for the key: wait for its answer
        except BaseException:
            await asyncio.shield(release(db, held))
            raise
        if not 200 <= answer.status < 300:
            await release(db, held)
        elif not answer.stored:
            await finish(db, held, answer.status, answer.body)
        return render(answer.status, answer.body, {})
