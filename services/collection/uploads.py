"""Reporting through the bot: a collector's upload is checked, kept, and written only on confirmation;
and what admins see about it (who is late, the monthly on-time rate).

The uploaded bytes live in the `uploads` table under a random id, sealed (db/upload_store.py) and only
until the collector decides or the retention ends, so the 确认导入 button works after
a restart and on any bot process. Confirmation is a compare-and-set on the upload's status: of two
presses (or a doubly delivered update) exactly one holds the upload's lease and moves it from
`pending` to `importing`, and only that one writes; the rows and `confirmed` commit together. The
importer writes all rows or none, and re-importing the same file changes nothing, so a confirmation
killed half-way (a stranded upload, listed in /mytasks) is simply confirmed again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.leases import lease, upload_lease_name
from db.models import Account, CreditRecord, Department, PeriodReport, ReportingDuty, Upload
from db.session import Database
from db.transient import retrying
from db.upload_store import DEFAULT_RETENTION, SealError, expire_uploads, seal, unseal
from rules.periods import as_local_date, is_monthly, period_bounds, period_deadline
from rules.workcal import WorkCalendar
from services import imports as api
from services.collection.duties import admin_scope
from services.collection.monthly import MonthlyGap, collector_account, file_period_report, monthly_gaps
from services.errors import Refusal
from services.imports import ImportReport

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
# The importer reads files by content; these names are surely not a table, so say so at once.
REFUSED_SUFFIXES = {
    ".xls": "不支持旧版 Excel（.xls）文件，请在 Excel 或 WPS 中另存为 .xlsx 或 CSV 后重新发送。",
    ".doc": "Word 文档无法导入，请使用行政处罚、行政许可等标准模板的 Excel（.xlsx）或 CSV 文件。",
    ".docx": "Word 文档无法导入，请使用行政处罚、行政许可等标准模板的 Excel（.xlsx）或 CSV 文件。",
    ".pdf": "PDF 文件无法导入，请发送标准模板的 Excel（.xlsx）或 CSV 文件。",
    ".zip": "不支持压缩包，请解压后逐个发送 Excel（.xlsx）或 CSV 文件。",
    ".rar": "不支持压缩包，请解压后逐个发送 Excel（.xlsx）或 CSV 文件。",
    ".7z": "不支持压缩包，请解压后逐个发送 Excel（.xlsx）或 CSV 文件。",
    ".jpg": "图片无法导入，请发送标准模板的 Excel（.xlsx）或 CSV 文件。",
    ".jpeg": "图片无法导入，请发送标准模板的 Excel（.xlsx）或 CSV 文件。",
    ".png": "图片无法导入，请发送标准模板的 Excel（.xlsx）或 CSV 文件。",
    ".wps": "请在 WPS 中另存为 .xlsx 或 CSV 后重新发送。",
    ".et": "请在 WPS 中另存为 .xlsx 或 CSV 后重新发送。",
}


@dataclass(frozen=True)
class Collector:
    account_id: int
    department_id: int
    department_code: str
    department_name: str


async def collector_for_upload(db: Database, telegram_user_id: int, file_name: str, size: int | None) -> Collector:
    """Who may upload, and whether this file could be a table at all, before anything is downloaded."""
    async with db.transaction() as s:
        account = await collector_account(s, telegram_user_id)
        dept = await s.get(Department, account.department_id)
        assert dept is not None
    suffix = Path(file_name or "").suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise Refusal(REFUSED_SUFFIXES[suffix])
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise Refusal("文件超过 20 MB，无法通过机器人接收。请拆分为多个文件后分别发送。")
    return Collector(account.id, dept.id, dept.code, dept.name)


@dataclass
class UploadCheck:
    upload_id: str
    status: str  # pending (valid, waits for 确认导入) / rejected (errors, or unreadable)
    report: ImportReport
    earliest_due: dt.date | None = None
    categories: dict[str, int] = field(default_factory=dict)


async def check_upload(
    db: Database,
    collector: Collector,
    file_name: str,
    content: bytes,
    *,
    id_key: str,
    today: dt.date,
    calendar: WorkCalendar,
    progress: Callable[[int], None] | None = None,
    retention: dt.timedelta = DEFAULT_RETENTION,
) -> UploadCheck:
    """Validate for the collector's department without writing a record; keep the file, sealed,
    only if it can be confirmed (a rejected file is never stored)."""
    upload_id = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="creditbot-upload-") as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(content)
        report = await api.check_file(
            db, path, dept_code=collector.department_code, id_key=id_key, today=today,
            progress=progress, file_label=file_name, calendar=calendar, share_loop=True,
        )
    earliest, categories = report.earliest_due, report.categories
    status = "pending" if report.ok else "rejected"
    # Encrypting megabytes is CPU work: off the event loop.
    sealed = await asyncio.to_thread(seal, content, id_key) if status == "pending" else None
    async with db.transaction() as s:
        await expire_uploads(s, dt.datetime.now(dt.UTC), retention)
        s.add(
            Upload(
                id=upload_id, account_id=collector.account_id, department_id=collector.department_id,
                file_name=file_name[:255], content=sealed,
                status=status, kind=report.kind,
                rows_read=report.rows_read, new=report.new, updating=report.updating,
                error_count=report.error_count + (1 if report.fatal else 0), earliest_due=earliest,
                categories=categories,
            )
        )
    return UploadCheck(upload_id, status, report, earliest, categories)


@dataclass
class Confirmation:
    outcome: str  # written / already / cancelled / rejected / expired / failed / in_progress
    file_name: str = ""
    report: ImportReport | None = None
    periods: list[tuple[str, str]] = field(default_factory=list)
    new: int = 0
    updating: int = 0


async def _owned_upload(s: AsyncSession, upload_id: str, telegram_user_id: int) -> Upload:
    upload = await s.get(Upload, upload_id)
    if upload is None:
        raise Refusal("找不到这次上传（可能已被清理），请重新发送文件。")
    owner = await s.get(Account, upload.account_id)
    if owner is None or owner.telegram_user_id != telegram_user_id:
        raise Refusal("只有上传文件的采集员本人可以确认或取消这次导入。")
    if owner.department_id != upload.department_id:  # re-bound to another department meanwhile
        raise Refusal("这次上传属于您原来所在的部门，您已不能代其确认或取消；请由该部门的采集员重新上传。")
    return upload


async def confirm_upload(
    db: Database,
    upload_id: str,
    telegram_user_id: int,
    *,
    id_key: str,
    today: dt.date,
    calendar: WorkCalendar,
    tz: dt.tzinfo,
    progress: Callable[[int], None] | None = None,
    retention: dt.timedelta = DEFAULT_RETENTION,
    batch_size: int = api.BATCH_SIZE,
) -> Confirmation:
    """Write a checked upload: the first confirmation writes, every later one is told it is done.

    Crash-safe: the confirmation holds the upload's lease (db/leases.py) while it works and marks the
    upload confirmed in the import's own transaction, so a process killed at any point leaves either
    the records and `confirmed`, or neither: the upload then stays `importing` with nobody holding
    its lease (stranded), keeps its sealed file, and this same call imports it. A deadlock or a
    locked database is retried before the collector hears of it."""
    now = dt.datetime.now(dt.UTC)

    async def expire() -> None:
        async with db.transaction() as s:
            await expire_uploads(s, now, retention)

    await retrying(expire, what="清理过期上传")
    async with lease(db, upload_lease_name(upload_id)) as mine:
        claim = await retrying(lambda: _claim(db, upload_id, telegram_user_id, now, mine), what="确认导入")
        if isinstance(claim, Confirmation):
            return claim
        try:
            raw = await asyncio.to_thread(unseal, claim.content, id_key)
        except SealError as exc:
            await retrying(lambda: _set_status(db, upload_id, "expired", drop_content=True), what="确认导入")
            raise Refusal(str(exc)) from None
        periods: list[tuple[str, str]] = []

        async def mark_confirmed(s: AsyncSession, report: ImportReport) -> None:
            upload = await s.get(Upload, upload_id)
            assert upload is not None
            upload.status, upload.decided_at, upload.failure = "confirmed", dt.datetime.now(dt.UTC), None
            upload.content = None  # written: the raw file is no longer needed by anyone
            upload.new, upload.updating = report.new, report.updating
            periods.clear()  # a retried transaction files them again
            for category in sorted(upload.categories or {}):
                if is_monthly(category):
                    period = await file_period_report(
                        s, claim.department_id, category, today, calendar, tz, "records", claim.account_id, upload_id
                    )
                    if period:
                        periods.append((category, period))

        with tempfile.TemporaryDirectory(prefix="creditbot-upload-") as tmp:
            path = Path(tmp) / "upload"
            path.write_bytes(raw)
            del raw
            report = await api.import_file(
                db, path, dept_code=claim.department_code, id_key=id_key, today=today, progress=progress,
                file_label=claim.file_name, calendar=calendar, batch_size=batch_size, after_write=mark_confirmed,
                share_loop=True,
            )
        if report.written:
            return Confirmation("written", claim.file_name, report, periods, report.new, report.updating)
        # Errors found now (the archive changed since the check): the collector must re-upload.
        # A database failure leaves it pending with its reason, so 确认导入 can simply be pressed again.
        rejected = bool(report.error_count)
        await retrying(
            lambda: _set_status(
                db, upload_id, "rejected" if rejected else "pending", drop_content=rejected,
                error_count=report.error_count, failure=None if rejected else (report.fatal or "")[:200],
            ),
            what="确认导入",
        )
        return Confirmation("failed", claim.file_name, report)


@dataclass(frozen=True)
class _Claim:
    content: bytes
    file_name: str
    account_id: int
    department_id: int
    department_code: str


async def _claim(
    db: Database, upload_id: str, telegram_user_id: int, now: dt.datetime, holds_lease: bool
) -> _Claim | Confirmation:
    """Move a pending or stranded upload to `importing` (one transaction), or say why not."""
    async with db.transaction() as s:
        upload = await _owned_upload(s, upload_id, telegram_user_id)
        await collector_account(s, telegram_user_id)
        name = upload.file_name
        if upload.status == "confirmed":
            return Confirmation("already", name, new=upload.new, updating=upload.updating)
        if upload.status == "cancelled":
            return Confirmation("cancelled", name)
        if upload.status == "rejected":
            return Confirmation("rejected", name)
        if upload.status == "expired" or upload.content is None:
            return Confirmation("expired", name)
        if not holds_lease:
            return Confirmation("in_progress", name)  # another confirmation is importing it right now
        # pending, or importing with nobody holding the lease (stranded): ours now. The compare on
        # `attempts` keeps two claims that read the same row from both winning.
        claimed = await s.execute(
            update(Upload)
            .where(Upload.id == upload_id, Upload.status.in_(("pending", "importing")), Upload.attempts == upload.attempts)
            .values(status="importing", claimed_at=now, attempts=upload.attempts + 1, failure=None)
        )
        if claimed.rowcount != 1:
            return Confirmation("in_progress", name)
        dept = await s.get(Department, upload.department_id)
        assert dept is not None
        return _Claim(upload.content, name, upload.account_id, upload.department_id, dept.code)


async def _set_status(
    db: Database, upload_id: str, status: str, *, drop_content: bool = False, error_count: int | None = None,
    failure: str | None = None,
) -> None:
    async with db.transaction() as s:
        upload = await s.get(Upload, upload_id)
        assert upload is not None
        upload.status, upload.failure = status, failure
        if error_count is not None:
            upload.error_count = error_count
        if drop_content:
            upload.content, upload.decided_at = None, dt.datetime.now(dt.UTC)


async def cancel_upload(db: Database, upload_id: str, telegram_user_id: int) -> Confirmation:
    """Cancel a waiting upload and delete its file; a stranded one too, never one being imported."""
    async with lease(db, upload_lease_name(upload_id)) as free:

        async def run() -> Confirmation:
            async with db.transaction() as s:
                upload = await _owned_upload(s, upload_id, telegram_user_id)
                if upload.status == "confirmed":
                    return Confirmation("already", upload.file_name, new=upload.new, updating=upload.updating)
                if not free:  # a confirmation holds the lease, even before it marked the upload
                    return Confirmation("in_progress", upload.file_name)
                if upload.status in ("pending", "rejected", "expired", "importing"):
                    upload.status, upload.decided_at = "cancelled", dt.datetime.now(dt.UTC)
                    upload.content = None
                return Confirmation("cancelled", upload.file_name)

        return await retrying(run, what="取消导入")


# -- admin views -------------------------------------------------------------------------------------


@dataclass
class DeptOverdue:
    code: str
    name: str
    missing: list[MonthlyGap] = field(default_factory=list)
    late_records: int = 0
    max_late: int = 0
    stale_uploads: int = 0


async def overdue_overview(
    db: Database, telegram_user_id: int, today: dt.date, calendar: WorkCalendar, tz: dt.tzinfo, city_code: str
) -> list[DeptOverdue]:
    """Who is late: overdue monthly reports, records reported late this month, uploads left
    unconfirmed past their deadline; by department, worst first."""
    async with db.transaction() as s:
        _, scope = await admin_scope(s, telegram_user_id, city_code)
        q = select(Department)
        if scope is not None:
            q = q.where(Department.id.in_(scope))
        depts = {d.id: d for d in (await s.scalars(q)).all()}
        out: dict[int, DeptOverdue] = {}

        def entry(dept_id: int) -> DeptOverdue:
            d = depts[dept_id]
            return out.setdefault(dept_id, DeptOverdue(d.code, d.name))

        for gap in await monthly_gaps(s, today, calendar, tz, list(depts)):
            if gap.overdue:
                entry(gap.department_id).missing.append(gap)
        start, end = period_bounds(f"{today:%Y-%m}", tz)
        rows = await s.execute(
            select(CreditRecord.department_id, func.count(), func.max(CreditRecord.late_working_days))
            .where(
                CreditRecord.department_id.in_(list(depts)),
                CreditRecord.late_working_days > 0,
                CreditRecord.reported_at >= start,
                CreditRecord.reported_at < end,
            )
            .group_by(CreditRecord.department_id)
        )
        for dept_id, count, worst in rows:
            e = entry(dept_id)
            e.late_records, e.max_late = int(count), int(worst or 0)
        rows = await s.execute(
            select(Upload.department_id, func.count())
            .where(
                Upload.department_id.in_(list(depts)),
                Upload.status.in_(("pending", "rejected")),
                Upload.earliest_due < today,
            )
            .group_by(Upload.department_id)
        )
        for dept_id, count in rows:
            entry(dept_id).stale_uploads = int(count)
        return sorted(
            out.values(),
            key=lambda e: (-len(e.missing), -e.stale_uploads, -e.late_records, e.code),
        )


@dataclass(frozen=True)
class DeptRate:
    code: str
    name: str
    short_name: str
    on_time: int
    total: int

    @property
    def rate(self) -> float:
        return self.on_time / self.total if self.total else 0.0


async def on_time_rates(
    db: Database, telegram_user_id: int, period: str, today: dt.date, calendar: WorkCalendar, tz: dt.tzinfo,
    city_code: str,
) -> list[DeptRate]:
    """On-time rate per department for one month: every record reported that month (on time when
    late_working_days is 0) plus every monthly duty whose deadline has come (on time when reported by
    the month's last working day). Departments with nothing to count are left out."""
    deadline = period_deadline(calendar, period)
    start, end = period_bounds(period, tz)
    async with db.transaction() as s:
        _, scope = await admin_scope(s, telegram_user_id, city_code)
        q = select(Department)
        if scope is not None:
            q = q.where(Department.id.in_(scope))
        depts = {d.id: d for d in (await s.scalars(q)).all()}
        on_time: Counter[int] = Counter()
        total: Counter[int] = Counter()
        rows = await s.execute(
            select(
                CreditRecord.department_id,
                func.count(),
                func.sum(case((CreditRecord.late_working_days == 0, 1), else_=0)),
            )
            .where(
                CreditRecord.department_id.in_(list(depts)),
                CreditRecord.reported_at >= start,
                CreditRecord.reported_at < end,
            )
            .group_by(CreditRecord.department_id)
        )
        for dept_id, count, ok in rows:
            total[dept_id] += int(count)
            on_time[dept_id] += int(ok or 0)
        first_record = {
            (r[0], r[1]): r[2]
            for r in await s.execute(
                select(CreditRecord.department_id, CreditRecord.category, func.min(CreditRecord.reported_at))
                .where(
                    CreditRecord.department_id.in_(list(depts)),
                    CreditRecord.reported_at >= start,
                    CreditRecord.reported_at < end,
                )
                .group_by(CreditRecord.department_id, CreditRecord.category)
            )
        }
        filed = {
            (r.department_id, r.category): r.reported_on
            for r in (
                await s.scalars(
                    select(PeriodReport).where(
                        PeriodReport.period == period, PeriodReport.department_id.in_(list(depts))
                    )
                )
            ).all()
        }
        duties = (
            await s.scalars(
                select(ReportingDuty).where(
                    ReportingDuty.active.is_(True), ReportingDuty.department_id.in_(list(depts))
                )
            )
        ).all()
        for duty in duties:
            if not is_monthly(duty.category) or as_local_date(duty.created_at, tz) > deadline:
                continue
            key = (duty.department_id, duty.category)
            days = [filed[key]] if key in filed else []
            if key in first_record:
                days.append(as_local_date(first_record[key], tz))
            if not days and today <= deadline:
                continue  # still open: neither on time nor late yet
            total[duty.department_id] += 1
            if days and min(days) <= deadline:
                on_time[duty.department_id] += 1
        return sorted(
            (
                DeptRate(d.code, d.name, d.short_name or d.name, on_time[i], total[i])
                for i, d in depts.items()
                if total[i]
            ),
            key=lambda r: (-r.rate, r.code),
        )


async def admins_for_division(s: AsyncSession, division_code: str) -> list[Account]:
    """County admins of a division (admins in a department of that division); else every admin."""
    base = select(Account).where(Account.role == "admin", Account.active.is_(True), Account.telegram_user_id.is_not(None))
    local = (
        await s.scalars(
            base.join(Department, Department.id == Account.department_id).where(Department.division_code == division_code)
        )
    ).all()
    return list(local) if local else list((await s.scalars(base)).all())
