"""The HTTP port's app (create_app, web pages included) served by uvicorn inside the test's event
loop on 127.0.0.1 and a free port, on the test's database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn

from bot.api.app import create_app
from db.session import Database
from services.settings import Settings
from tests.test_webhook import free_port


@contextlib.asynccontextmanager
async def serving(settings: Settings, db: Database, port: int | None = None) -> AsyncIterator[str]:
    """Yields the base URL once the app answers; stops it afterwards."""
    port = port or free_port()
    config = uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
