"""Reminders in chat: the digest's buttons, /mytasks, /zero, muting, and the catch-up at start-up."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

from sqlalchemy import select, update

import bot.app as bot_app
from bot.jobs import scan_now
from bot.transport import InProcessBotAPI
from db.models import PeriodReport, ReportingDuty
from db.session import Database
from rules.workcal import WorkCalendar
from services.accounts import ensure_local_account
from services.settings import CalendarSettings, DatabaseSettings, ReminderSettings, Settings
from tests.test_collect_upload import until


async def backdate_duties(db: Database) -> None:
    """Duties that existed before last month's deadline, so last month is owed whatever today is."""
    async with db.transaction() as s:
        await s.execute(update(ReportingDuty).values(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))


def force_workday(app: object, today: dt.date) -> None:
    svc = app.bot_data["services"]  # type: ignore[attr-defined]
    svc.settings = replace(svc.settings, calendar=CalendarSettings(workdays=[today]))
    svc.calendar = WorkCalendar(extra_workdays=[today])


async def test_digest_buttons_zero_and_mute(harness) -> None:  # type: ignore[no-untyped-def]
    svc = harness.app.bot_data["services"]
    chat = await harness.chat("collector", dept="SWJ")  # 市税务局: monthly 登记备案、行政强制、行政确认、严重失信主体名单
    await backdate_duties(harness.db)
    today = svc.today()
    force_workday(harness.app, today)
    nine = dt.datetime.combine(today, dt.time(9, 0), svc.settings.tz)

    result = await scan_now(harness.app, nine)
    assert [r.telegram_user_id for r in result.sent] == [chat.chat.id]
    digest = harness.transport.sent[-1]
    assert digest.chat_id == chat.chat.id and "上月" in (digest.text or "") and "逾期" in (digest.text or "")

    tasks = await harness.say(chat, "#1")  # 查看待办
    assert "国家税务总局安康市税务局的报送待办" in (tasks[-1].text or "")
    await harness.say(chat, "/mytasks")
    menu = await harness.say(chat, "/zero")
    labels = [row[0] for row in menu[-1].buttons]
    assert len(labels) == 4 and all("（" in label for label in labels)
    chosen = labels[0].split("（")[0]
    done = await harness.say(chat, "#1")
    assert f"已确认：“{chosen}”" in (done[-1].text or "") and "本期无新增" in (done[-1].text or "")
    async with harness.db.transaction() as s:
        assert (await s.scalars(select(PeriodReport.category))).all() == [chosen]

    await harness.say(chat, "/mytasks")
    mute = await until(harness, lambda o: "今日不再提醒" in str(o.buttons))
    assert mute
    await scan_now(harness.app, nine.replace(hour=15))  # new slot, sends again (one category fewer)
    latest = harness.transport.sent[-1]
    assert latest.chat_id == chat.chat.id and chosen not in (latest.text or "").split("上月")[1].split("\n")[0]
    out = await harness.say(chat, "#3")  # 今日不再提醒
    assert "今天不再提醒您" in (out[-1].text or "")
    svc.settings = replace(svc.settings, reminders=ReminderSettings(times=["09:00", "15:00", "16:00"]))
    muted = await scan_now(harness.app, nine.replace(hour=16))
    assert not muted.sent and not muted.planned


async def test_missed_scan_is_caught_up_at_start_and_not_repeated(db: Database) -> None:
    today = dt.datetime.now(dt.UTC).astimezone(Settings().tz).date()
    settings = Settings(
        database=DatabaseSettings(url=db.url),
        reminders=ReminderSettings(times=["00:00"]),  # today's reminder time has passed: the bot was down
        calendar=CalendarSettings(workdays=[today]),
    )
    sent_counts = []
    for _ in range(2):  # start, stop, start again
        transport = InProcessBotAPI()
        app = bot_app.build_application(settings, transport, db=Database(db.url))
        async with app:
            await bot_app.start_services(app)
            if not sent_counts:
                await ensure_local_account(db, 700_300, "collector", "SWJ")
                await backdate_duties(db)
            await app.start()
            await asyncio.sleep(2.5)  # the catch-up job runs one second after start
            await app.stop()
        sent_counts.append(sum(1 for o in transport.sent if o.chat_id == 700_300 and "报送提醒" in (o.text or "")))
    assert sent_counts == [1, 0]


async def test_objections_waiting_on_the_department_reach_the_collector(harness) -> None:  # type: ignore[no-untyped-def]
    """The scan includes objections the department must answer, with their answer date."""
    from rules.roles import Viewer
    from services.objections import file_objection
    from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id

    svc = harness.app.bot_data["services"]
    today = svc.today()
    dept = await dept_id(harness.db, "SCJGJ")
    subject = await add_subject(harness.db)
    record = await add_record(harness.db, subject, dept, "行政处罚", "安市监罚〔2026〕9号", today - dt.timedelta(days=20))
    account = await ensure_local_account(harness.db, 777001, "enterprise", subject_uscc=HENGDA)
    owner = Viewer(account_id=account.id, role="enterprise", subject_ids=frozenset({subject}))
    filed = await file_objection(harness.db, owner, record, "罚款金额与决定书不符", [], today, svc.calendar)
    chat = await harness.chat("collector", dept="SCJGJ")
    tasks = "\n".join(o.text or "" for o in await harness.say(chat, "/mytasks"))
    assert "待本部门处理的异议申请 1 件" in tasks
    assert "信用修复申请" not in tasks
    other = await harness.chat("collector", dept="SWJ")
    assert "异议申请" not in "\n".join(o.text or "" for o in await harness.say(other, "/mytasks"))
    assert filed.answer_due > today
