"""Benchmark: import N 行政处罚 rows (national 2021 template, CSV) into SQLite.

    python -m bench.importer --rows 100000 [--format xlsx]

Prints one JSON object. Each measurement runs in its own child process so that peak memory (max
RSS) belongs to that measurement alone. Measured in the same run:

- read: the reader alone (every row of the file, no validation or database): CPU rows/s, peak RSS;
  for an .xlsx also `baseline_whole_sheet`, the same file through calamine's whole-sheet load (the
  reader before big sheets were streamed: its memory grows with the rows);
- check: `check_file` (the dry run) on the whole file;
- importer: `import_file` on the whole file — reading, encoding detection, validation of every
  code and date, severity/publication/deadline rules, subject creation, upsert, commit;
- importer_fifth: the same on a file one fifth as long, to show memory stays flat with size;
- baseline "executemany_ceiling": the same number of rows, already built as Python dicts (no file,
  no validation, no lookups), bulk-inserted through the same SQLAlchemy + aiosqlite stack in one
  transaction. Nothing that writes these tables through this stack can be faster; the ratio says how
  much of the ceiling the importer keeps after doing its real work;
- baseline "naive_orm": the obvious implementation — for each row look up the subject, add ORM
  objects, flush — timed on a sample (default 2,000 rows) and reported as rows/s;
- hostile files (`--hostile`, on by default): a 400 MB shared-strings zip bomb, a sheet declaring
  1,048,575 rows, 1,048,575 row elements without a dimension, a cell at column 1,000,000, a truncated
  sheet; each checked by `check_file` in its own process: seconds to the refusal and peak RSS, next to
  the same process checking a normal 3-row XLSX (the floor: interpreter, libraries, migrated database).

`--rows 300000` is the size that used to fail (more than 100,000 distinct subjects).

Targets on the reference machine: ≥ 5,000 rows/s into SQLite, peak memory < 500 MB.

`--file PATH` measures an existing file instead of generating one (an XLSX of 300,000 rows takes
minutes to write); with `--pg --separate` the check and the import each run in their own process and
fresh database, each with its own peak RSS.

PostgreSQL mode (`--pg [DSN]`, default the test server postgresql://postgres@127.0.0.1:5432/test):
the importer alone, into a fresh database it creates, migrates and drops. Besides the whole import
it prints rows/s over the first and the last 10 % of the rows read (each including its batches'
writes) and the seconds after the last row (evaluation of the touched subjects, commit). Equal first
and last rates mean the cost per row does not grow with what the import has already written.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.pgdb import DEFAULT_ADMIN_DSN

TARGET_ROWS_PER_S = 5000
TARGET_PEAK_MB = 500
TODAY = dt.date(2025, 6, 30)


def _peak_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent
    across fork and exec, so every child would report at least the generator's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _rows(n: int):  # type: ignore[no-untyped-def]
    from db.importers import samples

    base = dt.date(2025, 1, 2)
    for i in range(1, n + 1):
        yield samples.penalty_row(i, "2021", decision=base + dt.timedelta(days=i % 150))


def make_file(path: Path, n: int, fmt: str = "csv") -> Path:
    """The benchmark file: CSV (Excel's UTF-8 with BOM) or XLSX (openpyxl's write-only workbook,
    shared strings, as Excel saves it)."""
    from db.importers import samples

    headers = samples.HEADERS[("penalty", "2021")]
    if fmt == "xlsx":
        return samples.write_xlsx(path.with_suffix(".xlsx"), headers, _rows(n))
    return samples.write_csv(path, headers, _rows(n), encoding="utf-8-sig")


async def _fresh_db(url: str):  # type: ignore[no-untyped-def]
    from db import migrate
    from db.session import Database

    db = Database(url)
    await migrate.upgrade(db)
    return db


async def child_importer(file: Path, url: str) -> dict[str, object]:
    from services.imports import import_file

    db = await _fresh_db(url)
    started = time.perf_counter()
    report = await import_file(db, file, id_key="bench-key", today=TODAY)
    seconds = time.perf_counter() - started
    await db.dispose()
    if not report.written:
        raise SystemExit(f"import failed: {report.fatal or report.errors[:3]}")
    return {"rows": report.rows_read, "seconds": round(seconds, 2),
            "rows_per_s": round(report.rows_read / seconds), "peak_rss_mb": _peak_mb()}


async def pg_importer(file: Path, admin_dsn: str) -> dict[str, object]:
    """`check_file` then `import_file` into a fresh PostgreSQL database, the import timed per 1,000
    rows read (the progress hook)."""
    from bench.pgdb import create_database, drop_database
    from services.imports import check_file, import_file

    name, url = await create_database(admin_dsn)
    try:
        db = await _fresh_db(url)
        started = time.perf_counter()
        checked = await check_file(db, file, id_key="bench-key", today=TODAY)
        check_s = time.perf_counter() - started
        if not checked.ok:
            raise SystemExit(f"check failed: {checked.fatal or checked.errors[:3]}")
        marks: dict[int, float] = {}
        started = time.perf_counter()
        report = await import_file(
            db, file, id_key="bench-key", today=TODAY, progress=lambda n: marks.setdefault(n, time.perf_counter())
        )
        ended = time.perf_counter()
        await db.dispose()
    finally:
        await drop_database(admin_dsn, name)
    if not report.written:
        raise SystemExit(f"import failed: {report.fatal or report.errors[:3]}")
    n = report.rows_read
    tenth = max(1000, n // 10 // 1000 * 1000)
    first_s = marks[tenth] - started
    last_s = marks[n] - marks[n - tenth]
    return {
        "rows": n, "seconds": round(ended - started, 2), "rows_per_s": round(n / (ended - started)),
        "first_10pct_rows_per_s": round(tenth / first_s), "last_10pct_rows_per_s": round(tenth / last_s),
        "last_to_first_ratio": round(first_s / last_s, 2),
        "after_last_row_s": round(ended - marks[n], 2), "peak_rss_mb": _peak_mb(),
        "check": {"seconds": round(check_s, 2), "rows_per_s": round(n / check_s)},
    }


def child_read(file: Path, whole_sheet: bool = False) -> dict[str, object]:
    """The reader alone (db/importers/reading.py): every row of the file, no validation, no database.
    `whole_sheet`: an .xlsx read by calamine's whole-sheet load whatever its size (the reader before
    big sheets were streamed), the baseline of the reader's memory in the same run."""
    from db.importers.reading import open_table

    started, cpu = time.perf_counter(), time.process_time()
    if whole_sheet:
        from db.importers.spreadsheet import open_sheet

        rows = sum(1 for _ in open_sheet(file, "xlsx", stream=False)[1])
    else:
        rows = sum(1 for _ in open_table(file).rows)
    cpu = time.process_time() - cpu
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 2), "cpu_s": round(cpu, 2),
            "rows_per_cpu_s": round(rows / cpu), "peak_rss_mb": _peak_mb()}


