"""Working days under the State Council holiday schedule, including make-up working weekends (调休).

Reporting deadlines are counted in working days, and the schedule for a year is only announced late in
the year before. Sources, strongest first:

1. overrides from configuration (an announced schedule the installed libraries do not know yet);
2. chinesecalendar, which carries the announced schedules (1.11: 2004-2026) with the 调休 days;
3. the `holidays` package, which estimates unannounced years but knows no make-up working days;
4. the plain weekday rule.

An answer from 3 or 4 is *provisional*: a deadline built on it may move once the schedule is out, and
the caller says so to the user instead of presenting a guess as a fact.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
import holidays

from rules.categories import DOUBLE_PUBLICITY, normalize_category

DOUBLE_PUBLICITY_WORKING_DAYS = 7


MAX_SPAN_DAYS = 366 * 40


@dataclass(frozen=True)
class Deadline:
    due: date
    provisional: bool


class WorkCalendar:
    """Working-day arithmetic over one merged schedule; holds per-year caches, so reuse an instance."""

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        complete_years: Iterable[int] = (),
    ) -> None:
        """`complete_years`: years whose whole schedule the overrides describe, so that the other days
        of those years follow the weekday rule as a fact rather than as an estimate."""
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        clash = self._extra_holidays & self._extra_workdays
        if clash:
            days = "、".join(d.isoformat() for d in sorted(clash))
            raise ValueError(f"节假日配置冲突：{days} 同时被设为假日和工作日")
        self._complete_years = frozenset(complete_years)
        self._estimates: dict[int, frozenset[date]] = {}
        self._cache: dict[date, tuple[bool, bool]] = {}

    def _estimated_holidays(self, year: int) -> frozenset[date]:
        if year not in self._estimates:
            try:
                days = frozenset(holidays.country_holidays("CN", years=year))
            except Exception:  # the estimate is best effort; the weekday rule still answers
                days = frozenset()
            self._estimates[year] = days
        return self._estimates[year]

    def _lookup(self, d: date) -> tuple[bool, bool]:
        """(is working day, is provisional)."""
        if d in self._extra_holidays:
            return False, False
        if d in self._extra_workdays:
            return True, False
        weekday_rule = d.weekday() < 5
        if d.year in self._complete_years:
            return weekday_rule, False
        try:
            return bool(chinese_calendar.is_workday(d)), False
        except (NotImplementedError, KeyError, ValueError):
            pass
        return weekday_rule and d not in self._estimated_holidays(d.year), True

    def _day(self, d: date) -> tuple[bool, bool]:
        found = self._cache.get(d)
        if found is None:
            found = self._cache[d] = self._lookup(d)
        return found

    def is_workday(self, d: date) -> bool:
        return self._day(d)[0]

    def is_provisional(self, d: date) -> bool:
        return self._day(d)[1]

    def add_working_days(self, start: date, n: int) -> Deadline:
        """The n-th working day after `start` (before it, for negative n).

        The start day is never counted, working day or not: a decision taken on a Saturday does not
        make the Saturday "day 0" (chinesecalendar's find_workday does, and comes out a day late)."""
        if abs(n) > MAX_SPAN_DAYS:
            raise ValueError("工作日数过大，无法计算")
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        day = start
        provisional = False
        while remaining:
            try:
                day += step
            except OverflowError:
                raise ValueError("日期超出可计算范围") from None
            working, estimated = self._day(day)
            provisional = provisional or estimated
            if working:
                remaining -= 1
        return Deadline(day, provisional)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after `a` up to and including `b`; negative when b is before a.

        Raises ValueError for a span over `MAX_SPAN_DAYS`: the count walks day by day, and no
        deadline or delay of this platform spans more (a record decided in 2004, the first year of
        the State Council schedule, reported today is well within it)."""
        if b < a:
            return -self.working_days_between(b, a)
        if (b - a).days > MAX_SPAN_DAYS:
            raise ValueError("日期相差过远，无法计算工作日")
        return sum(1 for i in range(1, (b - a).days + 1) if self.is_workday(a + timedelta(days=i)))

    def last_workday_of_month(self, year: int, month: int) -> Deadline:
        """Provisional if any day from the answer to the month's end is: an estimated holiday after it
        could turn out to be a 调休 working day and become the answer."""
        day = date(year, month, calendar.monthrange(year, month)[1])
        provisional = False
        while True:
            working, estimated = self._day(day)
            provisional = provisional or estimated
            if working:
                return Deadline(day, provisional)
            if day.day == 1:  # a month without a working day: only possible through overrides
                raise ValueError(f"{year}年{month}月没有工作日，请检查节假日配置")
            day -= timedelta(days=1)

    def due_date(self, category: str, decision_date: date) -> Deadline:
        """Reporting deadline: 双公示 within 7 working days, everything else by the month's last working
        day (the next month's, if the decision is on or after that day).

        An unknown category raises instead of defaulting to monthly: a mistyped 行政处罚 would otherwise
        get a deadline weeks too late without anyone noticing."""
        canonical = normalize_category(category)
        if canonical is None:
            raise ValueError(f"未知的信息类别：“{category}”，无法计算报送期限")
        if canonical in DOUBLE_PUBLICITY:
            return self.add_working_days(decision_date, DOUBLE_PUBLICITY_WORKING_DAYS)
        this_month = self.last_workday_of_month(decision_date.year, decision_date.month)
        if decision_date < this_month.due:
            return this_month
        year, month = (decision_date.year + 1, 1) if decision_date.month == 12 else (
            decision_date.year, decision_date.month + 1)
        return self.last_workday_of_month(year, month)


DEFAULT_CALENDAR = WorkCalendar()


def is_workday(d: date, cal: WorkCalendar | None = None) -> bool:
    return (cal or DEFAULT_CALENDAR).is_workday(d)


def is_provisional(d: date, cal: WorkCalendar | None = None) -> bool:
    return (cal or DEFAULT_CALENDAR).is_provisional(d)


def add_working_days(start: date, n: int, cal: WorkCalendar | None = None) -> Deadline:
    return (cal or DEFAULT_CALENDAR).add_working_days(start, n)


def working_days_between(a: date, b: date, cal: WorkCalendar | None = None) -> int:
    return (cal or DEFAULT_CALENDAR).working_days_between(a, b)


def last_workday_of_month(year: int, month: int, cal: WorkCalendar | None = None) -> Deadline:
    return (cal or DEFAULT_CALENDAR).last_workday_of_month(year, month)


def due_date(category: str, decision_date: date, cal: WorkCalendar | None = None) -> Deadline:
    """Module-level shortcut on the built-in schedule; pass `cal` to apply configured overrides."""
    return (cal or DEFAULT_CALENDAR).due_date(category, decision_date)


def announced_calendar(holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> WorkCalendar:
    """The calendar for a configured schedule: every year the configuration mentions is taken as
    announced in full (its listed holidays and 调休 working days, the weekday rule for the rest), so
    package estimates for that year are never mixed in and its deadlines are not provisional.

    Why: an operator who types in a year's State Council notice types the whole notice; mixing it
    with the `holidays` package's guesses made 2027-02-09/10 holidays that the notice does not have."""
    holidays, workdays = tuple(holidays), tuple(workdays)
    years = {d.year for d in holidays} | {d.year for d in workdays}
    return WorkCalendar(holidays, workdays, complete_years=years)
