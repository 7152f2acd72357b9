"""Pure lifecycle rules: objection periods in working days, when a listing takes effect, when repair
opens, corrections, numbers, and how a proposed listing is seen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from rules import lifecycle, visibility
from rules.lifecycle import RecordFacts
from rules.workcal import WorkCalendar

CAL = WorkCalendar()


def test_objection_period_counts_working_days_from_the_day_after() -> None:
    # Friday 2026-11-27: Mon 30, Tue 1, Wed 2, Thu 3, Fri 4 December.
    assert lifecycle.objection_deadline(date(2026, 11, 27), CAL).due == date(2026, 12, 4)
    # Across National Day 2026: 1-7 October off; Thu 8, Fri 9, Sat 10 (a make-up working day, 调休),
    # Mon 12, Tue 13.
    assert lifecycle.objection_deadline(date(2026, 9, 30), CAL).due == date(2026, 10, 13)
    with pytest.raises(ValueError):
        lifecycle.objection_deadline(date(2026, 11, 27), CAL, 0)


def test_a_configured_holiday_moves_the_deadline() -> None:
    cal = WorkCalendar(extra_holidays=[date(2026, 12, 2)])
    assert lifecycle.objection_deadline(date(2026, 11, 27), cal).due == date(2026, 12, 7)


@pytest.mark.parametrize(
    ("today", "pending", "effective"),
    [
        (date(2026, 12, 4), False, False),  # the last day of the period is still open
        (date(2026, 12, 5), False, True),
        (date(2026, 12, 5), True, False),  # an objection holds the listing
        (date(2027, 3, 1), True, False),
    ],
)
def test_listing_takes_effect_after_the_period_without_objection(today: date, pending: bool, effective: bool) -> None:
    assert lifecycle.listing_takes_effect(date(2026, 12, 4), today, pending) is effective


@pytest.mark.parametrize(
    ("category", "decided", "severity", "edition", "opens"),
    [
        ("行政处罚", date(2026, 5, 10), "一般", "2026", date(2026, 8, 10)),
        ("行政处罚", date(2026, 5, 10), "严重", "2026", date(2027, 5, 10)),
        ("行政处罚", date(2026, 5, 10), "轻微", "2026", date(2026, 5, 10)),
        ("严重失信主体名单", date(2026, 5, 10), None, "2026", date(2027, 5, 10)),  # no grade: 严重
        ("严重失信主体名单", date(2022, 5, 10), None, "2019", date(2022, 11, 10)),
        ("行政处罚", date(2024, 2, 29), "一般", "2023", date(2024, 5, 29)),
    ],
)
def test_repair_opens_after_the_minimum_period(
    category: str, decided: date, severity: str | None, edition: str, opens: date
) -> None:
    assert lifecycle.repair_opens(RecordFacts(category, decided, severity, edition)) == opens


def test_only_adverse_categories_with_a_period_are_repairable() -> None:
    assert lifecycle.repairable("黑名单") and lifecycle.repairable("行政处罚") and lifecycle.repairable("行政强制")
    assert not lifecycle.repairable("行政许可") and not lifecycle.repairable("经营异常名录")


def test_commitment_must_be_given_in_words() -> None:
    assert lifecycle.is_commitment("我承诺") and lifecycle.is_commitment(" 我 承 诺！")
    assert not lifecycle.is_commitment("好的") and not lifecycle.is_commitment("")


def test_corrections_are_parsed_and_checked() -> None:
    assert lifecycle.parse_corrections("严重程度：一般\n内容: 罚款五千元\n处罚机关=市局") == {
        "severity": "一般",
        "content": "罚款五千元",
        "处罚机关": "市局",
    }
    with pytest.raises(ValueError, match="严重程度"):
        lifecycle.parse_corrections("严重程度：很重")
    with pytest.raises(ValueError, match="无法识别"):
        lifecycle.parse_corrections("随便改改")
    with pytest.raises(ValueError):
        lifecycle.parse_corrections("  ")


def test_numbers() -> None:
    assert lifecycle.format_number("安", "告", 2026, 1) == "安信告〔2026〕0001号"
    assert lifecycle.format_number("安", "决", 2026, 3) == "安信决〔2026〕0003号"
    assert lifecycle.format_number("安", "报", 2026, 42, width=6) == "安信报〔2026〕000042号"


@dataclass
class Rec:
    category: str = "严重失信主体名单"
    status: str = "proposed"
    publication_end: date | None = None
    severity: str | None = "严重"
    decision_date: date = date(2026, 11, 27)
    rule_edition: str | None = "2026"


def test_a_proposed_listing_is_for_officials_only_and_triggers_nothing() -> None:
    rec = Rec()
    day = date(2026, 11, 30)
    assert not visibility.is_published(rec, day)
    assert not visibility.visible_to("public", rec, day) and not visibility.visible_to("enterprise", rec, day)
    assert visibility.visible_to("official", rec, day)
    assert not visibility.counts_for_measures(rec, day)
    assert visibility.STATUS_LABELS["proposed"] == "拟列入"
    rec.status = "active"
    assert visibility.counts_for_measures(rec, day) and visibility.is_published(rec, day)
