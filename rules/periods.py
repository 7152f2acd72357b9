"""Monthly reporting periods ("2026-10"): which month a day falls in, its bounds and its deadline.

DOMAIN.md: every category other than 行政许可 and 行政处罚 is reported at least monthly; a month's
report is due by that month's last working day (State Council schedule, rules/workcal.py).
"""

from __future__ import annotations

import datetime as dt

from rules.categories import DOUBLE_PUBLICITY
from rules.workcal import WorkCalendar


def is_monthly(category: str) -> bool:
    return category not in DOUBLE_PUBLICITY


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def period_deadline(calendar: WorkCalendar, period: str) -> dt.date:
    """A monthly report is due by the month's last working day."""
    return calendar.last_workday_of_month(int(period[:4]), int(period[5:])).due


def period_bounds(period: str, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local calendar month, in UTC."""
    year, month = int(period[:4]), int(period[5:])
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), 1 if month == 12 else month + 1, 1, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def as_local_date(value: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return value.astimezone(tz).date()
