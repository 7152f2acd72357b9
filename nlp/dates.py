"""Dates as people type them: 2026-09-28, 2026/9/28, 2026年9月28日, 20260928, 9月28日, 9.28.

A date without a year means the most recent such day that is not in the future: a collector who
asks on 2027-01-05 about "12月30日" means last December.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_FULL = re.compile(r"(?<!\d)(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*(?:日|号)?")
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})\s*(?:日|号)?(?!\d)")


class DateError(ValueError):
    """A date-looking text that is not a real day; the message is Chinese."""


# Dates the platform deals in: nothing before the People's Republic, nothing past this century.
# Bounding them here keeps any later day-by-day computation (working days) cheap.
FIRST_YEAR, LAST_YEAR = 1949, 2100


def _make(year: int, month: int, day: int, raw: str) -> dt.date:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DateError(f"“{raw}”的年份超出范围（{FIRST_YEAR}—{LAST_YEAR} 年）")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateError(f"“{raw}”不是有效日期") from None


def find_date(text: str, today: dt.date) -> dt.date | None:
    """The first date in `text`, or None when there is none; DateError for an impossible one."""
    text = unicodedata.normalize("NFKC", text)
    for pattern in (_FULL, _COMPACT):
        m = pattern.search(text)
        if m:
            return _make(int(m[1]), int(m[2]), int(m[3]), m[0].strip())
    m = _MONTH_DAY.search(text)
    if m:
        month, day = int(m[1]), int(m[2])
        _make(2024, month, day, m[0].strip())  # a leap year: rejects only days that never exist
        year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
        while True:
            try:
                return dt.date(year, month, day)
            except ValueError:  # 2月29日 outside a leap year: the last one that was
                year -= 1
    return None


def parse_date(text: str, today: dt.date) -> dt.date:
    """Exactly one date is expected (a form field); a clear Chinese error otherwise."""
    found = find_date(text, today)
    if found is None:
        raise DateError(f"“{text.strip()}”不是可识别的日期，请按 2026-03-01 或 2026年3月1日 的格式输入")
    return found
