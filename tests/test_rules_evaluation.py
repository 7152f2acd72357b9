"""The evaluation model's edges, with expected scores worked out by hand from the 2026.1 model file
(base 700; 行政处罚 一般 40 / 严重 150, cap 400; decay 1.0 under 12 months, 0.6 under 24, 0.3 under
36, 0.1 beyond; expired records × 0.3; grades 优 ≥ 850, 良 ≥ 700, 中 ≥ 550, 差 below)."""

from __future__ import annotations

import datetime as dt

import pytest

from db.evaluation_data import current_model
from rules import evaluation as ev

TODAY = dt.date(2026, 11, 30)
M = current_model()


def fact(n: int, category: str, day: str, severity: str | None = None, status: str = "active", **kw: object) -> ev.Fact:
    return ev.Fact(f"record:{n}", category, status, dt.date.fromisoformat(day), severity, **kw)  # type: ignore[arg-type]


def score(*facts: ev.Fact) -> int:
    return ev.evaluate(M, list(facts), TODAY).score


def test_model_file_is_versioned_and_complete() -> None:
    assert M.version == "2026.1"
    assert set(M.indicators) == set(ev.INDICATOR_KEYS)
    assert [g.name for g in M.grades] == ["优", "良", "中", "差"]


def test_no_records_is_the_base_score() -> None:
    result = ev.evaluate(M, [], TODAY)
    assert (result.score, result.grade, result.top) == (700, "良", ())


@pytest.mark.parametrize(
    ("severity", "expected"), [("轻微", 690), ("一般", 660), ("严重", 550), (None, 660)]  # None: 一般 default
)
def test_penalty_by_severity(severity: str | None, expected: int) -> None:
    assert score(fact(1, "行政处罚", "2026-10-01", severity or None)) == expected


def test_a_minor_penalty_leaves_publication_after_three_months() -> None:
    # 2026 rules: 轻微 published at most 3 months, so on 2026-11-30 it counts as expired: 10 × 0.3
    assert score(fact(1, "行政处罚", "2026-08-30", "轻微")) == 697


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-12-01", 660),  # 11 months old: full weight
        ("2025-11-30", 676),  # exactly 12 months: 0.6 → -24
        ("2024-12-01", 676),  # 23 months
        ("2024-11-30", 688),  # 24 months: 0.3 → -12
        ("2023-11-30", 696),  # 36 months: 0.1 → -4
    ],
)
def test_decay_by_age(day: str, expected: int) -> None:
    # publication_end far away so only the age matters here
    assert score(fact(1, "行政处罚", day, "一般", publication_end=dt.date(2030, 1, 1))) == expected


def test_expired_and_repaired_records() -> None:
    # past its publication period: 0.3 (29 months) × 0.3 (expired) × 40 = 3.6 → 696
    assert score(fact(1, "行政处罚", "2024-06-01", "一般", publication_end=dt.date(2025, 6, 1))) == 696
    assert score(fact(1, "行政处罚", "2024-06-01", "一般", status="expired", publication_end=dt.date(2030, 1, 1))) == 696
    assert score(fact(1, "行政处罚", "2026-08-30", "严重", status="repaired")) == 700  # not at all
    assert score(fact(1, "行政处罚", "2026-08-30", "严重", status="revoked")) == 700
    assert score(fact(1, "严重失信主体名单", "2026-08-30", status="proposed")) == 700  # not a decision yet


def test_caps_per_indicator() -> None:
    four = [fact(i, "行政处罚", "2026-10-01", "严重") for i in range(4)]  # 600 → capped at 400
    result = ev.evaluate(M, four, TODAY)
    assert result.score == 300 and result.grade == "差" and result.capped == ("penalty",)
    rewards = [fact(i, "行政奖励", "2026-10-01") for i in range(4)]  # 120 → 90
    assert score(*rewards) == 790
    assert score(fact(1, "严重失信主体名单", "2026-01-01"), fact(2, "严重失信主体名单", "2026-02-01")) == 250  # 600 → 450


def test_every_indicator() -> None:
    assert score(fact(1, "严重失信主体名单", "2024-01-01")) == 400  # no decay
    assert score(fact(1, "严重失信主体名单", "2020-01-01")) == 610  # past its 3 years: 300 × 0.3
    assert score(fact(1, "经营异常名录", "2026-01-01")) == 640
    assert score(fact(1, "行政强制", "2026-10-01")) == 670  # default 30
    assert score(fact(1, "行政强制", "2026-10-01", "严重")) == 620
    assert score(fact(1, "信用承诺", "2026-10-01", "一般")) == 620  # broken commitment
    assert score(fact(1, "信用承诺", "2026-10-01")) == 710  # kept
    assert score(fact(1, "信用承诺", "2026-10-01", status="revoked")) == 700
    assert score(fact(1, "信用承诺", "2026-10-01", status="unverified")) == 700  # not before verification
    assert score(ev.Fact("declaration:1", ev.DECLARATION, "verified", dt.date(2026, 10, 1))) == 710
    assert score(ev.Fact("declaration:2", ev.DECLARATION, "revoked", dt.date(2026, 10, 1))) == 660
    assert score(ev.Fact("declaration:3", ev.DECLARATION, "rejected", dt.date(2026, 10, 1))) == 700
    assert score(fact(1, "行政奖励", "2026-10-01")) == 730
    assert score(fact(1, "行政许可", "2015-01-01")) == 705  # in force, no end: no decay
    assert score(fact(1, "行政许可", "2025-01-01", valid_until=dt.date(2026, 11, 29))) == 700  # ended
    assert score(fact(1, "行政许可", "2025-01-01", valid_until=dt.date(2026, 11, 30))) == 705  # last day
    assert score(fact(1, "检查抽查", "2026-10-01")) == 700  # not an indicator


