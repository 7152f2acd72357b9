"""A collector's to-do list: unreported months, uploads waiting for 确认导入, and the objections and
repair applications waiting on the department."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.leases import is_held, upload_lease_name
from db.models import (
    Account,
    Department,
    Objection,
    RepairRequest,
    Upload,
)
from db.session import Database
from rules.workcal import WorkCalendar
from services.collection.monthly import MonthlyGap, collector_account, monthly_gaps, serves

# -- the collector's to-do list ----------------------------------------------------------------------


@dataclass(frozen=True)
class UploadTask:
    upload_id: str
    file_name: str
    status: str  # pending / rejected / importing (being imported now) / stranded (import interrupted)
    error_count: int
    deadline: dt.date | None
    failure: str | None = None  # why the latest confirmation did not finish

    @property
    def confirmable(self) -> bool:
        """确认导入 can be pressed (again) for it."""
        return self.status in ("pending", "stranded")


@dataclass(frozen=True)
class Waiting:
    """Work waiting on the department from other issues (objections, repair applications)."""

    objections: int = 0
    repairs: int = 0
    # The earliest date by which the department must answer an objection.
    objection_due: dt.date | None = None

    @property
    def total(self) -> int:
        return self.objections + self.repairs


async def waiting_on_department(s: AsyncSession, department_id: int, today: dt.date) -> Waiting:
    """Objections (异议) and repair applications (信用修复) still undecided by this department."""
    objections, objection_due = (
        await s.execute(
            select(func.count(Objection.id), func.min(Objection.answer_due)).where(
                Objection.department_id == department_id, Objection.status == "pending"
            )
        )
    ).one()
    repairs = await s.scalar(
        select(func.count(RepairRequest.id)).where(
            RepairRequest.department_id == department_id, RepairRequest.status == "pending"
        )
    )
    return Waiting(int(objections), int(repairs or 0), objection_due)


@dataclass
class Tasks:
    account_id: int
    department_id: int
    department_name: str
    today: dt.date
    monthly: list[MonthlyGap] = field(default_factory=list)
    uploads: list[UploadTask] = field(default_factory=list)
    waiting: Waiting = field(default_factory=Waiting)

    @property
    def empty(self) -> bool:
        return not self.monthly and not self.uploads and not self.waiting.total

    @property
    def nearest_deadline(self) -> dt.date | None:
        days = [g.deadline for g in self.monthly] + [u.deadline for u in self.uploads if u.deadline]
        if self.waiting.objection_due:
            days.append(self.waiting.objection_due)
        return min(days) if days else None


async def tasks_for_account(
    s: AsyncSession, account: Account, today: dt.date, calendar: WorkCalendar, tz: dt.tzinfo,
    gaps: list[MonthlyGap] | None = None,
) -> Tasks:
    """Everything open for one collector: monthly gaps, uploads waiting for them, hook counts."""
    assert account.department_id is not None
    dept = await s.get(Department, account.department_id)
    assert dept is not None
    if gaps is None:
        gaps = await monthly_gaps(s, today, calendar, tz, [account.department_id])
    tasks = Tasks(account.id, dept.id, dept.name, today)
    tasks.monthly = sorted(
        (g for g in gaps if g.department_id == dept.id and serves(g, account)), key=lambda g: (g.period, g.category)
    )
    tasks.uploads = await open_uploads(s, account.id, dept.id, today)
    tasks.waiting = await waiting_on_department(s, dept.id, today)
    return tasks


async def open_uploads(s: AsyncSession, account_id: int, department_id: int, today: dt.date) -> list[UploadTask]:
    """Uploads waiting for this collector in its current department: unconfirmed ones (a stranded import
    among them: its process died, nobody holds its lease), and rejected ones not yet followed by a
    confirmed upload nor by a later upload of the same file (the corrected one). A passed reporting
    deadline hides none of them: records already late are the more urgent to confirm or correct (hiding
    them left "待确认文件 0 个" and no 确认导入 button for a month-old decision). Unconfirmed uploads
    leave the list when their bytes expire (db.upload_store.expire_uploads). `today` is unused and
    kept for callers."""
    rows = (
        await s.scalars(
            select(Upload)
            .where(
                Upload.account_id == account_id,
                Upload.department_id == department_id,
                Upload.status.in_(("pending", "rejected", "importing")),
            )
            .order_by(Upload.created_at)
        )
    ).all()
    if not rows:
        return []
    last_confirmed = await s.scalar(
        select(func.max(Upload.decided_at)).where(and_(Upload.account_id == account_id, Upload.status == "confirmed"))
    )
    latest_by_name = {u.file_name: u.created_at for u in rows}  # rows are in upload order
    out = []
    for u in rows:
        if u.status == "rejected" and (
            (last_confirmed is not None and last_confirmed > u.created_at) or latest_by_name[u.file_name] > u.created_at
        ):
            continue
        status = u.status
        if status == "importing" and not await is_held(s, upload_lease_name(u.id)):
            status = "stranded"
        out.append(UploadTask(u.id, u.file_name, status, u.error_count, u.earliest_due, u.failure))
    return out


async def my_tasks(
    db: Database, telegram_user_id: int, today: dt.date, calendar: WorkCalendar, tz: dt.tzinfo
) -> Tasks:
    async with db.transaction() as s:
        account = await collector_account(s, telegram_user_id)
        return await tasks_for_account(s, account, today, calendar, tz)
