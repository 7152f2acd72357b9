"""/propose: an official of the listing department proposes a list entry of a list type the department
may decide (认定); the platform issues the numbered prior notice (事前告知书) to the subject's bound
accounts, naming that list's standard, basis, measures, period and removal conditions. /listings: the
department's listings still in their notice period. /propose is a flow of handlers/flow.py (its
answers so far are in the database, so a restart or another replica continues it).
The daily job that lets listings take effect (and issues their 列入决定书) stays here until it moves
to the channel layer.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import flow
from handlers.common import caller, doc_prefix, reply, services
from handlers.notify import delivery_line, retry_notices, send_pdf, tell
from handlers.subject_input import find_subject
from render.buttons import (
    PROPOSE_CONFIRM,
    PROPOSE_DEFAULT_PERIOD,
    PROPOSE_LIST_TYPE,
    PROPOSE_SUBJECT,
    Buttons,
    pressed,
)
from render.pdf import render_decision, render_notice
from rules import lifecycle
from services import notices
from services.conversations import Convo
from services.errors import Refusal
from services.expiry import mark_expired
from services.listings import (
    DecisionIssuer,
    activate_due_listings,
    department_listings,
    expire_listings,
    issue_pending_decisions,
    preview_terms,
    proposable_for,
    propose_listing,
)
from services.runtime import SERVICES_KEY, Services
from services.subjects import subject_briefs

log = logging.getLogger(__name__)

SUBJECT, LIST_TYPE, REASONS, MONTHS, PERIOD, CONFIRM = "subject", "list_type", "reasons", "months", "period", "confirm"


# -- /propose: the flow `propose` (handlers/flow.py) ------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    if viewer.role != "official" or viewer.department_id is None:
        await reply(update, "拟列入严重失信主体名单须由列入部门的办事人员发起。")
        return
    await proposable_for(services(context).db, viewer)  # refuses a department that decides no list here
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
    _account, viewer = await caller(update, context)
    types = await proposable_for(services(context).db, viewer)
    data = {"subject_id": subject_id, "subject_name": brief.name, "kind": brief.kind}
    await flow.advance(update, context, convo, LIST_TYPE, data)
    lines = [f"主体：{brief.name}（{brief.uscc or brief.id_masked or '未登记代码'}）", "请选择拟列入的名单（本部门可认定的名单）："]
    lines += [f"· {t.name}：{t.basis_text}" for t in types]
    await reply(update, "\n".join(lines), [[(t.name, PROPOSE_LIST_TYPE.pack(t.key))] for t in types])


async def on_list_type(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, PROPOSE_LIST_TYPE)
    if values is None:
        return
    convo = await flow.load(update, context, PROPOSING, LIST_TYPE)
    if convo is None:
        return
    _account, viewer = await caller(update, context)
    chosen = next((t for t in await proposable_for(services(context).db, viewer) if t.key == values[0]), None)
    if chosen is None:  # a forged or stale button: the use case decides, whatever the button says
        raise Refusal("本部门不能认定该名单，请从按钮中选择本部门可认定的名单。")
    await flow.advance(update, context, convo, REASONS, {**convo.data, "list_type": chosen.key})
    await reply(
        update,
        f"名单：{chosen.name}\n认定标准：{chosen.standard}\n依据：{chosen.basis_text}\n\n"
        "请输入列入事由（认定的失信事实和理由，写明有关决定文书号）：",
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    """The typed answer to whichever question the flow is at."""
    assert update.effective_message is not None
    raw = update.effective_message.text or ""
    text = raw.strip()
    data = convo.data
    if convo.step == SUBJECT:
        await _subject_text(update, context, convo, raw)
    elif convo.step == REASONS:
        if not text:
            await reply(update, "请输入列入事由：")
            return
        data = {**data, "reasons": text[:2000]}
        terms = preview_terms(data["list_type"], data["kind"], None) if _fixed(data) else None
        if terms is None:
            await flow.advance(update, context, convo, MONTHS, data)
            await reply(update, "该名单的列入期限由本决定确定，请输入月数（如 12、24、36）：")
            return
        await _ask_period(update, context, convo, {**data, "months": None})
    elif convo.step == MONTHS:
        months = text.rstrip("个月 ")
        if not months.isdecimal():
            await reply(update, "请输入列入期限的月数（数字）。")
            return
        preview_terms(data["list_type"], data["kind"], int(months))  # refuses a period outside the list's range
        await _ask_period(update, context, convo, {**data, "months": int(months)})
    elif convo.step == PERIOD:
        days = text.rstrip("个工作日天 ")
        if not days.isdecimal() or not 1 <= int(days) <= 30:
            await reply(update, "请输入 1 到 30 之间的工作日天数。")
            return
        await _confirm(update, context, convo, int(days))
    else:
        await reply(update, "请点击“确认发出”或“取消”。")


def _fixed(data: dict) -> bool:  # type: ignore[type-arg]
    """Whether the list type fixes its own period (or has none): then no months are asked."""
    try:
        preview_terms(data["list_type"], data["kind"], None)
    except Refusal:
        return False
    return True


def period_days(context: ContextTypes.DEFAULT_TYPE) -> int:
    """Default objection period (`lifecycle.objection_period_working_days`)."""
    return services(context).settings.lifecycle.objection_period_working_days


async def _ask_period(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo, data: dict) -> None:  # type: ignore[type-arg]
    await flow.advance(update, context, convo, PERIOD, data)
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
    terms = preview_terms(data["list_type"], data["kind"], data.get("months"))
    text = (
        "请确认事前告知内容：\n"
        f"主体：{data['subject_name']}\n名单：{terms.list_name}\n依据：{terms.basis}\n事由：{data['reasons']}\n"
        f"惩戒措施：{len(terms.measures)} 项（依名单的法定措施）\n列入期限：{terms.period or '依有关规定'}\n"
        f"异议期：{days} 个工作日，截至 {deadline.due:%Y-%m-%d}"
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
        list_type=data["list_type"],
        reasons=data["reasons"],
        period_months=data.get("months"),
        objection_days=data["days"],
        today=svc.today(),
        calendar=svc.calendar,
        render=lambda notice: render_notice(notice, platform),
        proposer=viewer,
        prefix=doc_prefix(context),
        public_url=svc.settings.region.public_url,
    )
    notice = proposed.notice
    list_name = notice.terms.list_name if notice.terms else "严重失信主体名单"
    file_name = f"事前告知书-{notice.number}.pdf"
    caption = (
        f"【事前告知】{notice.department}拟将{notice.subject_name}列入{list_name}（{notice.number}）。"
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
        f"已发出事前告知书 {notice.number}。{sent}\n异议期截至 {notice.deadline:%Y-%m-%d}；期满无异议的，次日起自动列入并出具列入决定书。",
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
            SUBJECT: "主体", LIST_TYPE: "名单类型", REASONS: "列入事由", MONTHS: "列入期限", PERIOD: "异议期", CONFIRM: "确认",
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


def decision_issuer(services_: Services, prefix: str) -> DecisionIssuer:
    """How this deployment renders, numbers and delivers 列入决定书 (platform name, prefix, public
    address; the outbox sends them to the subject's chats)."""
    settings = services_.settings
    platform = settings.region.platform_name
    return DecisionIssuer(lambda d: render_decision(d, platform), prefix, settings.region.public_url,
                          settings.privacy.id_hash_key)


async def daily_lifecycle(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Listings whose objection period ended take effect with their 列入决定书 (put in the outbox for
    the subject), decisions still missing are issued, listings past their own period leave the
    list, and records past their publication period are marked expired. Every use case is
    idempotent, so a repeated or caught-up run does no harm."""
    svc = services(context)
    today = svc.today()
    issuer = decision_issuer(svc, doc_prefix(context))
    activated = await activate_due_listings(svc.db, today, issuer)
    issued = await issue_pending_decisions(svc.db, today, issuer)
    if activated or issued:
        await retry_notices(context)  # the decisions wait in the outbox: send them now, not in a minute
    left = await expire_listings(svc.db, today)
    expired = await mark_expired(svc.db, today)
    log.info("daily lifecycle: %d listed, %d decisions issued late, %d listings ended, %d records expired",
             len(activated), len(issued), left, expired)


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
    app.add_handler(CallbackQueryHandler(on_list_type, pattern=PROPOSE_LIST_TYPE.pattern))
    app.add_handler(CallbackQueryHandler(on_period_default, pattern=PROPOSE_DEFAULT_PERIOD.pattern))
    app.add_handler(CallbackQueryHandler(on_confirm, pattern=PROPOSE_CONFIRM.pattern))
    app.add_handler(CommandHandler("listings", listings))
