"""/repair: a subject asks to repair a penalty or a listing — date first, then obligations, proof and
the public credit commitment. /repairs: the record's department takes the case's steps within their
working-day limits — 受理 or 不予受理 (with a reason), then 准予 or 不予修复 (with a reason); a step
after its limit first asks why it was missed. The decision's 信用修复决定书 goes to the subject and to
the official. Both sides are flows of handlers/flow.py: their state is in the database.
Also the jobs: owed documents issued every minute, the deadline scan daily.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import flow
from handlers.common import caller, heavy_job, reply, services
from handlers.notify import delivery_line, retry_due, send_pdf, tell
from handlers.objection import attachment_of
from render.buttons import REPAIR_COMMIT, REPAIR_DECIDE, REPAIR_OBLIGATION, REPAIR_RECORD, Buttons, pressed
from render.repair_pdf import render_repair_decision, render_repair_notice
from rules import lifecycle
from rules import repair_case as rc
from rules.roles import Viewer
from services.conversations import Convo
from services.declarations.link_secrets import credit_departments
from services.errors import Refusal
from services.objections import Attachment
from services.repair import (
    LATE,
    CasePolicy,
    accept_case,
    apply_for_repair,
    decide_repair,
    pending_repairs,
    policy_from,
    refuse_case,
    repair_opens,
    repairable_items,
)
from services.repair_deadlines import scan_deadlines
from services.repair_documents import issue_decision, issue_pending, issuer_from
from services.runtime import SERVICES_KEY, Services
from services.stored_documents import fetch_document

log = logging.getLogger(__name__)

PICK, OBLIGATION, PROOF, COMMIT = "pick", "obligation", "proof", "commit"


def commit_button() -> Buttons:
    return [[(lifecycle.COMMITMENT_WORD, REPAIR_COMMIT.pack())]]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    if not viewer.subject_ids:
        await reply(update, "申请信用修复须先绑定信用主体（企业账号或已绑定主体的个人账号，发送 /bind 绑定码）。")
        return
    items = await repairable_items(services(context).db, viewer)
    if not items:
        await reply(update, "您绑定的主体暂无可申请信用修复的失信记录（行政处罚、行政强制、严重失信主体名单）。")
        return
    several = len({i.subject_name for i in items}) > 1
    buttons: Buttons = [[((f"{i.subject_name}：" if several else "") + i.label, REPAIR_RECORD.pack(i.record_id))] for i in items[:20]]
    await flow.begin(update, context, REPAIRING, PICK, {"proof": []})
    await reply(update, "请选择要申请信用修复的记录（发送 /cancel 取消）：", buttons)


async def on_pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, REPAIR_RECORD)
    if values is None:
        return
    convo = await flow.load(update, context, REPAIRING, PICK)
    if convo is None:
        return
    record_id = values[0]
    svc = services(context)
    _account, viewer = await caller(update, context)
    try:
        item = await repair_opens(svc.db, viewer, record_id)
    except Refusal:
        await flow.finish(update, context, convo)
        raise
    if svc.today() < item.opens:
        await flow.finish(update, context, convo)
        await reply(
            update,
            f"{item.label}\n该记录的最短公示期尚未届满，最早可于 {item.opens:%Y年%m月%d日} 申请信用修复。届时请再发送 /repair。",
        )
        return
    await flow.advance(update, context, convo, OBLIGATION, {**convo.data, "record_id": record_id})
    await reply(
        update,
        f"{item.label}\n已满最短公示期，可以申请信用修复。\n是否已履行相关义务（如已缴清罚款、已完成整改）？",
        [[("已履行", REPAIR_OBLIGATION.pack("yes")), ("尚未履行", REPAIR_OBLIGATION.pack("no"))]],
    )


async def on_obligation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, REPAIR_OBLIGATION)
    if values is None:
        return
    convo = await flow.load(update, context, REPAIRING, OBLIGATION)
    if convo is None:
        return
    if values[0] == "no":
        await flow.finish(update, context, convo)
        await reply(update, "信用修复须以履行相关义务为前提。请先履行义务（如缴清罚款），再发送 /repair 申请。")
        return
    await flow.advance(update, context, convo, PROOF, convo.data)
    await reply(update, "请发送已履行义务的证明材料（缴款凭证、整改报告等，文件或照片）。")


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    found = attachment_of(update)
    if convo.step not in (PROOF, COMMIT) or found is None:
        await reply(update, "请先按提示选择记录并确认已履行义务，再发送证明材料。")
        return
    data = {**convo.data, "proof": [*convo.data.get("proof", []), found.as_dict()]}
    await flow.advance(update, context, convo, COMMIT, data)
    if convo.step == COMMIT:
        await reply(update, f"已收到补充材料。请点击“{lifecycle.COMMITMENT_WORD}”完成申请。", commit_button())
        return
    await reply(
        update,
        f"已收到证明材料。请阅读并作出公开信用承诺：\n\n{lifecycle.COMMITMENT_TEXT}\n\n"
        f"同意请点击“我承诺”或回复“{lifecycle.COMMITMENT_WORD}”。",
        commit_button(),
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    assert update.effective_message is not None
    words = update.effective_message.text or ""
    if convo.step == PROOF:
        await reply(update, "请以文件或照片形式发送证明材料。")
    elif convo.step != COMMIT:
        await reply(update, "请点击上方按钮作答，或发送 /cancel 取消。")
    elif not lifecycle.is_commitment(words):
        await reply(update, f"须作出信用承诺才能提交申请：请回复“{lifecycle.COMMITMENT_WORD}”，或发送 /cancel 放弃。")
    else:
        await _submit(update, context, convo, words)


async def on_commit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await pressed(update, REPAIR_COMMIT) is None:
        return
    convo = await flow.load(update, context, REPAIRING, COMMIT)
    if convo is not None:
        await _submit(update, context, convo, lifecycle.COMMITMENT_WORD)


async def _submit(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo, words: str) -> None:
    data = convo.data
    await flow.finish(update, context, convo)
    svc = services(context)
    _account, viewer = await caller(update, context)
    filed = await apply_for_repair(
        svc.db, viewer, data["record_id"], True, [Attachment(**a) for a in data["proof"]], words, svc.today(), policy(svc),
    )
    await reply(
        update,
        f"信用修复申请已提交（编号 {filed.request_id}）：{filed.record_label}。"
        f"认定部门应于 {filed.accept_due:%Y-%m-%d} 前决定是否受理，审核结果将通过本机器人通知您。",
    )
    await tell(
        context,
        filed.department_chats,
        f"【信用修复待审核】{filed.subject_name} 申请修复 {filed.record_label}，受理期限 {filed.accept_due:%Y-%m-%d}。"
        "发送 /repairs 查看。",
        kind="repair_filed",
    )


REPAIRING = flow.define(
    flow.Flow(
        name="repair",
        label="信用修复申请",
        command="repair",
        timeout=flow.minutes("repair_minutes"),
        on_text=on_text,
        on_file=on_file,
        waiting={PICK: "选择记录", OBLIGATION: "是否已履行义务", PROOF: "证明材料", COMMIT: "信用修复承诺"},
    )
)


# -- the department's side -------------------------------------------------------------------------

VERBS = {"approve": "准予修复", "reject": "不予修复", "accept": "受理", "refuse": "不予受理"}
LATE_STEP, REASON = "late", "reason"


def policy(svc: Services) -> CasePolicy:
    return policy_from(svc.settings, svc.calendar)


async def _queue(context: ContextTypes.DEFAULT_TYPE, viewer: Viewer) -> tuple[str, Buttons]:
    if viewer.role != "official" or viewer.department_id is None:
        return "信用修复审核仅限记录所属部门的办事人员。", []
    svc = services(context)
    items = await pending_repairs(svc.db, viewer.department_id, svc.today())
    if not items:
        return "本部门暂无待审核的信用修复申请。", []
    lines = [f"本部门待审核信用修复申请 {len(items)} 件（按期限先后）："]
    buttons: Buttons = []
    for q in items:
        step = "受理" if q.status == rc.RECEIVED else "办结"
        due = f"{step}期限 {q.due:%Y-%m-%d}" if q.due else "无期限"
        source = f" · 来自{rc.ORIGIN_LABELS.get(q.origin, q.origin)}（受理编号 {q.external_ref}）" if q.external_ref else ""
        lines.append(
            f"{q.request_id}. {q.subject_name} · {q.record_label} · {q.filed_on:%Y-%m-%d} 提交 · 证明材料 {len(q.proof)} 份"
            f" · {rc.STATUS_LABELS[q.status]}（{due}）{'【已逾期】' if q.overdue else ''}{source}"
        )
        buttons.append([(f"批准 {q.request_id}", REPAIR_DECIDE.pack(q.request_id, "approve")),
                        (f"驳回 {q.request_id}", REPAIR_DECIDE.pack(q.request_id, "reject"))])
        if q.status == rc.RECEIVED:
            buttons.append([(f"受理 {q.request_id}", REPAIR_DECIDE.pack(q.request_id, "accept")),
                            (f"不予受理 {q.request_id}", REPAIR_DECIDE.pack(q.request_id, "refuse"))])
    return "\n".join(lines), buttons


async def queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    await reply(update, *await _queue(context, viewer))


def _ask(decision: str) -> str:
    if decision == "refuse":
        return "审核结果：不予受理。请输入不予受理的理由（将告知申请人；发送 /cancel 取消）："
    return f"审核结果：{VERBS[decision]}。请输入审核意见（发送 /cancel 取消）："


async def on_decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A decision button: the case must still be open and the official's department's; a step
    after its limit first asks why; 受理 needs no other answer."""
    values = await pressed(update, REPAIR_DECIDE)
    if values is None:
        return
    case_id, decision = values
    svc = services(context)
    _account, viewer = await caller(update, context)
    open_cases = await pending_repairs(svc.db, viewer.department_id, svc.today()) if viewer.role == "official" and viewer.department_id else []
    case = next((q for q in open_cases if q.request_id == case_id), None)
    if case is None:
        await reply(update, "该申请不存在、已办结，或不属于本部门。")
        return
    if decision == "accept" and case.status != rc.RECEIVED:
        await reply(update, "该申请已受理，请作出准予或不予修复的决定。")
        return
    data = {"id": case_id, "decision": decision}
    if case.overdue:
        step = "受理" if case.status == rc.RECEIVED else "办结"
        await flow.begin(update, context, DECIDING, LATE_STEP, data)
        await reply(update, f"该申请已超过{step}期限（{case.due:%Y-%m-%d}）。请先说明逾期原因（将记入办理记录和决定书；发送 /cancel 取消）：")
        return
    if decision == "accept":
        await _accept(update, context, viewer, case_id, None)
        return
    await flow.begin(update, context, DECIDING, REASON, data)
    await reply(update, _ask(decision))


