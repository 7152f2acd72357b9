from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest

from rules.roles import ROLES, STAFF_ROLES
from rules.visibility import (
    counts_for_measures,
    effective_publication_end,
    is_published,
    is_shared,
    under_objection,
    visible_to,
)


@dataclass(frozen=True)
class Rec:
    category: str = "行政处罚"
    status: str = "active"
    publication_end: date | None = None
    severity: str | None = "一般"
    decision_date: date = date(2026, 5, 10)
    rule_edition: str | None = None


DAY = timedelta(days=1)


def test_roles() -> None:
    assert set(ROLES) == {"public", "enterprise", "official", "collector", "admin"}
    assert frozenset({"official", "collector", "admin"}) == STAFF_ROLES


def test_published_until_the_day_before_the_end() -> None:
    rec = Rec()  # 2026 一般: ends 2027-05-10
    end = date(2027, 5, 10)
    assert effective_publication_end(rec) == end
    assert is_published(rec, end - DAY)
    assert not is_published(rec, end)
    assert is_published(rec, rec.decision_date)


def test_stored_publication_end_wins() -> None:
    rec = Rec(publication_end=date(2026, 9, 1))
    assert is_published(rec, date(2026, 8, 31))
    assert not is_published(rec, date(2026, 9, 1))


@pytest.mark.parametrize(
    ("decision", "severity", "edition", "end"),
    [
        (date(2022, 6, 1), "严重", None, date(2025, 6, 1)),  # 2019
        (date(2022, 6, 1), "一般", None, date(2023, 6, 1)),  # 2019
        (date(2024, 6, 1), "一般", None, date(2027, 6, 1)),  # 2023
        (date(2026, 6, 1), "严重", None, date(2029, 6, 1)),  # 2026
        (date(2026, 6, 1), "一般", "2023", date(2029, 6, 1)),  # stored edition wins
    ],
)
def test_end_per_edition(decision: date, severity: str, edition: str | None, end: date) -> None:
    rec = Rec(decision_date=decision, severity=severity, rule_edition=edition)
    assert is_published(rec, end - DAY)
    assert not is_published(rec, end)


def test_minor_2026_is_not_published_but_shared() -> None:
    rec = Rec(severity="轻微")
    assert not is_published(rec, date(2026, 5, 11))
    assert is_shared(rec, date(2026, 5, 11))
    assert visible_to("official", rec, date(2026, 5, 11))
    assert not visible_to("public", rec, date(2026, 5, 11))
    # the same grade under the 2023 edition was published
    assert is_published(Rec(severity="轻微", decision_date=date(2025, 5, 10)), date(2025, 6, 1))


def test_objection_keeps_record_published_and_flagged() -> None:
    rec = Rec(status="objected")
    assert under_objection(rec)
    assert is_published(rec, date(2026, 6, 1))
    assert is_shared(rec, date(2026, 6, 1))
    assert not under_objection(Rec())


@pytest.mark.parametrize("status", ["repaired", "revoked"])
def test_repaired_and_revoked_are_gone_for_everyone(status: str) -> None:
    rec = Rec(status=status)
    for role in ROLES:
        assert not visible_to(role, rec, date(2026, 6, 1))


def test_expired_is_history_for_officials_only() -> None:
    rec = Rec(status="expired")
    today = date(2026, 6, 1)
    assert not is_published(rec, today)
    assert visible_to("official", rec, today)
    assert visible_to("collector", rec, today)
    assert visible_to("admin", rec, today)
    assert not visible_to("enterprise", rec, today)


def test_blacklist_without_grade_counts_as_serious() -> None:
    rec = Rec(category="黑名单", severity=None)  # 2026 严重: three years
    assert effective_publication_end(rec) == date(2029, 5, 10)
    assert counts_for_measures(rec, date(2029, 5, 9))
    assert not counts_for_measures(rec, date(2029, 5, 10))


def test_permit_has_no_automatic_end() -> None:
    rec = Rec(category="行政许可", severity=None)
    assert effective_publication_end(rec) is None
    assert is_published(rec, date(2040, 1, 1))
    assert not counts_for_measures(rec, date(2026, 6, 1))


def test_abnormal_list_stays_until_removed() -> None:
    rec = Rec(category="经营异常名录", severity=None, decision_date=date(2020, 1, 1))
    assert counts_for_measures(rec, date(2026, 6, 1))
    assert counts_for_measures(replace(rec, status="objected"), date(2026, 6, 1))
    assert not counts_for_measures(replace(rec, status="repaired"), date(2026, 6, 1))
    assert not counts_for_measures(replace(rec, status="expired"), date(2026, 6, 1))


def test_penalty_never_triggers_measures() -> None:
    assert not counts_for_measures(Rec(severity="严重"), date(2026, 6, 1))


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="未知的用户角色"):
        visible_to("officer", Rec(), date(2026, 6, 1))
