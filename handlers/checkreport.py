"""/checkreport 编号 核验码: anyone checks whether a credit report or prior notice is genuine; then
sends the PDF itself to learn whether that file was altered (its SHA-256 against the one issued).

The answer says no more than the document printed (services.issued_documents.check_document decides);
an unknown number, a wrong code and an altered file get three different answers. Waiting for the
file is a flow of handlers/flow.py (`[conversations] checkreport_minutes`); text meanwhile is an
ordinary question.
"""

from __future__ import annotations

import hashlib
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers import flow
from handlers.common import caller, reply, services
from services.conversations import Convo
from services.issued_documents import DocumentCheck, check_document

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's getFile limit
USAGE = (
    "请按“/checkreport 编号 核验码”发送，例如：\n"
    "/checkreport 安信报〔2026〕000001号 K7QH-3MXA-94RT\n"
    "编号和核验码印在信用报告或告知书的核验栏中，扫描其中的二维码也可得到这条指令。"
)


def check_text(result: DocumentCheck, tz: ZoneInfo) -> str:
    """The chat answer to a number-and-code check (no file)."""
    if result.status == "unknown":
        return (
            f"❌ 未找到编号为 {result.number} 的文件。\n"
            "请核对编号（含括号和“号”字）；若编号无误，该文件不是本平台出具的。"
        )
    if result.status == "wrong_code":
        return (
            f"❌ 编号 {result.number} 的核验码不正确，无法确认该文件为本平台出具。\n"
            "请核对文件核验栏中的 12 位核验码（字母和数字，不区分大小写）。"
        )
    assert result.issued_at is not None
    lines = [
        f"✅ 核验通过：{result.kind}（{result.number}）由本平台出具。",
        f"主体：{result.subject_name}（{result.subject_code}）",
        f"出具时间：{result.issued_at.astimezone(tz):%Y-%m-%d %H:%M}（北京时间）",
        f"出具对象：{result.issued_to}",
        f"出具单位：{result.issuer}",
    ]
    if result.period:
        lines.append(f"信息时段：{result.period[0]:%Y-%m-%d} 至 {result.period[1]:%Y-%m-%d}")
    lines += [
        f"原文件 SHA-256：{result.sha256}",
        "",
        "如需核对手中的文件是否被改动，请把该 PDF 文件直接发给我（发送 /cancel 结束）。",
    ]
    return "\n".join(lines)


def file_text(result: DocumentCheck, digest: str, tz: ZoneInfo) -> str:
    """The chat answer once the holder's file was compared."""
    if result.status == "genuine":
        return f"✅ 文件与平台出具的 {result.number} 原件完全一致（SHA-256：{digest}）。"
    if result.status == "altered":
        return (
            f"⚠️ 文件已被改动：所发文件的 SHA-256 为 {digest}，"
            f"与平台出具的 {result.number} 原件（{result.sha256}）不一致。请以平台出具的原件为准。"
        )
    return check_text(result, tz)  # the document vanished meanwhile: say so


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if len(args) < 2:
        await reply(update, USAGE)
        return
    number, code = args[0], "".join(args[1:])
    svc = services(context)
    _account, viewer = await caller(update, context)
    result = await check_document(svc.db, number, code, checker=viewer)
    if result.status == "genuine":
        await flow.begin(update, context, FILE_CHECK, "file", {"number": result.number, "code": code})
    await reply(update, check_text(result, svc.settings.tz))


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    message = update.effective_message
    assert message is not None
    if message.document is None:
        await reply(update, "请把要核对的 PDF 文件作为文件发送（不要以图片发送），或发送 /cancel 结束文件核验。")
        return
    if (message.document.file_size or 0) > MAX_DOWNLOAD_BYTES:
        await reply(update, "文件超过 20 MB，无法下载核对。信用报告和告知书原件都远小于这个大小，请确认发送的是原文件。")
        return
    await flow.finish(update, context, convo)
    content = bytes(await (await context.bot.get_file(message.document.file_id)).download_as_bytearray())
    digest = hashlib.sha256(content).hexdigest()
    svc = services(context)
    _account, viewer = await caller(update, context)
    result = await check_document(svc.db, convo.data["number"], convo.data["code"], file_sha256=digest, checker=viewer)
    await reply(update, file_text(result, digest, svc.settings.tz))


# Text meanwhile is an ordinary question (the file is optional), so it goes to the other handlers.
FILE_CHECK = flow.define(
    flow.Flow(
        name="checkreport_file",
        label="文件核验",
        command="checkreport",
        timeout=flow.minutes("checkreport_minutes"),
        on_file=on_file,
        lets_through=frozenset({flow.TEXT, flow.OTHER}),
        cancelled="已结束文件核验。",
        expired="文件核验已结束（等待文件超时）。如需核对文件，请重新发送 /checkreport 编号 核验码。",
    )
)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("checkreport", start))
