"""Reporting in chat: a collector sends a file, sees the check, and confirms (确认导入) or cancels;
`/zero` declares 本期无新增 for a monthly category; `/duties` lets admins edit reporting duties.

Checking and importing a large file take a while, so those handlers run with block=False: other
people's messages are answered meanwhile (the importer yields between batches), and the progress
message is edited as rows are checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import time

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from db.importers.inert import inert_cell
from handlers.common import heavy_job, reply, services
from render.buttons import DUTY, UPLOAD, ZERO, Buttons, pressed
from rules.categories import CATEGORIES, normalize_category
from services.collection.duties import admin_department, list_duties, set_duty
from services.collection.monthly import declare_zero, zero_choices
from services.collection.uploads import (
    cancel_upload,
    check_upload,
    collector_for_upload,
    confirm_upload,
)
from services.errors import NOT_A_COLLECTOR, Refusal
from services.imports import ImportReport, format_report
from services.settings import Settings

MAX_ERRORS_INLINE = 20


def retention_of(settings: Settings) -> dt.timedelta:
    return dt.timedelta(hours=settings.privacy.upload_retention_hours)
FINISH = {"written": "导入结束。", "already": "无需重复导入。", "in_progress": "另一次确认正在导入此文件。"}
NOT_COLLECTOR = "您好！通过机器人报送文件仅限已绑定部门的信息采集员。如需开通，请联系本单位的系统管理员获取绑定码，再发送 /bind 绑定码。"


class ProgressEditor:
    """Edits one message as the importer reports rows; at most one edit per `every` seconds, since
    Telegram limits how often a message may be edited."""

    def __init__(self, bot: Bot, chat_id: int, message_id: int, verb: str, every: float = 2.0) -> None:
        self.bot, self.chat_id, self.message_id, self.verb, self.every = bot, chat_id, message_id, verb, every
        self._last = 0.0
        self._rows = 0
        self._tasks: list[asyncio.Task[object]] = []

    def __call__(self, rows: int) -> None:
        now = time.monotonic()
        if rows == self._rows or now - self._last < self.every:
            return
        self._rows, self._last = rows, now
        self._tasks.append(
            asyncio.get_running_loop().create_task(
                self.bot.edit_message_text(f"{self.verb}……已处理 {rows} 行", chat_id=self.chat_id, message_id=self.message_id)
            )
        )

    async def finish(self, text: str) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # "message is not modified" and the like: the summary follows anyway
        with contextlib.suppress(TelegramError):
            await self.bot.edit_message_text(text, chat_id=self.chat_id, message_id=self.message_id)


def errors_csv(report: ImportReport) -> bytes:
    """The error list sent back as CSV. Column names and reasons quote the department's own cells, so
    every cell is made inert for spreadsheets (db/importers/inert.py): opening it runs nothing."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["行号", "列", "原因"])
    for e in report.errors:
        w.writerow([e.row, inert_cell(e.column or ""), inert_cell(e.reason)])
    return buf.getvalue().encode("utf-8-sig")


