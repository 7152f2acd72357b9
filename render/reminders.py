"""The words of reminders: a collector's digest, an admin's escalation, a collector's to-do list.

Shared by the scheduled scan (bot/jobs.py), `creditbot remind` (also its --dry-run JSON) and
`/mytasks`, so all three say the same.
"""

from __future__ import annotations

from render.buttons import ADMIN_OVERDUE, REMINDER, UPLOAD, Buttons
from render.dates import day_text
from rules.periods import period_of
from services.collection.reminders import Reminder
from services.collection.tasks import Tasks

DIGEST_BUTTONS: Buttons = [
    [("查看待办", REMINDER.pack("tasks")), ("本期无新增", REMINDER.pack("zero"))],
    [("今日不再提醒", REMINDER.pack("mute"))],
]
ESCALATION_BUTTONS: Buttons = [[("查看逾期情况", ADMIN_OVERDUE.pack())], [("今日不再提醒", REMINDER.pack("mute"))]]


def left_text(days: int) -> str:
    if days > 0:
        return f"还剩 {days} 个工作日"
    if days == 0:
        return "今天截止"
    return f"已逾期 {-days} 个工作日"


def tasks_lines(tasks: Tasks) -> list[str]:
    lines = []
    this = period_of(tasks.today)
    for g in tasks.monthly:
        when = "本月" if g.period == this else "上月"
        lines.append(f"· {when}（{g.period}）“{g.category}”尚未报送：截止 {g.deadline:%m月%d日}，{left_text(g.days_left)}")
    for u in tasks.uploads:
        due = f"，最早的记录应于 {u.deadline:%m月%d日} 前报送" if u.deadline else ""
        if u.status == "pending" and u.failure:
            lines.append(f"· 文件“{u.file_name}”上次确认导入未完成（{u.failure}），可再次确认导入{due}")
        elif u.status == "pending":
            lines.append(f"· 文件“{u.file_name}”已检查通过，等待您确认导入{due}")
        elif u.status == "stranded":
            lines.append(f"· 文件“{u.file_name}”的导入意外中断，未写入任何数据，请再次确认导入{due}")
        elif u.status == "importing":
            lines.append(f"· 文件“{u.file_name}”正在导入中{due}")
        else:
            lines.append(f"· 文件“{u.file_name}”校验未通过（{u.error_count} 处错误），请修改后重新上传{due}")
    if tasks.waiting.objections:
        lines.append(f"· 待本部门处理的异议申请 {tasks.waiting.objections} 件")
    if tasks.waiting.repairs:
        lines.append(f"· 待本部门处理的信用修复申请 {tasks.waiting.repairs} 件")
    return lines


def counts_line(tasks: Tasks) -> str:
    pending = sum(1 for u in tasks.uploads if u.status != "rejected")
    rejected = len(tasks.uploads) - pending
    parts = [f"按月报送未完成 {len(tasks.monthly)} 项"]
    if any(g.overdue for g in tasks.monthly):
        parts.append(f"其中逾期 {sum(1 for g in tasks.monthly if g.overdue)} 项")
    parts.append(f"待确认文件 {pending} 个")
    parts.append(f"校验未通过 {rejected} 个")
    if tasks.waiting.total:
        parts.append(f"待处理异议/修复 {tasks.waiting.total} 件")
    return "，".join(parts) + "。"


def upload_buttons(tasks: Tasks) -> Buttons:
    """确认导入 for each upload that can be confirmed (again) from the to-do list."""
    return [
        [(f"确认导入“{_short(u.file_name)}”", UPLOAD.pack("ok", u.upload_id))] for u in tasks.uploads if u.confirmable
    ]


def _short(name: str, limit: int = 16) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def render_tasks(tasks: Tasks) -> str:
    if tasks.empty:
        return f"{tasks.department_name}目前没有待办的报送事项。"
    out = [f"{tasks.department_name}的报送待办（{tasks.today:%Y-%m-%d}）：", counts_line(tasks), *tasks_lines(tasks)]
    if tasks.nearest_deadline:
        out.append(f"最近的截止日期：{day_text(tasks.nearest_deadline)}")
    out.append("发送文件即可报送；按月报送的类别本期确实没有新增时，请发送 /zero 确认。")
    return "\n".join(out)


def render_reminder(r: Reminder, escalate_after: int = 3) -> tuple[str, Buttons]:
    """One Chinese message per reminder: a collector's digest or an admin's escalation."""
    if r.tasks is not None:
        t = r.tasks
        lines = [f"【信用通·报送提醒】{day_text(r.day)}", f"{t.department_name}：{counts_line(t)}", *tasks_lines(t)]
        if t.nearest_deadline:
            lines.append(f"最近的截止日期：{day_text(t.nearest_deadline)}")
        return "\n".join(lines), DIGEST_BUTTONS
    lines = [f"【信用通·逾期督办】{day_text(r.day)}", f"以下部门的按月报送已逾期超过 {escalate_after} 个工作日，请督促："]
    grouped: dict[tuple[str, str, str, int], list[str]] = {}
    for e in r.escalations:
        grouped.setdefault((e.department_name, e.department_code, e.period, e.overdue_days), []).append(e.category)
    for (name, code, period, days), categories in grouped.items():
        lines.append(f"· {name}（{code}）{period} 已逾期 {days} 个工作日：{'、'.join(categories)}")
    return "\n".join(lines), ESCALATION_BUTTONS
