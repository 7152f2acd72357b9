"""Dates as the platform writes them in Chinese: 2026-10-27（星期二）."""

from __future__ import annotations

import datetime as dt

WEEKDAYS = "一二三四五六日"


def day_text(d: dt.date) -> str:
    return f"{d:%Y-%m-%d}（星期{WEEKDAYS[d.weekday()]}）"