async def _accept(update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, case_id: int, late: str | None) -> None:
    svc = services(context)
    accepted = await accept_case(svc.db, viewer, case_id, svc.today(), policy(svc), late)
    delivery = await tell(
        context, accepted.subject_chats,
        f"【信用修复受理】{accepted.subject_name} 关于 {accepted.record_label} 的信用修复申请已受理，"
        f"将于 {accepted.decide_due:%Y-%m-%d} 前作出决定。",
        kind="repair_accepted", by_account_id=viewer.account_id,
    )
    await reply(update, f"申请 {case_id} 已受理，办结期限 {accepted.decide_due:%Y-%m-%d}。" + delivery_line("该主体", delivery))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    assert update.effective_message is not None
    answer = (update.effective_message.text or "").strip()
    if len(answer) > lifecycle.DECISION_REASON_LIMIT:
        await reply(update, f"最多 {lifecycle.DECISION_REASON_LIMIT} 字（本条 {len(answer)} 字），请精简后重新输入，或发送 /cancel 取消。")
        return
    if not answer:
        await reply(update, "请输入文字说明，或发送 /cancel 取消。")
        return
    data = convo.data
    if convo.step == LATE_STEP:
        if data["decision"] == "accept":
            await flow.finish(update, context, convo)
            _account, viewer = await caller(update, context)
            await _accept(update, context, viewer, data["id"], answer)
            return
        await flow.advance(update, context, convo, REASON, {**data, "late": answer})
        await reply(update, _ask(data["decision"]))
        return
    await flow.finish(update, context, convo)
    await _decide(update, context, data, answer)


