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
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Account,
    Department,
    ReportingDuty,
)
from db.regions import RegionData
from db.session import Database
from db.upsert import insert_ignore
from rules.categories import CATEGORIES, normalize_category
from services.departments import department_by_code
from services.errors import Refusal

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
            q = q.where(Department.id == (await department_by_code(s, dept_code)).id)
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
        dept = await department_by_code(s, dept_code)
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
            dept = await department_by_code(s, dept_code)
        if scope is not None and dept.id not in scope:
            raise Refusal("只能管理本县区部门的报送职责。")
        return dept.code
