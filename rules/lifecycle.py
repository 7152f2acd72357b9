"""Pure rules of a record's life after it is filed: prior notice, objection, repair, numbering.

Decisions the domain brief leaves open, written down here so every channel applies the same ones:

- The objection period of a prior notice (事前告知) counts working days from the day after the notice
  (the notice day is never counted, as for reporting deadlines); the last day is still open. A
  listing takes effect on the first day after that, unless an objection is pending.
- A department answers an objection within a number of working days counted the same way.
- Repair (信用修复) is open for the adverse categories that have a publication period (行政处罚,
  行政强制, 严重失信主体名单) from rules.publication.earliest_repair; the applicant must have met its
  obligations, show proof and accept the public credit commitment.
- A correction (更正) may change only what a department reports about the decision, never the
  subject it belongs to: a wrong subject is a revocation plus a new record.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from rules.categories import BLACKLIST, normalize_category
from rules.publication import DEFAULT_SEVERITY, earliest_repair
from rules.workcal import Deadline, WorkCalendar

OBJECTION_PERIOD_WORKING_DAYS = 5
OBJECTION_ANSWER_WORKING_DAYS = 5
REPAIRABLE_CATEGORIES = frozenset({"行政处罚", "行政强制", BLACKLIST})
COMMITMENT_WORD = "我承诺"
COMMITMENT_TEXT = (
    "信用承诺书：本主体郑重承诺，已依法履行行政处罚决定或列入名单所规定的全部义务，"
    "所提交的材料真实、准确、完整；今后将严格遵守法律法规，诚信经营，不再发生同类失信行为。"
    "如有违反，自愿接受相关部门依法依规采取的惩戒措施，并承担相应法律责任。本承诺将向社会公开。"
)
# A department's reason for a decision: stored and sent to the subject as typed, so longer ones are
# refused (the official shortens it) rather than cut in one place and whole in the other.
DECISION_REASON_LIMIT = 2000
OBJECTION_DECISIONS = {"upheld": "维持", "corrected": "更正", "revoked": "撤销"}
REPAIR_DECISIONS = {"approved": "准予修复", "rejected": "不予修复"}

# What a correction may change on a record, by the words an official types.
CORRECTABLE = {
    "标题": "title", "名称": "title", "处罚名称": "title",
    "内容": "content", "处罚内容": "content", "事由": "content",
    "严重程度": "severity", "失信程度": "severity", "程度": "severity",
}
_CORRECTION_LINE = re.compile(r"^\s*([^:：=]{1,20}?)\s*[:：=]\s*(.+?)\s*$")


@dataclass(frozen=True)
class RecordFacts:
    """What the repair rules read of a record (the ORM row fits)."""

    category: str
    decision_date: date
    severity: str | None
    rule_edition: str | None


def objection_deadline(notice_date: date, cal: WorkCalendar, working_days: int = OBJECTION_PERIOD_WORKING_DAYS) -> Deadline:
    """Last day an objection to a prior notice is accepted."""
    if working_days < 1:
        raise ValueError("异议期至少为 1 个工作日")
    return cal.add_working_days(notice_date, working_days)


def answer_due(filed_on: date, cal: WorkCalendar, working_days: int = OBJECTION_ANSWER_WORKING_DAYS) -> Deadline:
    """Day by which the responsible department must answer an objection."""
    return cal.add_working_days(filed_on, working_days)


def listing_takes_effect(deadline: date, today: date, objection_pending: bool) -> bool:
    """A proposed listing takes effect once its objection period is over and nothing is pending."""
    return today > deadline and not objection_pending


def repairable(category: str) -> bool:
    return (normalize_category(category) or category) in REPAIRABLE_CATEGORIES


def repair_opens(record: RecordFacts) -> date:
    """First day a repair may be asked for; a blacklist entry without a grade is 严重 (see visibility)."""
    category = normalize_category(record.category) or record.category
    severity = record.severity or ("严重" if category == BLACKLIST else DEFAULT_SEVERITY)
    return earliest_repair(record.decision_date, severity, record.rule_edition)


def is_commitment(text: str) -> bool:
    return COMMITMENT_WORD in re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def format_number(prefix: str, kind: str, year: int, seq: int, width: int = 4) -> str:
    """安信告〔2026〕0001号: region abbreviation + 信 + kind, the year in 六角括号, a per-year sequence."""
    return f"{prefix}信{kind}〔{year}〕{seq:0{width}d}号"


def parse_corrections(text: str) -> dict[str, str]:
    """`字段：新值` lines into {attribute or field name: value}. Unknown names are kept as extra
    fields (a department's own column); lines without a separator are refused, not guessed."""
    out: dict[str, str] = {}
    for raw in (text or "").splitlines():
        if not raw.strip():
            continue
        m = _CORRECTION_LINE.match(unicodedata.normalize("NFKC", raw))
        if not m:
            raise ValueError(f"无法识别的更正内容：“{raw.strip()}”，请按“字段：新值”的格式填写")
        name, value = m.group(1).strip(), m.group(2).strip()
        key = CORRECTABLE.get(name, name)
        if key == "severity" and value not in ("轻微", "一般", "严重"):
            raise ValueError("严重程度只能是 轻微、一般、严重 之一")
        out[key] = value
    if not out:
        raise ValueError("请至少填写一项更正内容，格式为“字段：新值”")
    return out
