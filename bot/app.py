"""The one place the PTB Application is built; polling, webhook and console all use it."""

from __future__ import annotations

import contextlib
import logging
import traceback

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.callbacks.retry import defer_to_inbox
from bot.guards import install_guards
from bot.jobs import schedule_jobs
from bot.limited_bot import LimitedBot
from bot.startup import prepare_services
from bot.updates import PerUserUpdateProcessor
from db.session import Database
from handlers import register_handlers, schedule_conversation_jobs
from rules.masking import scrub
from services.database_setup import database_for, open_database, start_outbox, stop_outbox
from services.errors import Refusal
from services.heavy import favour_event_loop
from services.runtime import SERVICES_KEY, Services
from services.settings import Settings

log = logging.getLogger(__name__)

# A syntactically valid token for the in-process transport; it never leaves this process.
LOCAL_TOKEN = "123456789:in-process-transport-no-network-00000"

COMMANDS = [
    BotCommand("start", "开始使用"),
    BotCommand("help", "使用帮助"),
    BotCommand("whoami", "我的账号与角色"),
    BotCommand("bind", "使用绑定码绑定账号"),
    BotCommand("unbind", "解除绑定"),
    BotCommand("report", "获取信用报告（PDF）"),
    BotCommand("checkreport", "核验信用报告或告知书的真伪"),
    BotCommand("declare", "自主申报（信用承诺）"),
    BotCommand("mydeclarations", "我的自主申报"),
    BotCommand("linkcode", "签发、查看、撤销自主申报授权码（企业账号、信用主管部门、管理员）"),
    BotCommand("verify", "自主申报核验（办事人员）"),
    BotCommand("objection", "提出异议"),
    BotCommand("repair", "申请信用修复"),
    BotCommand("propose", "拟列入严重失信主体名单（办事人员）"),
    BotCommand("listings", "本部门拟列入事项（办事人员）"),
    BotCommand("objections", "异议处理（办事人员）"),
    BotCommand("repairs", "信用修复审核（办事人员）"),
    BotCommand("documents", "信用修复告知书、决定书、专项信用报告"),
    BotCommand("due", "计算报送期限"),
    BotCommand("mytasks", "我的报送待办（采集员）"),
    BotCommand("zero", "本期无新增（采集员）"),
    BotCommand("duties", "报送职责（管理员）"),
    BotCommand("overdue", "逾期与未报送（管理员）"),
    BotCommand("ontime", "按时报送率图表（管理员）"),
    BotCommand("stats", "逢办必查统计（管理员）"),
    BotCommand("undelivered", "未能送达的通知（办事人员、管理员）"),
    BotCommand("cancel", "取消当前操作"),
]

SORRY = "抱歉，系统处理您的请求时出现问题，已记录下来。请稍后再试，或发送 /help 查看用法。"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log without personal data, and tell the user politely; never show a traceback.

    A use case's `Refusal` is not a fault: it is the one place a refusal becomes a chat answer
    (its Chinese reason, as it is)."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Refusal) and isinstance(update, Update):
        log.info("update %s refused (%s)", update_id, error.code or "refusal")
        await _tell(update, context, error.reason)
        return
    if defer_to_inbox(error):  # a callback channel runs this update again from its inbox
        log.warning("update %s met a transient database failure; to be handled again", update_id)
        return
    detail = "".join(traceback.format_exception(error)) if error else ""
    log.error("update %s failed: %s", update_id, scrub(detail))
    if isinstance(update, Update):
        await _tell(update, context, SORRY)


async def _tell(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    if update.callback_query:
        # The handler may have answered the press already (Telegram refuses a second answer):
        # that must not keep the reason from reaching the chat.
        with contextlib.suppress(Exception):
            await update.callback_query.answer()
    try:
        if update.effective_chat:
            await context.bot.send_message(update.effective_chat.id, text)
    except Exception as exc:  # the answer itself failed: nothing more to do than note it
        log.warning("could not answer update %s: %s", update.update_id, type(exc).__name__)


async def start_services(app: Application) -> None:
    """Migrate a fresh or older database (a current one is not written to: the bot starts on a
    read-only standby), start the outbox, warm up jieba and build the name index before serving."""
    services: Services = app.bot_data[SERVICES_KEY]
    favour_event_loop()
    await open_database(services.db, services.settings.region.division_code)
    await start_outbox(services.db)
    await prepare_services(services)
    if app.job_queue is not None:
        schedule_jobs(app)
        schedule_conversation_jobs(app)
    try:
        await app.bot.set_my_commands(COMMANDS)
    except Exception as exc:  # commands are a convenience; never refuse to start over them
        log.warning("setMyCommands failed: %s", type(exc).__name__)


async def stop_services(app: Application) -> None:
    services: Services = app.bot_data[SERVICES_KEY]
    await stop_outbox(services.db)
    await services.db.dispose()


def build_application(
    settings: Settings,
    transport: BaseRequest | None = None,
    db: Database | None = None,
    updates_transport: BaseRequest | None = None,
) -> Application:
    """Build the Application; with `transport`, every Bot API call is answered in-process (or routed
    per channel); `updates_transport` serves getUpdates when it must not share that transport."""
    defaults = Defaults(tzinfo=settings.tz, parse_mode=None, link_preview_options=None)
    token = settings.telegram.token or LOCAL_TOKEN
    if transport is not None:
        bot = LimitedBot(token, request=transport, get_updates_request=updates_transport or transport, defaults=defaults)
    else:
        bot = LimitedBot(
            token,
            # PTB's own defaults for the two connections (ApplicationBuilder._build_request).
            request=HTTPXRequest(connection_pool_size=256),
            get_updates_request=HTTPXRequest(connection_pool_size=1),
            defaults=defaults,
        )
    app = (
        ApplicationBuilder().bot(bot).concurrent_updates(PerUserUpdateProcessor())
        .post_init(start_services).post_shutdown(stop_services).build()
    )
    app.bot_data[SERVICES_KEY] = Services(settings=settings, db=db or database_for(settings))
    install_guards(app, settings.limits.messages_per_minute)
    register_handlers(app)
    app.add_error_handler(on_error)
    return app

