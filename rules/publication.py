"""Publication periods (公示期) of adverse records, per the rule edition a record was decided under.

A record keeps the edition in force on its decision date: a 2022 penalty is not republished or cut
short because the rules changed in 2026. Three editions matter here:

- "2019": the NDRC 2019 rules for penalty information — 一般 3 months to 1 year, 严重 6 months to 3 years.
  They know no 轻微 grade; 轻微 is treated as 一般 (the mildest grade they have).
- "2023": the 2023 trial measures (in force 2023-05-01) — 3 months to 3 years; 严重 at least 1 year; in
  the special fields (food, drugs, special equipment, work safety, fire) at least 1 year for every grade.
  轻微 gets the 一般 window: the trial measures publish it like any other penalty.
- "2026": the NDRC 《信用修复管理办法》 (in force 2026-04-01) — 轻微 normally not published (at most 3
  months), 一般 3 months to 1 year, 严重 1 to 3 years. The special-field minimum is not carried over:
  the 2026 measures set the 严重 minimum at one year for every field.

Periods are counted in calendar months from the decision date; a day that does not exist in the target
month becomes that month's last day (2024-02-29 + 12 months = 2025-02-28).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

EDITIONS = ("2019", "2023", "2026")
EDITION_LABELS = {
    "2019": "2019年行政处罚信息信用修复规定",
    "2023": "2023年《失信行为纠正后的信用信息修复管理办法（试行）》",
    "2026": "2026年《信用修复管理办法》",
}
EDITION_2023_START = date(2023, 5, 1)
EDITION_2026_START = date(2026, 4, 1)

DEFAULT_SEVERITY = "一般"

# Matched as substrings after removing spaces. Kept narrow on purpose: 农药 and 兽药 are not 药品, and
# 医疗器械 is regulated apart from drugs; a wrong "special" lengthens a record's minimum by 9 months.
_SPECIAL_FIELD_WORDS = (
    # food
    "食品", "餐饮", "食用农产品",
    # drugs
    "药品", "疫苗", "中药饮片", "药店", "药房",
    # special equipment
    "特种设备", "电梯", "锅炉", "压力容器", "压力管道", "气瓶", "起重机械", "客运索道", "大型游乐设施",
    # work safety
    "安全生产", "生产安全", "危险化学品", "危化品", "烟花爆竹", "矿山安全", "煤矿安全",
    # fire
    "消防", "火灾",
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class PublicationWindow:
    """min_months: earliest repair; max_months: automatic end; published: shown to the public at all."""

    min_months: int
    max_months: int
    published: bool


def edition_for(decision_date: date) -> str:
    if decision_date < EDITION_2023_START:
        return "2019"
    if decision_date < EDITION_2026_START:
        return "2023"
    return "2026"


def is_special_field(text: str) -> bool:
    """Whether a field/department/violation text falls under the 2023 special fields."""
    if not text:
        return False
    norm = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    return any(word in norm for word in _SPECIAL_FIELD_WORDS)


def _check(edition: str, severity: str) -> None:
    if edition not in EDITIONS:
        raise ValueError(f"未知的规则版本：“{edition}”（应为 {'、'.join(EDITIONS)} 之一）")
    if severity not in ("轻微", "一般", "严重"):
        raise ValueError(f"未知的失信程度：“{severity}”（应为 轻微、一般、严重 之一）")


def window(edition: str, severity: str, special: bool = False) -> PublicationWindow:
    """`special` only changes the 2023 edition (see the module docstring)."""
    _check(edition, severity)
    if edition == "2026":
        if severity == "轻微":
            return PublicationWindow(0, 3, published=False)
        if severity == "一般":
            return PublicationWindow(3, 12, published=True)
        return PublicationWindow(12, 36, published=True)
    if edition == "2023":
        if severity == "严重" or special:
            return PublicationWindow(12, 36, published=True)
        return PublicationWindow(3, 36, published=True)
    if severity == "严重":
        return PublicationWindow(6, 36, published=True)
    return PublicationWindow(3, 12, published=True)


def add_months(d: date, months: int) -> date:
    """Calendar-month arithmetic, clamped to the target month's last day."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _resolve(decision_date: date, severity: str | None, edition: str | None, special: bool) -> PublicationWindow:
    return window(edition or edition_for(decision_date), severity or DEFAULT_SEVERITY, special)


def publication_end(
    decision_date: date, severity: str | None, edition: str | None = None, special: bool = False
) -> date:
    """First day the record is no longer published (decision + maximum period).

    Unknown severity counts as 一般: the common case, and neither the shortest nor the longest window."""
    return add_months(decision_date, _resolve(decision_date, severity, edition, special).max_months)


def last_public_day(end: date | None) -> date | None:
    """The last day a record is published, as every door shows it ("公示至 …", the API's
    `publication_end`): the day before the stored end, since the stored `publication_end` is the first
    day off publication (rules.visibility: published while today < end). None: no automatic end."""
    return None if end is None else end - timedelta(days=1)


def earliest_repair(
    decision_date: date, severity: str | None, edition: str | None = None, special: bool = False
) -> date:
    """First day a repair may be asked for (decision + minimum period)."""
    return add_months(decision_date, _resolve(decision_date, severity, edition, special).min_months)
