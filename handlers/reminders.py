"""Reminders in chat: the digest a collector receives, the escalation an admin receives, `/mytasks`,
and the digest's buttons (查看待办, 本期无新增, 今日不再提醒).

The words are rendered by render/reminders.py, so the JobQueue, `creditbot remind` (also its
--dry-run JSON) and `/mytasks` show the same.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.common import reply, services
from render.buttons import REMINDER, Buttons, pressed
from render.reminders import render_tasks, upload_buttons
from services.collection.reminders import mute_today
from services.collection.tasks import my_tasks


async def show_tasks(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    assert svc.calendar is not None and update.effective_user is not None
    tasks = await my_tasks(svc.db, update.effective_user.id, svc.today(), svc.calendar, svc.settings.tz)
    buttons: Buttons = upload_buttons(tasks)
    if tasks.monthly:
        buttons.append([("本期无新增", REMINDER.pack("zero"))])
    await reply(update, render_tasks(tasks), buttons)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_user is not None
    values = await pressed(update, REMINDER)
    if values is None:
        return
    action = values[0]
    svc = services(context)
    if action == "mute":
        fresh = await mute_today(svc.db, update.effective_user.id, svc.today())
        await reply(update, "好的，今天不再提醒您。" if fresh else "今天已经不再提醒您了。")
        return
    if action == "tasks":
        await show_tasks(update, context)
    elif action == "zero":
        from handlers.collect import zero_menu

        await zero_menu(update, context)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("mytasks", show_tasks))
    app.add_handler(CallbackQueryHandler(on_button, pattern=REMINDER.pattern))
