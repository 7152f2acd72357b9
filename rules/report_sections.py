"""What a credit report (信用报告) contains and in which order, and the time span a subject may
choose for its own report. Pure rules, no I/O.

Sections follow the national public credit report's layout as the platform's brief lists it:
基本信息, 行政许可, 行政处罚, 严重失信主体名单, 经营异常名录, 信用承诺, 自主申报 (verified
declarations only), then 信用评价 once the platform evaluates subjects (it does not yet, so the
section is not printed). Categories outside those (登记备案, 资质资格, 行政强制, 司法判决 …) are
kept, under 其他信用信息, so a report never drops what the card shows.

Time span: a subject requesting its own report chooses the last 1-5 years (default 5). A record
belongs in the span when it was decided before the span ends and had not ended before it began
(`record_in_period`): a blacklisting listed six years ago and public until 2028, or a 强制执行 record
still standing, belongs in any span; a licence decided and expired before the span does not.
Declarations submitted inside the span are included. Officials' reports carry the full history the
platform shares, without a span.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from rules.categories import ABNORMAL_LIST, BLACKLIST, CATEGORIES, normalize_category
from rules.publication import last_public_day

# (section title, record categories in it), in print order after 基本信息.
RECORD_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("行政许可信息", ("行政许可",)),
    ("行政处罚信息", ("行政处罚",)),
    ("严重失信主体名单信息", (BLACKLIST,)),
    ("经营异常名录信息", (ABNORMAL_LIST,)),
    ("信用承诺信息", ("信用承诺",)),
)
DECLARATION_SECTION = "自主申报信息（经核验）"
# Shown when the reader may see the grade (services.evaluation_views.grade_for).
EVALUATION_SECTION = "信用评价"
OTHER_SECTION = "其他信用信息"
SECTIONED = frozenset(c for _title, cats in RECORD_SECTIONS for c in cats) | {"自主申报"}
OTHER_CATEGORIES = tuple(c for c in CATEGORIES if c not in SECTIONED)

MAX_SPAN_YEARS = 5
DEFAULT_SPAN_YEARS = MAX_SPAN_YEARS
SPAN_CHOICES = (1, 2, 3, 5)  # offered as buttons

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_SPAN = re.compile(r"^(?:近|最近)?\s*(\d{1,2}|[一二两三四五六七八九十])\s*年(?:内|以来)?$|^(\d{1,2})$")


class SpanError(ValueError):
    """A span outside 1-5 years; str() is the Chinese message for the user."""


def parse_span(text: str) -> int | None:
    """Years from what a person typed: `近3年`, `3年`, `三年`, `3`; None when the text is no span.
    Raises SpanError for a span that is one but out of range (`近10年`)."""
    t = unicodedata.normalize("NFKC", text).strip()
    m = _SPAN.match(t)
    if m is None:
        return None
    raw = m.group(1) or m.group(2)
    years = int(raw) if raw.isdecimal() else _CN_DIGITS[raw]
    check_span(years)
    return years


def check_span(years: int) -> int:
    if not 1 <= years <= MAX_SPAN_YEARS:
        raise SpanError(f"信用报告的时间范围可选近 1 至 {MAX_SPAN_YEARS} 年。")
    return years


def report_period(today: dt.date, years: int) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the last `years` years up to `today`, both inclusive: 2026-11-30
    and 3 years → 2023-12-01 … 2026-11-30. A 29 February start falls back to 1 March."""
    check_span(years)
    try:
        start = today.replace(year=today.year - years)
    except ValueError:  # 29 February in a common year
        start = dt.date(today.year - years, 3, 1) - dt.timedelta(days=1)
    return start + dt.timedelta(days=1), today


def in_period(day: dt.date | None, period: tuple[dt.date, dt.date] | None) -> bool:
    """Whether a decision or submission date falls in the span (no span: everything; no date: out)."""
    if period is None:
        return True
    return day is not None and period[0] <= day <= period[1]


# Categories in force until a department or a court lifts them (rules.visibility: they leave by
# their own removal procedure, a status change, not by a period): without a known end they stand.
STANDING_CATEGORIES = frozenset({BLACKLIST, ABNORMAL_LIST, "强制执行", "司法判决"})


def record_last_day(
    category: str, decision_date: dt.date, first_day_off: dt.date | None, valid_until: dt.date | None
) -> dt.date | None:
    """The last day a record is in force or published, for placing it in a report's span; None
    while it stands with no end.

    `first_day_off` is the record's effective publication end (rules.visibility), `valid_until` its
    有效期至 (licences). The later of the last public day and the validity wins. Without either, a
    standing category (blacklists, 经营异常名录, court records) has no end yet, and any other record
    is a one-day fact of its decision date (a 登记备案, a licence without an expiry date)."""
    ends = [d for d in (last_public_day(first_day_off), valid_until) if d is not None]
    if ends:
        return max(ends)
    if (normalize_category(category) or category) in STANDING_CATEGORIES:
        return None
    return decision_date


def record_in_period(decision_date: dt.date, last_day: dt.date | None, period: tuple[dt.date, dt.date] | None) -> bool:
    """Whether a record belongs in the span: decided by its last day and not ended before its first
    (`last_day` from record_last_day; None = still standing). No span: everything."""
    if period is None:
        return True
    start, end = period
    return decision_date <= end and (last_day is None or last_day >= start)
