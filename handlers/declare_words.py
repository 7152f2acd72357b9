"""What the declaration conversation says: the question of each step with its buttons, the advice
a use case's hint stands for, and the endings. Kept apart from the handlers so the words can be read
(and reviewed) in one place.
"""

from __future__ import annotations

from render.buttons import (
    DECLARE_AUTHORISE,
    DECLARE_BACK,
    DECLARE_CATEGORY,
    DECLARE_COMMIT,
    DECLARE_CONFIRM,
    DECLARE_FILES_DONE,
    DECLARE_NO_CODE,
    DECLARE_SKIP,
    DECLARE_SUBJECT,
    Buttons,
)
from rules import declarations as rules
from services.declarations import drafts
from services.declarations.link_secrets import VALID_FOR

ENTERPRISE_HOWTO = (
    "如需以企业身份申报，请由单位向本平台（或所在地信用主管部门）申请企业账号：提交营业执照复印件和经办人授权书，"
    "取得绑定码后在本机器人发送 /bind 绑定码，即可直接为本单位申报，无需再核验身份。"
)
LINK_SECRET_HOWTO = (
    "如何取得授权码：已绑定企业账号的，由该账号发送 /linkcode 统一社会信用代码 自行签发；"
    "没有企业账号的，请携营业执照（自然人携身份证）到信用主管部门或平台管理员处申请。"
    f"授权码 {int(VALID_FOR.total_seconds() // 3600)} 小时内有效，只能使用一次。"
)
# The chat's advice for a use case's hint code (services.declarations.drafts.HINT_*).
HINTS = {
    drafts.HINT_CANCEL: "如需放弃申报，请发送 /cancel。",
    drafts.HINT_ENTERPRISE_ACCOUNT: "\n" + ENTERPRISE_HOWTO,
    drafts.HINT_LINK_SECRET: "\n" + LINK_SECRET_HOWTO,
}
ELSEWHERE = "您的申报正在另一处办理，请稍后发送 /declare 继续。"
ENDED = {
    "cancelled": "申报已终止，未提交任何内容。如需重新申报，请发送 /declare。",
    "expired": "申报因长时间未操作已超时作废，未提交任何内容。如需申报，请重新发送 /declare。",
    "none": "您当前没有进行中的申报。如需申报，请发送 /declare。",
}


def prompt(draft: drafts.Draft, lim: rules.DeclarationSettings) -> tuple[str, Buttons]:
    """The question of the step the draft is at, with its buttons."""
    back: list[tuple[str, str]] = [("返回", DECLARE_BACK.pack())]
    no_code = ("没有授权码", DECLARE_NO_CODE.pack())
    step = draft.step
    if step == "subject":
        return "请选择申报主体：", [[(name[:60], DECLARE_SUBJECT.pack(sid))] for sid, name in draft.subject_choices]
    if step == "link_code":
        left = f"（还可尝试 {draft.link_tries_left} 次）" if draft.link_tries_left is not None else ""
        return (
            "您的账号尚未绑定信用主体。为主体申报前，须先核验您与该主体的关系" + left + "：除登记信息外，"
            "还须输入该主体的授权码（一次有效）。\n" + LINK_SECRET_HOWTO + "\n"
            "已有授权码的，请输入主体的统一社会信用代码；自然人请输入本人身份证号。",
            [[no_code]],
        )
    if step == "link_name":
        return "请输入法定代表人（负责人）姓名；自然人请输入本人姓名：", [[no_code, *back]]
    if step == "link_date":
        return "请输入该主体的成立日期（营业执照所载，例如 2015-03-01）：", [[no_code, *back]]
    if step == "link_secret":
        return "请输入授权码（由该主体的企业账号、信用主管部门或平台管理员签发，一次有效）：\n" + LINK_SECRET_HOWTO, [[no_code, *back]]
    head = f"申报主体：{draft.subject_name}\n" if draft.subject_name else ""
    if step == "category":
        cats = list(rules.CATEGORIES.values())
        buttons: Buttons = [[(c.label, DECLARE_CATEGORY.pack(c.key)) for c in cats[i : i + 3]] for i in range(0, len(cats), 3)]
        return head + "请选择申报类别：", [*buttons, back]
    cat = rules.CATEGORIES.get(draft.category or "")
    if step.startswith("field:") and cat is not None:
        f = rules.field_of(cat, step.split(":", 1)[1])
        n = [x.key for x in cat.fields].index(f.key) + 1
        optional = "（选填，可发送“跳过”）" if not f.required else ""
        kind = {"date": "，格式如 2025-03-01 或 2025年3月1日", "amount": "，单位：万元"}.get(f.kind, "")
        hint = f"\n{f.hint}" if f.hint else ""
        now = draft.values.get(f.key)
        had = f"\n（已填：{now}，重新输入即修改）" if now else ""
        row = [("跳过", DECLARE_SKIP.pack())] if not f.required else []
        return (
            f"【{cat.label}】第 {n}/{len(cat.fields)} 项：请输入{f.label}{optional}{kind}。{hint}{had}\n发送“返回”回到上一步，/cancel 取消。",
            [[*row, *back]],
        )
    if step == "attach":
        got = "、".join(a.get("name") or "照片" for a in draft.attachments) or "暂无"
        return (
            f"请发送证明材料（证书、合同、凭证等）：文件或照片，PDF、JPG、PNG 格式，单个不超过 {lim.max_file_mb} MB，"
            f"最多 {lim.max_files} 个。\n已收到 {len(draft.attachments)} 个：{got}",
            [[("材料已发送完毕", DECLARE_FILES_DONE.pack()), *back]],
        )
    if step == "confirm" and cat is not None:
        lines = ["请核对申报内容：", f"申报主体：{draft.subject_name}", f"申报类别：{cat.label}"]
        lines += rules.summary_lines(cat, draft.values)
        lines.append(f"证明材料：{len(draft.attachments)} 个（" + "、".join(a.get("name") or "照片" for a in draft.attachments) + "）")
        return "\n".join(lines), [[("确认无误", DECLARE_CONFIRM.pack()), ("返回修改", DECLARE_BACK.pack())]]
    if step == "commit":
        return (
            f"请阅读并作出信用承诺（承诺书版本 {rules.COMMITMENT_VERSION}）：\n\n{rules.COMMITMENT_TEXT}\n\n"
            f"同意请点击“{rules.COMMITMENT_WORD}”或回复“{rules.COMMITMENT_WORD}”；不同意则申报终止、不会提交。",
            [[(rules.COMMITMENT_WORD, DECLARE_COMMIT.pack("yes")), ("不承诺", DECLARE_COMMIT.pack("no"))], back],
        )
    if step == "authorise":
        return (
            f"最后一步，信息归集共享授权（版本 {rules.AUTHORISATION_VERSION}）：\n\n{rules.AUTHORISATION_TEXT}\n\n"
            f"同意请点击“同意授权”或回复“{rules.AUTHORISE_WORD}”；不同意则申报终止、不会提交。",
            [[("同意授权", DECLARE_AUTHORISE.pack("yes")), ("不同意", DECLARE_AUTHORISE.pack("no"))], back],
        )
    return "请按提示继续，或发送 /cancel 取消。", []


def said(outcome: drafts.Outcome) -> str | None:
    """The step's message for the user, completed with the chat's advice for its hint."""
    if outcome.error is None:
        return None
    return outcome.error + HINTS.get(outcome.hint or "", "")
