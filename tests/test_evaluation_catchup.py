"""The nightly evaluation catches up: a run whose time passed while the process was down happens at
start-up (or the next scan), once across replicas, and the morning digest reports on it; with a
moved clock, on both databases."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

from sqlalchemy import select, update
from telegram import Bot

from bot.app import LOCAL_TOKEN
from bot.transport import InProcessBotAPI
from db.leases import lease
from db.models import Account, ScheduledRun, SubjectEvaluation
from db.session import Database
from handlers import schedule_conversation_jobs
from handlers.evaluation import DIGEST_JOB, EVALUATION_JOB, evaluation_scan
from services.runtime import Services
from services.scheduled_runs import STALE_AFTER, due_slot, run_once
from tests.conftest import BotHarness
from tests.test_lifecycle_support import add_record, add_subject, dept_id


def at(day: dt.date, clock: str, svc: Services) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), svc.settings.tz)


async def evaluation(db: Database, subject_id: int) -> SubjectEvaluation:
    async with db.transaction() as s:
        found = await s.get(SubjectEvaluation, subject_id)
        assert found is not None
        return found


async def runs(db: Database) -> list[tuple[str, dt.date, bool]]:
    async with db.transaction() as s:
        rows = (await s.scalars(select(ScheduledRun).order_by(ScheduledRun.slot, ScheduledRun.job))).all()
        return [(r.job, r.slot, r.finished_at is not None) for r in rows]


def test_the_slot_is_the_latest_run_time_passed() -> None:
    two = dt.time(2, 0)
    assert due_slot(dt.datetime(2026, 12, 7, 1, 59), two) == dt.date(2026, 12, 6)
    assert due_slot(dt.datetime(2026, 12, 7, 2, 0), two) == dt.date(2026, 12, 7)
    assert due_slot(dt.datetime(2026, 12, 7, 23, 59), two) == dt.date(2026, 12, 7)


async def test_missed_nightly_run_is_caught_up_once_across_replicas(harness: BotHarness) -> None:
    svc: Services = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    assert svc.settings.evaluation.full_run_time == "02:00" and svc.settings.evaluation.digest_time == "08:30"
    today = svc.today()
    yesterday = today - dt.timedelta(days=1)
    dept = await dept_id(harness.db, "SCJGJ")
    hengda = await add_subject(harness.db)
    await add_record(harness.db, hengda, dept, "行政处罚", "安市监罚〔2026〕88号", today - dt.timedelta(days=30))
    official = await harness.chat("official", dept="SCJGJ")
    # The official's account predates the moved clock: a digest reports warnings newer than the account,
    # and the real clock may already be past the 09:10 the scans below pretend.
    async with harness.db.transaction() as s:
        await s.execute(update(Account).values(created_at=at(yesterday, "00:00", svc)))
    transport = InProcessBotAPI()
    async with Bot(LOCAL_TOKEN, request=transport) as bot:
        # Yesterday's run at 02:30; no digest before 08:30.
        await evaluation_scan(svc, bot, at(yesterday, "02:30", svc))
        before = await evaluation(harness.db, hengda)
        assert before.grade == "中" and before.computed_at == at(yesterday, "02:30", svc)
        assert await runs(harness.db) == [(EVALUATION_JOB, yesterday, True)]

        # A severe penalty arrives; the process is down at 02:00 today and starts at 09:10 with a
        # second replica: the full run happens once, then the digest, once.
        await add_record(harness.db, hengda, dept, "行政处罚", "安市监罚〔2026〕99号", today - dt.timedelta(days=1),
                         severity="严重")
        other = Services(settings=svc.settings, db=Database(harness.db.url))
        try:
            start = at(today, "09:10", svc)
            await asyncio.gather(evaluation_scan(svc, bot, start), evaluation_scan(other, bot, start))
        finally:
            await other.db.dispose()
        after = await evaluation(harness.db, hengda)
        assert after.computed_at == start and after.grade == "差"  # not a day old
        assert await runs(harness.db) == [
            (EVALUATION_JOB, yesterday, True), (EVALUATION_JOB, today, True), (DIGEST_JOB, today, True)
        ]
        digests = [o for o in transport.sent if o.chat_id == official.chat.id]
        assert len(digests) == 1 and "受到严重行政处罚" in (digests[0].text or "")

        # Later scans the same day, and tonight before 02:00, run nothing again.
        for later in (at(today, "09:20", svc), at(today, "23:59", svc), at(today + dt.timedelta(days=1), "01:59", svc)):
            await evaluation_scan(svc, bot, later)
        assert (await evaluation(harness.db, hengda)).computed_at == start
        assert len([o for o in transport.sent if o.chat_id == official.chat.id]) == 1
        # Tomorrow's time comes: tomorrow's run.
        await evaluation_scan(svc, bot, at(today + dt.timedelta(days=1), "02:00", svc))
        assert (await evaluation(harness.db, hengda)).computed_at == at(today + dt.timedelta(days=1), "02:00", svc)


async def test_the_digest_waits_while_the_evaluation_runs_elsewhere(harness: BotHarness) -> None:
    """Another replica is in the middle of today's full run (its claim and its lease): this one runs
    nothing and sends no digest yet; once that run is finished, the next scan sends the digest."""
    svc: Services = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    today = svc.today()
    nine = at(today, "09:00", svc)
    async with harness.db.transaction() as s:
        s.add(ScheduledRun(job=EVALUATION_JOB, slot=today, claimed_at=nine))
    async with Bot(LOCAL_TOKEN, request=InProcessBotAPI()) as bot:
        async with lease(harness.db, f"scheduled:{EVALUATION_JOB}:{today.isoformat()}") as held:
            assert held
            await evaluation_scan(svc, bot, nine)
        assert await runs(harness.db) == [(EVALUATION_JOB, today, False)]
        async with harness.db.transaction() as s:
            await s.execute(update(ScheduledRun).values(finished_at=nine))
        await evaluation_scan(svc, bot, at(today, "09:10", svc))
    assert await runs(harness.db) == [(EVALUATION_JOB, today, True), (DIGEST_JOB, today, True)]


async def test_no_digest_while_another_replica_holds_the_run_before_its_claim(harness: BotHarness) -> None:
    """The replica that won today's run has its lease but has not written its claim yet: to this one
    the run looks like nobody's. Sending the digest then would report on yesterday's grades and close
    today's digest (the flaky failure of the two-replica catch-up above)."""
    svc: Services = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    today = svc.today()
    async with Bot(LOCAL_TOKEN, request=InProcessBotAPI()) as bot:
        async with lease(harness.db, f"scheduled:{EVALUATION_JOB}:{today.isoformat()}") as held:
            assert held
            await evaluation_scan(svc, bot, at(today, "09:00", svc))
        assert await runs(harness.db) == []
        await evaluation_scan(svc, bot, at(today, "09:10", svc))
    assert await runs(harness.db) == [(EVALUATION_JOB, today, True), (DIGEST_JOB, today, True)]


