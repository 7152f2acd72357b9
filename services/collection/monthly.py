"""Monthly periods: which monthly duties are still unreported, and 本期无新增 (nothing new this month).

A month counts as reported when the department's records of that category arrived in that month,
when a confirmed upload or 本期无新增 was filed for it (a late report for last month is filed
against last month), never by guessing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Account,
    CreditRecord,
    PeriodReport,
    ReportingDuty,
)
from db.session import Database
from db.upsert import insert_ignore
from rules.categories import normalize_category
from rules.periods import (
    as_local_date,
    is_monthly,
    period_bounds,
    period_deadline,
    period_of,
    previous_period,
)
from rules.workcal import WorkCalendar
from services.errors import NOT_A_COLLECTOR, Refusal

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


def serves(gap: MonthlyGap, account: Account) -> bool:
    """Whether this collector answers for the gap (a duty with no named collector is everyone's)."""
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
            if serves(g, account):
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
