"""Public credit composite evaluation (公共信用综合评价): score, grade, explanation, warnings, risk class.

Pure functions over plain facts; the numbers come from a versioned model (db/data/evaluation_*.toml,
parsed by `parse_model`), never from code. How a score is made, as provincial schemes do it:

    score = clamp(base + Σ_indicators sign × min(cap, Σ_records points(severity) × weight(record)))

where weight(record) = decay band of its age (whole months since the decision; 1.0 when the
indicator does not decay) × `expired_factor` once it has left its publication period. Repaired and
revoked records count not at all (DOMAIN: "no longer published, shared or used"); proposed listings
(拟列入) are not a decision yet. Which indicator a record feeds is `indicator_of`.

Risk warnings are conditions on the same facts (plus the grade before and after); each condition
names a cause, and a warning fires once per subject and cause (the caller stores the causes).
The risk class is the worse of the grade's class and the classes of the warnings in force.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rules.categories import ABNORMAL_LIST, BLACKLIST
from rules.visibility import effective_publication_end

RISK_CLASSES = ("low", "general", "high", "severe")
COUNTED_STATUSES = frozenset({"active", "objected", "expired"})
COMMITMENT = "信用承诺"
DECLARATION = "自主申报"
EXPLAIN_TOP = 5


class ModelError(ValueError):
    """The model file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    sign: int  # -1 deducts, +1 adds
    points: dict[str, float]  # by severity, and "default"
    cap: float
    decays: bool

    def base_points(self, severity: str | None) -> float:
        """Points of one record: by its severity; without one, `default`, else the 一般 points
        (rules.publication's default grade for an ungraded record)."""
        if severity and severity in self.points:
            return self.points[severity]
        return self.points.get("default", self.points.get("一般", max(self.points.values())))


@dataclass(frozen=True)
class Grade:
    name: str
    min: int
    risk: str


@dataclass(frozen=True)
class WarningRule:
    key: str
    label: str
    risk: str
    params: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RiskClass:
    key: str
    label: str
    inspection: str


@dataclass(frozen=True)
class Model:
    version: str
    name: str
    base: int
    min_score: int
    max_score: int
    score_natural_persons: bool
    expired_factor: float
    decay_bands: tuple[tuple[int, float], ...]  # (until_months, factor), ascending
    decay_beyond: float
    indicators: dict[str, Indicator]
    grades: tuple[Grade, ...]  # best first
    warnings: dict[str, WarningRule]
    risk_classes: dict[str, RiskClass]

    def grade_rank(self, name: str | None) -> int | None:
        """0 for the best grade; None for no grade."""
        for i, g in enumerate(self.grades):
            if g.name == name:
                return i
        return None


def parse_model(data: dict[str, Any]) -> Model:
    """The model from the TOML file's tables; raises ModelError naming what is wrong."""
    try:
        indicators = {
            i["key"]: Indicator(
                i["key"], i["label"], int(i["sign"]), {k: float(v) for k, v in i["points"].items()},
                float(i["cap"]), bool(i["decays"]),
            )
            for i in data["indicators"]
        }
        grades = tuple(Grade(g["name"], int(g["min"]), g["risk"]) for g in data["grades"])
        warnings = {
            w["key"]: WarningRule(
                w["key"], w["label"], w["risk"], {k: int(v) for k, v in w.items() if k not in ("key", "label", "risk")}
            )
            for w in data.get("warnings", [])
        }
        risk_classes = {k: RiskClass(k, v["label"], v["inspection"]) for k, v in data["risk_classes"].items()}
        bands = tuple(sorted((int(b["until_months"]), float(b["factor"])) for b in data["decay"]["bands"]))
        model = Model(
            version=str(data["version"]), name=data["name"], base=int(data["base"]),
            min_score=int(data["min_score"]), max_score=int(data["max_score"]),
            score_natural_persons=bool(data.get("score_natural_persons", False)),
            expired_factor=float(data["expired_factor"]), decay_bands=bands,
            decay_beyond=float(data["decay"]["beyond"]), indicators=indicators, grades=grades,
            warnings=warnings, risk_classes=risk_classes,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"评价模型文件有误：{exc!r}") from None
    unknown = set(indicators) - set(INDICATOR_KEYS)
    if unknown:
        raise ModelError(f"评价模型含有未知指标：{sorted(unknown)}")
    if [g.min for g in grades] != sorted((g.min for g in grades), reverse=True) or grades[-1].min > model.min_score:
        raise ModelError("评价模型的等级门槛应从高到低排列，最后一级的门槛不高于最低分")
    for risk in [g.risk for g in grades] + [w.risk for w in warnings.values()]:
        if risk not in RISK_CLASSES or risk not in risk_classes:
            raise ModelError(f"评价模型的风险类别未定义：{risk}")
    unknown_rules = set(warnings) - set(WARNING_KEYS)
    if unknown_rules:
        raise ModelError(f"评价模型含有未知预警规则：{sorted(unknown_rules)}")
    return model


