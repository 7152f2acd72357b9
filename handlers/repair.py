"""/repair: a subject asks to repair a penalty or a listing — date first, then obligations, proof and
the public credit commitment. /repairs: the record's department approves or rejects with a reason.
Both are flows of handlers/flow.py: their state is in the database, not in this process.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import flow, review
from handlers.common import caller, reply, services
from handlers.notify import tell
from handlers.objection import attachment_of
from handlers.review import Decided, ReviewFlow
from render.buttons import REPAIR_COMMIT, REPAIR_DECIDE, REPAIR_OBLIGATION, REPAIR_RECORD, Buttons, pressed
from rules import lifecycle
from rules.roles import Viewer
from services.conversations import Convo
from services.errors import Refusal
from services.objections import Attachment
from services.repair import apply_for_repair, decide_repair, pending_repairs, repair_opens, repairable_items
from services.runtime import Services

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
        svc.db, viewer, data["record_id"], True, [Attachment(**a) for a in data["proof"]], words, svc.today()
    )
    await reply(update, f"信用修复申请已提交（编号 {filed.request_id}）：{filed.record_label}。审核结果将通过本机器人通知您。")
    await tell(
        context,
        filed.department_chats,
        f"【信用修复待审核】{filed.subject_name} 申请修复 {filed.record_label}。发送 /repairs 查看。",
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


# -- the department's side (handlers/review.py runs it) ------------------------------------------


async def _queue(context: ContextTypes.DEFAULT_TYPE, viewer: Viewer) -> tuple[str, Buttons]:
    if viewer.role != "official" or viewer.department_id is None:
        return "信用修复审核仅限记录所属部门的办事人员。", []
    items = await pending_repairs(services(context).db, viewer.department_id)
    if not items:
        return "本部门暂无待审核的信用修复申请。", []
    lines = [f"本部门待审核信用修复申请 {len(items)} 件："]
    buttons: Buttons = []
    for q in items:
        lines.append(f"{q.request_id}. {q.subject_name} · {q.record_label} · {q.filed_on:%Y-%m-%d} 提交 · 证明材料 {len(q.proof)} 份")
        buttons.append(
            [(f"批准 {q.request_id}", REPAIR_DECIDE.pack(q.request_id, "approve")), (f"驳回 {q.request_id}", REPAIR_DECIDE.pack(q.request_id, "reject"))]
        )
    return "\n".join(lines), buttons


def _ask(decision: str) -> str:
    verb = "准予修复" if decision == "approve" else "不予修复"
    return f"审核结果：{verb}。请输入审核意见（发送 /cancel 取消）："


async def _decide(svc: Services, viewer: Viewer, request_id: int, decision: str, reason: str, _extra: object) -> Decided:
    decided = await decide_repair(svc.db, viewer, request_id, decision == "approve", reason, svc.today())
    result = "准予修复：该记录已停止公示、共享和使用" if decided.approved else "不予修复"
    return Decided(
        answer=f"申请 {decided.request_id} 已审核：{result}。",
        chats=decided.subject_chats,
        notice=f"【信用修复结果】{decided.subject_name} 关于 {decided.record_label} 的信用修复申请：{result}。\n意见：{decided.reason}",
    )


async def _undecidable(svc: Services, viewer: Viewer, request_id: int, _decision: str) -> str | None:
    pending = await pending_repairs(svc.db, viewer.department_id) if viewer.role == "official" and viewer.department_id else []
    return None if any(q.request_id == request_id for q in pending) else "该申请不存在、已审核，或不属于本部门。"


REVIEW = ReviewFlow(
    name="repair_decide",
    label="信用修复审核",
    command="repairs",
    queue=_queue,
    decide_button=REPAIR_DECIDE,
    ask=_ask,
    decide=_decide,
    undecidable=_undecidable,
)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("repair", start))
    app.add_handler(CallbackQueryHandler(on_pick, pattern=REPAIR_RECORD.pattern))
    app.add_handler(CallbackQueryHandler(on_obligation, pattern=REPAIR_OBLIGATION.pattern))
    app.add_handler(CallbackQueryHandler(on_commit, pattern=REPAIR_COMMIT.pattern))
    review.register(app, REVIEW)
