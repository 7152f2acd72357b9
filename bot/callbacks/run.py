"""`creditbot run` with WeCom or WeChat configured: every configured channel in one process.

One Application (handlers, jobs, name index) serves WeCom and the WeChat 服务号 through their
callback servers and, when a Telegram token is set too, Telegram by polling or webhook; the Bot API
calls are routed per chat (bot/callbacks/router.py). Each callback channel's inbox worker starts
after the Application, so what was stored before a restart is handled first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram.ext import ContextTypes
from telegram.request import HTTPXRequest

from bot.app import build_application, start_services, stop_services
from bot.callbacks.crypto import CallbackCrypto
from bot.callbacks.endpoint import CallbackChannel
from bot.callbacks.router import ChannelRouter, Route, wechat_route, wecom_route
from bot.telegram_run import webhook_options
from services.database_setup import database_for
from services.settings import Settings

log = logging.getLogger(__name__)
CLEAN_EVERY_SECONDS = 6 * 3600


async def forget_old_callbacks(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handled callbacks are kept as dedupe keys for the retention period (bot/callbacks/inbox.py)."""
    channels = context.job.data if context.job else None
    for channel in channels or ():
        await channel.forget_old()


def wechat_link_settings(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.wechat.transport import LinkSettings

    w, web = settings.wechat, settings.web
    return LinkSettings(
        secret=settings.privacy.id_hash_key, public_url=settings.region.public_url,
        download_minutes=web.download_minutes, download_opens=web.download_opens,
        notice_link_hours=web.notice_link_hours, notice_kind=w.notice_kind, notice_template_id=w.notice_template_id,
        notice_title_key=w.notice_title_key, notice_time_key=w.notice_time_key, timezone=settings.tz,
    )


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT / SIGTERM)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    db = database_for(settings)
    routes: list[Route] = []
    clients: list = []  # type: ignore[type-arg]
    builders = []  # (build channel from app, listen address, port, path)
    if settings.wecom.enabled:
        from bot.wecom.api import WeComApp, WeComClient
        from bot.wecom.endpoint import WeComChannel
        from bot.wecom.transport import WeComBotAPI

        w = settings.wecom
        wecom_client = WeComClient(WeComApp(w.corp_id, w.agent_id, w.secret, w.api_base_url), db)
        wecom_transport = WeComBotAPI(wecom_client)
        clients.append(wecom_client)
        routes.append(wecom_route(wecom_transport))
        wecom_crypto = CallbackCrypto(w.token, w.encoding_aes_key, w.corp_id)
        builders.append((lambda app: WeComChannel(app, wecom_crypto, wecom_transport, w.replay_window_seconds),
                         w.listen, w.port, w.path))
    if settings.wechat.enabled:
        from bot.wechat.api import WeChatApp, WeChatClient
        from bot.wechat.endpoint import WeChatChannel
        from bot.wechat.transport import WeChatBotAPI

        c = settings.wechat
        wechat_client = WeChatClient(WeChatApp(c.app_id, c.app_secret, c.api_base_url), db)
        wechat_transport = WeChatBotAPI(wechat_client, wechat_link_settings(settings))
        clients.append(wechat_client)
        routes.append(wechat_route(wechat_transport))
        wechat_crypto = CallbackCrypto(c.token, c.encoding_aes_key, c.app_id)
        builders.append((lambda app: WeChatChannel(app, wechat_crypto, wechat_transport, c.replay_window_seconds),
                         c.listen, c.port, c.path))
    tg = settings.telegram
    telegram = HTTPXRequest(connection_pool_size=8) if tg.token else None
    webhook = webhook_options(tg) if telegram is not None and tg.mode == "webhook" else None
    # Long polling keeps its own connection, as PTB does by default.
    polling = HTTPXRequest() if telegram is not None else None
    app = build_application(settings, ChannelRouter(telegram, *routes), db=db, updates_transport=polling)
    channels: list[CallbackChannel] = [build(app) for build, *_ in builders]
    servers = []
    try:
        async with app:
            await start_services(app)
            for channel in channels:
                await channel.forget_old()
            if app.job_queue is not None:
                app.job_queue.run_repeating(
                    forget_old_callbacks, interval=CLEAN_EVERY_SECONDS, first=CLEAN_EVERY_SECONDS, data=channels
                )
            if settings.wechat.enabled and settings.wechat.menu:
                await publish_menu(wechat_client)
            for channel, (_build, listen, port, path) in zip(channels, builders, strict=True):
                servers.append(channel.listen(port, listen, path))
                log.info("%s callback server listening on %s:%s%s", channel.name, listen, port, path)
            if telegram is not None and app.updater is not None:
                if webhook is not None:
                    await app.updater.start_webhook(**webhook)
                else:
                    await app.updater.start_polling()
            await app.start()
            for channel in channels:
                channel.start()  # handles what the inbox holds, also what was stored before a restart
            await stop.wait()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            for channel in channels:
                await channel.stop()
            await app.stop()
            await stop_services(app)  # the outbox's last entries, then the engines
    finally:
        for server in servers:
            server.stop()
        for client in clients:
            await client.close()


async def publish_menu(client) -> None:  # type: ignore[no-untyped-def]
    """menu/create at start-up (the same menu again is harmless); a failure is logged, not fatal."""
    from bot.wechat.api import WeChatError
    from bot.wechat.menu import menu_body

    try:
        await client.create_menu(menu_body())
    except (WeChatError, OSError) as exc:
        log.warning("wechat custom menu not published: %s", exc)
