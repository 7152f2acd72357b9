"""Benchmark: the full evaluation run over N subjects (SQLite by default).

    python -m bench.evaluation --subjects 100000

Prints one JSON object. The archive is generated first (subjects with 0-4 records each across
penalties of every severity, licences, rewards, listings, abnormal-list entries, commitments; about
5 % natural persons, who are not scored). Each measurement runs in its own child process so that
peak memory (max RSS) belongs to that measurement alone. Measured in the same run:

- full_run: `db.evaluation.full_run` — set-based reads per id range, scoring, bulk upsert of every
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
import random
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


def _records_for(rng: random.Random, sid: int, next_id: list[int]) -> list[dict[str, object]]:
    from rules.publication import edition_for

    out = []
    for _ in range(rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4))):
        cat = rng.choices(
            ("行政处罚", "行政许可", "行政奖励", "经营异常名录", "严重失信主体名单", "信用承诺", "行政强制", "检查抽查"),
            weights=(30, 35, 8, 8, 1, 8, 4, 6),
        )[0]
        decided = TODAY - dt.timedelta(days=rng.randint(1, 5 * 365))
        severity = rng.choice(("轻微", "一般", "一般", "严重")) if cat in ("行政处罚", "行政强制") else None
        if cat == "严重失信主体名单":
            severity = "严重"
        if cat == "信用承诺" and rng.random() < 0.2:
            severity = "一般"  # a broken commitment
        next_id[0] += 1
        out.append({
            "id": next_id[0], "subject_id": sid, "category": cat, "department_id": None,
            "source_key": "BENCH", "source_name": "基准测试部门", "doc_number": f"B{next_id[0]}",
            "title": f"{cat}事项", "decision_date": decided,
            "valid_until": decided + dt.timedelta(days=rng.choice((365, 3 * 365, 5 * 365))) if cat == "行政许可" else None,
            "severity": severity, "rule_edition": edition_for(decided) if severity else None,
            "status": rng.choices(("active", "repaired", "expired"), weights=(90, 5, 5))[0],
            "late_working_days": 0, "fields": {},
        })
    return out


async def child_populate(url: str, n: int) -> dict[str, object]:
    from sqlalchemy import insert

    from db import migrate
    from db.models import CreditRecord, Subject
    from rules.codes import complete_uscc

    db = await _db(url)
    await migrate.upgrade(db)
    rng = random.Random(17)
    started = time.perf_counter()
    next_id = [0]
    records = 0
    batch = 20_000
    for lo in range(1, n + 1, batch):
        subjects, recs = [], []
        for sid in range(lo, min(n, lo + batch - 1) + 1):
            person = rng.random() < 0.05
            subjects.append({
                "id": sid, "kind": "自然人" if person else "法人", "name": f"安康市基准{sid:07d}建材有限公司",
                "uscc": None if person else complete_uscc(f"91610902{sid:09d}"), "division_code": "610902",
                "status": "存续",
            })
            recs += _records_for(rng, sid, next_id)
        async with db.transaction() as s:
            await s.execute(insert(Subject), subjects)
            if recs:
                await s.execute(insert(CreditRecord), recs)
        records += len(recs)
    await db.dispose()
    return {"subjects": n, "records": records, "seconds": round(time.perf_counter() - started, 1)}


async def child_full(url: str) -> dict[str, object]:
    from db.evaluation import full_run

    db = await _db(url)
    started = time.perf_counter()
    first = await full_run(db, TODAY)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = await full_run(db, TODAY + dt.timedelta(days=1))
    second_s = time.perf_counter() - started
    await db.dispose()
    return {
        "subjects": first.subjects, "evaluated": first.evaluated, "warnings": first.warnings,
        "seconds": round(first_s, 1), "subjects_per_s": round(first.subjects / first_s),
        "second_run_seconds": round(second_s, 1), "second_run_grade_changes": second.grade_changes,
        "peak_rss_mb": _peak_mb(),
    }


async def child_orm_loop(url: str, sample: int) -> dict[str, object]:
    from sqlalchemy import select

    from db.evaluation_data import current_model
    from db.models import CreditRecord, Subject
    from db.models_evaluation import SubjectEvaluation
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
    p.add_argument("--child", choices=["populate", "full", "orm"], help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        if args.child == "populate":
            result = asyncio.run(child_populate(args.db, args.subjects))
        elif args.child == "full":
            result = asyncio.run(child_full(args.db))
        else:
            result = asyncio.run(child_orm_loop(args.db, args.orm_sample))
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        main_db = f"sqlite+aiosqlite:///{Path(tmp) / 'full.sqlite3'}"
        orm_db = f"sqlite+aiosqlite:///{Path(tmp) / 'orm.sqlite3'}"
        archive = _child(["--child", "populate", "--subjects", str(args.subjects), "--db", main_db])
        _child(["--child", "populate", "--subjects", str(args.orm_sample), "--db", orm_db])
        full = _child(["--child", "full", "--db", main_db])
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
