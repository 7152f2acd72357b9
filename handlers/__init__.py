"""Conversation modules; each registers its own handlers. Order matters: commands first, free text last."""

from __future__ import annotations

import warnings

from telegram.ext import Application
from telegram.warnings import PTBUserWarning


def register_handlers(app: Application) -> None:
    from handlers import account, admin_views, check, collect, due, query, reminders, start, stats

    # Conversations that accept documents mid-way come before `collect`, which takes any document.
    for module in (start, account, stats, due, check, collect, reminders, admin_views, query):
        module.register(app)
