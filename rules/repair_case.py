"""A repair application as a case with working-day limits (信用修复办理期限). Pure rules, no I/O.

Sources (README, "Rules and their sources", lists each with its status):
- 国办发〔2025〕22号《国务院办公厅印发〈关于进一步完善信用修复制度的实施方案〉的通知》: the
  department (行业主管部门) decides within working-day limits whether to accept (受理) an application
  and then whether to repair; a refusal to accept is reasoned; a case that cannot be finished in time
  for its complexity may be extended; the subject can download a 信用修复决定书. The limits' numbers
  could not be read from an official text here, so they are settings (`[repair]`), with the defaults
  below marked unconfirmed: 受理 within 3 working days of receipt, 办结 within 5 working days of
  受理.
- Working days: the State Council schedule (rules/workcal.py); the day of receipt (or of 受理) is not
  counted, as for every other working-day limit of the platform.

The stages: "received" (待受理) → "accepted" (已受理) or "refused" (不予受理) → "approved" (准予修复)
or "rejected" (不予修复). Deciding a received case accepts it on the same day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rules.workcal import Deadline, WorkCalendar

ACCEPT_WORKING_DAYS = 3  # unconfirmed: see the module docstring
DECIDE_WORKING_DAYS = 5  # unconfirmed
REMIND_BEFORE_WORKING_DAYS = 1

RECEIVED, ACCEPTED, REFUSED, APPROVED, REJECTED = "received", "accepted", "refused", "approved", "rejected"
OPEN_STATUSES = (RECEIVED, ACCEPTED)
STATUS_LABELS = {
    RECEIVED: "待受理",
    ACCEPTED: "已受理，待办结",
    REFUSED: "不予受理",
    APPROVED: "准予修复",
    REJECTED: "不予修复",
}
STAGE_LABELS = {"accept": "受理", "decide": "办结"}
ORIGIN_LABELS = {"chat": "本平台", "creditchina": "信用中国", "province": "省级平台"}


@dataclass(frozen=True)
class Limits:
    """The configured limits, in working days."""

    accept: int = ACCEPT_WORKING_DAYS
    decide: int = DECIDE_WORKING_DAYS
    remind_before: int = REMIND_BEFORE_WORKING_DAYS

    def __post_init__(self) -> None:
        if not (1 <= self.accept <= 60 and 1 <= self.decide <= 60):
            raise ValueError("受理和办结期限应为 1 至 60 个工作日")
        if not 0 <= self.remind_before < min(self.accept, self.decide):
            raise ValueError("提前提醒的工作日数应小于受理和办结期限")


def accept_due(received_on: date, cal: WorkCalendar, limits: Limits) -> Deadline:
    """Last day to accept or refuse a case received on `received_on`."""
    return cal.add_working_days(received_on, limits.accept)


def decide_due(accepted_on: date, cal: WorkCalendar, limits: Limits) -> Deadline:
    """Last day to approve or reject a case accepted on `accepted_on`."""
    return cal.add_working_days(accepted_on, limits.decide)


def stage(status: str) -> str | None:
    """The limit an open case runs against: "accept" or "decide"; None once it is closed."""
    return {RECEIVED: "accept", ACCEPTED: "decide"}.get(status)


def remind_from(due: date, cal: WorkCalendar, limits: Limits) -> date:
    """First day the deciding officials are reminded of a limit ending on `due`."""
    return cal.add_working_days(due, -limits.remind_before).due if limits.remind_before else due


def missed_stages(status: str, accept_due_on: date | None, decide_due_on: date | None, today: date) -> list[str]:
    """The limits a step taken `today` on a case in `status` comes too late for (empty when in time).

    A case decided straight from "received" takes both steps today: it missed the 受理 limit if that
    passed, and the 办结 limit only if one was set and passed."""
    late: list[str] = []
    if status == RECEIVED and accept_due_on is not None and today > accept_due_on:
        late.append("accept")
    if status == ACCEPTED and decide_due_on is not None and today > decide_due_on:
        late.append("decide")
    return late


def overdue(status: str, accept_due_on: date | None, decide_due_on: date | None, today: date) -> bool:
    due = accept_due_on if status == RECEIVED else decide_due_on if status == ACCEPTED else None
    return due is not None and today > due


# -- what a 信用修复告知书 says (两书同达) --------------------------------------------------------
# Served with the 行政处罚决定书 or the listing decision (国办发〔2025〕22号, “两书同达”). Conditions: the
# minimum publication period over (轻微: none, once the obligations are met) and the obligations met,
# with a public credit commitment (《信用修复管理办法》2026, 国办发〔2025〕22号 二、); the materials are the
# proof that the legal obligations are fulfilled and the 信用承诺书 (国办发〔2025〕22号); 信用中国 is the
# one channel to apply, with an offline window in the government service hall (国办发〔2025〕22号).
NOTICE_WITHIN_DAYS = 30  # decisions older than this at import are not served a 告知书 by the platform
CONDITIONS = (
    "已履行行政处罚决定或列入决定规定的法定责任和义务（如缴清罚款、完成整改）；",
    "已纠正失信行为、消除不良影响；",
    "作出并公开信用承诺；",
    "最短公示期已届满（轻微失信信息在法定责任义务履行完毕后即可申请）。",
)
MATERIALS = ("法定责任义务履行完毕的证明材料（缴款凭证、整改报告等）；", "信用承诺书。")
CHANNELS = (
    "“信用中国”网站（全国统一的信用修复申请渠道）；",
    "本平台“信用通”机器人：绑定主体后发送 /repair；",
    "政务服务大厅信用修复线下窗口。",
)
EFFECTS = "准予修复后，该失信信息终止公示、停止共享和使用，相关失信惩戒措施依法依规解除，信用评价结果相应更新。"
