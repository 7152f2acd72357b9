"""Read side of the evaluation: a subject's grade for a viewer, watch lists, the admins' grade
distribution and changes, and a department's high-risk subjects.

Who may see what is checked here, in the use case, whatever the channel: officials (and platform
staff) always see the grade, its explanation and the risk class; the public and enterprises see the
grade and score only when the setting `evaluation.public_grades` is on, and never the risk class.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.evaluation_data import current_model
from db.models import (
    AuditEntry,
    CreditRecord,
    Division,
    GradeChange,
    Subject,
    SubjectEvaluation,
    WatchSubscription,
)
from db.session import Database
from db.upsert import insert_ignore
from nlp.normalize import Affixes
from rules.evaluation import RISK_CLASSES
from rules.roles import Viewer
from services.errors import Refusal

OTHER_INDUSTRY = "其他"


@dataclass(frozen=True)
class Reason:
    label: str
    points: float
    date: str
    title: str | None


@dataclass(frozen=True)
class GradeView:
    score: int
    grade: str
    model_version: str
    computed_at: dt.datetime
    reasons: tuple[Reason, ...]  # officials only; () for the public
    risk_class: str | None  # officials only
    risk_label: str | None
    inspection: str | None


async def grade_for(s: AsyncSession, subject_id: int, viewer: Viewer, public_grades: bool) -> GradeView | None:
    """The subject's grade as this viewer may see it, inside the caller's transaction (the card's
    look-up is audited there). None: not evaluated (e.g. a natural person) or not for this viewer."""
    if not viewer.is_staff and not public_grades:
        return None
    row = await s.get(SubjectEvaluation, subject_id)
    return grade_view(row, viewer, public_grades) if row is not None else None


def grade_view(row: Any, viewer: Viewer, public_grades: bool) -> GradeView | None:
    """A stored evaluation (anything with `SubjectEvaluation`'s columns as attributes: the ORM row or
    a Core row read with the card) as this viewer may see it; None when it is not for this viewer."""
    if not viewer.is_staff and not public_grades:
        return None
    if not viewer.is_staff:
        return GradeView(row.score, row.grade, row.model_version, row.computed_at, (), None, None, None)
    risk = current_model().risk_classes.get(row.risk_class)
    reasons = tuple(
        Reason(t["label"], float(t["points"]), t["date"], t.get("title")) for t in (row.explanation or {}).get("top", [])
    )
    return GradeView(
        row.score, row.grade, row.model_version, row.computed_at, reasons, row.risk_class,
        risk.label if risk else row.risk_class, risk.inspection if risk else None,
    )


# -- watch lists ------------------------------------------------------------------------------------


def _official(viewer: Viewer) -> None:
    if viewer.role != "official" or viewer.account_id is None:
        raise Refusal("关注主体仅限办事人员使用。")


async def watch(db: Database, viewer: Viewer, subject_id: int) -> tuple[str, bool]:
    """Subscribe; returns (subject name, True if new)."""
    _official(viewer)
    async with db.transaction() as s:
        subject = await s.get(Subject, subject_id)
        if subject is None:
            raise Refusal("该主体已不在档案中。")
        inserted = await s.execute(
            insert_ignore(s, WatchSubscription, {"account_id": viewer.account_id, "subject_id": subject_id, "created_at": dt.datetime.now(dt.UTC)},
                          ["account_id", "subject_id"]).returning(WatchSubscription.id)
        )
        new = inserted.scalar_one_or_none() is not None
        if new:  # the audit trail records who watches whom, like every look-up
            s.add(AuditEntry(account_id=viewer.account_id, role=viewer.role, action="watch_subject", subject_id=subject_id))
        return subject.name, new


async def unwatch(db: Database, viewer: Viewer, subject_id: int) -> bool:
    _official(viewer)
    async with db.transaction() as s:
        result = await s.execute(
            delete(WatchSubscription).where(WatchSubscription.account_id == viewer.account_id, WatchSubscription.subject_id == subject_id)
        )
        removed = bool(result.rowcount)  # type: ignore[attr-defined]
        if removed:
            s.add(AuditEntry(account_id=viewer.account_id, role=viewer.role, action="unwatch_subject", subject_id=subject_id))
        return removed


@dataclass(frozen=True)
class Watched:
    subject_id: int
    name: str
    code: str | None
    grade: str | None
    since: dt.datetime


async def watchlist(db: Database, viewer: Viewer) -> list[Watched]:
    _official(viewer)
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(Subject.id, Subject.name, Subject.uscc, SubjectEvaluation.grade, WatchSubscription.created_at)
                .join(Subject, Subject.id == WatchSubscription.subject_id)
                .outerjoin(SubjectEvaluation, SubjectEvaluation.subject_id == Subject.id)
                .where(WatchSubscription.account_id == viewer.account_id)
                .order_by(WatchSubscription.created_at, Subject.id)
            )
        ).all()
    return [Watched(*r) for r in rows]


# -- admins: distribution and changes ------------------------------------------------------------------


def _admin(viewer: Viewer) -> None:
    if viewer.role != "admin":
        raise Refusal("信用等级统计仅限系统管理员查看。")


def industry_of(name: str, affixes: Affixes) -> str:
    """The trade word of a company name (安康市恒达建材有限公司 → 建材); 其他 when none is known."""
    core = affixes.core(name)
    brand = affixes.brand(core)
    return core[len(brand):] if brand else OTHER_INDUSTRY


@dataclass(frozen=True)
class Distribution:
    by: str  # county / industry
    grades: tuple[str, ...]  # best first
    rows: list[tuple[str, dict[str, int]]]  # (group label, grade → subjects), largest groups first


def _count_industries(rows: Sequence[Any], affixes: Affixes, counts: dict[str, Counter[str]]) -> None:
    for name, grade in rows:
        counts[industry_of(name, affixes)][grade] += 1


async def grade_distribution(db: Database, viewer: Viewer, by: str, affixes: Affixes | None = None, top: int = 12) -> Distribution:
    """Subjects per grade per county (division) or per industry (trade word of the name). Counting
    per county is one GROUP BY; per industry the names are read once in a stream (no ORM objects)."""
    _admin(viewer)
    grades = tuple(g.name for g in current_model().grades)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    async with db.transaction() as s:
        if by == "county":
            names = dict((await s.execute(select(Division.code, Division.name))).all())
            rows = await s.execute(
                select(Subject.division_code, SubjectEvaluation.grade, func.count())
                .join(Subject, Subject.id == SubjectEvaluation.subject_id)
                .group_by(Subject.division_code, SubjectEvaluation.grade)
            )
            for code, grade, n in rows:
                counts[names.get(code or "", code or "未知区划")][grade] += n
        elif by == "industry":
            assert affixes is not None
            stream = await s.stream(
                select(Subject.name, SubjectEvaluation.grade).join(Subject, Subject.id == SubjectEvaluation.subject_id)
                .execution_options(yield_per=5_000)
            )
            async for part in stream.partitions():
                # Telling the trade word from a name is CPU work: off the event loop, a part at a time.
                await asyncio.to_thread(_count_industries, part, affixes, counts)
        else:
            raise Refusal("只能按区县（county）或行业（industry）统计。")
    ordered = sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    head = ordered[:top]
    if len(ordered) > top:
        rest: Counter[str] = Counter()
        for _label, c in ordered[top:]:
            rest.update(c)
        head.append(("其余", rest))
    return Distribution(by, grades, [(label, {g: c.get(g, 0) for g in grades}) for label, c in head])


@dataclass(frozen=True)
class ChangeItem:
    subject_id: int
    name: str
    old_grade: str
    new_grade: str
    old_score: int
    new_score: int
    changed_at: dt.datetime


async def grade_changes(db: Database, viewer: Viewer, since: dt.datetime, limit: int = 30) -> tuple[int, list[ChangeItem]]:
    """Grade changes since `since` (the start of this month, in local time, from the caller):
    how many in all, and the most recent `limit`."""
    _admin(viewer)
    async with db.transaction() as s:
        total = await s.scalar(select(func.count()).select_from(GradeChange).where(GradeChange.changed_at >= since))
        rows = (
            await s.execute(
                select(GradeChange.subject_id, Subject.name, GradeChange.old_grade, GradeChange.new_grade,
                       GradeChange.old_score, GradeChange.new_score, GradeChange.changed_at)
                .join(Subject, Subject.id == GradeChange.subject_id)
                .where(GradeChange.changed_at >= since)
                .order_by(GradeChange.changed_at.desc(), GradeChange.id.desc())
                .limit(limit)
            )
        ).all()
    return int(total or 0), [ChangeItem(*r) for r in rows]


# -- a department's high-risk subjects -----------------------------------------------------------------


@dataclass(frozen=True)
class RiskItem:
    subject_id: int
    name: str
    grade: str
    score: int
    risk_class: str
    risk_label: str
    inspection: str


async def high_risk_for_department(db: Database, viewer: Viewer, limit: int = 30) -> tuple[int, list[RiskItem]]:
    """Subjects in the high and severe risk classes that the viewer's department holds records of
    (its supervision), worst first, with the suggested inspection frequency from the model."""
    if viewer.role != "official" or viewer.department_id is None:
        raise Refusal("高风险主体清单仅限部门办事人员查看。")
    model = current_model()
    high = RISK_CLASSES[RISK_CLASSES.index("high"):]
    supervised = select(CreditRecord.subject_id).where(CreditRecord.department_id == viewer.department_id)
    where: list[Any] = [SubjectEvaluation.risk_class.in_(high), SubjectEvaluation.subject_id.in_(supervised)]
    async with db.transaction() as s:
        total = await s.scalar(select(func.count()).select_from(SubjectEvaluation).where(*where))
        rows = (
            await s.execute(
                select(Subject.id, Subject.name, SubjectEvaluation.grade, SubjectEvaluation.score, SubjectEvaluation.risk_class)
                .join(Subject, Subject.id == SubjectEvaluation.subject_id)
                .where(*where)
                .order_by(SubjectEvaluation.score, Subject.id)
                .limit(limit * 4)
            )
        ).all()
    items = [
        RiskItem(sid, name, grade, score, risk, model.risk_classes[risk].label, model.risk_classes[risk].inspection)
        for sid, name, grade, score, risk in rows
    ]
    items.sort(key=lambda i: (-RISK_CLASSES.index(i.risk_class), i.score, i.subject_id))
    return int(total or 0), items[:limit]

