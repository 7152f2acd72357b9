"""报送期限: when must a record decided on a given day be reported, and how many working days are left.

Shared by the chat (`/due 2026-09-28 行政处罚`, or asked in words) and `creditbot due`.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers.common import reply, services
from nlp.dates import DateError, find_date
from render.due import due_text
from rules.categories import normalize_category
from rules.workcal import WorkCalendar

MAX_YEARS_BACK = 10
USAGE = "请告诉我决定日期和信息类别，例如：/due 2026-09-28 行政处罚，或“9月28日作出的处罚哪天前要报送？”"


def answer(calendar: WorkCalendar, text: str, today: dt.date) -> str:
    try:
        decision = find_date(text, today)
    except DateError as exc:
        return f"{exc}。{USAGE}"
    if decision is None:
        return USAGE
    if not today - dt.timedelta(days=366 * MAX_YEARS_BACK) <= decision <= today + dt.timedelta(days=366):
        return f"决定日期 {decision:%Y-%m-%d} 超出可查询范围：请输入近 {MAX_YEARS_BACK} 年内、且不晚于明年今日的日期。"
    category = None
    for word in text.replace("　", " ").split():
        category = category or normalize_category(word)
    if category is None:
        for word in ("行政许可", "行政处罚", "许可", "处罚"):
            if word in text:
                category = normalize_category(word)
                break
    return due_text(calendar, decision, category, today)


async def due(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    assert svc.calendar is not None
    text = " ".join(context.args or [])
    await reply(update, answer(svc.calendar, text, svc.today()) if text else USAGE)


async def due_in_words(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    svc = services(context)
    assert svc.calendar is not None
    await reply(update, answer(svc.calendar, text, svc.today()))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("due", due))