async def _decide(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict, reason: str) -> None:  # type: ignore[type-arg]
    svc = services(context)
    _account, viewer = await caller(update, context)
    decision, late = data["decision"], data.get("late")
    try:
        if decision == "refuse":
            decided = await refuse_case(svc.db, viewer, data["id"], reason, svc.today(), late)
        else:
            decided = await decide_repair(svc.db, viewer, data["id"], decision == "approve", reason, svc.today(), policy(svc), late)
    except Refusal as exc:
        if exc.code == LATE:  # the limit passed while the official was typing: ask why, then again
            await flow.begin(update, context, DECIDING, LATE_STEP, data)
        await reply(update, exc.reason)
        return
    if decided.status == rc.REFUSED:
        result = "不予受理"
    else:
        result = "准予修复：该记录已停止公示、共享和使用" if decided.approved else "不予修复"
    delivery = await tell(
        context, decided.subject_chats,
        f"【信用修复结果】{decided.subject_name} 关于 {decided.record_label} 的信用修复申请：{result}。\n意见：{decided.reason}",
        kind="repair_decide", by_account_id=viewer.account_id,
    )
    answer = f"申请 {decided.request_id} 已审核：{result}。" + delivery_line("该主体", delivery)
    if decided.status == rc.REFUSED:
        await reply(update, answer)
        return
    chat = update.effective_chat
    assert chat is not None
    async with heavy_job(update, context, "信用修复决定书"):
        number = await _issue_decision(svc, decided.request_id)
        if number is not None:
            doc = await fetch_document(svc.db, viewer, number)
            await send_pdf(context, chat.id, doc.pdf, doc.file_name, f"{doc.kind}（{number}），请送达申请人。")
    await reply(update, answer + (f"决定书 {number} 已出具并发送申请人。" if number else ""))
    await retry_due(context.bot, svc.db, svc.settings.privacy.id_hash_key)  # the 决定书 to the subject's chats


