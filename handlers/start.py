"""/start and /help: what this bot does, told for the caller's role."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from handlers.common import caller, reply, services

COMMON = (
    "直接输入企业名称、简称、统一社会信用代码即可查询，例如：\n"
    "  · 查询 安康市恒达建材有限公司\n"
    "  · 恒达建材有没有行政处罚\n"
    "  · 汉阴的恒达\n"
    "  · 91610900XXXXXXXXXX（统一社会信用代码）\n"
)
SUBJECT = (
    "企业和个人还可以：/report 获取本主体信用报告（PDF），/objection 提出异议，/repair 申请信用修复；\n"
    "/report 专项 近3年 专项信用报告（替代有无违法违规记录证明），/report 专项 授权 为办事部门出具授权码；"
    "/documents 信用修复告知书、决定书等文书；\n"
    "/declare 自主申报资质证照、荣誉表彰等（须附材料并作出信用承诺），/mydeclarations 查看申报进度。\n"
)
STAFF = (
    "办事人员还可以：\n"
    "  · 在主体信息下方点击“逢办必查”，选择办理事项，查看应采取的联合惩戒措施并反馈办理结果\n"
    "  · 输入身份证号查询自然人（结果仅显示脱敏号码）\n"
    "  · /report 名称或代码 生成信用报告；/objections 异议处理；/repairs 修复审核（受理、办结期限）；/documents 本部门文书\n"
    "  · /report 专项 统一社会信用代码 授权码 获取经主体授权的专项信用报告\n"
    "  · /propose 拟列入严重失信主体名单；/listings 本部门事前告知期中的拟列入事项\n"
    "  · /verify 自主申报核验；/verify 受理编号 查看或撤销已核验的申报\n"
    "  · /due 2026-09-28 行政处罚 计算报送期限\n"
    "  · /undelivered 未能送达的通知（请另行书面送达）；信用主管部门：/linkcode 统一社会信用代码或身份证号 签发自主申报授权码\n"
    "  · 主体信息显示信用评价等级与风险分类；/watch 名称 关注主体，/watchlist 关注列表，/risklist 本部门高风险主体\n"
)
# Collectors and admins work inside the platform too, but checks, listings and reviews are the officials'.
STAFF_LOOKUP = (
    "工作人员还可以：输入身份证号查询自然人（结果仅显示脱敏号码）；/report 名称或代码 生成信用报告；"
    "/due 2026-09-28 行政处罚 计算报送期限。\n"
)
COLLECTOR = "信息采集员：直接发送 CSV/XLSX 文件报送数据（确认后才写入）；/mytasks 查看待办；/zero 本期无新增。\n"
CANCEL = "办理中随时发送 /cancel（或“取消”）结束正在办理的事项；申报中途发送其他命令会暂停申报，/declare 继续，/cancel 放弃草稿。\n"
ACCOUNT = "账号：/whoami 查看角色，/bind 绑定码 绑定账号，/unbind 解除绑定。"
CHECK = "核验：/checkreport 编号 核验码 核验信用报告或告知书是否由本平台出具、是否被改动。\n"
ADMIN = (
    "管理员：/stats 逢办必查统计；/duties 报送职责；/overdue 逾期与未报送；/ontime 按时报送率图表；/grades 信用等级分布与本月变化；\n"
    "/mask、/masks、/unmask 暂时屏蔽（重整、和解中的企业；信用主管部门亦可）；\n"
    "/undelivered 未能送达的通知；/linkcode 统一社会信用代码或身份证号 签发自主申报授权码（/linkcode 查看、撤销）。\n"
)
ENTERPRISE = (
    "企业账号：/linkcode 本单位统一社会信用代码 签发自主申报授权码，交给未绑定账号的经办人核验身份；"
    "/linkcode 查看未使用的授权码，/linkcode revoke 编号 撤销。\n"
)


async def help_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    _account, viewer = await caller(update, context)
    platform = services(context).settings.region.platform_name
    parts = [f"您好，这里是“信用通”——{platform}查询机器人。\n", COMMON]
    if not viewer.is_staff:
        parts.append(SUBJECT)
    if viewer.role == "enterprise":
        parts.append(ENTERPRISE)
    if viewer.role == "official":
        parts.append(STAFF)
    elif viewer.is_staff:
        parts.append(STAFF_LOOKUP)
    if viewer.role == "collector":
        parts.append(COLLECTOR)
    if viewer.role == "admin":
        parts.append(ADMIN)
    parts.append(CHECK)
    parts.append(CANCEL)
    parts.append(ACCOUNT)
    return "\n".join(parts)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, await help_text(update, context))


UNKNOWN = "没有这个命令。发送 /help 查看您可以使用的命令。"


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reached only when no handler took the command (/cancel never gets here: handlers/flow.py
    answers it): answer rather than stay silent."""
    await reply(update, UNKNOWN)


def register(app: Application) -> None:
    app.add_handler(CommandHandler(["start", "help"], start))


def register_last(app: Application) -> None:
    """After every conversation and the free-text handler."""
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