async def child_pg(file: Path, admin_dsn: str, what: str) -> dict[str, object]:
    """`check_file` or `import_file` alone into a fresh PostgreSQL database, in its own process so
    that its peak RSS is its own."""
    from bench.pgdb import create_database, drop_database
    from services.imports import check_file, import_file

    name, url = await create_database(admin_dsn)
    try:
        db = await _fresh_db(url)
        started = time.perf_counter()
        run = check_file if what == "pgcheck" else import_file
        report = await run(db, file, id_key="bench-key", today=TODAY)
        seconds = time.perf_counter() - started
        await db.dispose()
    finally:
        await drop_database(admin_dsn, name)
    if report.fatal or (what == "pgimport" and not report.written):
        raise SystemExit(f"{what} failed: {report.fatal or report.errors[:3]}")
    return {"rows": report.rows_read, "seconds": round(seconds, 2), "rows_per_s": round(report.rows_read / seconds),
            "peak_rss_mb": _peak_mb()}


async def child_check(file: Path, url: str) -> dict[str, object]:
    """Dry-run check of one (hostile) file: how long until the answer, and the process's peak RSS."""
    from services.imports import check_file

    db = await _fresh_db(url)
    started = time.perf_counter()
    report = await check_file(db, file, id_key="bench-key", today=TODAY)
    seconds = time.perf_counter() - started
    await db.dispose()
    out = {"seconds": round(seconds, 2), "peak_rss_mb": _peak_mb(), "file_kb": round(file.stat().st_size / 1024),
           "answer": report.fatal or f"{report.rows_read} 行，{report.error_count} 处错误"}
    if report.rows_read >= 1000:
        out["rows_per_s"] = round(report.rows_read / seconds)
    return out


