"""Binding a Telegram user to a role with a one-time code; who am I; unbinding; deactivation."""

from __future__ import annotations

import dataclasses

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import flow
from handlers.common import caller, reply, services
from render.buttons import UNBIND, pressed
from rules.roles import ROLE_LABELS
from services.accounts import Binding, redeem_invitation, set_active, unbind
from services.declarations.link_secrets import issue_link_secret, live_link_secrets, revoke_link_secret


async def bind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not context.args:
        await reply(update, "请在命令后附上管理员提供的绑定码，例如：/bind ABCDE-FGHJK")
        return
    user = update.effective_user
    assert user is not None
    account = await redeem_invitation(services(context).db, user.id, context.args[0], user.full_name)
    dept = f"，所属部门：{account.department.name}" if account.department else ""
    await reply(update, f"绑定成功。您的角色：{ROLE_LABELS[account.role]}{dept}。发送 /help 查看可用功能。")


async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    account, _viewer = await caller(update, context)
    lines = [f"角色：{ROLE_LABELS.get(account.role, account.role)}"]
    if not account.active:
        lines.append("状态：已停用（仅可按公众身份查询）")
    if account.department:
        lines.append(f"部门：{account.department.name}")
    for subject in account.subjects:
        lines.append(f"绑定主体：{subject.name}")
    await reply(update, "\n".join(lines))


# -- /unbind: asks first (a button), through the flow registry, so a stale or forged press acts on nothing


CONFIRM_STEP = "confirm"
UNBINDING = flow.define(
    flow.Flow(
        name="unbind",
        label="解除绑定",
        command="unbind",
        timeout=flow.minutes("unbind_minutes"),
        # The question waits for a button; anything typed meanwhile is handled as usual.
        lets_through=frozenset({flow.TEXT, flow.FILE, flow.OTHER}),
        cancelled="已取消解除绑定，您的绑定保持不变。",
        expired="解除绑定未在规定时间内确认，已取消，您的绑定保持不变。",
        replaced="解除绑定未确认，已取消，您的绑定保持不变。",
    )
)


async def unbind_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unbind: says what would be released and asks to confirm."""
    account, _viewer = await caller(update, context)
    binding = Binding.of(account, list(account.subjects))
    if binding.empty:
        await reply(update, "您目前以公众身份使用，没有需要解除的绑定。")
        return
    what = [f"角色：{ROLE_LABELS.get(account.role, account.role)}"]
    if account.department:
        what.append(f"部门：{account.department.name}")
    what += [f"绑定主体：{subject.name}" for subject in account.subjects]
    await flow.begin(update, context, UNBINDING, CONFIRM_STEP, dataclasses.asdict(binding))
    await reply(
        update,
        "确定要解除绑定吗？解除后您将以公众身份使用，以下权限随之解除，需管理员重新发放绑定码才能恢复：\n"
        + "\n".join(f"· {line}" for line in what),
        [[("确认解除绑定", UNBIND.pack("ok")), ("保持绑定", UNBIND.pack("no"))]],
    )


async def on_unbind_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, UNBIND)
    if values is None:
        return
    convo = await flow.load(update, context, UNBINDING, CONFIRM_STEP)
    if convo is None:  # pressed after it ended, timed out or was replaced: nothing happens
        return
    await flow.finish(update, context, convo)  # of two replicas racing, only one gets past this
    if values[0] != "ok":
        await reply(update, "已取消解除绑定，您的绑定保持不变。")
        return
    user = update.effective_user
    assert user is not None
    shown = Binding(convo.data["role"], convo.data["department_id"], tuple(convo.data["subject_ids"]))
    await unbind(services(context).db, user.id, confirmed=shown)
    await reply(update, "已解除绑定，您现在以公众身份使用。")


# Account keys are 64-bit integers (Telegram ids, WeCom members' stored ids).
MAX_USER_ID = 2**63


async def _set_active(update: Update, context: ContextTypes.DEFAULT_TYPE, active: bool) -> None:
    _account, viewer = await caller(update, context)
    if viewer.role != "admin":
        await reply(update, "只有系统管理员可以停用或启用账号。")
        return
    if not context.args or not context.args[0].isdecimal() or int(context.args[0]) >= MAX_USER_ID:
        await reply(update, "用法：/deactivate 用户ID（或 /activate 用户ID）")
        return
    await set_active(services(context).db, int(context.args[0]), active)
    await reply(update, f"账号 {context.args[0]} 已{'启用' if active else '停用'}。")


async def deactivate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_active(update, context, False)


async def activate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_active(update, context, True)


LINKCODE_USAGE = (
    "用法：/linkcode 统一社会信用代码（信用主管部门办事人员和管理员也可输入自然人身份证号）签发授权码；"
    "/linkcode 查看未使用的授权码；/linkcode revoke 编号（或授权码本身）撤销。"
)


async def linkcode(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/linkcode <USCC or ID number>: a one-time 授权码 for a public declarant's link proof, shown here
    only, to the issuer. Alone: the caller's live codes; `revoke <number or code>`: revoke one. A
    refusal (not allowed, unknown subject) goes to the one error handler."""
    svc = services(context)
    _account, viewer = await caller(update, context)
    args = context.args or []
    if not args:
        live = await live_link_secrets(svc.db, viewer)
        if not live:
            await reply(update, "没有未使用的授权码。\n" + LINKCODE_USAGE)
            return
        lines = [f"未使用的授权码 {len(live)} 个（授权码本身不再显示）："]
        for x in live:
            by = "" if x.mine else "（他人为本单位签发）"
            lines.append(f"#{x.id} {x.subject_name}{by}，有效期至 {x.expires_at.astimezone(svc.settings.tz):%Y-%m-%d %H:%M}")
        lines.append("撤销：/linkcode revoke 编号")
        await reply(update, "\n".join(lines))
        return
    if args[0].lower() in ("revoke", "撤销"):
        if len(args) < 2:
            await reply(update, LINKCODE_USAGE)
            return
        name = await revoke_link_secret(svc.db, viewer, "".join(args[1:]), svc.settings.privacy.id_hash_key)
        await reply(update, f"已撤销{name}的该授权码，此后不能再使用。")
        return
    issued = await issue_link_secret(
        svc.db, viewer, "".join(args), svc.settings.privacy.id_hash_key, division_code=svc.settings.region.division_code
    )
    until = issued.expires_at.astimezone(svc.settings.tz)
    await reply(
        update,
        f"已为{issued.subject_name}签发授权码：{issued.code}\n有效期至 {until:%Y-%m-%d %H:%M}，只能使用一次。"
        "请仅交给该主体授权的申报人本人；本机器人不会再次显示此码（可发送 /linkcode 查看编号、撤销）。",
    )


def register(app: Application) -> None:
    app.add_handler(CommandHandler("linkcode", linkcode))
    app.add_handler(CommandHandler("bind", bind))
    app.add_handler(CommandHandler("whoami", whoami))
    app.add_handler(CommandHandler("unbind", unbind_cmd))
    app.add_handler(CallbackQueryHandler(on_unbind_button, pattern=UNBIND.pattern))
    app.add_handler(CommandHandler("deactivate", deactivate))
    app.add_handler(CommandHandler("activate", activate))
