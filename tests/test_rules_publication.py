from __future__ import annotations

from datetime import date

import pytest

from rules.publication import (
    PublicationWindow,
    add_months,
    earliest_repair,
    edition_for,
    is_special_field,
    publication_end,
    window,
)


@pytest.mark.parametrize(
    ("d", "edition"),
    [
        (date(2019, 1, 1), "2019"),
        (date(2023, 4, 30), "2019"),
        (date(2023, 5, 1), "2023"),
        (date(2026, 3, 31), "2023"),
        (date(2026, 4, 1), "2026"),
        (date(2030, 1, 1), "2026"),
    ],
)
def test_edition_boundaries(d: date, edition: str) -> None:
    assert edition_for(d) == edition


@pytest.mark.parametrize(
    ("edition", "severity", "special", "expected"),
    [
        ("2026", "轻微", False, PublicationWindow(0, 3, False)),
        ("2026", "一般", False, PublicationWindow(3, 12, True)),
        ("2026", "严重", False, PublicationWindow(12, 36, True)),
        ("2026", "一般", True, PublicationWindow(3, 12, True)),
        ("2023", "轻微", False, PublicationWindow(3, 36, True)),
        ("2023", "一般", False, PublicationWindow(3, 36, True)),
        ("2023", "一般", True, PublicationWindow(12, 36, True)),
        ("2023", "轻微", True, PublicationWindow(12, 36, True)),
        ("2023", "严重", False, PublicationWindow(12, 36, True)),
        ("2019", "轻微", False, PublicationWindow(3, 12, True)),
        ("2019", "一般", False, PublicationWindow(3, 12, True)),
        ("2019", "严重", False, PublicationWindow(6, 36, True)),
        ("2019", "一般", True, PublicationWindow(3, 12, True)),
    ],
)
def test_windows(edition: str, severity: str, special: bool, expected: PublicationWindow) -> None:
    assert window(edition, severity, special) == expected


@pytest.mark.parametrize(("edition", "severity"), [("2020", "一般"), ("2026", "很严重"), ("2026", "")])
def test_window_rejects_unknown(edition: str, severity: str) -> None:
    with pytest.raises(ValueError, match="未知"):
        window(edition, severity)


@pytest.mark.parametrize(
    ("decision", "severity", "special", "end", "repair"),
    [
        # 2026 edition
        (date(2026, 5, 10), "一般", False, date(2027, 5, 10), date(2026, 8, 10)),
        (date(2026, 5, 10), "严重", False, date(2029, 5, 10), date(2027, 5, 10)),
        (date(2026, 5, 10), "轻微", False, date(2026, 8, 10), date(2026, 5, 10)),
        (date(2026, 5, 10), None, False, date(2027, 5, 10), date(2026, 8, 10)),
        # 2023 edition (decided on the first day it was in force)
        (date(2023, 5, 1), "一般", False, date(2026, 5, 1), date(2023, 8, 1)),
        (date(2023, 5, 1), "一般", True, date(2026, 5, 1), date(2024, 5, 1)),
        (date(2023, 5, 1), "严重", False, date(2026, 5, 1), date(2024, 5, 1)),
        # 2019 edition (the day before 2023 applied)
        (date(2023, 4, 30), "一般", False, date(2024, 4, 30), date(2023, 7, 30)),
        (date(2023, 4, 30), "严重", False, date(2026, 4, 30), date(2023, 10, 30)),
        (date(2023, 4, 30), "一般", True, date(2024, 4, 30), date(2023, 7, 30)),
        # the last day of the 2023 edition vs the first of 2026
        (date(2026, 3, 31), "一般", False, date(2029, 3, 31), date(2026, 6, 30)),
        (date(2026, 4, 1), "一般", False, date(2027, 4, 1), date(2026, 7, 1)),
    ],
)
def test_end_and_repair_dates(
    decision: date, severity: str | None, special: bool, end: date, repair: date
) -> None:
    assert publication_end(decision, severity, special=special) == end
    assert earliest_repair(decision, severity, special=special) == repair


def test_explicit_edition_wins_over_decision_date() -> None:
    assert publication_end(date(2026, 5, 10), "一般", edition="2023") == date(2029, 5, 10)
    assert publication_end(date(2022, 5, 10), "严重", edition="2026") == date(2025, 5, 10)


@pytest.mark.parametrize(
    ("d", "months", "expected"),
    [
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 31), 36, date(2029, 5, 31)),
    ],
)
def test_add_months_clamps(d: date, months: int, expected: date) -> None:
    assert add_months(d, months) == expected


@pytest.mark.parametrize(
    "text",
    ["食品安全", "餐饮服务", "药品经营", "疫苗", "特种设备安全监察", "电梯维保", "安全生产", "危险化学品", "消防安全", "火灾隐患", "食 品"],
)
def test_special_fields(text: str) -> None:
    assert is_special_field(text)


@pytest.mark.parametrize("text", ["", "环境保护", "税务", "农药经营", "交通运输", "医疗器械"])
def test_not_special_fields(text: str) -> None:
    assert not is_special_field(text)
