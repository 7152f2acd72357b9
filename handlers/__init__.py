"""Conversation modules; each registers its own handlers. Order matters: commands first, free text last."""

from __future__ import annotations

from telegram.ext import Application


def register_handlers(app: Application) -> None:
    from handlers import account, check, due, query, start, stats

    for module in (start, account, stats, due, check, query):
        module.register(app)
