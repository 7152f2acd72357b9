"""Benchmark: the full evaluation run over N subjects (SQLite by default).

    python -m bench.evaluation --subjects 100000

Prints one JSON object. The archive is generated first, inside SQLite (subjects with 0-4 records
each across penalties of every severity, licences, rewards, listings, abnormal-list entries,
commitments, some repaired or expired; 5 % natural persons, who are not scored). Each measurement runs in its own child process so that
peak memory (max RSS) belongs to that measurement alone. Measured in the same run:

- full_run: `services.evaluation.full_run` — set-based reads per id range, scoring, bulk upsert of every
  evaluation, grade changes and warnings; then a second full run over the same archive (every
  subject already has a grade: the steady-state nightly run, which also compares grades);
- baseline "orm_loop": the obvious implementation — for each subject load it and its records as
  ORM objects, score with the same rules, `merge` a SubjectEvaluation — timed on a sample (default
  2,000 subjects) and extrapolated to N.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TODAY = dt.date(2026, 11, 30)


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def _db(url: str):  # type: ignore[no-untyped-def]
    from db.session import Database

    return Database(url)


_SUBJECTS_SQL = """
WITH RECURSIVE seq(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM seq WHERE i < :hi)
INSERT INTO subjects (id, kind, name, uscc, division_code, status, created_at, updated_at)
SELECT i, CASE WHEN i % 20 = 0 THEN '自然人' ELSE '法人' END,
       '安康市基准' || printf('%07d', i) || '建材有限公司',
       CASE WHEN i % 20 = 0 THEN NULL ELSE printf('91610902%010d', i) END,
       '610902', '存续', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'
FROM seq
"""

# Record k (0-3) of subject i exists for about 1.6 records per subject; its category, age, severity
# and status come from fixed hashes of (i, k), so every run builds the same archive.
_RECORDS_SQL = """
WITH RECURSIVE seq(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM seq WHERE i < :hi),
r AS (
  SELECT i, k, (i * 7919 + k * 104729) % 100 AS h, (i * 31 + k * 17) % 100 AS c,
         date('2026-11-30', '-' || ((i * 37 + k * 101) % 1825 + 1) || ' days') AS d
  FROM seq, (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)
  WHERE (i * 13 + k * 7) % 10 < CASE k WHEN 0 THEN 7 WHEN 1 THEN 5 WHEN 2 THEN 3 ELSE 1 END
),
t AS (
  SELECT i, k, h, d,
         CASE WHEN c < 30 THEN '行政处罚' WHEN c < 65 THEN '行政许可' WHEN c < 73 THEN '行政奖励'
              WHEN c < 81 THEN '经营异常名录' WHEN c < 82 THEN '严重失信主体名单' WHEN c < 90 THEN '信用承诺'
              WHEN c < 94 THEN '行政强制' ELSE '检查抽查' END AS cat
  FROM r
)
INSERT INTO credit_records (subject_id, category, source_key, source_name, doc_number, title, decision_date,
  valid_until, reported_at, late_working_days, severity, rule_edition, status, fields, created_at, updated_at)
SELECT i, cat, 'BENCH', '基准测试部门', 'B' || i || '-' || k, cat || '事项', d,
  CASE WHEN cat = '行政许可' THEN date(d, '+' || (1 + h % 5) || ' years') END,
  '2026-01-01 00:00:00.000000', 0,
  CASE WHEN cat IN ('行政处罚', '行政强制') THEN CASE h % 4 WHEN 0 THEN '轻微' WHEN 3 THEN '严重' ELSE '一般' END
       WHEN cat = '严重失信主体名单' THEN '严重' WHEN cat = '信用承诺' AND h % 5 = 0 THEN '一般' END,
  CASE WHEN d < '2023-05-01' THEN '2019' WHEN d < '2026-04-01' THEN '2023' ELSE '2026' END,
  CASE WHEN h < 90 THEN 'active' WHEN h < 95 THEN 'repaired' ELSE 'expired' END,
  '{}', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000'