def errors_caption(report: ImportReport) -> str:
    """Counts the caption can stand behind: the file's error count, and how many rows the list has."""
    listed = len(report.errors)
    if listed == report.error_count:
        return f"全部 {report.error_count} 处错误（行号、列、原因），请修改后重新上传。"
    return f"共 {report.error_count} 处错误，清单列出前 {listed} 处（行号、列、原因），请修改后重新上传。"


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.document is not None and user is not None
    svc = services(context)
    assert svc.calendar is not None
    doc = message.document
    name = doc.file_name or "未命名文件"
    try:
        collector = await collector_for_upload(svc.db, user.id, name, doc.file_size)
    except Refusal as exc:
        await reply(update, NOT_COLLECTOR if exc.code == NOT_A_COLLECTOR else exc.reason)
        return
    async with heavy_job(update, context, "文件检查"):
        status = await message.chat.send_message(f"已收到“{name}”，正在按{collector.department_name}的报送要求检查……")
        content = bytes(await (await context.bot.get_file(doc.file_id)).download_as_bytearray())
        progress = ProgressEditor(context.bot, status.chat_id, status.message_id, "正在检查")
        check = await check_upload(
            svc.db, collector, name, content, id_key=svc.settings.privacy.id_hash_key, today=svc.today(),
            calendar=svc.calendar, progress=progress, retention=retention_of(svc.settings),
        )
        del content
        report = check.report
        await progress.finish(f"检查完成：共 {report.rows_read} 行。")
    text = format_report(report, max_errors=MAX_ERRORS_INLINE)
    if check.earliest_due is not None and check.status == "pending":
        text += f"\n其中最早的报送期限：{check.earliest_due:%Y-%m-%d}。"
    if check.status == "pending":
        text += "\n请核对后点击“确认导入”；确认前不会写入任何数据。"
        buttons: Buttons = [[("确认导入", UPLOAD.pack("ok", check.upload_id)), ("取消", UPLOAD.pack("no", check.upload_id))]]
        await reply(update, text, buttons)
        return
    await reply(update, text)
    if report.error_count > MAX_ERRORS_INLINE:
        await message.chat.send_document(
            document=errors_csv(report), filename="校验错误清单.csv", caption=errors_caption(report),
        )


def _confirmation_text(outcome: str, name: str, new: int, updating: int, periods: list[tuple[str, str]]) -> str:
    if outcome == "written":
        text = f"已导入“{name}”：新增 {new} 条，更新 {updating} 条，报送时间已记录。"
        if periods:
            text += "\n已计入按月报送：" + "、".join(f"{c}（{p}）" for c, p in periods)
        return text
    return {
        "already": f"“{name}”已经导入过了（新增 {new} 条，更新 {updating} 条），无需重复确认。",
        "cancelled": f"“{name}”的导入已取消，未写入任何数据。",
        "rejected": f"“{name}”未通过校验，不能导入。请修改后重新上传。",
        "expired": f"“{name}”等待确认已超过保留期限，暂存的文件已删除，未写入任何数据。请重新发送文件。",
        "in_progress": f"“{name}”正在导入中，请稍候。",
    }.get(outcome, "导入未完成。")


async def on_upload_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    svc = services(context)
    assert svc.calendar is not None
    values = await pressed(update, UPLOAD)
    if values is None:
        return
    action, upload_id = values
    if query.message is not None:
        with contextlib.suppress(TelegramError):  # the other press removed them already
            await query.edit_message_reply_markup(None)
    if action == "no":
        result = await cancel_upload(svc.db, upload_id, user.id)
    else:
        chat = update.effective_chat
        assert chat is not None
        async with heavy_job(update, context, "导入"):
            status = await chat.send_message("正在导入……")
            progress = ProgressEditor(context.bot, status.chat_id, status.message_id, "正在导入")
            result = await confirm_upload(
                svc.db, upload_id, user.id, id_key=svc.settings.privacy.id_hash_key, today=svc.today(),
                calendar=svc.calendar, tz=svc.settings.tz, progress=progress, retention=retention_of(svc.settings),
            )
            await progress.finish(FINISH.get(result.outcome, "未导入。"))
    if result.outcome == "failed" and result.report is not None:
        text = format_report(result.report, max_errors=MAX_ERRORS_INLINE)
        if not result.report.error_count:  # the database, not the file: the upload waits in /mytasks
            text += "\n文件仍为您保留，稍后可发送 /mytasks 再次确认导入。"
        await reply(update, text)
        return
    await reply(update, _confirmation_text(result.outcome, result.file_name, result.new, result.updating, result.periods))


# -- 本期无新增 ----------------------------------------------------------------------------------------


