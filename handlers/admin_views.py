"""Admin views: `/overdue` (who is late, by department), `/ontime [YYYY-MM]` (monthly on-time rate
per department as a bar chart, sent with sendPhoto) and `/undelivered` (notices the bot could not
deliver in the last 30 days, to be delivered in writing; an official sees those of its own decisions).

The chart is drawn with matplotlib's Agg backend in a worker thread, so the bot keeps answering
while it renders. Its labels are the departments' Chinese short names, set in the font the package
ships (render.fonts), so no system font is needed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.common import caller, heavy_job, reply, services
from render.buttons import ADMIN_CHART, ADMIN_OVERDUE, Buttons, answer_press, family_pattern, pressed
from render.charts import render_chart
from rules.periods import period_of
from services import notices
from services.collection.uploads import on_time_rates, overdue_overview

UNDELIVERED_DAYS = 30
UNDELIVERED_LABELS = {notices.REFUSED: "对方拒收（已屏蔽或停用机器人）", notices.GIVEN_UP: "多次重试仍未送达"}
# Why a refused notice was not sent at all (notices.take): the recipient changed meanwhile.
SKIPPED_LABELS = {"inactive": "接收账号已停用，未发送", "unbound": "接收账号已解除绑定，未发送"}
RECIPIENT_LABELS = {
    notices.SUBJECT: "该主体的绑定账号", "public": "申报人/申请人（公众账号）", "enterprise": "企业账号",
    "official": "办事人员", "collector": "信息采集员", "admin": "系统管理员",
}


def recipient_line(n: notices.Undelivered) -> str:
    """Whom to serve in writing: the kind of recipient and the account's name, if any."""
    who = RECIPIENT_LABELS.get(n.recipient or "", "未登记账号的聊天")
    return f"{who}{f'（{n.recipient_name}）' if n.recipient_name else ''}"


def overdue_text(entries: list, today: dt.date) -> str:  # type: ignore[type-arg]
    if not entries:
        return f"截至 {today:%Y-%m-%d}，没有逾期未报送的部门。"
    lines = [f"逾期与迟报情况（截至 {today:%Y-%m-%d}）："]
    for e in entries:
        parts = []
        if e.missing:
            parts.append("逾期未报送：" + "、".join(f"{g.category}（{g.period}，逾期 {-g.days_left} 个工作日）" for g in e.missing))
        if e.late_records:
            parts.append(f"本月迟报记录 {e.late_records} 条（最多迟 {e.max_late} 个工作日）")
        if e.stale_uploads:
            parts.append(f"超期未确认或未重新上传的文件 {e.stale_uploads} 个")
        lines.append(f"· {e.name}（{e.code}）：" + "；".join(parts))
    return "\n".join(lines)


async def overdue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    assert svc.calendar is not None and update.effective_user is not None
    today = svc.today()
    entries = await overdue_overview(
        svc.db, update.effective_user.id, today, svc.calendar, svc.settings.tz, svc.settings.region.division_code
    )
    last = period_of(today.replace(day=1) - dt.timedelta(days=1))
    buttons: Buttons = [[("本月按时率图表", ADMIN_CHART.pack(period_of(today))), ("上月按时率图表", ADMIN_CHART.pack(last))]]
    await reply(update, overdue_text(entries, today), buttons)


async def send_chart(update: Update, context: ContextTypes.DEFAULT_TYPE, period: str) -> None:
    svc = services(context)
    assert svc.calendar is not None and update.effective_user is not None and update.effective_chat is not None
    async with heavy_job(update, context, "图表"):
        rates = await on_time_rates(
            svc.db, update.effective_user.id, period, svc.today(), svc.calendar, svc.settings.tz,
            svc.settings.region.division_code,
        )
        if not rates:
            await reply(update, f"{period} 还没有可统计的报送（没有到期的按月报送，也没有报送的记录）。")
            return
        png = await asyncio.to_thread(render_chart, rates, period)
    caption = f"{period} 各部门按时报送率：\n" + "\n".join(
        f"{r.code} {r.short_name}：{r.rate * 100:.1f}%（{r.on_time}/{r.total}）" for r in rates[:30]
    )
    await update.effective_chat.send_photo(photo=png, caption=caption[:1024], filename=f"ontime-{period}.png")


async def ontime(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    arg = (context.args or [""])[0]
    if arg and not re.fullmatch(r"(19[5-9][0-9]|20[0-9][0-9])-(0[1-9]|1[0-2])", arg):
        await reply(update, "请按“年-月”指定 1950 年以来的月份，例如：/ontime 2026-10")
        return
    await send_chart(update, context, arg or period_of(svc.today()))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if ADMIN_OVERDUE.unpack(query.data) is not None:
        await answer_press(update)
        await overdue(update, context)
        return
    values = await pressed(update, ADMIN_CHART)
    if values is not None:
        await send_chart(update, context, values[0])


async def undelivered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    _account, viewer = await caller(update, context)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=UNDELIVERED_DAYS)
    found = await notices.undelivered(svc.db, viewer, since)
    if not found.items:
        await reply(update, f"近 {UNDELIVERED_DAYS} 天没有未能送达的通知。")
        return
    lines = [f"近 {UNDELIVERED_DAYS} 天未能送达的通知 {found.total} 条（请另行书面送达）："]
    for n in found.items:
        at = n.created_at.astimezone(svc.settings.tz)
        text = " ".join(n.text.split())
        why = SKIPPED_LABELS.get(n.last_error or "") or UNDELIVERED_LABELS.get(n.status, n.status)
        lines.append(f"· {at:%m-%d %H:%M} · {why} · 尝试 {n.attempts} 次 · 收件人：{recipient_line(n)}\n  {text[:80]}")
    if found.total > len(found.items):
        lines.append(f"（仅显示最近 {len(found.items)} 条，另有 {found.total - len(found.items)} 条较早的未列出。）")
    await reply(update, "\n".join(lines))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("undelivered", undelivered))
    app.add_handler(CommandHandler("overdue", overdue))
    app.add_handler(CommandHandler("ontime", ontime))
    app.add_handler(CallbackQueryHandler(on_button, pattern=family_pattern(ADMIN_OVERDUE, ADMIN_CHART)))
