"""/stats: the admin's view of 逢办必查 — checks per department and matter, and those never reported back."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers.common import caller, reply, services
from services.api_checks import check_counts_by_source
from services.checks import check_stats


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    if viewer.role != "admin":
        await reply(update, "只有系统管理员可以查看统计。")
        return
    result = await check_stats(services(context).db)
    if not result.total:
        await reply(update, "还没有逢办必查记录。")
        return
    by_source = await check_counts_by_source(services(context).db)
    lines = [
        f"逢办必查统计：共 {result.total} 次（聊天 {by_source['chat']} 次，接口 {by_source['api']} 次），"
        f"未反馈 {result.without_feedback} 次",
        "",
    ]
    lines += [f"· {dept} · {matter}：{n} 次（未反馈 {open_}）" for dept, matter, n, open_ in result.rows]
    if result.open_checks:
        tz = services(context).settings.tz
        lines += ["", f"最近未反馈的核查（最多 {len(result.open_checks)} 条）："]
        lines += [
            f"· {c.created_at.astimezone(tz):%m-%d %H:%M} {c.department} · "
            f"{c.subject_name} · {c.matter}"
            for c in result.open_checks
        ]
    await reply(update, "\n".join(lines))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("stats", stats))
