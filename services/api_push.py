"""Record push through the port (报送): a department system sends rows of one national template as
JSON; they go through the importer exactly as a file would.

The rows are written to a temporary CSV whose header is the union of the rows' keys (the template's
column names; the importer's aliases and edition detection apply) and handed to
`services.imports.import_file` for the key's department: the same validation, all rows or none,
idempotent by source department + document number (unchanged / updated with history). A written
push then counts as reported for the monthly duties, as a confirmed chat upload does
(`services.collection.duties.file_period_report`); 行政许可 and 行政处罚 rows carry their lateness in working days
from the importer, like any upload.

Row numbers: CSV line 1 is the header, so the importer's row n is the push's row index n - 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.importers.templates import KIND_LABELS, KINDS
from db.models import AuditEntry
from db.session import Database
from rules.periods import is_monthly
from rules.workcal import WorkCalendar
from services.apikeys import Principal
from services.collection.monthly import file_period_report
from services.imports import MAX_STORED_ERRORS, ImportReport, import_file

MAX_PUSH_ROWS = 5000
# A cell of a template holds one value: an array or object would be stored as its Python text.
NOT_A_CELL = "应为文本、数字或布尔值，不能是数组或对象"
HEADER_LINE = 1


@dataclass(frozen=True)
class PushRowError:
    index: int | None  # 0-based position in `rows`; None for a problem with the columns as a whole
    field: str | None
    reason: str


@dataclass
class PushResult:
    kind: str
    template: str | None
    rows: int
    written: bool
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    subjects_created: int = 0
    errors: list[PushRowError] = field(default_factory=list)
    error_count: int = 0
    fatal: str | None = None
    periods: list[tuple[str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    header: list[str] = []
    seen: set[str] = set()
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                header.append(key)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(row.get(k)) for k in header])


def _result(kind: str, rows: int, report: ImportReport) -> PushResult:
    errors = [
        PushRowError(e.row - HEADER_LINE - 1 if e.row > HEADER_LINE else None, e.column, e.reason)
        for e in report.errors
    ]
    return PushResult(
        kind=kind, template=report.template, rows=rows, written=report.written, new=report.new,
        updated=report.updating, unchanged=report.unchanged, subjects_created=report.subjects_created,
        errors=errors, error_count=report.error_count, fatal=report.fatal,
        ignored_columns=list(report.ignored_columns),
    )


async def push_records(
    db: Database,
    principal: Principal,
    kind: str,
    rows: list[dict[str, Any]],
    *,
    id_key: str,
    today: dt.date,
    calendar: WorkCalendar,
    tz: dt.tzinfo,
    operator: str | None = None,
) -> PushResult:
    """Validate and write a batch for the key's department: all rows or none."""
    if kind not in KINDS:
        raise ValueError(f"未知的模板“{kind}”，可选：{'、'.join(KINDS)}")
    shape = [PushRowError(i, key, NOT_A_CELL) for i, row in enumerate(rows) for key, value in row.items()
             if isinstance(value, list | dict)]
    if shape:
        return PushResult(kind, None, len(rows), False, errors=shape[:MAX_STORED_ERRORS], error_count=len(shape))
    label = f"接口报送（{principal.name}）"
    with tempfile.TemporaryDirectory(prefix="creditbot-push-") as tmp:
        path = Path(tmp) / "push.csv"
        _write_csv(path, rows)
        report = await import_file(
            db, path, kind=kind, dept_code=principal.department_code, id_key=id_key, today=today,
            file_label=label, calendar=calendar, share_loop=True,
        )
    result = _result(kind, len(rows), report)
    if not report.written:
        return result
    async with db.transaction() as s:
        for category in sorted(report.categories):
            if is_monthly(category):
                period = await file_period_report(
                    s, principal.department_id, category, today, calendar, tz, "records", principal.account_id
                )
                if period:
                    result.periods.append((category, period))
        s.add(
            AuditEntry(
                account_id=principal.account_id, role="official", action="api_push", subject_id=None,
                reason=f"接口报送:{KIND_LABELS[kind]}",
                detail={
                    "channel": "api", "key": principal.prefix, "department": principal.department_code,
                    "operator": operator, "rows": len(rows), "new": report.new, "updated": report.updating,
                },
            )
        )
    return result
