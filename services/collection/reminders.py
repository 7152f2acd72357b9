"""The reminder scan: who must be reminded of what, right now, and the claim that makes sending safe.

The scan is driven by the database alone, so it can run from the JobQueue, from `creditbot remind`,
at start-up to catch up a run missed while the bot was down, or in two processes at once. Every
reminder is CLAIMED first, by inserting a row unique per (recipient, key, day); the insert that loses
the race inserts nothing and its scan does not send. A send that fails releases its claim so the
next scan can try again.

Keys: `digest HH:MM` (one collector digest per configured reminder time), `escalate` (one message
per admin per day), `mute` (the person asked for no more reminders today).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update

from db.models import Account, Department, ReminderClaim
from db.session import Database
from db.upsert import insert_ignore
from rules.workcal import WorkCalendar
from services.collection.monthly import MonthlyGap, monthly_gaps
from services.collection.tasks import Tasks, tasks_for_account
from services.collection.uploads import admins_for_division

log = logging.getLogger(__name__)
MUTE = "mute"
ESCALATE = "escalate"


@dataclass(frozen=True)
class ReminderPolicy:
    """The [reminders] settings, as the scan needs them."""

    times: tuple[str, ...]
    days_before_month_end: int
    escalate_after_working_days: int


@dataclass(frozen=True)
class Escalated:
    department_code: str
    department_name: str
    category: str
    period: str
    overdue_days: int


@dataclass
class Reminder:
    account_id: int
    telegram_user_id: int
    key: str
    day: dt.date
    tasks: Tasks | None = None
    escalations: list[Escalated] = field(default_factory=list)


@dataclass
class ScanResult:
    at: dt.datetime
    slot: str | None
    planned: list[Reminder] = field(default_factory=list)
    sent: list[Reminder] = field(default_factory=list)
    skipped: int = 0  # claimed elsewhere already (another run, another process)
    failed: int = 0


def slot_for(local: dt.datetime, times: tuple[str, ...]) -> str | None:
    """The latest configured reminder time at or before `local` today (None: too early)."""
    passed = sorted(t for t in times if dt.time.fromisoformat(t) <= local.time().replace(tzinfo=None))
    return passed[-1] if passed else None


def digest_due(gap: MonthlyGap, days_before: int) -> bool:
    """Monthly reminders: N working days before the month's last working day, on the day, and on
    every working day after it until reported."""
    return gap.days_left in (days_before, 0) or gap.days_left < 0


async def plan(
    db: Database, at: dt.datetime, policy: ReminderPolicy, calendar: WorkCalendar, tz: dt.tzinfo
) -> tuple[str | None, list[Reminder]]:
    """The reminders owed at `at` (before claims): read-only, so a dry run is exactly this."""
    local = at.astimezone(tz)
    today = local.date()
    if not calendar.is_workday(today):
        return None, []
    slot = slot_for(local, policy.times)
    if slot is None:
        return None, []
    out: list[Reminder] = []
    async with db.transaction() as s:
        gaps = await monthly_gaps(s, today, calendar, tz)
        muted = set(
            (await s.scalars(select(ReminderClaim.account_id).where(ReminderClaim.key == MUTE, ReminderClaim.day == today))).all()
        )
        collectors = (
            await s.scalars(
                select(Account)
                .where(
                    Account.role == "collector", Account.active.is_(True),
                    Account.department_id.is_not(None), Account.telegram_user_id.is_not(None),
                )
                .order_by(Account.id)
            )
        ).all()
        due_gaps = [g for g in gaps if digest_due(g, policy.days_before_month_end)]
        for account in collectors:
            if account.id in muted:
                continue
            tasks = await tasks_for_account(s, account, today, calendar, tz, due_gaps)
            if not tasks.empty:
                assert account.telegram_user_id is not None
                out.append(Reminder(account.id, account.telegram_user_id, f"digest {slot}", today, tasks))

        late = [g for g in gaps if -g.days_left > policy.escalate_after_working_days]
        if late:
            depts = {d.id: d for d in (await s.scalars(select(Department).where(Department.id.in_({g.department_id for g in late})))).all()}
            by_admin: dict[int, Reminder] = {}
            by_division: dict[str, list[MonthlyGap]] = defaultdict(list)
            for g in late:
                by_division[depts[g.department_id].division_code].append(g)
            for division, division_gaps in sorted(by_division.items()):
                for admin in await admins_for_division(s, division):
                    if admin.id in muted:
                        continue
                    assert admin.telegram_user_id is not None
                    r = by_admin.setdefault(admin.id, Reminder(admin.id, admin.telegram_user_id, ESCALATE, today))
                    for g in division_gaps:
                        d = depts[g.department_id]
                        r.escalations.append(Escalated(d.code, d.name, g.category, g.period, -g.days_left))
            for r in by_admin.values():
                r.escalations.sort(key=lambda e: (-e.overdue_days, e.department_code, e.category))
                out.append(r)
    return slot, out


async def claim(db: Database, account_id: int, key: str, day: dt.date) -> bool:
    """Insert the claim row; True only for the one caller whose insert won."""
    async with db.transaction() as s:
        result = await s.execute(
            insert_ignore(
                s, ReminderClaim,
                {"account_id": account_id, "key": key, "day": day, "claimed_at": dt.datetime.now(dt.UTC)},
                ["account_id", "key", "day"],
            ).returning(ReminderClaim.id)
        )
        return result.scalar_one_or_none() is not None


async def _release(db: Database, r: Reminder) -> None:
    async with db.transaction() as s:
        await s.execute(
            delete(ReminderClaim).where(
                ReminderClaim.account_id == r.account_id, ReminderClaim.key == r.key, ReminderClaim.day == r.day
            )
        )


async def _mark_sent(db: Database, r: Reminder) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(ReminderClaim)
            .where(ReminderClaim.account_id == r.account_id, ReminderClaim.key == r.key, ReminderClaim.day == r.day)
            .values(sent_at=dt.datetime.now(dt.UTC))
        )


async def run_scan(
    db: Database,
    at: dt.datetime,
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    tz: dt.tzinfo,
    send: Callable[[Reminder], Awaitable[None]] | None,
    dry_run: bool = False,
) -> ScanResult:
    """Plan, then claim and send each reminder; a dry run claims and sends nothing."""
    slot, planned = await plan(db, at, policy, calendar, tz)
    result = ScanResult(at, slot, planned)
    if dry_run or send is None:
        return result
    for r in planned:
        if not await claim(db, r.account_id, r.key, r.day):
            result.skipped += 1
            continue
        try:
            await send(r)
        except Exception as exc:  # a blocked bot or a network error: let the next scan retry
            log.warning("reminder to account %s failed: %s", r.account_id, type(exc).__name__)
            await _release(db, r)
            result.failed += 1
            continue
        await _mark_sent(db, r)
        result.sent.append(r)
    return result


async def mute_today(db: Database, telegram_user_id: int, day: dt.date) -> bool:
    """今日不再提醒: later scans today skip this person. Returns False if already muted."""
    async with db.transaction() as s:
        account = await s.scalar(select(Account).where(Account.telegram_user_id == telegram_user_id))
        if account is None:
            return False
        account_id = account.id
    return await claim(db, account_id, MUTE, day)
