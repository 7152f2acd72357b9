"""Scheduled work, run by PTB's JobQueue (APScheduler underneath).

Jobs hold the Application and are not persisted; the reminder scan therefore keeps all of its state
in the database (claims), runs daily at every configured time (returning at once on non-working
days), and also runs once at start-up: a scan missed while the bot was down (APScheduler's misfire
grace is one second) is caught up, and one that already ran is not repeated, because its claims
are there.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.ext import Application, ContextTypes

from bot.calendar_settings import calendar_from_settings
from render.buttons import keyboard
from render.reminders import render_reminder
from services.collection.reminders import Reminder, ReminderPolicy, ScanResult, run_scan
from services.name_index import keep_snapshot_fresh, refresh_index
from services.runtime import SERVICES_KEY, Services

log = logging.getLogger(__name__)


async def refresh_name_index(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data[SERVICES_KEY]
    changed = await refresh_index(services)
    if changed:
        log.info("name index refreshed: %d subjects changed", changed)
    # After enough changes (an import, renames) a new snapshot is written in the background, so a
    # restart tops up only what changed since.
    await keep_snapshot_fresh(services)


def policy_of(services: Services) -> ReminderPolicy:
    r = services.settings.reminders
    return ReminderPolicy(tuple(r.times), r.days_before_month_end, r.escalate_after_working_days)


def sender(bot: Bot, escalate_after: int) -> Callable[[Reminder], Awaitable[None]]:
    """Send each claimed reminder as rendered by render/reminders.py (also the CLI's words)."""

    async def send(r: Reminder) -> None:
        text, buttons = render_reminder(r, escalate_after)
        await bot.send_message(r.telegram_user_id, text, reply_markup=keyboard(buttons))

    return send


async def scan_now(app: Application, at: dt.datetime | None = None) -> ScanResult:
    """One reminder scan as of `at` (default now), sending through the application's bot."""
    services: Services = app.bot_data[SERVICES_KEY]
    calendar = services.calendar or calendar_from_settings(services.settings)
    policy = policy_of(services)
    result = await run_scan(
        services.db, at or services.now(), policy, calendar, services.settings.tz,
        sender(app.bot, policy.escalate_after_working_days),
    )
    if result.sent or result.failed:
        log.info("reminder scan %s: sent %d, already claimed %d, failed %d",
                 result.slot, len(result.sent), result.skipped, result.failed)
    return result


async def reminder_scan(context: ContextTypes.DEFAULT_TYPE) -> None:
    await scan_now(context.application)


async def expire_upload_files(context: ContextTypes.DEFAULT_TYPE) -> None:
    from db.upload_store import purge_expired

    services: Services = context.application.bot_data[SERVICES_KEY]
    retention = dt.timedelta(hours=services.settings.privacy.upload_retention_hours)
    expired = await purge_expired(services.db, services.now(), retention)
    if expired:
        log.info("uploads expired: %d", expired)


def schedule_jobs(app: Application) -> None:
    assert app.job_queue is not None
    services: Services = app.bot_data[SERVICES_KEY]
    every = services.settings.index.refresh_seconds
    app.job_queue.run_repeating(refresh_name_index, interval=every, first=every, name="refresh_name_index")
    for text in services.settings.reminders.times:
        at = dt.time.fromisoformat(text).replace(tzinfo=services.settings.tz)
        app.job_queue.run_daily(reminder_scan, time=at, name=f"reminders {text}", job_kwargs={"misfire_grace_time": 600})
    # Catch-up: today's slot that passed while the bot was down is scanned now (claims stop repeats).
    app.job_queue.run_once(reminder_scan, when=1, name="reminders catch-up")
    # Uploads nobody confirmed: their (sealed) bytes are deleted once the retention has passed.
    app.job_queue.run_repeating(expire_upload_files, interval=3600, first=60, name="expire uploads")
    # The conversations' own jobs (lifecycle, evaluation) are scheduled where they are registered:
    # handlers.schedule_conversation_jobs, called by bot/app.py.
