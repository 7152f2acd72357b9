"""/documents: the 信用修复告知书, 决定书 and 专项信用报告 a user may have — its bound subjects' and,
for an official, its department's — newest first, each a button that sends the stored PDF again."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.common import caller, reply, services
from handlers.notify import send_pdf
from render.buttons import DOCUMENT_GET, Buttons, pressed
from services.stored_documents import documents_for, fetch_document


async def documents(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    found = await documents_for(services(context).db, viewer)
    if not found:
        await reply(update, "暂无可获取的文书（信用修复告知书、信用修复决定书、专项信用报告）。")
        return
    lines = ["可获取的文书（点击按钮获取 PDF）："]
    buttons: Buttons = []
    for i, d in enumerate(found, 1):
        lines.append(f"{i}. {d.kind} {d.number} · {d.subject_name} · {d.issued_at.astimezone(services(context).settings.tz):%Y-%m-%d}")
        buttons.append([(f"{i}. {d.kind} {d.number}"[:60], DOCUMENT_GET.pack(d.number))])
    await reply(update, "\n".join(lines), buttons)


async def on_get(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, DOCUMENT_GET)
    if values is None:
        return
    _account, viewer = await caller(update, context)
    doc = await fetch_document(services(context).db, viewer, values[0])
    chat = update.effective_chat
    assert chat is not None
    await send_pdf(context, chat.id, doc.pdf, doc.file_name, f"{doc.kind}（{doc.number}）")


def register(app: Application) -> None:
    app.add_handler(CommandHandler("documents", documents))
    app.add_handler(CallbackQueryHandler(on_get, pattern=DOCUMENT_GET.pattern))
