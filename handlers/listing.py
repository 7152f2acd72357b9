"""/propose: an official of the listing department proposes a 严重失信主体名单 entry; the platform
issues the numbered prior notice (事前告知书) to the subject's bound accounts. /listings: the
department's listings still in their notice period. /propose is a flow of handlers/flow.py (its
answers so far are in the database, so a restart or another replica continues it).
The daily job that lets listings take effect stays here until it moves to the channel layer.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import flow
from handlers.common import caller, doc_prefix, reply, services
from handlers.notify import delivery_line, send_pdf, tell
from handlers.subject_input import find_subject
from render.buttons import (
    PROPOSE_CONFIRM,
    PROPOSE_DEFAULT_PERIOD,
    PROPOSE_STANDARD_MEASURES,
    PROPOSE_SUBJECT,
    Buttons,
    pressed,
)
from render.pdf import render_notice
from rules import lifecycle
from services import notices
from services.conversations import Convo
from services.expiry import mark_expired
from services.listings import (
    activate_due_listings,
    department_listings,
    propose_listing,
)
from services.runtime import SERVICES_KEY
from services.subjects import subject_briefs

log = logging.getLogger(__name__)

SUBJECT, BASIS, REASONS, MEASURES, PERIOD, CONFIRM = "subject", "basis", "reasons", "measures", "period", "confirm"


# -- /propose: the flow `propose` (handlers/flow.py) ------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    if viewer.role != "official" or viewer.department_id is None:
        await reply(update, "拟列入严重失信主体名单须由列入部门的办事人员发起。")
        return
    convo = await flow.begin(update, context, PROPOSING, SUBJECT, {})
    if context.args:
        await _subject_text(update, context, convo, " ".join(context.args))
        return
    await reply(update, "拟列入严重失信主体名单（事前告知）。\n请输入主体的统一社会信用代码或名称（发送 /cancel 取消）：")


async def _subject_text(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo, text: str) -> None:
    _account, viewer = await caller(update, context)
    found = await find_subject(context, text, viewer)
    if found.subject_id is not None:
        await _subject_chosen(update, context, convo, found.subject_id)
        return
    buttons: Buttons = [[(label, PROPOSE_SUBJECT.pack(sid))] for sid, label in found.candidates]
    await reply(update, found.message or "请重新输入。", buttons)


async def on_subject_pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, PROPOSE_SUBJECT)
    if values is None:
        return
    convo = await flow.load(update, context, PROPOSING, SUBJECT)
    if convo is not None:
        await _subject_chosen(update, context, convo, values[0])


async def _subject_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo, subject_id: int) -> None:
    briefs = await subject_briefs(services(context).db, [subject_id])
    brief = briefs.get(subject_id)
    if brief is None:
        await reply(update, "该主体已不在档案中，请重新输入。")
        return
    data = {"subject_id": subject_id, "subject_name": brief.name, "kind": brief.kind}
    await flow.advance(update, context, convo, BASIS, data)
    await reply(update, f"主体：{brief.name}（{brief.uscc or brief.id_masked or '未登记代码'}）\n请输入列入依据（法律、法规、规章条款）：")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    """The typed answer to whichever question the flow is at."""
    assert update.effective_message is not None
    raw = update.effective_message.text or ""
    text = raw.strip()
    data = convo.data
    if convo.step == SUBJECT:
        await _subject_text(update, context, convo, raw)
    elif convo.step == BASIS:
        if not text:
            await reply(update, "请输入列入依据：")
            return
        await flow.advance(update, context, convo, REASONS, {**data, "basis": text[:1000]})
        await reply(update, "请输入列入事由（认定的失信事实和理由）：")
    elif convo.step == REASONS:
        if not text:
            await reply(update, "请输入列入事由：")
            return
        await flow.advance(update, context, convo, MEASURES, {**data, "reasons": text[:2000]})
        standard = "\n".join(f"{i}. {m}" for i, m in enumerate(lifecycle.standard_measures(data["kind"]), 1))
        await reply(
            update,
            f"惩戒措施：可采用标准联合惩戒措施：\n{standard}\n\n或直接输入本案的措施（每行一条）。",
            [[("采用标准惩戒措施", PROPOSE_STANDARD_MEASURES.pack())]],
        )
    elif convo.step == MEASURES:
        items = [i for i in (line.strip(" 0123456789.、") for line in raw.splitlines()) if i]
        if not items:
            await reply(update, "请输入惩戒措施（每行一条），或点击“采用标准惩戒措施”。")
            return
        await _ask_period(update, context, convo, items[:20])
    elif convo.step == PERIOD:
        days = text.rstrip("个工作日天 ")
        if not days.isdecimal() or not 1 <= int(days) <= 30:
            await reply(update, "请输入 1 到 30 之间的工作日天数。")
            return
        await _confirm(update, context, convo, int(days))
    else:
        await reply(update, "请点击“确认发出”或“取消”。")


async def on_measures_standard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await pressed(update, PROPOSE_STANDARD_MEASURES) is None:
        return
    convo = await flow.load(update, context, PROPOSING, MEASURES)
    if convo is not None:
        await _ask_period(update, context, convo, None)


def period_days(context: ContextTypes.DEFAULT_TYPE) -> int:
    """Default objection period (`lifecycle.objection_period_working_days`)."""
    return services(context).settings.lifecycle.objection_period_working_days


async def _ask_period(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo, measures: list[str] | None) -> None:
    await flow.advance(update, context, convo, PERIOD, {**convo.data, "measures": measures})
    days = period_days(context)
    await reply(update, f"异议期（工作日）：默认 {days} 个工作日，也可输入天数（1-30）。", [[(f"{days} 个工作日（默认）", PROPOSE_DEFAULT_PERIOD.pack())]])


async def on_period_default(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await pressed(update, PROPOSE_DEFAULT_PERIOD) is None:
        return
    convo = await flow.load(update, context, PROPOSING, PERIOD)
    if convo is not None:
        await _confirm(update, context, convo, period_days(context))


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo, days: int) -> None:
    data = {**convo.data, "days": days}
    await flow.advance(update, context, convo, CONFIRM, data)
    svc = services(context)
    assert svc.calendar is not None
    deadline = lifecycle.objection_deadline(svc.today(), svc.calendar, days)
    measures = data["measures"] or lifecycle.standard_measures(data["kind"])
    text = (
        "请确认事前告知内容：\n"
        f"主体：{data['subject_name']}\n依据：{data['basis']}\n事由：{data['reasons']}\n"
        f"惩戒措施：{len(measures)} 项\n异议期：{days} 个工作日，截至 {deadline.due:%Y-%m-%d}"
        + ("（节假日安排未公布，按推算）" if deadline.provisional else "")
        + "\n确认后将生成编号的事前告知书并送达该主体绑定的账号。"
    )
    await reply(update, text, [[("确认发出", PROPOSE_CONFIRM.pack("ok")), ("取消", PROPOSE_CONFIRM.pack("no"))]])


async def on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, PROPOSE_CONFIRM)
    if values is None:
        return
    convo = await flow.load(update, context, PROPOSING, CONFIRM)
    if convo is None:
        return
    await flow.finish(update, context, convo)
    if values[0] == "no":
        await reply(update, CANCELLED)
        return
    data = convo.data
    svc = services(context)
    assert svc.calendar is not None
    _account, viewer = await caller(update, context)
    platform = svc.settings.region.platform_name
    proposed = await propose_listing(
        svc.db,
        subject_id=data["subject_id"],
        basis=data["basis"],
        reasons=data["reasons"],
        measures=data["measures"],
        objection_days=data["days"],
        today=svc.today(),
        calendar=svc.calendar,
        render=lambda notice: render_notice(notice, platform),
        proposer=viewer,
        prefix=doc_prefix(context),
        public_url=svc.settings.region.public_url,
    )
    notice = proposed.notice
    file_name = f"事前告知书-{notice.number}.pdf"
    caption = (
        f"【事前告知】{notice.department}拟将{notice.subject_name}列入严重失信主体名单（{notice.number}）。"
        f"如有异议，请于 {notice.deadline:%Y-%m-%d} 前发送 /objection 提出。"
    )
    document = notices.Document(proposed.listing_id, file_name)
    delivery = await tell(context, proposed.chats, caption, "listing_notice", viewer.account_id, document)
    chat = update.effective_chat
    assert chat is not None
    await send_pdf(context, chat.id, proposed.pdf, file_name, f"事前告知书 {notice.number}（存档副本）")
    sent = delivery_line("该主体", delivery) if proposed.chats else "该主体尚无绑定账号，请另行书面送达（告知书已存档）。"
    await reply(
        update,
        f"已发出事前告知书 {notice.number}。{sent}\n异议期截至 {notice.deadline:%Y-%m-%d}；期满无异议的，次日起自动列入。",
    )


CANCELLED = "已取消，未发出事前告知书。"
PROPOSING = flow.define(
    flow.Flow(
        name="propose",
        label="拟列入严重失信主体名单",
        command="propose",
        timeout=flow.minutes("propose_minutes"),
        on_text=on_text,
        cancelled=CANCELLED,
        waiting={
            SUBJECT: "主体", BASIS: "列入依据", REASONS: "列入事由", MEASURES: "惩戒措施", PERIOD: "异议期", CONFIRM: "确认",
        },
    )
)


async def listings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    if not viewer.is_staff or viewer.department_id is None:
        await reply(update, "该功能仅限部门办事人员使用。")
        return
    items = await department_listings(services(context).db, viewer.department_id)
    if not items:
        await reply(update, "本部门暂无处于事前告知期的拟列入事项。")
        return
    lines = ["本部门拟列入严重失信主体名单（事前告知期）："]
    for item in items:
        note = "；异议处理中" if item.objection_pending else ""
        lines.append(f"· {item.subject_name} · {item.notice_number} · 异议期至 {item.deadline:%Y-%m-%d}{note}")
    await reply(update, "\n".join(lines))


# -- the daily job ------------------------------------------------------------------------------

DAILY_AT = dt.time(0, 30)


async def daily_lifecycle(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Listings whose objection period ended take effect (the subject is told), and records past
    their publication period are marked expired. Both use cases are idempotent, so a repeated or
    caught-up run does no harm."""
    svc = services(context)
    today = svc.today()
    for item in await activate_due_listings(svc.db, today):
        await tell(
            context,
            item.chats,
            f"【列入通知】异议期届满未提出异议，{item.subject_name}已自 {item.effective_on:%Y-%m-%d} 起列入"
            f"严重失信主体名单（事前告知书 {item.notice_number}）。满足条件后可发送 /repair 申请信用修复。",
            kind="listing_effective",
            by_account_id=item.proposed_by_account_id,
            subject_id=item.subject_id,
        )
    expired = await mark_expired(svc.db, today)
    log.info("daily lifecycle: %d records marked expired", expired)


def schedule(app: Application) -> None:
    """Daily at 00:30 in the platform's time zone, plus once shortly after start-up: APScheduler skips
    a run missed while the bot was down, and the catch-up run makes that harmless."""
    assert app.job_queue is not None
    tz = app.bot_data[SERVICES_KEY].settings.tz
    app.job_queue.run_daily(daily_lifecycle, time=DAILY_AT.replace(tzinfo=tz), name="lifecycle_daily")
    app.job_queue.run_once(daily_lifecycle, when=60, name="lifecycle_catch_up")


def register(app: Application) -> None:
    app.add_handler(CommandHandler("propose", start))
    app.add_handler(CallbackQueryHandler(on_subject_pick, pattern=PROPOSE_SUBJECT.pattern))
    app.add_handler(CallbackQueryHandler(on_measures_standard, pattern=PROPOSE_STANDARD_MEASURES.pattern))
    app.add_handler(CallbackQueryHandler(on_period_default, pattern=PROPOSE_DEFAULT_PERIOD.pattern))
    app.add_handler(CallbackQueryHandler(on_confirm, pattern=PROPOSE_CONFIRM.pattern))
    app.add_handler(CommandHandler("listings", listings))
