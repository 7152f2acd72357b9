"""报送期限: when must a record decided on a given day be reported, and how many working days are left.

Shared by the chat (`/due 2026-09-28 行政处罚`, or asked in words) and `creditbot due`.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers.common import reply, services
from nlp.dates import DateError, find_date
from rules.categories import DOUBLE_PUBLICITY, normalize_category
from rules.workcal import WorkCalendar

WEEKDAYS = "一二三四五六日"
PROVISIONAL = "（注意：该日期按尚未公布的节假日安排推算，仅供参考，国务院公布当年安排后可能调整）"
MAX_YEARS_BACK = 10
USAGE = "请告诉我决定日期和信息类别，例如：/due 2026-09-28 行政处罚，或“9月28日作出的处罚哪天前要报送？”"


def due_text(calendar: WorkCalendar, decision: dt.date, category: str | None, today: dt.date) -> str:
    """One paragraph per deadline rule that applies (both, when no category was named)."""
    asked = [category] if category else ["行政处罚", "登记备案"]
    parts = []
    for cat in asked:
        deadline = calendar.due_date(cat, decision)
        label = cat if category else ("行政许可、行政处罚（双公示）" if cat in DOUBLE_PUBLICITY else "其他类别（按月报送）")
        rule = "决定之日起 7 个工作日内" if cat in DOUBLE_PUBLICITY else "当月最后一个工作日前"
        line = f"{decision:%Y-%m-%d} 作出的{label}信息，应于 {deadline.due:%Y-%m-%d}（星期{WEEKDAYS[deadline.due.weekday()]}）前报送（{rule}）。"
        left = calendar.working_days_between(today, deadline.due)
        if deadline.due < today:
            line += f"\n已逾期 {-left} 个工作日，请尽快报送。"
        elif deadline.due == today:
            line += "\n今天是最后期限。"
        else:
            line += f"\n距今还有 {left} 个工作日。"
        if deadline.provisional:
            line += "\n" + PROVISIONAL
        parts.append(line)
    return "\n\n".join(parts)


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
