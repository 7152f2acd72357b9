"""Reporting duties (报送职责), monthly periods and 本期无新增, and a collector's to-do list.

A department owes one report per monthly category per calendar month (anything but 行政许可/行政处罚,
which follow the 7-working-day rule per record). A month counts as reported when the department's
records of that category arrived in that month, when a confirmed upload or 本期无新增 was filed for
it (a late report for last month is filed against last month), never by guessing.

Duties start from the region data file (which categories each department reports) and are then kept
in the database, where admins edit them; a removed duty is deactivated, not deleted, so restarting
the bot does not bring it back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Account,
    CreditRecord,
    Department,
    Objection,
    PeriodReport,
    RepairRequest,
    ReportingDuty,
    Upload,
)
from db.regions import RegionData
from db.session import Database
from rules.categories import CATEGORIES, DOUBLE_PUBLICITY, normalize_category
from rules.workcal import WorkCalendar
from services.errors import NOT_A_COLLECTOR, Refusal


def is_monthly(category: str) -> bool:
    return category not in DOUBLE_PUBLICITY


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def period_deadline(calendar: WorkCalendar, period: str) -> dt.date:
    """A monthly report is due by the month's last working day."""
    return calendar.last_workday_of_month(int(period[:4]), int(period[5:])).due


def period_bounds(period: str, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local calendar month, in UTC."""
    year, month = int(period[:4]), int(period[5:])
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), 1 if month == 12 else month + 1, 1, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def as_local_date(value: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return value.astimezone(tz).date()


def _dialect(session: AsyncSession) -> str:
    assert session.bind is not None
    return session.bind.dialect.name


def insert_ignore(session: AsyncSession, model: Any, values: dict[str, Any] | list[dict[str, Any]], keys: list[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on either backend: the loser of a race inserts nothing."""
    if _dialect(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).values(values).on_conflict_do_nothing(index_elements=keys)


# -- duties ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DutyView:
    department_code: str
    department_name: str
    category: str
    active: bool
    collector: str | None = None


async def seed_duties(db: Database, region: RegionData) -> int:
    """Create the duties the region file names that the database has never seen (active or not)."""
    async with db.transaction() as s:
        depts = {d.code: d.id for d in (await s.scalars(select(Department))).all()}
        values = [
            {"department_id": depts[info.code], "category": cat, "active": True}
            for info in region.departments
            if info.code in depts
            for cat in dict.fromkeys(normalize_category(c) or c for c in info.categories)
        ]
        if not values:
            return 0
        before = await s.scalar(select(func.count()).select_from(ReportingDuty))
        now = dt.datetime.now(dt.UTC)
        for v in values:
            v["created_at"] = v["updated_at"] = now
        for i in range(0, len(values), 500):
            await s.execute(insert_ignore(s, ReportingDuty, values[i : i + 500], ["department_id", "category"]))
        after = await s.scalar(select(func.count()).select_from(ReportingDuty))
        return int(after or 0) - int(before or 0)


async def _department(s: AsyncSession, code: str) -> Department:
    dept = await s.scalar(select(Department).where(Department.code == code.strip()))
    if dept is None:
        raise Refusal(f"找不到部门代码 {code}")
    return dept


def _category(text: str) -> str:
    category = normalize_category(text)
    if category is None:
        raise Refusal(f"未知的信息类别：“{text}”。可选：{'、'.join(CATEGORIES)}")
    return category


async def list_duties(db: Database, dept_code: str | None = None, include_inactive: bool = False) -> list[DutyView]:
    async with db.transaction() as s:
        q = (
            select(ReportingDuty, Department, Account)
            .join(Department, Department.id == ReportingDuty.department_id)
            .outerjoin(Account, Account.id == ReportingDuty.collector_id)
            .order_by(Department.code, ReportingDuty.id)
        )
        if dept_code:
            q = q.where(Department.id == (await _department(s, dept_code)).id)
        if not include_inactive:
            q = q.where(ReportingDuty.active.is_(True))
        rows = (await s.execute(q)).all()
        return [
            DutyView(d.code, d.name, duty.category, duty.active, (a.display_name or "指定采集员") if a else None)
            for duty, d, a in rows
        ]


async def set_duty(
    db: Database, dept_code: str, category_text: str, active: bool, collector_user_id: int | None = None
) -> tuple[DutyView, bool]:
    """Add (or re-activate) or remove one duty; returns the duty and whether anything changed."""
    category = _category(category_text)
    async with db.transaction() as s:
        dept = await _department(s, dept_code)
        duty = await s.scalar(
            select(ReportingDuty).where(ReportingDuty.department_id == dept.id, ReportingDuty.category == category)
        )
        changed = False
        collector_id = None
        if collector_user_id is not None:
            acc = await s.scalar(select(Account).where(Account.telegram_user_id == collector_user_id))
            if acc is None or acc.role != "collector" or acc.department_id != dept.id:
                raise Refusal("指定的账号不是该部门的信息采集员")
            collector_id = acc.id
        if duty is None:
            if not active:
                raise Refusal(f"{dept.name} 没有“{category}”报送职责")
            duty = ReportingDuty(department_id=dept.id, category=category, active=True, collector_id=collector_id)
            s.add(duty)
            changed = True
        else:
            changed = duty.active != active or (collector_user_id is not None and duty.collector_id != collector_id)
            duty.active = active
            if collector_user_id is not None:
                duty.collector_id = collector_id
        await s.flush()
        return DutyView(dept.code, dept.name, category, active), changed


async def admin_scope(s: AsyncSession, telegram_user_id: int, city_code: str) -> tuple[Account, list[int] | None]:
    """An admin sees the departments of their own division; a city-level admin sees all (None)."""
    account = await s.scalar(select(Account).where(Account.telegram_user_id == telegram_user_id))
    if account is None or not account.active or account.role != "admin":
        raise Refusal("该功能仅限系统管理员使用。")
    dept = await s.get(Department, account.department_id) if account.department_id else None
    if dept is None or dept.division_code == city_code:
        return account, None
    ids = (await s.scalars(select(Department.id).where(Department.division_code == dept.division_code))).all()
    return account, list(ids)


async def admin_department(db: Database, telegram_user_id: int, dept_code: str | None, city_code: str) -> str:
    """The department an admin means (their own by default), refused when outside their scope."""
    async with db.transaction() as s:
        account, scope = await admin_scope(s, telegram_user_id, city_code)
        if dept_code is None:
            if account.department_id is None:
                raise Refusal("请指明部门代码，例如：/duties SCJGJ")
            dept = await s.get(Department, account.department_id)
            assert dept is not None
        else:
            dept = await _department(s, dept_code)
        if scope is not None and dept.id not in scope:
            raise Refusal("只能管理本县区部门的报送职责。")
        return dept.code


# -- monthly periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyGap:
    """A monthly duty not yet reported for `period`."""

    department_id: int
    category: str
    period: str
    deadline: dt.date
    # Working days from today to the deadline (negative once overdue).
    days_left: int
    collector_id: int | None = None

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


async def _reported(
    s: AsyncSession, department_ids: list[int], periods: list[str], tz: dt.tzinfo
) -> set[tuple[int, str, str]]:
    """(department, category, period) that count as reported: a period report, or records that
    arrived during the month."""
    done: set[tuple[int, str, str]] = set()
    if not department_ids:
        return done
    rows = await s.execute(
        select(PeriodReport.department_id, PeriodReport.category, PeriodReport.period).where(
            PeriodReport.department_id.in_(department_ids), PeriodReport.period.in_(periods)
        )
    )
    done.update((r[0], r[1], r[2]) for r in rows)
    for period in periods:
        start, end = period_bounds(period, tz)
        rows = await s.execute(
            select(CreditRecord.department_id, CreditRecord.category)
            .where(
                CreditRecord.department_id.in_(department_ids),
                CreditRecord.reported_at >= start,
                CreditRecord.reported_at < end,
            )
            .distinct()
        )
        done.update((r[0], r[1], period) for r in rows)
    return done


async def monthly_gaps(
    s: AsyncSession, today: dt.date, calendar: WorkCalendar, tz: dt.tzinfo, department_ids: list[int] | None = None
) -> list[MonthlyGap]:
    """Open monthly duties: this month's, and last month's when it was never reported.

    Last month is only owed if the duty existed by its deadline: a duty added today is not late."""
    this = period_of(today)
    last = previous_period(this)
    q = select(ReportingDuty).where(ReportingDuty.active.is_(True))
    if department_ids is not None:
        q = q.where(ReportingDuty.department_id.in_(department_ids))
    duties = [d for d in (await s.scalars(q)).all() if is_monthly(d.category)]
    done = await _reported(s, sorted({d.department_id for d in duties}), [this, last], tz)
    gaps = []
    for duty in duties:
        for period in (last, this):
            deadline = period_deadline(calendar, period)
            if (duty.department_id, duty.category, period) in done:
                continue
            if period == last and as_local_date(duty.created_at, tz) > deadline:
                continue
            left = calendar.working_days_between(today, deadline)
            gaps.append(MonthlyGap(duty.department_id, duty.category, period, deadline, left, duty.collector_id))
    return gaps


async def file_period_report(
    s: AsyncSession,
    department_id: int,
    category: str,
    today: dt.date,
    calendar: WorkCalendar,
    tz: dt.tzinfo,
    kind: str,
    account_id: int | None,
    upload_id: str | None = None,
) -> str | None:
    """Mark the oldest open period of a monthly duty as reported; returns it (None: nothing open)."""
    gaps = [
        g for g in await monthly_gaps(s, today, calendar, tz, [department_id])
        if g.category == category
    ]
    if not gaps:
        return None
    period = min(g.period for g in gaps)
    await s.execute(
        insert_ignore(
            s,
            PeriodReport,
            {
                "department_id": department_id, "category": category, "period": period, "kind": kind,
                "account_id": account_id, "upload_id": upload_id, "reported_on": today,
                "created_at": dt.datetime.now(dt.UTC),
            },
            ["department_id", "category", "period"],
        )
    )
    return period


# -- 本期无新增 --------------------------------------------------------------------------------------


async def collector_account(s: AsyncSession, telegram_user_id: int) -> Account:
    account = await s.scalar(select(Account).where(Account.telegram_user_id == telegram_user_id))
    if account is None or not account.active or account.role != "collector" or account.department_id is None:
        raise Refusal("只有已绑定部门的信息采集员可以报送。如需开通，请联系系统管理员获取绑定码。", code=NOT_A_COLLECTOR)
    return account


def _serves(gap: MonthlyGap, account: Account) -> bool:
    return gap.collector_id is None or gap.collector_id == account.id


async def zero_choices(
    db: Database, telegram_user_id: int, today: dt.date, calendar: WorkCalendar, tz: dt.tzinfo
) -> list[MonthlyGap]:
    """The monthly duties this collector may declare 本期无新增 for (oldest period first)."""
    async with db.transaction() as s:
        account = await collector_account(s, telegram_user_id)
        assert account.department_id is not None
        gaps = await monthly_gaps(s, today, calendar, tz, [account.department_id])
        best: dict[str, MonthlyGap] = {}
        for g in sorted(gaps, key=lambda g: g.period):
            if _serves(g, account):
                best.setdefault(g.category, g)
        return list(best.values())


async def declare_zero(
    db: Database, telegram_user_id: int, category_text: str, today: dt.date, calendar: WorkCalendar, tz: dt.tzinfo
) -> tuple[str, str]:
    """本期无新增 for one monthly category; returns (category, period). Pressing twice is harmless."""
    category = normalize_category(category_text)
    if category is None:
        raise Refusal(f"未知的信息类别：“{category_text}”")
    if not is_monthly(category):
        raise Refusal(f"{category}按每条记录 7 个工作日报送，不适用“本期无新增”。")
    async with db.transaction() as s:
        account = await collector_account(s, telegram_user_id)
        assert account.department_id is not None
        duty = await s.scalar(
            select(ReportingDuty).where(
                ReportingDuty.department_id == account.department_id,
                ReportingDuty.category == category,
                ReportingDuty.active.is_(True),
            )
        )
        if duty is None:
            raise Refusal(f"本部门没有“{category}”报送职责。")
        period = await file_period_report(
            s, account.department_id, category, today, calendar, tz, "zero", account.id
        )
        if period is None:
            raise Refusal(f"“{category}”本期已报送，无需再确认。")
        return category, period


# -- the collector's to-do list ----------------------------------------------------------------------


@dataclass(frozen=True)
class UploadTask:
    upload_id: str
    file_name: str
    status: str  # pending / rejected
    error_count: int
    deadline: dt.date | None


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
        (g for g in gaps if g.department_id == dept.id and _serves(g, account)), key=lambda g: (g.period, g.category)
    )
    tasks.uploads = await open_uploads(s, account.id, today)
    tasks.waiting = await waiting_on_department(s, dept.id, today)
    return tasks


async def open_uploads(s: AsyncSession, account_id: int, today: dt.date) -> list[UploadTask]:
    """Uploads waiting for this collector: unconfirmed ones, and rejected ones not yet followed by a
    confirmed upload, while their records' deadline has not passed."""
    rows = (
        await s.scalars(
            select(Upload)
            .where(Upload.account_id == account_id, Upload.status.in_(("pending", "rejected")))
            .order_by(Upload.created_at)
        )
    ).all()
    if not rows:
        return []
    last_confirmed = await s.scalar(
        select(func.max(Upload.decided_at)).where(and_(Upload.account_id == account_id, Upload.status == "confirmed"))
    )
    out = []
    for u in rows:
        if u.earliest_due is not None and u.earliest_due < today:
            continue
        if u.status == "rejected" and last_confirmed is not None and last_confirmed > u.created_at:
            continue
        out.append(UploadTask(u.id, u.file_name, u.status, u.error_count, u.earliest_due))
    return out


async def my_tasks(
    db: Database, telegram_user_id: int, today: dt.date, calendar: WorkCalendar, tz: dt.tzinfo
) -> Tasks:
    async with db.transaction() as s:
        account = await collector_account(s, telegram_user_id)
        return await tasks_for_account(s, account, today, calendar, tz)