async def _issue_decision(svc: Services, request_id: int) -> str | None:
    platform = svc.settings.region.platform_name
    return await issue_decision(
        svc.db, request_id, lambda d: render_repair_decision(d, platform), issuer_from(svc.settings), svc.now()
    )


DECIDING = flow.define(
    flow.Flow(
        name="repair_decide",
        label="信用修复审核",
        command="repairs",
        timeout=flow.minutes("review_minutes"),
        on_text=on_text,
        waiting={LATE_STEP: "逾期原因", REASON: "审核意见"},
    )
)


# -- the jobs ------------------------------------------------------------------------------------

DEADLINE_SCAN_AT = dt.time(9, 0)
ISSUE_EVERY_SECONDS = 60


async def issue_owed_documents(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every minute: 告知书 owed for imported penalties and effective listings, 决定书 of decisions
    whose process stopped before issuing them; then their notices go out."""
    svc: Services = context.application.bot_data[SERVICES_KEY]
    platform = svc.settings.region.platform_name
    issued = await issue_pending(
        svc.db, lambda d: render_repair_notice(d, platform), lambda d: render_repair_decision(d, platform),
        issuer_from(svc.settings), svc.now(),
    )
    if issued:
        log.info("repair documents issued: %d", len(issued))
        await retry_due(context.bot, svc.db, svc.settings.privacy.id_hash_key)


async def deadline_scan(context: ContextTypes.DEFAULT_TYPE, today: dt.date | None = None) -> int:
    """Reminders before a limit and escalations after it (services/repair_deadlines.py), as of
    `today` (default: the platform's date); returns how many were queued, and sends them."""
    svc: Services = context.application.bot_data[SERVICES_KEY]
    found = await scan_deadlines(
        svc.db, today or svc.today(), policy(svc), credit_departments(svc.settings.region.division_code),
        svc.settings.privacy.id_hash_key,
    )
    if found:
        log.info("repair deadlines: %d reminders or escalations queued", len(found))
        await retry_due(context.bot, svc.db, svc.settings.privacy.id_hash_key)
    return len(found)


async def _deadline_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await deadline_scan(context)


def schedule(app: Application) -> None:
    """Owed documents every minute; the deadline scan daily at 09:00 and once after start-up (a
    scan missed while the bot was down is caught up; the claims stop repeats)."""
    assert app.job_queue is not None
    tz = app.bot_data[SERVICES_KEY].settings.tz
    app.job_queue.run_repeating(issue_owed_documents, interval=ISSUE_EVERY_SECONDS, first=20, name="repair_documents")
    app.job_queue.run_daily(_deadline_job, time=DEADLINE_SCAN_AT.replace(tzinfo=tz), name="repair_deadlines")
    app.job_queue.run_once(_deadline_job, when=90, name="repair_deadlines_catch_up")


def register(app: Application) -> None:
    app.add_handler(CommandHandler("repair", start))
    app.add_handler(CallbackQueryHandler(on_pick, pattern=REPAIR_RECORD.pattern))
    app.add_handler(CallbackQueryHandler(on_obligation, pattern=REPAIR_OBLIGATION.pattern))
    app.add_handler(CallbackQueryHandler(on_commit, pattern=REPAIR_COMMIT.pattern))
    app.add_handler(CommandHandler("repairs", queue))
    app.add_handler(CallbackQueryHandler(on_decide, pattern=REPAIR_DECIDE.pattern))