def make_hostile(d: Path) -> dict[str, Path]:
    from db.importers import hostile, samples

    normal = samples.write_xlsx(
        d / "normal.xlsx", samples.HEADERS[("penalty", "2021")], [samples.penalty_row(i) for i in range(1, 4)]
    )
    return {
        "normal_3_rows": normal,
        "shared_strings_bomb_400mb": hostile.shared_strings_bomb(d / "bomb.xlsx"),
        "declared_1048575_rows": hostile.huge_dimension(d / "rows.xlsx"),
        "empty_1048575_rows_no_dimension": hostile.empty_rows(d / "empty.xlsx"),
        "cell_at_column_1000000": hostile.wide_row(d / "wide.xlsx"),
        "truncated_sheet": hostile.truncated_sheet(d / "cut.xlsx", rows=2000),
    }


async def child_ceiling(n: int, url: str) -> dict[str, object]:
    from sqlalchemy import insert, select

    from db.models import CreditRecord, Subject

    db = await _fresh_db(url)
    now = dt.datetime.now(dt.UTC)
    subjects = [{"kind": "法人", "name": f"主体{i}", "uscc": f"{i:018d}", "status": "存续",
                 "created_at": now, "updated_at": now} for i in range(n)]
    started = time.perf_counter()
    async with db.transaction() as s:
        await s.execute(insert(Subject), subjects)
        ids = [row[0] for row in await s.execute(select(Subject.id).order_by(Subject.id))]
        records = (
            {"subject_id": ids[i], "category": "行政处罚", "source_key": "X", "source_name": "X",
             "doc_number": f"安市监罚〔2025〕{i}号", "title": "未按规定公示年度报告", "content": "罚款人民币1万元",
             "decision_date": dt.date(2025, 3, 3), "reported_at": now, "late_working_days": 0, "severity": "一般",
             "rule_edition": "2023", "publication_end": dt.date(2026, 3, 3), "status": "active",
             "fields": {"处罚类别": "罚款", "罚款金额（万元）": 1.0, "处罚机关": "安康市市场监督管理局"},
             "created_at": now, "updated_at": now}
            for i in range(n)
        )
        batch: list[dict[str, object]] = []
        for rec in records:
            batch.append(rec)
            if len(batch) == 1000:
                await s.execute(insert(CreditRecord), batch)
                batch = []
        if batch:
            await s.execute(insert(CreditRecord), batch)
    seconds = time.perf_counter() - started
    await db.dispose()
    return {"rows": n, "seconds": round(seconds, 2), "rows_per_s": round(n / seconds), "peak_rss_mb": _peak_mb()}


async def child_naive(file: Path, url: str, sample: int) -> dict[str, object]:
    """Row by row: parse, find the subject by USCC, add ORM objects, flush; one commit at the end."""
    import csv

    from sqlalchemy import select

    from db.models import CreditRecord, Subject

    db = await _fresh_db(url)
    started = time.perf_counter()
    n = 0
    async with db.transaction() as s:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if n >= sample:
                    break
                n += 1
                code = row["行政相对人代码_1（统一社会信用代码）"] or None
                subject = None
                if code:
                    subject = (await s.execute(select(Subject).where(Subject.uscc == code))).scalar_one_or_none()
                if subject is None:
                    subject = Subject(kind="法人", name=row["行政相对人名称"], uscc=code)
                    s.add(subject)
                    await s.flush()
                s.add(CreditRecord(
                    subject_id=subject.id, category="行政处罚", source_key=row["处罚机关统一社会信用代码"],
                    source_name=row["处罚机关"], doc_number=row["行政处罚决定书文号"], title=row["违法行为类型"],
                    content=row["处罚内容"], decision_date=dt.date.fromisoformat(row["处罚决定日期"]),
                    fields={"处罚类别": row["处罚类别"]},
                ))
                await s.flush()
    seconds = time.perf_counter() - started
    await db.dispose()
    return {"rows": n, "seconds": round(seconds, 2), "rows_per_s": round(n / seconds), "peak_rss_mb": _peak_mb()}


