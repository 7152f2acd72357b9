"""Evaluation use cases: recompute the subjects whose records changed, and the full run.

Both go through `evaluate_batch`, so a score never depends on which path computed it. A batch reads
its subjects' records, declarations, previous evaluations and watchers with a handful of set-based
SELECTs (plain rows, no ORM objects), scores in memory with rules.evaluation, and writes with bulk
statements: one upsert of the evaluations, one insert of grade changes, one INSERT ... ON CONFLICT
DO NOTHING of the warnings (unique per subject and cause, so a cause fires once even when two
processes evaluate the same subject). The full run walks the subjects in id ranges, one transaction
per range, so memory stays flat and no lock is held for long.

Hooks: every use case that changes a subject's records calls `refresh_subjects(session, ids, today)`
inside its own transaction, so the grade is current when the transaction commits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.evaluation_data import current_model
from db.models import (
    CreditRecord,
    Declaration,
    GradeChange,
    RiskWarning,
    Subject,
    SubjectEvaluation,
    WatchSubscription,
    utcnow,
)
from db.session import Database
from db.upsert import dialect_insert
from rules import evaluation as ev

THREAD_ABOVE = 500  # subjects: score a larger batch in a worker thread
ID_CHUNK = 2_000  # subject ids per IN (...) list: well under both backends' parameter limits
# Subject ids per transaction in the full run: reading and writing a range is CPU work on the event
# loop (SQLAlchemy rows and parameters), so a smaller range keeps each such step short for the bot.
RANGE = 5_000
NEW_RECORD = "new_record"


@dataclass
class RunStats:
    subjects: int = 0
    evaluated: int = 0
    grade_changes: int = 0
    warnings: int = 0

    def add(self, other: RunStats) -> None:
        self.subjects += other.subjects
        self.evaluated += other.evaluated
        self.grade_changes += other.grade_changes
        self.warnings += other.warnings


def _dialect_insert(session: AsyncSession, table: Any) -> Any:
    return dialect_insert(session.bind.dialect.name)(table)


def _upsert(session: AsyncSession) -> Any:
    """INSERT ... ON CONFLICT (subject_id) DO UPDATE, executed with many parameter sets (Core
    executemany: one compiled statement, batched by the driver layer)."""
    stmt = _dialect_insert(session, SubjectEvaluation.__table__)
    cols = ("model_version", "score", "grade", "risk_class", "explanation", "computed_at")
    return stmt.on_conflict_do_update(index_elements=["subject_id"], set_={c: stmt.excluded[c] for c in cols})


def _insert_warnings(session: AsyncSession) -> Any:
    """INSERT ... ON CONFLICT (subject_id, cause) DO NOTHING RETURNING id: only new causes come back."""
    stmt = _dialect_insert(session, RiskWarning.__table__)
    return stmt.on_conflict_do_nothing(index_elements=["subject_id", "cause"]).returning(RiskWarning.__table__.c.id)


def _facts(rows: Iterable[Any]) -> dict[int, list[ev.Fact]]:
    out: dict[int, list[ev.Fact]] = defaultdict(list)
    for r in rows:
        out[r.subject_id].append(
            ev.Fact(
                ref=f"record:{r.id}", category=r.category, status=r.status, decision_date=r.decision_date,
                severity=r.severity, publication_end=r.publication_end, rule_edition=r.rule_edition,
                valid_until=r.valid_until, title=r.title, department_id=r.department_id,
            )
        )
    return out


class Scope:
    """Which subjects a batch covers: an explicit id list (hooks) or an id range (the full run)."""

    def __init__(self, ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None) -> None:
        assert (ids is None) != (id_range is None)
        self.ids = list(ids) if ids is not None else None
        self.id_range = id_range

    def on(self, column: Any) -> ColumnElement[bool]:
        if self.ids is not None:
            return column.in_(self.ids)
        assert self.id_range is not None
        return column.between(*self.id_range)


def _slices(rows: list[dict[str, Any]], size: int = 1_000) -> Iterable[list[dict[str, Any]]]:
    return (rows[i : i + size] for i in range(0, len(rows), size))


def _score(
    model: ev.Model, ids: list[int], facts: dict[int, list[ev.Fact]], previous: dict[int, Any],
    new_records: dict[int, list[Any]], today: dt.date, now: dt.datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows to write for `ids`: evaluations, grade changes, warnings (no I/O)."""
    upserts: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for sid in ids:
        subject_facts = facts.get(sid, [])
        result = ev.evaluate(model, subject_facts, today)
        prev = previous.get(sid)
        old_grade = prev.grade if prev else None
        fired = ev.warnings_for(model, subject_facts, today, old_grade, result.grade)
        upserts.append({
            "subject_id": sid, "model_version": model.version, "score": result.score, "grade": result.grade,
            "risk_class": ev.risk_class(model, result.grade, fired), "computed_at": now,
            "explanation": {
                "top": [
                    {"ref": c.ref, "indicator": c.indicator, "label": c.label, "points": round(c.points, 1),
                     "date": c.decision_date.isoformat(), "title": c.title}
                    for c in result.top
                ],
                "capped": list(result.capped),
            },
        })
        if prev is not None and prev.grade != result.grade:
            changes.append({
                "subject_id": sid, "model_version": model.version, "old_grade": prev.grade, "new_grade": result.grade,
                "old_score": prev.score, "new_score": result.score, "changed_at": now,
            })
        for w in fired:
            warnings.append({"subject_id": sid, "rule": w.rule, "cause": w.cause[:96], "label": w.label, "risk": w.risk,
                             "audience": "departments", "created_at": now})
        for r in new_records.get(sid, []):
            warnings.append({"subject_id": sid, "rule": NEW_RECORD, "cause": f"{NEW_RECORD}:record:{r.id}",
                             "label": f"关注主体新增{r.category}记录：{r.title or ''}".rstrip("："), "risk": "low",
                             "audience": "watchers", "created_at": now})
    return upserts, changes, warnings