def test_score_is_clamped() -> None:
    bad = [fact(i, c, "2026-10-01", "严重") for i, c in enumerate(["严重失信主体名单"] * 2 + ["行政处罚"] * 3 + ["行政强制"] * 2)]
    assert score(*bad) == 0  # 700 - 450 - 400 - 160 < 0


@pytest.mark.parametrize(("points", "grade"), [(850, "优"), (849, "良"), (700, "良"), (699, "中"), (550, "中"), (549, "差"), (0, "差")])
def test_grade_thresholds(points: int, grade: str) -> None:
    assert ev.grade_of(M, points).name == grade


def test_natural_persons_are_not_scored_by_default() -> None:
    assert not ev.scored(M, "自然人") and ev.scored(M, "法人") and ev.scored(M, "个体工商户")


def test_explanation_lists_the_five_records_that_moved_the_score_most() -> None:
    facts = [
        fact(1, "行政处罚", "2026-10-01", "严重"),  # -150
        fact(2, "行政处罚", "2025-06-01", "一般"),  # 17 months: -24
        fact(3, "行政奖励", "2026-09-01"),  # +30
        fact(4, "行政许可", "2020-01-01"),  # +5
        fact(5, "经营异常名录", "2026-03-01"),  # -60
        fact(6, "行政强制", "2026-05-01", "一般"),  # -30
        fact(7, "行政处罚", "2026-08-01", "严重", status="repaired"),  # 0: not listed
    ]
    result = ev.evaluate(M, facts, TODAY)
    assert [(c.ref, c.points) for c in result.top] == [
        ("record:1", -150), ("record:5", -60), ("record:3", 30), ("record:6", -30), ("record:2", -24),
    ]  # a tie in size: the more recent record first
    assert result.score == 700 - 150 - 24 + 30 + 5 - 60 - 30
    assert ev.format_points(-24.0) == "-24" and ev.format_points(3.6) == "+3.6"


def test_warning_rules() -> None:
    severe = fact(1, "行政处罚", "2026-10-01", "严重")
    earlier = fact(2, "行政处罚", "2026-01-15", "一般")
    causes = {w.cause for w in ev.warnings_for(M, [severe, earlier], TODAY, "良", "中")}
    assert causes == {"severe_penalty:record:1", "repeat_penalty:record:1", "grade_drop:良>中:2026-11"}
    old = fact(3, "行政处罚", "2024-01-15", "一般", publication_end=dt.date(2030, 1, 1))
    assert {w.rule for w in ev.warnings_for(M, [old, earlier], TODAY, None, "中")} == set()  # 24 months apart
    assert ev.warnings_for(M, [], TODAY, "中", "良") == []  # a rise is no warning
    listing = fact(4, "经营异常名录", "2026-11-01")
    assert [w.cause for w in ev.warnings_for(M, [listing], TODAY, None, "中")] == ["listing:record:4"]
    repaired = fact(5, "严重失信主体名单", "2026-11-01", status="repaired")
    assert ev.warnings_for(M, [repaired], TODAY, None, "良") == []


def test_licence_expiring_warns_only_with_an_open_penalty() -> None:
    licence = fact(9, "行政许可", "2024-01-01", valid_until=dt.date(2026, 12, 30), title="食品经营许可证")
    penalty = fact(1, "行政处罚", "2026-10-01", "一般")
    fired = ev.warnings_for(M, [licence, penalty], TODAY, None, "中")
    assert [w.cause for w in fired] == ["licence_expiring:record:9"]
    assert "食品经营许可证 2026-12-30 到期" in fired[0].label
    assert ev.warnings_for(M, [licence], TODAY, None, "良") == []
    later = fact(9, "行政许可", "2024-01-01", valid_until=dt.date(2026, 12, 31))  # 31 days: not yet
    assert ev.warnings_for(M, [later, penalty], TODAY, None, "中") == []


def test_risk_class_from_grade_and_warnings() -> None:
    assert ev.risk_class(M, "优", []) == "low"
    assert ev.risk_class(M, "中", []) == "general"
    assert ev.risk_class(M, "差", []) == "high"
    listing = ev.warnings_for(M, [fact(1, "严重失信主体名单", "2026-11-01")], TODAY, None, "差")
    assert ev.risk_class(M, "差", listing) == "severe"
    assert M.risk_classes["severe"].inspection.startswith("重点监管")


def test_a_malformed_model_is_refused() -> None:
    with pytest.raises(ev.ModelError):
        ev.parse_model({"version": "x"})
