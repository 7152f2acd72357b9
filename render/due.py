"""报送期限 in words: when a record decided on a given day is due, and how many working days are left.

Shared by the chat (`/due`, or asked in words) and `creditbot due`.
"""

from __future__ import annotations

import datetime as dt

from render.dates import WEEKDAYS
from rules.categories import DOUBLE_PUBLICITY
from rules.workcal import WorkCalendar

PROVISIONAL = "（注意：该日期按尚未公布的节假日安排推算，仅供参考，国务院公布当年安排后可能调整）"


def due_text(calendar: WorkCalendar, decision: dt.date, category: str | None, today: dt.date) -> str:
    """One paragraph per deadline rule that applies (both, when no category was named)."""
    asked = [category] if category else ["行政处罚", "登记备案"]
    parts = []
    for cat in asked:
        deadline = calendar.due_date(cat, decision)
        label = cat if category else ("行政许可、行政处罚（双公示）" if cat in DOUBLE_PUBLICITY else "其他类别（按月报送）")
        rule = "决定之日起 7 个工作日内" if cat in DOUBLE_PUBLICITY else "当月最后一个工作日前"
        line = f"{decision:%Y-%m-%d} 作出的{label}信息，应于 {deadline.due:%Y-%m-%d}（星期{WEEKDAYS[deadline.due.weekday()]}）前报送（{rule}）。"
        left = calendar.working_days_between(today, deadline.due)
        if deadline.due < today:
            line += f"\n已逾期 {-left} 个工作日，请尽快报送。"
        elif deadline.due == today:
            line += "\n今天是最后期限。"
        else:
            line += f"\n距今还有 {left} 个工作日。"
        if deadline.provisional:
            line += "\n" + PROVISIONAL
        parts.append(line)
    return "\n\n".join(parts)
