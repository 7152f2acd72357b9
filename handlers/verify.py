"""/verify: officials of the responsible department check self-declarations against their proof,
approve or reject with a reason, and revoke a verified one later found false. The declarant is told
either way.
"""

from __future__ import annotations

import re

from telegram.ext import Application, ContextTypes

from handlers import review
from handlers.common import services
from handlers.review import Decided, Files, ReviewFlow
from render.buttons import VERIFY_DECIDE, VERIFY_FILES, VERIFY_OPEN, Buttons
from rules import declarations as rules
from rules.roles import Viewer
from services.declarations.items import DeclarationItem
from services.declarations.verification import REASON_REQUIRED, decide, open_for_official, pending_for
from services.runtime import Services

ACTIONS = {"approve": "核验通过", "reject": "驳回", "revoke": "撤销（申报不实）"}
RECEIPT = re.compile(r"\S+申〔\d{4}〕\d+号")


def detail_text(item: DeclarationItem) -> str:
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


async def _queue(context: ContextTypes.DEFAULT_TYPE, viewer: Viewer) -> tuple[str, Buttons]:
    """/verify: the department's pending declarations; /verify <受理编号>: that one, any status."""
    svc = services(context)
    wanted = " ".join(context.args or [])
    if wanted:
        m = RECEIPT.search(wanted)
        return _detail(await open_for_official(svc.db, viewer, receipt=m.group(0) if m else wanted))
    items = await pending_for(svc.db, viewer)
    if not items:
        return "本部门暂无待核验的自主申报。查看已核验的申报请发送 /verify 受理编号。", []
    lines = [f"本部门待核验自主申报 {len(items)} 件："]
    buttons: Buttons = []
    for i in items:
        lines.append(f"{i.receipt_no} · {i.subject_name} · [{i.category_label}] {i.headline} · 材料 {len(i.attachments)} 个")
        buttons.append([(f"查看 {i.receipt_no}"[:60], VERIFY_OPEN.pack(i.id))])
    return "\n".join(lines), buttons


def _detail(item: DeclarationItem) -> tuple[str, Buttons]:
    buttons: Buttons = []
    if item.attachments:
        buttons.append([("查看证明材料", VERIFY_FILES.pack(item.id))])
    if item.status == "pending":
        buttons.append([(ACTIONS["approve"], VERIFY_DECIDE.pack(item.id, "approve")), (ACTIONS["reject"], VERIFY_DECIDE.pack(item.id, "reject"))])
    elif item.status == "verified":
        buttons.append([(ACTIONS["revoke"], VERIFY_DECIDE.pack(item.id, "revoke"))])
    return detail_text(item), buttons


async def _show(svc: Services, viewer: Viewer, declaration_id: int) -> tuple[str, Buttons]:
    return _detail(await open_for_official(svc.db, viewer, declaration_id))


async def _files(svc: Services, viewer: Viewer, declaration_id: int) -> Files:
    """The proof, re-sent by Telegram file id with its file names: the bot never keeps a copy."""
    return Files((await open_for_official(svc.db, viewer, declaration_id)).attachments, with_names=True)


# The status a declaration must have for each action (approve and reject a pending one, revoke a verified one).
ACTION_NEEDS = {"approve": "pending", "reject": "pending", "revoke": "verified"}


async def _undecidable(svc: Services, viewer: Viewer, declaration_id: int, action: str) -> str | None:
    item = await open_for_official(svc.db, viewer, declaration_id)
    return None if item.status == ACTION_NEEDS.get(action) else "该申报已处理，无需重复处理。发送 /verify 查看最新状态。"


def _ask(action: str) -> str:
    ask = "请输入驳回理由" if action == "reject" else ("请输入撤销理由（核实的不实情况）" if action == "revoke" else "请输入核验意见")
    return f"处理结果：{ACTIONS[action]}。{ask}（发送 /cancel 取消）："


OUTCOMES = {
    "verified": "核验通过，已计入该主体信用档案（自主申报，已核验）",
    "rejected": "未通过核验",
    "revoked": "已撤销，违背信用承诺的情况已记入该主体信用档案",
}


async def _decide(svc: Services, viewer: Viewer, declaration_id: int, action: str, reason: str, _extra: object) -> Decided:
    decided = await decide(svc.db, viewer, declaration_id, action, reason, svc.today())
    outcome = OUTCOMES[decided.status]
    return Decided(
        answer=f"申报 {decided.receipt_no} 已处理：{outcome}。",
        chats=decided.declarant_chats,
        notice=f"【自主申报结果】{decided.subject_name} 的{decided.category_label}申报（{decided.receipt_no}）{decided.headline}：{outcome}。"
        f"\n意见：{decided.reason}",
        # The declarant and the subject's bound accounts are told: name both when there are both.
        whom="申报人" if len(decided.declarant_chats) == 1 else "申报人及该主体的绑定账号",
    )


REVIEW = ReviewFlow(
    name="declaration_verify",
    label="自主申报核验",
    command="verify",
    queue=_queue,
    decide_button=VERIFY_DECIDE,
    ask=_ask,
    decide=_decide,
    open_button=VERIFY_OPEN,
    show=_show,
    files_button=VERIFY_FILES,
    files=_files,
    ask_again_on=frozenset({REASON_REQUIRED}),
    undecidable=_undecidable,
)


def register(app: Application) -> None:
    review.register(app, REVIEW)
