"""/report: a PDF credit report — for the caller's own bound subject, or, for an official, any
subject given by USCC or name (`/report 91610900…` or `/report 恒达建材`)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.pdf import render_report
from db.listings import LifecycleError
from db.lookup import Viewer
from db.report import issue_report
from db.subjects import subject_briefs
from handlers.common import Buttons, caller, reply, services
from handlers.listing import doc_prefix, find_subject, send_pdf


async def send_report(update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, subject_id: int) -> None:
    svc = services(context)
    platform = svc.settings.region.platform_name
    try:
        issued = await issue_report(
            svc.db, viewer, subject_id, svc.now(), lambda data: render_report(data, platform), prefix=doc_prefix(context),
            public_grades=svc.settings.evaluation.public_grades,
        )
    except LifecycleError as exc:
        await reply(update, str(exc))
        return
    chat = update.effective_chat
    assert chat is not None
    await send_pdf(
        context, chat.id, issued.pdf, f"信用报告-{issued.number}.pdf", f"{issued.subject_name} 信用报告（{issued.number}）"
    )


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    query = " ".join(context.args or []).strip()
    if query:
        if not viewer.is_staff:
            await reply(update, "公众和企业只能获取本人（本单位）绑定主体的信用报告，请直接发送 /report。")
            return
        found = await find_subject(context, query)
        if found.subject_id is not None:
            await send_report(update, context, viewer, found.subject_id)
            return
        buttons: Buttons = [[(label, f"rpt:{sid}")] for sid, label in found.candidates]
        await reply(update, found.message or "请重新输入。", buttons)
        return
    if viewer.is_staff and not viewer.subject_ids:
        await reply(update, "请在命令后输入主体名称或统一社会信用代码，例如：/report 91610900MA70A1B2C3")
        return
    if not viewer.subject_ids:
        await reply(update, "获取信用报告须先绑定信用主体（发送 /bind 绑定码）；办事人员可发送 /report 主体名称。")
        return
    if len(viewer.subject_ids) == 1:
        await send_report(update, context, viewer, next(iter(viewer.subject_ids)))
        return
    briefs = await subject_briefs(services(context).db, sorted(viewer.subject_ids))
    await reply(update, "请选择要获取信用报告的主体：", [[(b.name[:60], f"rpt:{sid}")] for sid, b in briefs.items()])


async def on_pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    cq = update.callback_query
    assert cq is not None and cq.data is not None
    await cq.answer()
    _account, viewer = await caller(update, context)
    await send_report(update, context, viewer, int(cq.data.split(":")[1]))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CallbackQueryHandler(on_pick, pattern=r"^rpt:\d+$"))