async def test_a_failed_or_abandoned_run_is_run_again(db: Database) -> None:
    day = dt.date(2026, 12, 7)
    calls: list[int] = []

    async def failing() -> None:
        calls.append(1)
        raise RuntimeError("database went away")

    async def working() -> int:
        calls.append(2)
        return 7

    with contextlib.suppress(RuntimeError):
        await run_once(db, "job", day, failing)
    assert await runs(db) == []  # the claim was given back
    assert await run_once(db, "job", day, working) == (True, 7)
    assert await run_once(db, "job", day, working) == (False, None)  # finished: once
    # A process that died mid-run left an unfinished claim: taken over (SQLite: once it is stale).
    now = dt.datetime.now(dt.UTC)
    async with db.transaction() as s:
        s.add(ScheduledRun(job="job", slot=day + dt.timedelta(days=1), claimed_at=now - STALE_AFTER / 2))
    ran, _ = await run_once(db, "job", day + dt.timedelta(days=1), working, now)
    assert ran == (db.dialect == "postgresql")
    ran, _ = await run_once(db, "job", day + dt.timedelta(days=1), working, now + STALE_AFTER)
    assert ran == (db.dialect != "postgresql")
    assert calls == [1, 2, 2]


async def test_the_catch_up_scan_is_scheduled(harness: BotHarness) -> None:
    schedule_conversation_jobs(harness.app)  # type: ignore[arg-type]
    jobs = {job.name: job for job in harness.app.job_queue.jobs()}  # type: ignore[attr-defined]
    assert {"evaluation full run", "risk digest", "evaluation catch-up"} <= set(jobs)
    for job in jobs.values():
        job.schedule_removal()