@dataclass(frozen=True)
class Fact:
    """One record or declaration as the model sees it.

    `ref` is "record:<id>" or "declaration:<id>"; a declaration has category 自主申报 and the
    declaration's status (verified / revoked). `publication_end`/`rule_edition` as on the record
    (None: the rules' maximum applies, rules.visibility)."""

    ref: str
    category: str
    status: str
    decision_date: dt.date
    severity: str | None = None
    publication_end: dt.date | None = None
    rule_edition: str | None = None
    valid_until: dt.date | None = None
    title: str | None = None
    department_id: int | None = None


INDICATOR_KEYS = (
    "penalty", "blacklist", "abnormal", "enforcement", "broken_commitment", "revoked_declaration",
    "kept_commitment", "verified_declaration", "reward", "licence",
)
WARNING_KEYS = ("severe_penalty", "repeat_penalty", "listing", "grade_drop", "licence_expiring")
_BY_CATEGORY = {"行政处罚": "penalty", BLACKLIST: "blacklist", ABNORMAL_LIST: "abnormal", "行政强制": "enforcement", "行政奖励": "reward"}


def indicator_of(fact: Fact, today: dt.date) -> str | None:
    """Which indicator the fact feeds, or None.

    A 信用承诺 record with a severity is a broken commitment (db/declarations records it so); one
    without is a commitment made and, while not revoked, kept. A licence counts while in force
    (no end date, or the end date not passed)."""
    if fact.category == DECLARATION:
        return {"verified": "verified_declaration", "revoked": "revoked_declaration"}.get(fact.status)
    if fact.status not in COUNTED_STATUSES:
        return None
    if fact.category == COMMITMENT:
        return "broken_commitment" if fact.severity else ("kept_commitment" if fact.status == "active" else None)
    if fact.category == "行政许可":
        in_force = fact.status == "active" and (fact.valid_until is None or fact.valid_until >= today)
        return "licence" if in_force else None
    return _BY_CATEGORY.get(fact.category)


def months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole months from `earlier` to `later` (0 when later is earlier)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month - (later.day < earlier.day)
    return max(0, months)


def decay(model: Model, age_months: int) -> float:
    for until, factor in model.decay_bands:
        if age_months < until:
            return factor
    return model.decay_beyond


def is_expired(fact: Fact, today: dt.date) -> bool:
    if fact.status == "expired":
        return True
    if fact.category == DECLARATION:
        return False
    end = effective_publication_end(fact)  # type: ignore[arg-type]
    return end is not None and end <= today


def record_points(model: Model, fact: Fact, today: dt.date) -> tuple[str, float] | None:
    """(indicator, signed points before the indicator's cap), or None when the fact does not count."""
    key = indicator_of(fact, today)
    if key is None or key not in model.indicators:
        return None
    ind = model.indicators[key]
    weight = decay(model, months_between(fact.decision_date, today)) if ind.decays else 1.0
    if is_expired(fact, today):
        weight *= model.expired_factor
    points = ind.base_points(fact.severity) * weight
    return (key, ind.sign * points) if points else None


@dataclass(frozen=True)
class Contribution:
    ref: str
    indicator: str
    label: str  # the indicator's label
    points: float  # signed, before the cap
    decision_date: dt.date
    title: str | None


@dataclass(frozen=True)
class Evaluation:
    score: int
    grade: str
    top: tuple[Contribution, ...]  # the records that moved the score most, biggest first
    capped: tuple[str, ...]  # indicators whose total was cut to their cap
    totals: dict[str, float]  # indicator → signed total after the cap


def grade_of(model: Model, score: float) -> Grade:
    for g in model.grades:
        if score >= g.min:
            return g
    return model.grades[-1]


