"""Conversation modules; each registers its own handlers. Order matters: commands first, free text last."""

from __future__ import annotations

import warnings

from telegram.ext import Application
from telegram.warnings import PTBUserWarning


def register_handlers(app: Application) -> None:
    from handlers import (
        account,
        admin_views,
        check,
        checkreport,
        collect,
        declare,
        due,
        evaluation,
        listing,
        objection,
        query,
        reminders,
        repair,
        report,
        start,
        stats,
        verify,
    )

    # Conversations that accept documents mid-way come before `collect`, which takes any document;
    # free-text questions come last.
    modules = (
        start, account, stats, due, check, listing, objection, repair, declare, verify, report, checkreport,
        collect, reminders, admin_views, evaluation,
    )
    with warnings.catch_warnings():
        # With per_message=False PTB warns that a button press is tracked per chat, not per message:
        # exactly what these conversations want (the answers that follow are plain messages).
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        for module in (*modules, query):
            module.register(app)
    start.register_last(app)


def schedule_conversation_jobs(app: Application) -> None:
    """The conversations' own jobs (they send with the Application's bot): listings taking effect and
    records leaving publication; the evaluation's full run and risk digest; notice retries."""
    from handlers import evaluation, listing, notify

    listing.schedule(app)
    notify.schedule(app)
    evaluation.schedule(app)
