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
from bot.wecom.api import WeComApp, WeComClient
from bot.callbacks.crypto import CallbackCrypto
from bot.wecom.endpoint import WeComChannel
from bot.wecom.router import ChannelRouter
from bot.wecom.transport import WeComBotAPI
from db.session import Database
from services.settings import Settings

log = logging.getLogger(__name__)
CLEAN_EVERY_SECONDS = 6 * 3600


async def forget_old_callbacks(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handled callbacks are kept as dedupe keys for the retention period (bot/callbacks/inbox.py)."""
    channel = context.job.data if context.job else None
    if channel is not None:
        await channel.forget_old()


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
    # Long polling keeps its own connection, as PTB does by default.
    polling = HTTPXRequest() if telegram is not None else None
    app = build_application(settings, ChannelRouter(telegram, transport), db=db, updates_transport=polling)
    channel = WeComChannel(
        app, CallbackCrypto(w.token, w.encoding_aes_key, w.corp_id), transport, w.replay_window_seconds
    )
    server = None
    try:
        async with app:
            await start_services(app)
            await channel.forget_old()
            if app.job_queue is not None:
                app.job_queue.run_repeating(
                    forget_old_callbacks, interval=CLEAN_EVERY_SECONDS, first=CLEAN_EVERY_SECONDS, data=channel
                )
            server = channel.listen(w.port, w.listen, w.path)
            log.info("WeCom callback server listening on %s:%s%s", w.listen, w.port, w.path)
            if telegram is not None and app.updater is not None:
                if tg.mode == "webhook":
                    await app.updater.start_webhook(
                        listen=tg.listen, port=tg.port, url_path="telegram", webhook_url=tg.webhook_url,
                        secret_token=tg.secret_token or None,
                    )
                else:
                    await app.updater.start_polling()
            await app.start()
            channel.start()  # handles what the inbox holds, also what was stored before a restart
            await stop.wait()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await channel.stop()
            await app.stop()
    finally:
        if server is not None:
            server.stop()
        await client.close()
