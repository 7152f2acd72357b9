"""`creditbot run` with WeCom configured: every configured channel in one process.

One Application (handlers, jobs, name index) serves WeCom through its callback server and, when a
Telegram token is set too, Telegram by polling or webhook; the Bot API calls are routed per chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram.ext import ContextTypes
from telegram.request import HTTPXRequest

from bot.app import build_application, start_services
from bot.telegram_run import webhook_options
from bot.wecom import store
from bot.wecom.api import WeComApp, WeComClient
from bot.wecom.crypto import WeComCrypto
from bot.wecom.endpoint import WeComChannel
from bot.wecom.router import ChannelRouter
from bot.wecom.transport import WeComBotAPI
from db.session import Database
from services.settings import Settings

log = logging.getLogger(__name__)
CLEAN_EVERY_SECONDS = 6 * 3600


async def forget_old_callbacks(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Dedupe keys are needed for minutes (WeCom's retries), not forever."""
    db = context.job.data if context.job else None
    if db is not None:
        await store.forget_old_callbacks(db)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT / SIGTERM)."""
    w = settings.wecom
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    db = Database(settings.database.url, settings.database.echo)
    client = WeComClient(WeComApp(w.corp_id, w.agent_id, w.secret, w.api_base_url), db)
    transport = WeComBotAPI(client)
    tg = settings.telegram
    telegram = HTTPXRequest(connection_pool_size=8) if tg.token else None
    webhook = webhook_options(tg) if telegram is not None and tg.mode == "webhook" else None
    # Long polling keeps its own connection, as PTB does by default.
    polling = HTTPXRequest() if telegram is not None else None
    app = build_application(settings, ChannelRouter(telegram, transport), db=db, updates_transport=polling)
    channel = WeComChannel(app, WeComCrypto(w.token, w.encoding_aes_key, w.corp_id), transport)
    server = None
    try:
        async with app:
            await start_services(app)
            await store.forget_old_callbacks(db)
            if app.job_queue is not None:
                app.job_queue.run_repeating(
                    forget_old_callbacks, interval=CLEAN_EVERY_SECONDS, first=CLEAN_EVERY_SECONDS, data=db
                )
            server = channel.listen(w.port, w.listen, w.path)
            log.info("WeCom callback server listening on %s:%s%s", w.listen, w.port, w.path)
            if telegram is not None and app.updater is not None:
                if webhook is not None:
                    await app.updater.start_webhook(**webhook)
                else:
                    await app.updater.start_polling()
            await app.start()
            await stop.wait()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await channel.drain()
            await app.stop()
    finally:
        if server is not None:
            server.stop()
        await client.close()
