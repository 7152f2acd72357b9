"""The chat's own context of a free-text question: the subject being talked about (what a message
means is services.subject_query's, the same for every door).

* Follow-ups: a message with a matter, a category or "更多" and no name refers to the subject last
  shown to this user in this chat (services.resolver_context; the window is `query.followup_minutes`).
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import services
from services.resolver_context import recent_subject


async def current_subject(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    svc = services(context)
    window = dt.timedelta(minutes=svc.settings.query.followup_minutes)
    return await recent_subject(svc.db, chat.id, user.id, dt.datetime.now(dt.UTC), window)