async def zero_menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    assert svc.calendar is not None and update.effective_user is not None
    choices = await zero_choices(svc.db, update.effective_user.id, svc.today(), svc.calendar, svc.settings.tz)
    if not choices:
        await reply(update, "本部门按月报送的类别本期都已报送，无需确认“本期无新增”。")
        return
    buttons: Buttons = [[(f"{g.category}（{g.period}）", ZERO.pack(g.category))] for g in choices]
    await reply(update, "请选择本期确实没有新增信息的类别（确认后计为已报送）：", buttons)


async def zero(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args:
        await _declare(update, context, " ".join(context.args))
    else:
        await zero_menu(update, context)


async def _declare(update: Update, context: ContextTypes.DEFAULT_TYPE, category: str) -> None:
    svc = services(context)
    assert svc.calendar is not None and update.effective_user is not None
    cat, period = await declare_zero(svc.db, update.effective_user.id, category, svc.today(), svc.calendar, svc.settings.tz)
    await reply(update, f"已确认：“{cat}” {period} 本期无新增，计为已报送。")


async def on_zero_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, ZERO)
    if values is not None:
        await _declare(update, context, values[0])


# -- reporting duties (admins) -----------------------------------------------------------------------

DUTIES_USAGE = "用法：/duties [部门代码] 查看；/duties add 行政处罚 [部门代码] 添加；/duties remove 行政处罚 [部门代码] 移除。"


async def _render_duties(update: Update, context: ContextTypes.DEFAULT_TYPE, dept_code: str, note: str = "") -> None:
    svc = services(context)
    duties = await list_duties(svc.db, dept_code)
    active = [d.category for d in duties]
    name = duties[0].department_name if duties else dept_code
    lines = [note] if note else []
    lines.append(f"{name}（{dept_code}）的报送职责：")
    lines += [f"· {d.category}（{'7 个工作日内' if d.category in ('行政许可', '行政处罚') else '按月'}）" for d in duties] or ["（暂无）"]
    buttons: Buttons = [[(f"移除 {c}", DUTY.pack("rm", dept_code, c))] for c in active]
    missing = [c for c in CATEGORIES if c not in active]
    buttons += [[(f"添加 {c}", DUTY.pack("add", dept_code, c)) for c in missing[i : i + 2]] for i in range(0, len(missing), 2)]
    await reply(update, "\n".join(lines), buttons)


async def _change_duty(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dept_code: str | None, category: str, active: bool
) -> None:
    svc = services(context)
    assert update.effective_user is not None
    code = await admin_department(svc.db, update.effective_user.id, dept_code, svc.settings.region.division_code)
    duty, changed = await set_duty(svc.db, code, category, active)
    verb = "已添加" if active else "已移除"
    note = f"{verb}“{duty.category}”报送职责。" if changed else f"“{duty.category}”无需变更。"
    await _render_duties(update, context, code, note)


async def duties(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    assert update.effective_user is not None
    args = list(context.args or [])
    if args and args[0] in ("add", "remove", "添加", "移除"):
        if len(args) < 2 or normalize_category(args[1]) is None:
            await reply(update, DUTIES_USAGE)
            return
        await _change_duty(update, context, args[2] if len(args) > 2 else None, args[1], args[0] in ("add", "添加"))
        return
    code = await admin_department(svc.db, update.effective_user.id, args[0] if args else None, svc.settings.region.division_code)
    await _render_duties(update, context, code)


async def on_duty_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, DUTY)
    if values is None:
        return
    action, code, category = values
    await _change_duty(update, context, code, category, action == "add")


def register(app: Application) -> None:
    app.add_handler(MessageHandler(filters.Document.ALL, on_document, block=False))
    app.add_handler(CallbackQueryHandler(on_upload_button, pattern=UPLOAD.pattern, block=False))
    app.add_handler(CommandHandler("zero", zero))
    app.add_handler(CallbackQueryHandler(on_zero_button, pattern=ZERO.pattern))
    app.add_handler(CommandHandler("duties", duties))
    app.add_handler(CallbackQueryHandler(on_duty_button, pattern=DUTY.pattern))

