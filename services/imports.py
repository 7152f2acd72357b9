"""The importer as a library: the CLI (`creditbot import`) and the chat upload both call this.

All rows or none. The file is streamed once; rows are validated one by one and written in batches
inside a single transaction, so memory stays flat with file size. At the first invalid row writing
stops (validation goes on, so the report lists every problem) and at the end the transaction is
rolled back: a file is never half-loaded.

The chat first calls `check_file`, shows the summary and writes only after the collector confirms.
`check_file` runs in a plain read session, never a write transaction, so nothing is locked while
the bot waits for a human.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.catalogue import current_catalogue
from db.importers.failures import failure_reason
from db.importers.ownership import Ownership, other_department_keys
from db.importers.reading import Cell, ReadError, open_table
from db.importers.rows import Context, DeptInfo, RecordRow, RowError, RowInvalid, SubjectRow
from db.importers.templates import KIND_LABELS, KINDS, detect, sheet_names_for
from db.importers.validate import RowValidator
from db.importers.writer import MissingSubject, Writer
from db.leases import import_gate
from db.models import Department
from db.session import Database
from db.transient import ATTEMPTS, backoff, failure_kind, is_transient
from rules.canonical import canonical_key
from rules.masking import scrub
from rules.severity import rules_for
from rules.workcal import WorkCalendar
from services.departments import list_departments, unknown_department_text
from services.evaluation import refresh_subjects
from services.repair_documents import after_import

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
PROGRESS_EVERY = 1000
# Parsing and checking run on the event loop. Alone (the CLI) the importer hands the loop back every
# 10 ms; inside the bot (`share_loop`) it works 5 ms, then rests 1 ms so that other users' database
# answers are taken in, instead of each of their round trips waiting behind a full slice.
YIELD_EVERY_S = 0.01
SHARED_SLICE_S = 0.005
SHARED_PAUSE_S = 0.001
HEADER_SCAN_ROWS = 10
MAX_STORED_ERRORS = 1000

__all__ = ["AfterWrite", "ImportReport", "RowError", "check_file", "format_report", "import_file"]


@dataclass
class ImportReport:
    """What an import found and did. `fatal` is set when the file could not be processed at all."""

    file_label: str
    kind: str | None = None
    edition: str | None = None  # "2021" national / "2016" legacy, for penalty and license files
    template: str | None = None
    rows_read: int = 0
    new: int = 0
    updating: int = 0
    unchanged: int = 0
    subjects_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    # Columns that repeat another one after normalising headers: (header as written, the first column's).
    duplicate_columns: list[tuple[str, str]] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    fatal: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    seconds: float = 0.0
    attempts: int = 1  # transactions run: more than one when a deadlock or lock was retried
    # Over the valid record rows: the earliest reporting deadline, and rows per category (the chat
    # upload keeps both for its reminders and its confirmation).
    earliest_due: dt.date | None = None
    categories: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.fatal is None and self.error_count == 0

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(error)


AfterWrite = Callable[[AsyncSession, "ImportReport"], Awaitable[None]]


class _Rollback(Exception):
    """Raised inside the transaction to undo every batch written so far."""


def _blank(cells: list[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


async def _department(db: Database, code: str) -> tuple[DeptInfo, Ownership] | None:
    """The importing department and what its rows may name (every other department's name and code)."""
    async with db.sessions() as session:
        wanted = {code.strip(), canonical_key(code)}  # full-width or lower-case codes typed by hand
        dept = (await session.execute(select(Department).where(Department.code.in_(wanted)))).scalars().first()
        if dept is None:
            return None
        info = DeptInfo(dept.id, dept.code, dept.name, dept.uscc)
        everyone = (await session.execute(select(Department.id, Department.name, Department.uscc))).all()
        others = other_department_keys([(r.id, r.name, r.uscc) for r in everyone], dept.id)
        return info, Ownership(info, others)


async def import_file(
    db: Database,
    path: Path,
    *,
    kind: str | None = None,
    dept_code: str | None = None,
    dry_run: bool = False,
    id_key: str,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    file_label: str | None = None,
    calendar: WorkCalendar | None = None,
    batch_size: int = BATCH_SIZE,
    after_write: AfterWrite | None = None,
    share_loop: bool = False,
) -> ImportReport:
    """Validate a file and, unless `dry_run` or any row is invalid, load it in one transaction.

    `progress` is called with the number of rows read so far (every 1,000 rows and at the end).
    `file_label` names the file in the history (the chat passes the uploaded file name).
    `after_write(session, report)` runs inside the writing transaction just before it commits, so
    what the caller records about the import (an upload marked confirmed) commits with the rows or
    not at all. A transient database failure runs the whole transaction again (db/transient.py)."""
    started = time.perf_counter()
    path = Path(path)
    if kind is not None and kind not in KINDS:
        report = ImportReport(file_label=file_label or path.name, dry_run=dry_run)
        report.fatal = f"未知的导入类型“{kind}”（应为 {'、'.join(KINDS)} 之一）"
        return report
    today = today or dt.date.today()
    for attempt in range(1, ATTEMPTS + 1):
        report = ImportReport(file_label=file_label or path.name, dry_run=dry_run)
        try:
            await _run(
                db, path, report, kind, dept_code, dry_run, id_key, today, progress, calendar, batch_size, after_write,
                retry=attempt > 1, share_loop=share_loop,
            )
        except ReadError as exc:
            report.fatal = str(exc)
        except _Rollback:
            pass
        except (SQLAlchemyError, MissingSubject) as exc:
            # A deadlock, a serialization failure, a locked SQLite, or another import writing the same
            # record first: the whole transaction again, which then reads what the other one wrote.
            if attempt < ATTEMPTS and isinstance(exc, SQLAlchemyError) and is_transient(exc, concurrent_insert=True):
                delay = backoff(attempt)
                log.warning("导入 %s 遇到数据库并发冲突（%s），%.2f 秒后重试", scrub(report.file_label), failure_kind(exc), delay)
                await asyncio.sleep(delay)
                continue
            # The class name only: str(exc) carries the statement and its parameters (personal data).
            log.error("导入 %s 写入数据库失败：%s", scrub(report.file_label), type(exc).__name__)
            report.fatal = failure_reason(exc)
        except Exception as exc:  # a bug must still end in one Chinese sentence, not a silent chat
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error(
                "导入 %s 意外失败：%s（%s:%s）", scrub(report.file_label), type(exc).__name__,
                Path(where.filename).name, where.lineno,
            )
            report.fatal = "导入程序内部错误，未写入任何数据，请将文件交给系统管理员处理"
        break
    report.attempts = attempt
    if report.fatal or report.error_count:
        report.written = False
    report.seconds = time.perf_counter() - started
    log.info(
        "导入 %s：%s 行，新增 %s，更新 %s，未变 %s，错误 %s，%s",
        scrub(report.file_label), report.rows_read, report.new, report.updating, report.unchanged,
        report.error_count, "已写入" if report.written else "未写入",
    )
    return report


async def check_file(
    db: Database,
    path: Path,
    *,
    kind: str | None = None,
    dept_code: str | None = None,
    id_key: str,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    file_label: str | None = None,
    calendar: WorkCalendar | None = None,
    share_loop: bool = False,
) -> ImportReport:
    """Validate and classify without writing (what the chat shows before the collector confirms)."""
    return await import_file(
        db, path, kind=kind, dept_code=dept_code, dry_run=True, id_key=id_key, today=today,
        progress=progress, file_label=file_label, calendar=calendar, share_loop=share_loop,
    )


async def _run(
    db: Database,
    path: Path,
    report: ImportReport,
    kind: str | None,
    dept_code: str | None,
    dry_run: bool,
    id_key: str,
    today: dt.date,
    progress: Callable[[int], None] | None,
    calendar: WorkCalendar | None,
    batch_size: int,
    after_write: AfterWrite | None = None,
    retry: bool = False,
    share_loop: bool = False,
) -> None:
    table = open_table(path, sheet_names_for(kind))
    report.encoding, report.sheet = table.encoding, table.sheet
    head: list[tuple[int, list[Cell]]] = []
    for item in table.rows:
        if not _blank(item[1]):
            head.append(item)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not head:
        raise ReadError("文件中没有任何数据")
    match = detect(head, kind)
    if match is None:
        wanted = KIND_LABELS[kind] + "模板" if kind else "任何已知模板（行政处罚、行政许可、主体名录、通用模板）"
        raise ReadError(f"无法识别文件的表头：不符合{wanted}，请使用标准模板的列名")
    if kind:
        likely = detect(head, None)
        if likely and likely.template.kind != kind and not likely.missing() and likely.score > match.score:
            raise ReadError(
                f"文件的表头是{KIND_LABELS[likely.template.kind]}模板，与指定的类型“{KIND_LABELS[kind]}”不符，"
                "请核对 --kind 或文件"
            )
    t = match.template
    report.kind, report.edition, report.template = t.kind, t.edition, t.title
    report.ignored_columns = match.ignored
    report.duplicate_columns = [(header, match.column_name(fld)) for _, header, fld in match.duplicates]
    missing = match.missing()
    if missing:
        for fld in missing:
            report.add_error(RowError(match.header_row, match.column_name(fld), "缺少必填列"))
        return

    dept: DeptInfo | None = None
    ownership: Ownership | None = None
    if dept_code:
        found = await _department(db, dept_code)
        if found is None:
            report.fatal = unknown_department_text(dept_code, [d.code for d in await list_departments(db)])
            return
        dept, ownership = found

    ctx = Context(
        id_key=id_key, today=today, calendar=calendar or WorkCalendar(), dept=dept, xlsx=table.format != "csv",
        ownership=ownership,
        # The department's own grading standard, where the catalogue's local file has one.
        severity_rules=rules_for(current_catalogue().severity_standards.get(dept.code) if dept else None),
    )
    validator = RowValidator(match, ctx)
    rows = chain((r for r in head if r[0] > match.header_row), table.rows)
    if dry_run:
        async with db.sessions() as session:
            writer = _writer(session, False, report, dept, ctx.calendar)
            await _pump(rows, validator, writer, report, progress, batch_size, share_loop)
        return
    async with db.transaction() as session:
        await import_gate(session, alone=retry)
        writer = _writer(session, True, report, dept, ctx.calendar)
        await _pump(rows, validator, writer, report, progress, batch_size, share_loop)
        if report.error_count:
            raise _Rollback
        await refresh_subjects(session, writer.touched, today)
        await after_import(session, writer.now, today)  # change feed, 信用修复告知书 owed (issue 25)
        report.written = True
        if after_write is not None:
            await after_write(session, report)


def _writer(
    session: Any, write: bool, report: ImportReport, dept: DeptInfo | None, calendar: WorkCalendar
) -> Writer:
    return Writer(
        session,
        write=write,
        source_file=report.file_label,
        now=dt.datetime.now(dt.UTC),
        department_id=dept.id if dept else None,
        calendar=calendar,
    )


async def _pump(
    rows: Iterator[tuple[int, list[Cell]]],
    validator: RowValidator,
    writer: Writer,
    report: ImportReport,
    progress: Callable[[int], None] | None,
    batch_size: int,
    share_loop: bool = False,
) -> None:
    subjects = validator.template.kind == "subjects"
    make = validator.subject_row if subjects else validator.record_row
    flush = writer.subject_batch if subjects else writer.record_batch
    seen: dict[Any, int] = {}
    batch: list[Any] = []
    slice_s, pause_s = (SHARED_SLICE_S, SHARED_PAUSE_S) if share_loop else (YIELD_EVERY_S, 0.0)
    next_yield = time.perf_counter() + slice_s
    for row_no, cells in rows:
        if _blank(cells):
            continue
        report.rows_read += 1
        try:
            item: RecordRow | SubjectRow = make(row_no, cells)
        except RowInvalid as exc:
            for column, reason in exc.errors:  # every problem of the row, not only the first
                report.add_error(RowError(row_no, column, reason))
            writer.write = False
            item = None  # type: ignore[assignment]
        if isinstance(item, RecordRow):
            report.categories[item.category] = report.categories.get(item.category, 0) + 1
            if item.due is not None and (report.earliest_due is None or item.due < report.earliest_due):
                report.earliest_due = item.due
        if item is not None:
            key = _identity(item)
            first = seen.get(key)
            if first is not None:
                report.add_error(RowError(row_no, _dup_column(validator, item), _dup_reason(item, first)))
                writer.write = False
            else:
                seen[key] = row_no
                batch.append(item)
        if len(batch) >= batch_size:
            await flush(batch)
            _take_refusals(writer, validator, report)
            batch = []
        if report.rows_read % PROGRESS_EVERY == 0 and progress:
            progress(report.rows_read)
        if time.perf_counter() >= next_yield:
            # Parsing and checking are CPU work on the event loop: hand it back every few ms, so
            # other users' answers wait for one slice at most, not for the file.
            await asyncio.sleep(pause_s)
            next_yield = time.perf_counter() + slice_s
    if batch:
        await flush(batch)
        _take_refusals(writer, validator, report)
    if report.rows_read == 0:
        # A header alone used to pass as 检查通过 with 0 rows: a collector took the month as reported.
        raise ReadError(NO_DATA_ROWS)
    # The writer's refusals of a batch come after its rows' own errors: list them all in row order.
    report.errors.sort(key=lambda e: e.row)
    report.new, report.updating, report.unchanged = writer.new, writer.updating, writer.unchanged
    report.subjects_created = writer.subjects_created
    if progress:
        progress(report.rows_read)


NO_DATA_ROWS = "文件只有表头，没有数据行，未写入任何数据：请在表头下方填写要报送的记录后重新上传"


def _take_refusals(writer: Writer, validator: RowValidator, report: ImportReport) -> None:
    """Rows the writer refused (another department's record, a name that does not fit the code's
    subject): row errors, in row order."""
    for row_no, fld, reason in sorted(writer.refused):
        report.add_error(RowError(row_no, validator.col(fld), reason))
    writer.refused.clear()


def _identity(item: RecordRow | SubjectRow) -> Any:
    """In-file duplicate key, as a short digest so memory grows by ~100 bytes per row at most."""
    import hashlib

    text = "\x1f".join(item.identity) if isinstance(item, RecordRow) else item.key
    return hashlib.blake2b(text.encode(), digest_size=12).digest()


def _dup_column(validator: RowValidator, item: RecordRow | SubjectRow) -> str:
    if isinstance(item, RecordRow):
        return validator.col("doc_number")
    return validator.col("uscc") if item.uscc else validator.col("id_number")


def _dup_reason(item: RecordRow | SubjectRow, first: int) -> str:
    if isinstance(item, RecordRow):
        return (
            f"文书号“{item.doc_number}”与第 {first} 行重复（同一来源单位、同一类别的文书号在一个文件中只能出现一次；"
            "括号、全角字符或空格不同的写法视为同一文书号）"
        )
    what = f"统一社会信用代码“{item.uscc}”" if item.uscc else "证件号码"
    return f"{what}与第 {first} 行重复（同一主体在一个文件中只能出现一次）"


def format_report(report: ImportReport, max_errors: int = 30) -> str:
    """Chinese multi-line summary for the chat and the terminal."""
    lines = [f"文件：{report.file_label}"]
    if report.template:
        lines.append(f"模板：{report.template}")
    if report.fatal:
        lines.append(f"无法导入：{report.fatal}")
        lines.append("未写入任何数据。")
        return "\n".join(lines)
    unit = "个主体" if report.kind == "subjects" else "条记录"
    lines.append(
        f"共读取 {report.rows_read} 行：新增 {report.new} {unit}，更新 {report.updating} {unit}，未变化 {report.unchanged} {unit}"
    )
    if report.subjects_created:
        verb = "将新建" if not report.written else "新建"
        lines.append(f"{verb}信用主体 {report.subjects_created} 个（档案中原先没有）")
    if report.ignored_columns:
        shown = "、".join(report.ignored_columns[:10])
        more = f" 等 {len(report.ignored_columns)} 列" if len(report.ignored_columns) > 10 else ""
        lines.append(f"未识别、已忽略的列：{shown}{more}")
    if report.duplicate_columns:
        shown = "、".join(f"“{dup}”（同“{main}”）" for dup, main in report.duplicate_columns[:10])
        lines.append(f"重复的列（与前面的列是同一项，按前面的列读取）：{shown}")
    if report.error_count:
        lines.append(f"发现 {report.error_count} 处错误，未写入任何数据。请修改后重新上传：")
        for e in report.errors[:max_errors]:
            where = f"第 {e.row} 行" + (f"【{e.column}】" if e.column else "")
            lines.append(f"  {where}：{e.reason}")
        if report.error_count > max_errors:
            lines.append(f"  ……另有 {report.error_count - max_errors} 处错误未列出")
    elif report.dry_run:
        lines.append("检查通过，尚未写入（确认后导入）。")
    elif report.written:
        lines.append("已全部写入。" if report.new or report.updating else "数据与档案一致，没有需要写入的变化。")
    return "\n".join(lines)
