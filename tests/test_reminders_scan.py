"""The reminder scan against a real database: which days remind, claims, escalation, two processes."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.app import LOCAL_TOKEN
from bot.jobs import sender
from bot.limited_bot import LimitedBot
from bot.transport import InProcessBotAPI
from db.models import ReminderClaim, ReportingDuty
from db.regions import default_region, seed_region
from db.session import Database
from rules.workcal import WorkCalendar
from services.accounts import ensure_local_account
from services.collection.duties import seed_duties
from services.collection.reminders import ReminderPolicy, run_scan

TZ = ZoneInfo("Asia/Shanghai")
POLICY = ReminderPolicy(("09:00", "15:00"), 3, 3)
CAL = WorkCalendar()


def at(day: str, time: str = "09:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TZ)


async def setup(db: Database, collectors: int = 1) -> list[int]:
    await seed_region(db, default_region())
    await seed_duties(db, default_region())
    async with db.transaction() as s:  # the duties existed long before the months under test
        await s.execute(update(ReportingDuty).values(created_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC)))
    ids = [700_100 + i for i in range(collectors)]
    for uid in ids:
        await ensure_local_account(db, uid, "collector", "SCJGJ")
    return ids


async def scan(db: Database, when: dt.datetime, transport: InProcessBotAPI | None = None, dry: bool = False):  # type: ignore[no-untyped-def]
    transport = transport or InProcessBotAPI()
    async with LimitedBot(LOCAL_TOKEN, request=transport) as bot:
        result = await run_scan(db, when, POLICY, CAL, TZ, sender(bot, 3), dry_run=dry)
    return result, transport


async def test_monthly_reminder_days(db: Database) -> None:
    (uid,) = await setup(db)
    # October 2026 ends on Friday 10-30: remind on 10-27 (3 working days before), on 10-30, then daily.
    result, transport = await scan(db, at("2026-10-27"))
    assert [r.telegram_user_id for r in result.sent] == [uid]
    text = transport.sent[0].text or ""
    assert "【信用通·报送提醒】2026-10-27（星期二）" in text
    assert "按月报送未完成 6 项" in text and "“登记备案”尚未报送：截止 10月30日，还剩 3 个工作日" in text
    assert "最近的截止日期：2026-10-30（星期五）" in text
    assert transport.sent[0].buttons == [["查看待办", "本期无新增"], ["今日不再提醒"]]
    assert not (await scan(db, at("2026-10-28")))[0].planned  # a quiet day
    assert "今天截止" in (await scan(db, at("2026-10-30")))[1].sent[0].text  # type: ignore[operator]
    assert not (await scan(db, at("2026-10-31")))[0].planned  # Saturday: not a working day
    late = (await scan(db, at("2026-11-02")))[1].sent[0].text or ""
    assert "上月（2026-10）“登记备案”尚未报送" in late and "已逾期 1 个工作日" in late
    assert not (await scan(db, at("2026-11-02", "08:59")))[0].planned  # before the first reminder time


async def test_claims_make_the_scan_idempotent(db: Database) -> None:
    await setup(db)
    first, _ = await scan(db, at("2026-10-27", "09:30"))
    again, transport = await scan(db, at("2026-10-27", "10:00"))  # same slot (09:00): already claimed
    assert len(first.sent) == 1 and not again.sent and again.skipped == 1 and not transport.sent
    later, _ = await scan(db, at("2026-10-27", "15:00"))  # next reminder time: a new digest
    assert len(later.sent) == 1
    dry, transport = await scan(db, at("2026-10-30"), dry=True)
    assert len(dry.planned) == 1 and not transport.sent
    async with db.transaction() as s:
        days = (await s.scalars(select(ReminderClaim.day))).all()
    assert dt.date(2026, 10, 30) not in days  # a dry run claims nothing


async def test_escalation_goes_to_the_divisions_admins(db: Database) -> None:
    await setup(db)
    await ensure_local_account(db, 700_201, "admin", "FGW")  # city level, like SCJGJ
    await ensure_local_account(db, 700_202, "admin", "610902-SCJGJ")  # 汉滨区: another division
    result, _ = await scan(db, at("2026-11-04"))  # 3 working days overdue: not yet
    assert {r.telegram_user_id for r in result.sent} == {700_100}
    result, transport = await scan(db, at("2026-11-05"))  # 4 working days overdue: escalate
    assert {r.telegram_user_id for r in result.sent} == {700_100, 700_201, 700_202}
    city = next(o.text for o in transport.sent if o.chat_id == 700_201) or ""
    county = next(o.text for o in transport.sent if o.chat_id == 700_202) or ""
    assert "【信用通·逾期督办】" in city and "安康市市场监督管理局（SCJGJ）2026-10 已逾期 4 个工作日：" in city
    assert "登记备案" in city and "610902-" not in city  # each admin hears about their own division
    assert "（610902-SCJGJ）" in county and "（SCJGJ）" not in county
    again, _ = await scan(db, at("2026-11-05", "15:00"))
    assert {r.telegram_user_id for r in again.sent} == {700_100}  # one escalation per admin per day


async def test_two_processes_send_each_reminder_once(db: Database) -> None:
    ids = await setup(db, collectors=6)
    await ensure_local_account(db, 700_201, "admin", "FGW")  # escalations go to this admin only
    first, second = Database(db.url), Database(db.url)  # two engines: two bot processes
    try:
        (r1, t1), (r2, t2) = await asyncio.gather(scan(first, at("2026-11-05")), scan(second, at("2026-11-05")))
    finally:
        await first.dispose()
        await second.dispose()
    # A long escalation arrives in several messages; each reminder starts with its one heading.
    headed = [o for o in t1.sent + t2.sent if (o.text or "").startswith("【信用通·")]
    recipients = sorted(o.chat_id for o in headed)  # type: ignore[type-var]
    assert recipients == sorted([*ids, 700_201])
    assert len(r1.sent) + len(r2.sent) == 7 and r1.skipped + r2.skipped == 7