async def evaluate_batch(
    s: AsyncSession, scope: Scope, today: dt.date, now: dt.datetime, model: ev.Model | None = None
) -> RunStats:
    """Evaluate the subjects in `scope` inside the caller's transaction. Natural persons are skipped
    unless the model scores them (and keep no evaluation)."""
    model = model or current_model()
    stats = RunStats()
    kinds = dict((await s.execute(select(Subject.id, Subject.kind).where(scope.on(Subject.id)))).all())
    stats.subjects = len(kinds)
    ids = sorted(i for i, kind in kinds.items() if ev.scored(model, kind))
    if not ids:
        return stats
    records = (
        await s.execute(
            select(
                CreditRecord.id, CreditRecord.subject_id, CreditRecord.category, CreditRecord.status,
                CreditRecord.decision_date, CreditRecord.severity, CreditRecord.publication_end,
                CreditRecord.rule_edition, CreditRecord.valid_until, CreditRecord.title,
                CreditRecord.department_id, CreditRecord.created_at,
            ).where(scope.on(CreditRecord.subject_id))
        )
    ).all()
    facts = await asyncio.to_thread(_facts, records) if len(records) > THREAD_ABOVE else _facts(records)
    for d in (
        await s.execute(
            select(Declaration.id, Declaration.subject_id, Declaration.status, Declaration.submitted_on, Declaration.decided_at)
            .where(scope.on(Declaration.subject_id), Declaration.status.in_(("verified", "revoked")))
        )
    ).all():
        day = d.decided_at.date() if d.decided_at else (d.submitted_on or today)
        facts[d.subject_id].append(ev.Fact(f"declaration:{d.id}", ev.DECLARATION, d.status, day))
    previous = {
        r.subject_id: r
        for r in (
            await s.execute(
                select(SubjectEvaluation.subject_id, SubjectEvaluation.grade, SubjectEvaluation.score, SubjectEvaluation.computed_at)
                .where(scope.on(SubjectEvaluation.subject_id))
            )
        ).all()
    }
    watched = set((await s.scalars(select(WatchSubscription.subject_id).where(scope.on(WatchSubscription.subject_id)).distinct())).all())
    new_records: dict[int, list[Any]] = defaultdict(list)
    for r in records:
        prev = previous.get(r.subject_id)
        if r.subject_id in watched and prev is not None and r.created_at > prev.computed_at:
            new_records[r.subject_id].append(r)

    args = (model, ids, facts, previous, new_records, today, now)
    # Scoring is pure CPU (about 0.2 ms a subject): a full run's range goes to a worker thread so the
    # bot keeps answering; a hook's handful of subjects is cheaper than the hand-over.
    upserts, changes, warnings = await asyncio.to_thread(_score, *args) if len(ids) > THREAD_ABOVE else _score(*args)
    conn = await s.connection()
    # In slices: binding parameters is CPU work on the event loop too.
    for part in _slices(upserts):
        await conn.execute(_upsert(s), part)
    for part in _slices(changes):
        await conn.execute(GradeChange.__table__.insert(), part)
    for part in _slices(warnings):
        stats.warnings += len((await conn.execute(_insert_warnings(s), part)).all())
    stats.evaluated = len(upserts)
    stats.grade_changes = len(changes)
    return stats


async def refresh_subjects(s: AsyncSession, subject_ids: Iterable[int], today: dt.date, now: dt.datetime | None = None) -> RunStats:
    """Re-evaluate these subjects inside the caller's transaction (the hook for changed records)."""
    ids = sorted({int(i) for i in subject_ids if i is not None})
    stats = RunStats()
    now = now or utcnow()
    for i in range(0, len(ids), ID_CHUNK):
        stats.add(await evaluate_batch(s, Scope(ids=ids[i : i + ID_CHUNK]), today, now))
    return stats


async def evaluate_subject(db: Database, subject_id: int, today: dt.date) -> RunStats:
    async with db.transaction() as s:
        return await refresh_subjects(s, [subject_id], today)


async def full_run(db: Database, today: dt.date, now: dt.datetime | None = None, range_size: int = RANGE) -> RunStats:
    """Every subject, in id ranges of `range_size`, one transaction per range."""
    now = now or utcnow()
    async with db.transaction() as s:
        lo, hi = (await s.execute(select(func.min(Subject.id), func.max(Subject.id)))).one()
    stats = RunStats()
    if lo is None:
        return stats
    start = lo
    while start <= hi:
        end = start + range_size
        async with db.transaction() as s:
            stats.add(await evaluate_batch(s, Scope(id_range=(start, end - 1)), today, now))
        start = end
    return stats


def subjects_of(rows: Sequence[Any]) -> set[int]:
    """The subject ids in rows that carry a `subject_id` key or attribute (writer batches, ORM rows)."""
    out = set()
    for r in rows:
        sid = r.get("subject_id") if isinstance(r, dict) else getattr(r, "subject_id", None)
        if sid is not None:
            out.add(int(sid))
    return out
