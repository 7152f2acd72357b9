"""Evaluation in the database, on SQLite and PostgreSQL: the migration, the full run, recomputation
and grade changes, warnings stored once per subject and cause, natural persons skipped."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update

from db.importers import samples as S
from db.models import Account, Base, CreditRecord, GradeChange, RiskWarning, SubjectEvaluation
from db.session import Database
from rules.codes import complete_uscc
from rules.roles import Viewer
from services import evaluation as uc
from services.imports import import_file
from services.objections import Attachment
from services.repair import apply_for_repair, decide_repair
from tests.test_lifecycle_support import HUATAI, add_record, add_subject, dept_id

TODAY = dt.date(2026, 11, 30)


async def evaluation_of(db: Database, subject_id: int) -> SubjectEvaluation | None:
    async with db.transaction() as s:
        return await s.get(SubjectEvaluation, subject_id)


async def test_migration_matches_the_evaluation_models(db: Database) -> None:
    def diff(connection) -> list:  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_full_run_scores_every_company_and_skips_persons(db: Database) -> None:
    dept = await dept_id(db)
    clean = await add_subject(db, "安康市华泰商贸有限公司", HUATAI)
    bad = await add_subject(db)
    person = await add_subject(db, "张伟", None, kind="自然人")
    await add_record(db, bad, dept, "行政处罚", "安市监罚〔2026〕101号", dt.date(2026, 10, 1), severity="严重")
    await add_record(db, bad, dept, "行政处罚", "安市监罚〔2026〕55号", dt.date(2026, 3, 1), severity="一般")
    await add_record(db, person, dept, "行政处罚", "安市监罚〔2026〕7号", dt.date(2026, 10, 1), severity="严重")
    # range_size 2: several ranges, so the walk over id ranges is exercised
    stats = await uc.full_run(db, TODAY, range_size=2)
    assert (stats.subjects, stats.evaluated) == (3, 2)
    assert await evaluation_of(db, person) is None
    good = await evaluation_of(db, clean)
    assert good is not None and (good.score, good.grade, good.risk_class, good.model_version) == (700, "良", "low", "2026.1")
    worst = await evaluation_of(db, bad)
    assert worst is not None and (worst.score, worst.grade) == (510, "差")  # 700 - 150 - 40
    assert worst.risk_class == "high"
    assert [(t["indicator"], t["points"]) for t in worst.explanation["top"]] == [("penalty", -150), ("penalty", -40)]
    async with db.transaction() as s:
        causes = sorted((await s.scalars(select(RiskWarning.cause).where(RiskWarning.subject_id == bad))).all())
    assert [c.split(":")[0] for c in causes] == ["repeat_penalty", "severe_penalty"]
    again = await uc.full_run(db, TODAY)
    assert again.warnings == 0 and again.grade_changes == 0  # a cause fires once


async def test_repair_and_new_records_recompute_and_log_grade_changes(db: Database) -> None:
    dept = await dept_id(db)
    sid = await add_subject(db)
    await uc.evaluate_subject(db, sid, TODAY)
    assert (await evaluation_of(db, sid)).grade == "良"  # type: ignore[union-attr]
    rid = await add_record(db, sid, dept, "严重失信主体名单", "安市监黑〔2026〕1号", dt.date(2026, 11, 1), severity="严重")
    async with db.transaction() as s:
        await uc.refresh_subjects(s, [sid], TODAY)
    after = await evaluation_of(db, sid)
    assert after is not None and (after.score, after.grade, after.risk_class) == (400, "差", "severe")
    async with db.transaction() as s:
        await s.execute(update(CreditRecord).where(CreditRecord.id == rid).values(status="repaired"))
        await uc.refresh_subjects(s, [sid], TODAY)
    assert (await evaluation_of(db, sid)).score == 700  # type: ignore[union-attr]
    async with db.transaction() as s:
        changes = (await s.execute(select(GradeChange.old_grade, GradeChange.new_grade).order_by(GradeChange.id))).all()
        rules = sorted((await s.scalars(select(RiskWarning.rule).where(RiskWarning.subject_id == sid))).all())
    assert [tuple(c) for c in changes] == [("良", "差"), ("差", "良")]
    assert rules == ["grade_drop", "listing"]


async def test_two_processes_evaluating_at_once_store_each_warning_once(db: Database) -> None:
    dept = await dept_id(db)
    sid = await add_subject(db, "安康市兴达运输有限公司", complete_uscc("91610902MA70XD005"))
    await add_record(db, sid, dept, "经营异常名录", "安市监异〔2026〕9号", dt.date(2026, 11, 1), severity=None)
    other = Database(db.url)  # a second process: its own engine and connections
    try:
        await asyncio.gather(uc.evaluate_subject(db, sid, TODAY), uc.evaluate_subject(other, sid, TODAY))
    finally:
        await other.dispose()
    async with db.transaction() as s:
        assert (await s.scalars(select(RiskWarning.cause).where(RiskWarning.subject_id == sid))).all() == [
            f"listing:record:{(await s.scalar(select(CreditRecord.id)))}"
        ]


async def test_an_import_refreshes_the_grades_of_its_subjects(db: Database, tmp_path: Path) -> None:
    rows = [S.penalty_row(i, "2021", dt.date(2026, 10, 1), person_every=0) for i in (1, 2)]
    path = S.write_csv(tmp_path / "penalties.csv", S.HEADERS[("penalty", "2021")], rows)
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert report.written
    async with db.transaction() as s:
        got = (await s.execute(select(SubjectEvaluation.score, SubjectEvaluation.grade))).all()
    assert sorted(tuple(r) for r in got) == [(660, "中"), (660, "中")]  # 700 - 40 (一般, two months old)


async def test_an_approved_repair_takes_the_record_out_of_the_score(db: Database) -> None:
    sid = await add_subject(db)
    dept = await dept_id(db)
    async with db.transaction() as s:
        s.add_all([Account(id=1, role="enterprise"), Account(id=2, role="official", department_id=dept)])
    rid = await add_record(db, sid, dept, "行政处罚", "安市监罚〔2026〕3号", dt.date(2026, 4, 10))
    await uc.evaluate_subject(db, sid, TODAY)
    assert (await evaluation_of(db, sid)).score == 660  # type: ignore[union-attr]
    owner = Viewer(account_id=1, role="enterprise", subject_ids=frozenset({sid}))
    filed = await apply_for_repair(db, owner, rid, True, [Attachment("p1", "photo")], "我承诺依法诚信经营", TODAY)
    await decide_repair(db, Viewer(account_id=2, role="official", department_id=dept), filed.request_id, True, "已缴清罚款", TODAY)
    assert (await evaluation_of(db, sid)).score == 700  # type: ignore[union-attr]
