"""The one place a working-day calendar is built from settings (`[calendar]` in config.toml).

Six call sites used to build it themselves, none passing the configured years as complete, so an
announced schedule was silently mixed with package estimates (see rules.workcal.announced_calendar).
"""

from __future__ import annotations

from rules.workcal import WorkCalendar, announced_calendar
from services.settings import Settings


def calendar_from_settings(settings: Settings) -> WorkCalendar:
    """Raises ValueError (Chinese) when a day is configured both as holiday and as working day."""
    return announced_calendar(settings.calendar.holidays, settings.calendar.workdays)


__all__ = ["calendar_from_settings"]
