"""/verify: officials of the responsible department check self-declarations against their proof,
approve or reject with a reason, and revoke a verified one later found false. The declarant is told
either way.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers.common import Buttons, caller, reply, resend_attachments, services
from handlers.notify import tell
from rules import declarations as rules
from services import declarations as uc
from services.errors import Refusal

REASON = 20
TIMEOUT_SECONDS = 30 * 60
DKEY = "declaration_decision"
ACTIONS = {"approve": "核验通过", "reject": "驳回", "revoke": "撤销（申报不实）"}
RECEIPT = re.compile(r"\S+申〔\d{4}〕\d+号")


def detail_text(item: uc.DeclarationItem) -> str:
    cat = rules.CATEGORIES.get(item.category or "")
    lines = [
        f"自主申报 {item.receipt_no}（{rules.STATUS_LABELS.get(item.status, item.status)}）",
        f"申报主体：{item.subject_name}（{'企业账号' if item.link == 'bound' else '公众核验身份后申报'}）",
        f"申报类别：{item.category_label}",
    ]
    if cat is not None:
        lines += rules.summary_lines(cat, item.values)
    lines.append(f"提交日期：{item.submitted_on:%Y-%m-%d}" if item.submitted_on else "")
    lines.append(f"信用承诺：已作出（承诺书版本 {item.commitment_version}）")
    lines.append(f"证明材料：{len(item.attachments)} 个")
    for a in item.attachments:
        lines.append(f"  · {a.get('name')}（{a.get('size', 0) / 1024:.0f} KB，SHA-256 {str(a.get('sha256', ''))[:16]}…）")
    if item.decision_reason:
        lines.append(f"核验意见：{item.decision_reason}")
    return "\n".join(line for line in lines if line)


async def queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    svc = services(context)
    wanted = " ".join(context.args or [])
    if wanted:
        m = RECEIPT.search(wanted)
        item = await uc.open_for_official(svc.db, viewer, receipt=m.group(0) if m else wanted)
        await _show(update, item)
        return
    items = await uc.pending_for(svc.db, viewer)
    if not items:
        await reply(update, "本部门暂无待核验的自主申报。查看已核验的申报请发送 /verify 受理编号。")
        return
    lines = [f"本部门待核验自主申报 {len(items)} 件："]
    buttons: Buttons = []
    for i in items:
        lines.append(f"{i.receipt_no} · {i.subject_name} · [{i.category_label}] {i.headline} · 材料 {len(i.attachments)} 个")
        buttons.append([(f"查看 {i.receipt_no}"[:60], f"dv:o:{i.id}")])
    await reply(update, "\n".join(lines), buttons)


async def _show(update: Update, item: uc.DeclarationItem) -> None:
    buttons: Buttons = []
    if item.attachments:
        buttons.append([("查看证明材料", f"dv:a:{item.id}")])
    if item.status == "pending":
        buttons.append([(ACTIONS["approve"], f"dv:d:{item.id}:approve"), (ACTIONS["reject"], f"dv:d:{item.id}:reject")])
    elif item.status == "verified":
        buttons.append([(ACTIONS["revoke"], f"dv:d:{item.id}:revoke")])
    await reply(update, detail_text(item), buttons)


async def on_open(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    cq = update.callback_query
    assert cq is not None and cq.data is not None
    await cq.answer()
    _account, viewer = await caller(update, context)
    item = await uc.open_for_official(services(context).db, viewer, int(cq.data.split(":")[2]))
    await _show(update, item)


async def on_attachments(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Re-send the proof by Telegram file id: the bot never keeps a copy of the files."""
    cq = update.callback_query
    assert cq is not None and cq.data is not None
    await cq.answer()
    _account, viewer = await caller(update, context)
    item = await uc.open_for_official(services(context).db, viewer, int(cq.data.split(":")[2]))
    await resend_attachments(update, context, item.attachments, with_names=True)


async def on_decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    cq = update.callback_query
    assert cq is not None and cq.data is not None and context.user_data is not None
    await cq.answer()
    _tag, _d, declaration_id, action = cq.data.split(":")
    context.user_data[DKEY] = {"id": int(declaration_id), "action": action}
    ask = "请输入驳回理由" if action == "reject" else ("请输入撤销理由（核实的不实情况）" if action == "revoke" else "请输入核验意见")
    await reply(update, f"处理结果：{ACTIONS[action]}。{ask}（发送 /cancel 取消）：")
    return REASON


async def on_reason(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_message is not None and context.user_data is not None
    data = context.user_data.get(DKEY)
    if not data:
        return ConversationHandler.END
    svc = services(context)
    _account, viewer = await caller(update, context)
    try:
        decided = await uc.decide(svc.db, viewer, data["id"], data["action"], update.effective_message.text or "", svc.today())
    except Refusal as exc:
        await reply(update, str(exc))
        return REASON if "请填写" in str(exc) else ConversationHandler.END
    context.user_data.pop(DKEY, None)
    outcome = {
        "verified": "核验通过，已计入该主体信用档案（自主申报，已核验）",
        "rejected": "未通过核验",
        "revoked": "已撤销，违背信用承诺的情况已记入该主体信用档案",
    }[decided.status]
    await reply(update, f"申报 {decided.receipt_no} 已处理：{outcome}。已通知申报人。")
    await tell(
        context,
        decided.declarant_chats,
        f"【自主申报结果】{decided.subject_name} 的{decided.category_label}申报（{decided.receipt_no}）{decided.headline}：{outcome}。"
        f"\n意见：{decided.reason}",
    )
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if context.user_data is not None:
        context.user_data.pop(DKEY, None)
    await reply(update, "已取消。")
    return ConversationHandler.END


def register(app: Application) -> None:
    app.add_handler(CommandHandler("verify", queue))
    app.add_handler(CallbackQueryHandler(on_open, pattern=r"^dv:o:\d+$"))
    app.add_handler(CallbackQueryHandler(on_attachments, pattern=r"^dv:a:\d+$"))
    app.add_handler(
        ConversationHandler(
            entry_points=[CallbackQueryHandler(on_decide, pattern=r"^dv:d:\d+:(approve|reject|revoke)$")],
            states={REASON: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_reason)]},
            fallbacks=[CommandHandler("cancel", cancel)],
            conversation_timeout=TIMEOUT_SECONDS,
            per_message=False,
            name="declaration_verify",
        )
    )
