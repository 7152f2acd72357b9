"""Keys, scopes and the per-key rate limit.

The key travels in the `X-API-Key` header. Missing, wrong or revoked: 401. Valid but without the
scope the endpoint needs: 403. Over the rate: 429 with `Retry-After` in whole seconds. The limit is a
token bucket per key held by each worker process (`api.rate_per_minute`, bursts up to `api.burst`):
with N workers a key can reach N times the rate, which the configuration notes. A verified key is
trusted by each worker for `services.apikeys.KEY_CACHE_SECONDS` (10 s) without asking the database:
a revocation takes effect within that time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from bot.api.problems import ApiProblem
from services.apikeys import SCOPES, Principal, touch_key

KEY_HEADER = "X-API-Key"
TOUCH_EVERY_SECONDS = 60.0
key_header = APIKeyHeader(
    name=KEY_HEADER, auto_error=False, scheme_name="部门系统接口密钥",
    description="平台管理员用 `creditbot admin apikey create` 生成的接口密钥，每个部门业务系统一个。",
)


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets per key; thread-safe because uvicorn may run sync parts in threads."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int, now: float | None = None) -> float:
        """0 when allowed; else the seconds until the next request would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            b = self._buckets.get(key_id)
            if b is None:
                b = self._buckets[key_id] = _Bucket(self.burst, now)
            b.tokens = min(self.burst, b.tokens + (now - b.at) * self.rate)
            b.at = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / self.rate


def requires(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller's principal, after key, rate and scope checks (in that order); any one
    of `scopes` suffices (look-ups serve both check and query keys)."""
    assert scopes and all(s in SCOPES for s in scopes)

    async def dependency(request: Request, key: str | None = Depends(key_header)) -> Principal:
        state = request.app.state.api
        if not key:
            raise ApiProblem(401, f"缺少接口密钥：请在请求头 {KEY_HEADER} 中提供。")
        principal = await state.keys.authenticate(key)
        if principal is None:
            raise ApiProblem(401, "接口密钥无效或已被吊销。")
        wait = state.limiter.take(principal.key_id)
        if wait > 0:
            raise ApiProblem(429, "请求过于频繁，请稍后重试。", {"retry_after": math.ceil(wait)})
        if not principal.scopes & set(scopes):
            wanted = "或".join(f"“{SCOPES[s]}”（{s}）" for s in scopes)
            raise ApiProblem(403, f"该接口密钥没有{wanted}权限。")
        request.state.principal = principal
        now = time.monotonic()
        if now - state.touched.get(principal.key_id, -TOUCH_EVERY_SECONDS) >= TOUCH_EVERY_SECONDS:
            state.touched[principal.key_id] = now
            await touch_key(state.services.db, principal.key_id)
        return principal

    return dependency


# Annotated dependencies, FastAPI's recommended form (no call in a default argument).
CheckKey = Annotated[Principal, Depends(requires("check"))]
QueryKey = Annotated[Principal, Depends(requires("query"))]
LookupKey = Annotated[Principal, Depends(requires("query", "check"))]
IdQueryKey = Annotated[Principal, Depends(requires("idquery"))]
PushKey = Annotated[Principal, Depends(requires("push"))]
