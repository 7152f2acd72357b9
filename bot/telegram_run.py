"""`creditbot run` with Telegram alone: long polling, or PTB's own webhook server.

In webhook mode Telegram posts each update to our address with the secret token in the header
`X-Telegram-Bot-Api-Secret-Token`; PTB's server answers 403 to a request without it. Without a
secret anyone who learns the address could post an update claiming to be any user, an official
included, so webhook mode never starts without one (`webhook_options`), and its alphabet and
length are checked as Telegram's setWebhook documents them (services.settings.SECRET_TOKEN).

What Telegram refuses at start-up (a bad token, a webhook address it will not call) ends the
command with one Chinese line and exit code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from telegram.error import TelegramError
from telegram.request import BaseRequest

from bot.app import build_application, start_services, stop_services
from services.settings import SECRET_TOKEN, ConfigError, Settings, TelegramSettings, webhook_url_problem

log = logging.getLogger(__name__)
WEBHOOK_PATH = "telegram"
EXIT_REFUSED_BY_TELEGRAM = 2


def webhook_options(tg: TelegramSettings) -> dict[str, Any]:
    """PTB's `start_webhook` arguments. Raises ConfigError for a missing or malformed secret or a
    webhook URL Telegram would refuse, whatever path the settings came by."""
    if not SECRET_TOKEN.fullmatch(tg.secret_token):
        raise ConfigError("telegram.secret_token", "在 webhook 模式下必须填写，且只能由 1-256 个英文字母、数字、_ 和 - 组成")
    problem = webhook_url_problem(tg.webhook_url)
    if problem:
        raise ConfigError("telegram.webhook_url", problem)
    return {
        "listen": tg.listen,
        "port": tg.port,
        "url_path": WEBHOOK_PATH,
        "webhook_url": tg.webhook_url,
        "secret_token": tg.secret_token,
    }


def refused_text(exc: TelegramError) -> str:
    return (f"Telegram 拒绝了机器人的启动请求：{exc.message}。"
            "请检查 telegram.token、telegram.webhook_url 和 telegram.secret_token。")


async def serve(settings: Settings, transport: BaseRequest | None = None, stop: asyncio.Event | None = None) -> int:
    """Run until `stop` is set (or SIGINT / SIGTERM); returns the exit code."""
    tg = settings.telegram
    options = webhook_options(tg) if tg.mode == "webhook" else None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    app = build_application(settings, transport)
    assert app.updater is not None
    try:
        async with app:  # PTB calls post_shutdown only from run_polling/run_webhook: stop_services below
            await start_services(app)
            if options is not None:
                await app.updater.start_webhook(**options)
                log.info("Telegram webhook server listening on %s:%s/%s", tg.listen, tg.port, WEBHOOK_PATH)
            else:
                await app.updater.start_polling()
            await app.start()
            await stop.wait()
            if app.updater.running:
                await app.updater.stop()
            await app.stop()
    except TelegramError as exc:
        print(refused_text(exc), file=sys.stderr)
        return EXIT_REFUSED_BY_TELEGRAM
    finally:
        await stop_services(app)
    return 0