def evaluate(model: Model, facts: list[Fact], today: dt.date) -> Evaluation:
    """Score and grade of one subject from its facts, with the explanation."""
    sums: dict[str, float] = defaultdict(float)
    contributions: list[Contribution] = []
    for f in facts:
        got = record_points(model, f, today)
        if got is None:
            continue
        key, pts = got
        sums[key] += pts
        contributions.append(Contribution(f.ref, key, model.indicators[key].label, pts, f.decision_date, f.title))
    totals: dict[str, float] = {}
    capped = []
    for key, total in sums.items():
        cap = model.indicators[key].cap
        if abs(total) > cap:
            capped.append(key)
            total = cap if total > 0 else -cap
        totals[key] = total
    raw = model.base + sum(totals.values())
    score = round(min(model.max_score, max(model.min_score, raw)))
    contributions.sort(key=lambda c: (-abs(c.points), -c.decision_date.toordinal(), c.ref))
    return Evaluation(score, grade_of(model, score).name, tuple(contributions[:EXPLAIN_TOP]), tuple(sorted(capped)), totals)


def scored(model: Model, kind: str) -> bool:
    """Natural persons are scored only if the model says so."""
    return kind != "自然人" or model.score_natural_persons


@dataclass(frozen=True)
class Warning:
    rule: str
    cause: str  # unique per subject: the same cause never fires twice
    label: str
    risk: str


def _effective(fact: Fact, today: dt.date) -> bool:
    return fact.status in ("active", "objected") and not is_expired(fact, today)


def warnings_for(
    model: Model, facts: list[Fact], today: dt.date, old_grade: str | None, new_grade: str
) -> list[Warning]:
    """Every warning condition true now, each with its cause. Rules (parameters from the model):

    - severe_penalty: an effective 严重 行政处罚; cause = the record.
    - repeat_penalty: an effective penalty decided within `window_months` after an earlier one;
      cause = the later record.
    - listing: an effective blacklist or abnormal-list entry; cause = the record.
    - grade_drop: the grade fell by at least `levels` grades since the last evaluation; cause =
      the two grades and the month (the same fall in the same month fires once).
    - licence_expiring: a licence ending within `days` days while a penalty is in force; cause = the
      licence.
    """
    rules = model.warnings
    out: list[Warning] = []

    def fire(key: str, cause: str, detail: str = "") -> None:
        rule = rules[key]
        out.append(Warning(key, f"{key}:{cause}", rule.label + (f"：{detail}" if detail else ""), rule.risk))

    penalties = sorted((f for f in facts if f.category == "行政处罚" and _effective(f, today)), key=lambda f: (f.decision_date, f.ref))
    if "severe_penalty" in rules:
        for f in penalties:
            if f.severity == "严重":
                fire("severe_penalty", f.ref, f.title or "")
    if "repeat_penalty" in rules:
        window = rules["repeat_penalty"].params.get("window_months", 12)
        for earlier, later in itertools.pairwise(penalties):
            if months_between(earlier.decision_date, later.decision_date) < window:
                fire("repeat_penalty", later.ref, f"{earlier.decision_date:%Y-%m-%d}、{later.decision_date:%Y-%m-%d}")
    if "listing" in rules:
        for f in facts:
            if f.category in (BLACKLIST, ABNORMAL_LIST) and _effective(f, today):
                fire("listing", f.ref, f.category)
    if "grade_drop" in rules and old_grade is not None:
        old_rank, new_rank = model.grade_rank(old_grade), model.grade_rank(new_grade)
        levels = rules["grade_drop"].params.get("levels", 1)
        if old_rank is not None and new_rank is not None and new_rank - old_rank >= levels:
            fire("grade_drop", f"{old_grade}>{new_grade}:{today:%Y-%m}", f"{old_grade} → {new_grade}")
    if "licence_expiring" in rules and penalties:
        days = rules["licence_expiring"].params.get("days", 30)
        for f in facts:
            if (
                f.category == "行政许可" and f.status == "active" and f.valid_until is not None
                and today <= f.valid_until <= today + dt.timedelta(days=days)
            ):
                fire("licence_expiring", f.ref, f"{f.title or '许可'} {f.valid_until:%Y-%m-%d} 到期")
    return out


def risk_class(model: Model, grade: str, warnings: list[Warning]) -> str:
    """The worse of the grade's risk class and the classes of the warnings in force."""
    ranks = [RISK_CLASSES.index(grade_of_name(model, grade).risk)] + [RISK_CLASSES.index(w.risk) for w in warnings]
    return RISK_CLASSES[max(ranks)]


def grade_of_name(model: Model, name: str) -> Grade:
    for g in model.grades:
        if g.name == name:
            return g
    raise ModelError(f"评价模型中没有等级“{name}”")


def format_points(points: float) -> str:
    """+30 / -150 / -4.5: whole numbers without decimals."""
    value = round(points, 1)
    text = f"{value:+.1f}".rstrip("0").rstrip(".")
    return text
