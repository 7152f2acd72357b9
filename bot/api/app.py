"""The port's FastAPI application: built once per worker process by `create_app`.

At start-up a worker loads the name index from the database and then follows the change feed (the
same `refresh_index` the bot's job runs), so several workers or replicas on one PostgreSQL answer
alike. `/readyz` says 503 until the index is loaded. A fresh database is migrated and loaded once by
`creditbot api` before the workers start, never by each worker; a current one is not written to at
start, so workers start on a read-only standby. Reads go to `database.read_url` when set, the
look-up's audit rows through the outbox (`database.outbox_dir`, db/outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bot import web
from bot.api import problems, routes_changes, routes_checks, routes_documents, routes_records, routes_subjects
from bot.api.limits import BodySizeLimit
from bot.api.security import RateLimiter
from bot.api.server import protocol_state
from bot.logging_setup import setup_logging
from db.session import Database
from nlp.lexicon import Lexicon
from rules.workcal import WorkCalendar
from services.api_idempotency import prune
from services.apikeys import KeyCache
from services.database_setup import database_for, start_outbox, stop_outbox
from services.name_index import adopt_newer_snapshot, refresh_index, start_index, wait_for_index
from services.runtime import Services
from services.settings import Settings, load_settings
from services.subject_feed import load_divisions

log = logging.getLogger(__name__)
CONFIG_ENV = "CREDITBOT_CONFIG"
PRUNE_EVERY_SECONDS = 3600
STOP_WAIT_SECONDS = 10  # how long shutdown waits for a refresh or prune in progress

DESCRIPTION = """
联合奖惩应用端口：各部门业务系统在办理流程中嵌入信用核查（逢办必查：发起—响应—反馈），
并实时报送本部门的信用记录。

接入步骤：平台管理员为业务系统生成接口密钥（`creditbot admin apikey create`），系统在每个请求的
`X-API-Key` 请求头中携带它。密钥所属部门决定可见范围与脱敏方式，与该部门办事人员在聊天中看到的一致；
每次查询、核查、反馈和报送都写入审计记录。错误以 `application/problem+json` 返回，`detail` 为中文说明。
"""


@dataclass
class ApiState:
    services: Services
    limiter: RateLimiter
    keys: KeyCache
    ready: bool = False
    # When this worker last noted each key's use (ApiKey.last_used_at is written once a minute at most).
    touched: dict[int, float] = field(default_factory=dict)


async def load_index(services: Services) -> str:
    """Lexicon and name index (no seeding: that is done once, before workers). The index comes from
    the bot's snapshot when there is a valid one, topped up from the change feed, as the bot's does;
    without one it is built before the worker serves. Returns how: "snapshot", "built" or "building"
    (then finished before returning)."""
    settings = services.settings
    services.calendar = WorkCalendar(settings.calendar.holidays, settings.calendar.workdays)
    async with services.db.transaction() as s:
        divisions = await load_divisions(s)
    lexicon = Lexicon.from_divisions(divisions)
    lexicon.warm_up()
    services.lexicon = lexicon
    how = await start_index(services, lexicon)
    await wait_for_index(services)
    return how


async def _until_stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds` or until `stop` is set; True when stopping. The loops below stop between two
    rounds, never inside one: a task cancelled while its connection went back to the pool left a
    traceback in the log at every shutdown that fell on a refresh."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def _follow_feed(services: Services, every: float, stop: asyncio.Event) -> None:
    while not await _until_stopped(stop, every):
        try:
            # The bot's newer snapshot, mapped: this worker's private changes become the host's one copy.
            await adopt_newer_snapshot(services)
            await refresh_index(services)
        except Exception as exc:  # a database hiccup: try again next time, keep serving
            log.warning("name index refresh failed: %s", type(exc).__name__)


async def _prune_answers(services: Services, keep_days: int, stop: asyncio.Event) -> None:
    """Answers to Idempotency-Keys are kept `api.idempotency_days`; every worker prunes hourly (the
    DELETE is idempotent, so several workers doing it is harmless)."""
    while True:
        try:
            await prune(services.db, keep_days)
        except Exception as exc:  # a database hiccup: try again next time
            log.warning("pruning idempotency answers failed: %s", type(exc).__name__)
        if await _until_stopped(stop, PRUNE_EVERY_SECONDS):
            return


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    services = Services(settings=settings, db=db or database_for(settings, pool_size=settings.api.db_pool_size))
    state = ApiState(services, RateLimiter(settings.api.rate_per_minute, settings.api.burst), KeyCache(services.db))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await start_outbox(services.db)
        await load_index(services)
        state.ready = True
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_follow_feed(services, settings.api.index_refresh_seconds, stop)),
                 asyncio.create_task(_prune_answers(services, settings.api.idempotency_days, stop))]
        try:
            yield protocol_state(settings.api)  # read by each connection's protocol (bot/api/server.py)
        finally:
            stop.set()  # each loop ends its round (a refresh, a prune) and returns
            _done, late = await asyncio.wait(tasks, timeout=STOP_WAIT_SECONDS)
            for task in late:  # a round stuck on an unreachable database: cancelled after all
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await stop_outbox(services.db)
            if db is None:
                await services.db.dispose()

    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="信用通 联合奖惩应用端口",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "健康检查", "description": "存活与就绪"},
            {"name": "主体查询", "description": "按名称、简称或代码确定主体；查看信用档案"},
            {"name": "逢办必查", "description": "发起核查、获得措施（响应）、反馈办理结果；批量核查"},
            {"name": "信息报送", "description": "按国家标准模板报送信用记录"},
            {"name": "文件核验", "description": "核验平台出具的信用报告、事前告知书（无需密钥）"},
            {"name": "变更", "description": "主体列入、移出、修复、屏蔽及新增记录的变更流"},
            {"name": "文书", "description": "信用修复告知书、决定书、专项信用报告"},
            {"name": "信用修复", "description": "信用中国、省级平台推送的修复申请及结果回传"},
            {"name": "信用网站", "description": "城市信用网站：当前公示信息及其变更（无需密钥）"},
        ],
    )
    app.state.api = state
    app.state.verify_limiter = RateLimiter(settings.api.verify_per_minute, routes_documents.CHECK_BURST)
    app.state.public_limiter = RateLimiter(settings.api.verify_per_minute, routes_changes.PUBLIC_BURST)
    app.add_middleware(problems.CrashToProblem)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api.max_body_mb * 1024 * 1024,
                       body_seconds=settings.api.request_body_seconds)
    problems.install(app)
    app.include_router(routes_subjects.router)
    app.include_router(routes_checks.router)
    app.include_router(routes_records.router)
    app.include_router(routes_documents.router)
    app.include_router(routes_changes.router)
    app.include_router(web.router)  # pages a phone opens (bot/web/)
    mount_docs(app)
    generated = app.openapi

    def openapi() -> dict[str, Any]:
        return problems.problem_json_in(generated())

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def mount_docs(app: FastAPI) -> None:
    """`/docs` with Swagger UI served from the installed package, not a CDN: the government
    extranet the port runs on may reach no public site."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="信用通 联合奖惩应用端口 · 接口文档",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js", swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers: settings from `CREDITBOT_CONFIG` (a path) and the environment.
    With `--workers` above 1 each worker is a fresh process that never ran the CLI's logging set-up:
    without it here their lines would reach stderr unmasked and unstamped."""
    path = os.environ.get(CONFIG_ENV)
    settings = load_settings(Path(path) if path else None)
    setup_logging("WARNING", settings.tz)  # as the CLI's `api` command
    return create_app(settings)