def _child(args: list[str]) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "bench.importer", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="行政处罚导入基准测试")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--naive-sample", type=int, default=2000)
    p.add_argument("--format", choices=["csv", "xlsx"], default="csv", help="被导入文件的格式")
    p.add_argument("--no-baselines", action="store_true", help="不测批量插入上限和逐行 ORM 两个基线")
    p.add_argument("--no-hostile", action="store_true", help="不测恶意/异常文件")
    p.add_argument("--pg", nargs="?", const=DEFAULT_ADMIN_DSN, metavar="DSN",
                   help="只测导入程序写入 PostgreSQL（自建并删除临时数据库），输出首尾各 10%% 行的速度")
    p.add_argument("--child", choices=["importer", "ceiling", "naive", "check", "read", "read-whole", "pgcheck", "pgimport"],
                   help=argparse.SUPPRESS)
    p.add_argument("--file", type=Path, help="用已有的文件（不再生成；--rows 仍须与其行数相符，只用于基线）")
    p.add_argument("--separate", action="store_true",
                   help="与 --pg 同用：检查与导入各在自己的进程和新数据库中测，各给峰值内存")
    p.add_argument("--db", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        if args.child == "importer":
            result = asyncio.run(child_importer(args.file, args.db))
        elif args.child == "check":
            result = asyncio.run(child_check(args.file, args.db))
        elif args.child in ("read", "read-whole"):
            result = child_read(args.file, whole_sheet=args.child == "read-whole")
        elif args.child in ("pgcheck", "pgimport"):
            result = asyncio.run(child_pg(args.file, args.db, args.child))
        elif args.child == "ceiling":
            result = asyncio.run(child_ceiling(args.rows, args.db))
        else:
            result = asyncio.run(child_naive(args.file, args.db, args.naive_sample))
        print(json.dumps(result))
        return 0

    if args.pg:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
            big = args.file or make_file(Path(tmp) / "penalty.csv", args.rows, args.format)
            result = {"database": "postgresql", "format": big.suffix.lstrip("."), "load_average": os.getloadavg(),
                      "file_mb": round(big.stat().st_size / 1e6, 1)}
            if args.separate:
                for what in ("pgcheck", "pgimport"):
                    result[what[2:]] = _child(["--child", what, "--file", str(big), "--db", args.pg])
                result["load_average_after"] = os.getloadavg()
            else:
                result["importer"] = asyncio.run(pg_importer(big, args.pg))
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        d = Path(tmp)
        started = time.perf_counter()
        big = args.file or make_file(d / "penalty.csv", args.rows, args.format)
        fifth = None if args.file else make_file(d / "penalty_fifth.csv", max(1, args.rows // 5), args.format)
        gen_seconds = time.perf_counter() - started

        def url(name: str) -> str:
            return f"sqlite+aiosqlite:///{d / name}.sqlite3"

        read = _child(["--child", "read", "--file", str(big)])
        if big.suffix == ".xlsx":  # the same file read by calamine's whole-sheet load: the reader's old memory
            read["baseline_whole_sheet"] = _child(["--child", "read-whole", "--file", str(big)])
        check = _child(["--child", "check", "--file", str(big), "--db", url("chk")])
        importer = _child(["--child", "importer", "--file", str(big), "--db", url("imp")])
        importer_fifth = (_child(["--child", "importer", "--file", str(fifth), "--db", url("imp5")])
                          if fifth else None)
        baselines: dict[str, object] = {}
        if not args.no_baselines:
            ceiling = _child(["--child", "ceiling", "--rows", str(args.rows), "--db", url("ceil")])
            baselines["executemany_ceiling"] = {
                **ceiling, "what": "同一技术栈的批量插入上限：预先构造好的行，无文件解析、无校验、无查找"}
            if big.suffix == ".csv":  # the naive baseline reads CSV only
                naive = _child(["--child", "naive", "--file", str(big), "--db", url("naive"),
                                "--naive-sample", str(args.naive_sample)])
                baselines["naive_orm"] = {**naive, "what": "逐行 ORM：逐行查主体、add、flush（样本行数见 rows）"}
        hostile: dict[str, object] = {}
        if not args.no_hostile:
            for i, (label, path) in enumerate(make_hostile(d).items()):
                hostile[label] = _child(["--child", "check", "--file", str(path), "--db", url(f"check{i}")])
        result = {
            "rows": args.rows,
            "format": big.suffix.lstrip("."),
            "load_average": os.getloadavg(),
            "file_mb": round(big.stat().st_size / 1e6, 1),
            "file_generation_s": round(gen_seconds, 1),
            "read": read,
            "check": check,
            "importer": importer,
            "importer_fifth_file": importer_fifth,
            "baselines": baselines,
            "hostile_files": hostile,
            "target": {"rows_per_s": TARGET_ROWS_PER_S, "peak_rss_mb": TARGET_PEAK_MB},
            "meets_target": importer["rows_per_s"] >= TARGET_ROWS_PER_S  # type: ignore[operator]
            and importer["peak_rss_mb"] < TARGET_PEAK_MB,  # type: ignore[operator]
        }
        for name, base in baselines.items():
            key = "ratio_importer_to_ceiling" if name == "executemany_ceiling" else "speedup_vs_naive_orm"
            result[key] = round(importer["rows_per_s"] / base["rows_per_s"], 2)  # type: ignore[index, operator]
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
