from __future__ import annotations

from datetime import date, timedelta

import pytest

from rules.workcal import DEFAULT_CALENDAR, Deadline, WorkCalendar, due_date


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


def test_double_publicity_across_national_day(cal: WorkCalendar) -> None:
    # 9-29, 9-30, (10-1..10-7 off), 10-8, 10-9, 10-10 (调休 Saturday), 10-12, 10-13
    assert cal.due_date("行政处罚", date(2026, 9, 28)) == Deadline(date(2026, 10, 13), provisional=False)


def test_saturday_decision_is_not_day_zero(cal: WorkCalendar) -> None:
    # Sat 2026-10-03 is inside the holiday; counting starts 10-08 → 7th working day is 10-15.
    assert cal.due_date("行政许可", date(2026, 10, 3)) == Deadline(date(2026, 10, 15), provisional=False)
    # An ordinary Saturday: Sat 2026-11-21 → Mon 11-23 is day 1 → Tue 12-01 is day 7.
    assert cal.add_working_days(date(2026, 11, 21), 7).due == date(2026, 12, 1)


def test_module_level_due_date_uses_default_calendar() -> None:
    assert due_date("处罚", date(2026, 9, 28)).due == date(2026, 10, 13)
    assert DEFAULT_CALENDAR.is_workday(date(2026, 10, 10))


@pytest.mark.parametrize("d", [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)])
def test_make_up_weekends_are_working_days(cal: WorkCalendar, d: date) -> None:
    assert d.weekday() >= 5
    assert cal.is_workday(d)
    assert not cal.is_provisional(d)


@pytest.mark.parametrize("d", [date(2026, 10, 1), date(2026, 10, 7), date(2026, 9, 25), date(2026, 2, 16)])
def test_announced_weekday_holidays_are_off(cal: WorkCalendar, d: date) -> None:
    assert d.weekday() < 5
    assert not cal.is_workday(d)


def test_deadline_across_new_year_2027_is_provisional(cal: WorkCalendar) -> None:
    # 12-29, 12-30, 12-31, (1-1 estimated holiday, weekend), 1-4, 1-5, 1-6, 1-7
    result = cal.due_date("行政处罚", date(2026, 12, 28))
    assert result == Deadline(date(2027, 1, 7), provisional=True)
    assert cal.is_provisional(date(2027, 1, 4))
    assert not cal.is_workday(date(2027, 1, 1))


def test_deadline_inside_known_year_is_not_provisional(cal: WorkCalendar) -> None:
    assert not cal.due_date("行政处罚", date(2026, 12, 1)).provisional


def test_override_holiday_moves_deadline() -> None:
    cal = WorkCalendar(extra_holidays=[date(2027, 1, 4)])
    assert not cal.is_workday(date(2027, 1, 4))
    assert not cal.is_provisional(date(2027, 1, 4))
    assert cal.due_date("行政处罚", date(2026, 12, 28)).due == date(2027, 1, 8)


def test_override_make_up_day() -> None:
    # A make-up Saturday announced for 2027 shortens the count.
    cal = WorkCalendar(extra_workdays=[date(2027, 1, 2)])
    assert cal.is_workday(date(2027, 1, 2))
    assert cal.add_working_days(date(2026, 12, 31), 2).due == date(2027, 1, 4)
    assert WorkCalendar().add_working_days(date(2026, 12, 31), 2).due == date(2027, 1, 5)


def test_override_beats_chinesecalendar() -> None:
    cal = WorkCalendar(extra_holidays=[date(2026, 10, 10)], extra_workdays=[date(2026, 10, 5)])
    assert not cal.is_workday(date(2026, 10, 10))
    assert cal.is_workday(date(2026, 10, 5))


def test_conflicting_overrides_are_refused() -> None:
    with pytest.raises(ValueError, match="冲突"):
        WorkCalendar(extra_holidays=[date(2027, 1, 4)], extra_workdays=[date(2027, 1, 4)])


def test_complete_year_removes_provisional_flag() -> None:
    cal = WorkCalendar(extra_holidays=[date(2027, 1, 1)], complete_years=[2027])
    assert not cal.is_provisional(date(2027, 3, 3))
    assert cal.is_workday(date(2027, 3, 3))
    assert not cal.is_workday(date(2027, 3, 6))
    assert not cal.due_date("行政处罚", date(2026, 12, 28)).provisional


@pytest.mark.parametrize("year", [1, 1949, 1990, 2003, 2027, 2100, 2101, 9998])
def test_far_dates_do_not_crash(cal: WorkCalendar, year: int) -> None:
    monday = date(year, 6, 10) - timedelta(days=date(year, 6, 10).weekday())
    assert cal.is_provisional(monday)
    assert not cal.is_workday(monday + timedelta(days=5))  # the Saturday
    result = cal.due_date("行政处罚", monday)
    assert result.provisional
    assert result.due > monday
    assert cal.last_workday_of_month(year, 6).provisional


def test_past_date_max_is_a_clear_error(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="超出"):
        cal.add_working_days(date.max, 1)


def test_add_zero_and_negative(cal: WorkCalendar) -> None:
    assert cal.add_working_days(date(2026, 10, 3), 0).due == date(2026, 10, 3)
    assert cal.add_working_days(date(2026, 10, 13), -7).due == date(2026, 9, 28)


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2026, 9, 28), date(2026, 10, 13)) == 7
    assert cal.working_days_between(date(2026, 10, 13), date(2026, 9, 28)) == -7
    assert cal.working_days_between(date(2026, 10, 3), date(2026, 10, 3)) == 0
    assert cal.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0


def test_last_workday_of_month(cal: WorkCalendar) -> None:
    assert cal.last_workday_of_month(2026, 10) == Deadline(date(2026, 10, 30), provisional=False)
    assert cal.last_workday_of_month(2026, 2).due == date(2026, 2, 28)  # a 调休 Saturday
    assert cal.last_workday_of_month(2026, 5).due == date(2026, 5, 29)
    assert cal.last_workday_of_month(2027, 1).provisional


def test_monthly_categories(cal: WorkCalendar) -> None:
    assert cal.due_date("检查抽查", date(2026, 11, 3)).due == date(2026, 11, 30)
    # on the last working day itself → next month's
    assert cal.due_date("检查抽查", date(2026, 10, 30)).due == date(2026, 11, 30)
    # after it (a Saturday at the month's end) → next month's
    assert cal.due_date("黑名单", date(2026, 10, 31)).due == date(2026, 11, 30)
    # December rolls into an (estimated) January
    result = cal.due_date("信用承诺", date(2026, 12, 31))
    assert result.due == date(2027, 1, 29)
    assert result.provisional


def test_unknown_category_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="未知的信息类别"):
        cal.due_date("天气", date(2026, 10, 1))
