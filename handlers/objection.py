"""/objection: a subject disputes a record or a proposed listing. /objections: the responsible
department's queue, where an official upholds (维持), corrects (更正) or revokes (撤销) with a reason.
Both are flows of handlers/flow.py: their state is in the database, not in this process.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import flow, review
from handlers.common import caller, reply, services
from handlers.listing import decision_issuer
from handlers.notify import tell
from handlers.review import Decided, ExtraAnswer, Files, ReviewFlow
from render.buttons import (
    OBJECTION_DECIDE,
    OBJECTION_FILES,
    OBJECTION_OPEN,
    OBJECTION_RECORD,
    OBJECTION_SUBMIT,
    Buttons,
    pressed,
)
from rules import lifecycle
from rules.roles import Viewer
from services.conversations import Convo
from services.errors import Refusal
from services.listings import issue_pending_decisions
from services.numbering import region_abbr
from services.objections import (
    Attachment,
    PendingObjection,
    decide_objection,
    file_objection,
    objectable_items,
    pending_objections,
)
from services.runtime import Services


def answer_days(svc: Services) -> int:
    """Working days the department has to answer (`lifecycle.objection_answer_working_days`)."""
    return svc.settings.lifecycle.objection_answer_working_days


def attachment_of(update: Update) -> Attachment | None:
    message = update.effective_message
    if message is None:
        return None
    if message.document is not None:
        return Attachment(message.document.file_id, "document", message.document.file_name)
    if message.photo:
        return Attachment(message.photo[-1].file_id, "photo", None)
    return None


# -- the subject's side: the flow `objection` (handlers/flow.py), steps pick → reason → attach ------------

PICK, REASON, ATTACH = "pick", "reason", "attach"
SUBMIT_WORDS = re.compile(r"^\s*(提交|提交异议)\s*$")


def submit_button() -> Buttons:
    return [[("提交异议", OBJECTION_SUBMIT.pack())]]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    if not viewer.subject_ids:
        await reply(update, "提出异议须先绑定信用主体（企业账号或已绑定主体的个人账号，发送 /bind 绑定码）。")
        return
    svc = services(context)
    items = await objectable_items(svc.db, viewer, svc.today())
    if not items:
        await reply(update, "您绑定的主体暂无可提出异议的记录（公示中的记录或异议期内的拟列入事项）。")
        return
    several = len({i.subject_name for i in items}) > 1
    buttons: Buttons = [
        [((f"{i.subject_name}：" if several else "") + i.label, OBJECTION_RECORD.pack(i.record_id))] for i in items[:20]
    ]
    await flow.begin(update, context, OBJECTING, PICK, {"attachments": []})
    await reply(update, "请选择要提出异议的记录（发送 /cancel 取消）：", buttons)


async def on_pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, OBJECTION_RECORD)
    if values is None:
        return
    convo = await flow.load(update, context, OBJECTING, PICK)
    if convo is None:
        return
    await flow.advance(update, context, convo, REASON, {**convo.data, "record_id": values[0]})
    await reply(update, "请说明异议理由（哪些信息有误、事实如何）：")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    assert update.effective_message is not None
    text = (update.effective_message.text or "").strip()
    if convo.step == PICK:
        await reply(update, "请点击上方按钮选择要提出异议的记录，或发送 /cancel 取消。")
    elif convo.step == REASON:
        if not text:
            await reply(update, "请说明异议理由：")
            return
        await flow.advance(update, context, convo, ATTACH, {**convo.data, "reason": text[:2000]})
        await reply(
            update,
            "如有证明材料，请直接发送文件或照片（可发送多个）；发送完毕或没有材料时，点击“提交异议”。",
            submit_button(),
        )
    elif SUBMIT_WORDS.match(text):
        await _submit(update, context, convo)
    else:
        await reply(update, "请发送证明材料（文件或照片），或点击“提交异议”。", submit_button())


async def on_attachment(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    found = attachment_of(update)
    if convo.step != ATTACH or found is None:
        await reply(update, "请先按提示选择记录并说明异议理由，再发送证明材料。")
        return
    items = [*convo.data.get("attachments", []), found.as_dict()]
    await flow.advance(update, context, convo, ATTACH, {**convo.data, "attachments": items})
    await reply(update, f"已收到第 {len(items)} 个附件。可继续发送，或点击“提交异议”。", submit_button())


async def on_submit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await pressed(update, OBJECTION_SUBMIT) is None:
        return
    convo = await flow.load(update, context, OBJECTING, ATTACH)
    if convo is not None:
        await _submit(update, context, convo)


async def _submit(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    data = convo.data
    await flow.finish(update, context, convo)
    svc = services(context)
    assert svc.calendar is not None
    _account, viewer = await caller(update, context)
    filed = await file_objection(
        svc.db,
        viewer,
        data["record_id"],
        data["reason"],
        [Attachment(**a) for a in data.get("attachments", [])],
        svc.today(),
        svc.calendar,
        answer_days(svc),
    )
    await reply(
        update,
        f"异议已提交（编号 {filed.objection_id}）：{filed.record_label}。\n"
        f"责任部门应于 {filed.answer_due:%Y-%m-%d} 前作出处理，结果将通过本机器人通知您。",
    )
    await tell(
        context,
        filed.department_chats,
        f"【异议待处理】{filed.subject_name} 对 {filed.record_label} 提出异议，"
        f"请于 {filed.answer_due:%Y-%m-%d} 前处理。发送 /objections 查看。",
        kind="objection_filed",
    )


OBJECTING = flow.define(
    flow.Flow(
        name="objection",
        label="提出异议",
        command="objection",
        timeout=flow.minutes("objection_minutes"),
        on_text=on_text,
        on_file=on_attachment,
        waiting={PICK: "选择记录", REASON: "异议理由", ATTACH: "附件或“提交”"},
    )
)


# -- the department's side (handlers/review.py runs it) ------------------------------------------

NOT_OURS = "该异议不存在、已处理，或不属于本部门。"
# The Chinese name of each correctable field (the first name rules.lifecycle accepts for it).
FIELD_NAMES = {key: name for name, key in reversed(lifecycle.CORRECTABLE.items())}


async def _queue(context: ContextTypes.DEFAULT_TYPE, viewer: Viewer) -> tuple[str, Buttons]:
    if viewer.role != "official" or viewer.department_id is None:
        return "异议处理仅限责任部门的办事人员。", []
    svc = services(context)
    items = await pending_objections(svc.db, viewer.department_id, svc.today())
    if not items:
        return "本部门暂无待处理的异议。", []
    lines = [f"本部门待处理异议 {len(items)} 件："]
    buttons: Buttons = []
    for o in items:
        late = "（已超期）" if o.overdue else ""
        kind = "拟列入 " if o.proposed_listing else ""
        lines.append(f"{o.objection_id}. {o.subject_name} · {kind}{o.record_label} · 应于 {o.answer_due:%Y-%m-%d} 前处理{late}")
        buttons.append([(f"处理 {o.objection_id}：{o.subject_name}"[:60], OBJECTION_OPEN.pack(o.objection_id))])
    return "\n".join(lines), buttons


async def _pending(svc: Services, viewer: Viewer, objection_id: int) -> PendingObjection | None:
    items = await pending_objections(svc.db, viewer.department_id or -1, svc.today())
    found = [o for o in items if o.objection_id == objection_id]
    return found[0] if found and viewer.role == "official" else None


async def _show(svc: Services, viewer: Viewer, objection_id: int) -> tuple[str, Buttons]:
    o = await _pending(svc, viewer, objection_id)
    if o is None:
        return NOT_OURS, []
    text = (
        f"异议 {o.objection_id}：{o.subject_name}\n记录：{o.record_label}\n提出日期：{o.filed_on:%Y-%m-%d}，"
        f"应于 {o.answer_due:%Y-%m-%d} 前处理\n理由：{o.reason}\n附件：{len(o.attachments)} 个"
    )
    buttons: Buttons = [
        [(label, OBJECTION_DECIDE.pack(o.objection_id, key)) for key, label in lifecycle.OBJECTION_DECISIONS.items()]
    ]
    if o.attachments:
        buttons.append([("查看附件", OBJECTION_FILES.pack(o.objection_id))])
    return text, buttons


async def _files(svc: Services, viewer: Viewer, objection_id: int) -> Files:
    o = await _pending(svc, viewer, objection_id)
    if o is None:
        raise Refusal(NOT_OURS)
    return Files(o.attachments)


async def _undecidable(svc: Services, viewer: Viewer, objection_id: int, _decision: str) -> str | None:
    return None if await _pending(svc, viewer, objection_id) is not None else NOT_OURS


def _ask(decision: str) -> str:
    return f"处理结果：{lifecycle.OBJECTION_DECISIONS[decision]}。请输入处理理由（发送 /cancel 取消）："


def _corrections_question(decision: str) -> str | None:
    if decision != "corrected":
        return None
    return "请输入更正内容，每行一项“字段：新值”，例如：\n严重程度：一般\n内容：罚款五千元（发送 /cancel 取消）"


async def _decide(svc: Services, viewer: Viewer, objection_id: int, decision: str, reason: str, corrections: Any) -> Decided:
    decided = await decide_objection(svc.db, viewer, objection_id, decision, reason, svc.today(), corrections)
    label = lifecycle.OBJECTION_DECISIONS[decided.decision]
    extra = ""
    if decided.listing_effective:  # its 列入决定书 now, put in the outbox for the subject
        issuer = decision_issuer(svc, region_abbr(svc.settings.region.division_code))
        issued = await issue_pending_decisions(svc.db, svc.today(), issuer)
        numbers = "、".join(i.decision.decision.number for i in issued if i.decision)
        extra = "；拟列入事项异议期已满，已依法列入" + (f"并出具列入决定书 {numbers}" if numbers else "严重失信主体名单")
    corrected = (
        "\n更正内容：" + "；".join(f"{FIELD_NAMES.get(k, k)}：{v}" for k, v in decided.corrections.items())
        if decided.corrections
        else ""
    )
    return Decided(
        answer=f"异议 {decided.objection_id} 已处理：{label}{extra}。",
        chats=decided.subject_chats,
        notice=f"【异议处理结果】{decided.subject_name} 对 {decided.record_label} 提出的异议已处理：{label}。"
        f"\n理由：{decided.reason}{corrected}",
    )


REVIEW = ReviewFlow(
    name="objection_decide",
    label="异议处理",
    command="objections",
    queue=_queue,
    decide_button=OBJECTION_DECIDE,
    ask=_ask,
    decide=_decide,
    open_button=OBJECTION_OPEN,
    show=_show,
    files_button=OBJECTION_FILES,
    files=_files,
    extra_answer=ExtraAnswer(_corrections_question, lifecycle.parse_corrections, "请输入处理理由："),
    undecidable=_undecidable,
)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("objection", start))
    app.add_handler(CallbackQueryHandler(on_pick, pattern=OBJECTION_RECORD.pattern))
    app.add_handler(CallbackQueryHandler(on_submit, pattern=OBJECTION_SUBMIT.pattern))
    review.register(app, REVIEW)
