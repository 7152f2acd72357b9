"""Scheduled work, run by PTB's JobQueue (APScheduler underneath)."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.services import SERVICES_KEY, Services
from bot.startup import refresh_index

log = logging.getLogger(__name__)
INDEX_REFRESH_SECONDS = 30


async def refresh_name_index(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data[SERVICES_KEY]
    changed = await refresh_index(services)
    if changed:
        log.info("name index refreshed: %d subjects changed", changed)


def schedule_jobs(app: Application) -> None:
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        refresh_name_index, interval=INDEX_REFRESH_SECONDS, first=INDEX_REFRESH_SECONDS, name="refresh_name_index"
    )
