"""`Idempotency-Key` for the writing endpoints: a retry of a request returns the first answer.

The same key with a different body is refused (422): the key names one request, not a slot. Only
successful answers (2xx) are kept, so a request that failed can be retried with the same key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from bot.api.problems import ApiProblem
from services.api_idempotency import request_hash, store_answer, stored_answer
from services.apikeys import Principal

Run = Callable[[], Awaitable[tuple[int, dict[str, Any]]]]


async def replay_or_run(request: Request, principal: Principal, idem_key: str | None, run: Run) -> JSONResponse:
    db = request.app.state.api.services.db
    if idem_key is None:
        status, body = await run()
        return JSONResponse(body, status_code=status)
    idem_key = idem_key.strip()
    if not idem_key:
        raise ApiProblem(422, "Idempotency-Key 不能为空。")
    req_hash = request_hash(request.method, request.url.path, await request.body())
    stored = await stored_answer(db, principal.key_id, idem_key)
    if stored is not None:
        if stored.request_hash != req_hash:
            raise ApiProblem(422, "该 Idempotency-Key 已用于另一个内容不同的请求，请换一个新的键。")
        return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})
    status, body = await run()
    if 200 <= status < 300:
        await store_answer(db, principal.key_id, idem_key, req_hash, status, body)
    return JSONResponse(body, status_code=status)