FROM t
"""


async def child_populate(url: str, n: int) -> dict[str, object]:
    """The archive, generated inside SQLite with recursive CTEs: a million subjects in seconds."""
    from sqlalchemy import func, select, text

    from db import migrate
    from db.models import CreditRecord

    db = await _db(url)
    await migrate.upgrade(db)
    started = time.perf_counter()
    batch = 200_000
    for lo in range(1, n + 1, batch):
        params = {"lo": lo, "hi": min(n, lo + batch - 1)}
        async with db.transaction() as s:
            await s.execute(text(_SUBJECTS_SQL), params)
            await s.execute(text(_RECORDS_SQL), params)
    async with db.transaction() as s:
        records = await s.scalar(select(func.count()).select_from(CreditRecord))
    await db.dispose()
    return {"subjects": n, "records": records, "seconds": round(time.perf_counter() - started, 1)}


async def child_full(url: str, second: bool) -> dict[str, object]:
    from services.evaluation import full_run

    db = await _db(url)
    started = time.perf_counter()
    first = await full_run(db, TODAY)
    first_s = time.perf_counter() - started
    out: dict[str, object] = {
        "subjects": first.subjects, "evaluated": first.evaluated, "warnings": first.warnings,
        "seconds": round(first_s, 1), "subjects_per_s": round(first.subjects / first_s),
    }
    if second:
        started = time.perf_counter()
        again = await full_run(db, TODAY + dt.timedelta(days=1))
        out["second_run_seconds"] = round(time.perf_counter() - started, 1)
        out["second_run_grade_changes"] = again.grade_changes
    await db.dispose()
    return {**out, "peak_rss_mb": _peak_mb()}


async def child_orm_loop(url: str, sample: int) -> dict[str, object]:
    from sqlalchemy import select

    from db.evaluation_data import current_model
    from db.models import CreditRecord, Subject, SubjectEvaluation
    from rules import evaluation as ev

    model = current_model()
    db = await _db(url)
    started = time.perf_counter()
    async with db.transaction() as s:
        for sid in range(1, sample + 1):
            subject = await s.get(Subject, sid)
            if subject is None or not ev.scored(model, subject.kind):
                continue
            rows = (await s.scalars(select(CreditRecord).where(CreditRecord.subject_id == sid))).all()
            facts = [ev.Fact(f"record:{r.id}", r.category, r.status, r.decision_date, r.severity, r.publication_end,
                             r.rule_edition, r.valid_until, r.title) for r in rows]
            result = ev.evaluate(model, facts, TODAY)
            await s.merge(SubjectEvaluation(subject_id=sid, model_version=model.version, score=result.score,
                                            grade=result.grade, risk_class="low", explanation={}))
    seconds = time.perf_counter() - started
    await db.dispose()
    return {"subjects": sample, "seconds": round(seconds, 2), "subjects_per_s": round(sample / seconds), "peak_rss_mb": _peak_mb()}


def _child(args: list[str]) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "bench.evaluation", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="信用评价全量计算基准测试")
    p.add_argument("--subjects", type=int, default=100_000)
    p.add_argument("--orm-sample", type=int, default=2000)
    p.add_argument("--no-second-run", action="store_true", help="不测第二次全量计算（已有评价结果时）")
    p.add_argument("--child", choices=["populate", "full", "orm"], help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        if args.child == "populate":
            result = asyncio.run(child_populate(args.db, args.subjects))
        elif args.child == "full":
            result = asyncio.run(child_full(args.db, not args.no_second_run))
        else:
            result = asyncio.run(child_orm_loop(args.db, args.orm_sample))
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        main_db = f"sqlite+aiosqlite:///{Path(tmp) / 'full.sqlite3'}"
        orm_db = f"sqlite+aiosqlite:///{Path(tmp) / 'orm.sqlite3'}"
        archive = _child(["--child", "populate", "--subjects", str(args.subjects), "--db", main_db])
        _child(["--child", "populate", "--subjects", str(args.orm_sample), "--db", orm_db])
        full = _child(["--child", "full", "--db", main_db, *(["--no-second-run"] if args.no_second_run else [])])
        orm = _child(["--child", "orm", "--orm-sample", str(args.orm_sample), "--db", orm_db])
        result = {
            "archive": archive,
            "full_run": full,
            "baselines": {
                "orm_loop": {
                    **orm,
                    "extrapolated_seconds_for_all": round(args.subjects / orm["subjects_per_s"]),  # type: ignore[operator]
                    "what": "逐个主体：ORM 读取主体及其记录、同一规则计分、merge 写入（样本主体数见 subjects）",
                },
            },
            "speedup_vs_orm_loop": round(full["subjects_per_s"] / orm["subjects_per_s"], 1),  # type: ignore[operator]
        }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
