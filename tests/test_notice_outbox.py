"""Issue 12, part B: the notice outbox. A notice to a subject is written before it is sent; the
official is told whether it arrived; a passing failure is retried by the job with backoff and
delivered once; a chat that blocked the bot is not retried; two replicas never send one notice twice;
the stored text carries no ID number in clear."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from db.models import Listing, Notice, utcnow
from db.session import Database
from handlers.notify import retry_due
from rules.roles import Viewer
from services import notices
from services.accounts import ensure_local_account
from tests.conftest import BotHarness
from tests.test_declare_support import PERSON_ID
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id, texts, today


async def objection_decided(harness: BotHarness, trouble: set[int] | None = None) -> tuple[object, object, str]:
    """The subject objects; the department upholds the record while the subject's chat is in
    `trouble` (a set of the transport); returns the subject's chat, the official's chat and what the
    official was told."""
    t = today(harness)
    subject = await add_subject(harness.db)
    await add_record(harness.db, subject, await dept_id(harness.db), "行政处罚", "安市监罚〔2026〕8号", t - dt.timedelta(days=5))
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="SCJGJ")
    for line in ("/objection", "#1", "处罚所依据的事实有误", "#1"):
        await harness.say(owner, line)
    if trouble is not None:
        trouble.add(owner.chat.id)
    for line in ("/objections", "#1", "#1"):  # the queue, the case, 维持
        await harness.say(official, line)
    told = texts(await harness.say(official, "经复核，原处罚事实清楚"))
    return owner, official, told


def sent_to(harness: BotHarness, chat_id: int, mark: str) -> int:
    return len([o for o in harness.transport.sent if o.chat_id == chat_id and mark in (o.text or "")])


async def stored(db: Database) -> list[Notice]:
    async with db.transaction() as s:
        return list((await s.scalars(select(Notice).order_by(Notice.id))).all())


async def test_a_passing_failure_is_retried_by_the_job_and_delivered_once(harness: BotHarness) -> None:
    owner, _official, told = await objection_decided(harness, harness.transport.unreachable)
    assert "暂未送达该主体" in told and "自动重试" in told and "已通知" not in told
    [notice] = [n for n in await stored(harness.db) if n.chat_id == owner.chat.id]  # type: ignore[attr-defined]
    assert notice.status == "pending" and notice.attempts == 1 and notice.last_error == "NetworkError"
    bot = harness.app.bot  # type: ignore[attr-defined]
    assert (await retry_due(bot, harness.db)).total == 0  # not due before its first delay
    later = utcnow() + notices.RETRY_DELAYS[0] + dt.timedelta(seconds=1)
    assert (await retry_due(bot, harness.db, later)).retrying == 1  # still down: the next delay
    harness.transport.unreachable.clear()
    assert (await retry_due(bot, harness.db, later)).total == 0
    due = later + notices.RETRY_DELAYS[1] + dt.timedelta(minutes=1)
    other = Database(harness.db.url)  # a second replica runs the same job at the same moment
    try:
        runs = await asyncio.gather(retry_due(bot, harness.db, due), retry_due(bot, other, due))
    finally:
        await other.dispose()
    assert sum(r.delivered for r in runs) == 1 and sum(r.total for r in runs) == 1
    assert sent_to(harness, owner.chat.id, "【异议处理结果】") == 1  # type: ignore[attr-defined]
    assert (await retry_due(bot, harness.db, later + dt.timedelta(days=1))).total == 0
    [notice] = [n for n in await stored(harness.db) if n.chat_id == owner.chat.id]  # type: ignore[attr-defined]
    assert notice.status == "delivered" and notice.attempts == 3


async def test_a_blocked_chat_is_told_and_not_retried(harness: BotHarness) -> None:
    owner, official, told = await objection_decided(harness, harness.transport.blocked)
    assert "未能送达该主体" in told and "请另行书面告知" in told and "已通知" not in told
    bot = harness.app.bot  # type: ignore[attr-defined]
    harness.transport.blocked.clear()  # even if the user unblocks later, a refused notice is not resent
    assert (await retry_due(bot, harness.db, utcnow() + dt.timedelta(days=1))).total == 0
    listed = texts(await harness.say(official, "/undelivered"))  # type: ignore[arg-type]
    assert "未能送达的通知 1 条" in listed and "已屏蔽" in listed
    assert "仅限办事人员" in texts(await harness.say(owner, "/undelivered"))  # type: ignore[arg-type]


async def test_backoff_then_given_up_and_a_lost_claim_changes_nothing(db: Database) -> None:
    now = utcnow()
    [first] = await notices.post(db, [42], "【通知】测试", "test", now)
    t, claimed = now, first
    for delay in notices.RETRY_DELAYS:
        assert await notices.settle(db, claimed, "failed", "NetworkError", t) == notices.PENDING
        assert await notices.claim_due(db, t + delay - dt.timedelta(seconds=1)) == []  # not yet
        t = t + delay
        [claimed] = await notices.claim_due(db, t)
        assert await notices.settle(db, first, notices.DELIVERED, now=t) is None  # an old claim is lost
    assert await notices.settle(db, claimed, "failed", "NetworkError", t) == notices.GIVEN_UP
    assert await notices.claim_due(db, t + dt.timedelta(days=1)) == []
    [row] = await stored(db)
    assert row.status == notices.GIVEN_UP and row.attempts == len(notices.RETRY_DELAYS) + 1
    admin = await ensure_local_account(db, 777, "admin")
    [listed] = await notices.undelivered(db, Viewer(account_id=admin.id, role="admin"), now - dt.timedelta(days=1))
    assert listed.status == notices.GIVEN_UP


async def test_two_replicas_never_claim_one_notice_twice(db: Database) -> None:
    now = utcnow()
    claimed = await notices.post(db, range(1000, 1040), "【通知】测试", "test", now)
    for c in claimed:
        await notices.settle(db, c, "failed", "NetworkError", now)
    other = Database(db.url)  # a second process: its own engine and connections
    try:
        due = now + notices.RETRY_DELAYS[0]
        rounds = [await asyncio.gather(notices.claim_due(db, due, limit=25), notices.claim_due(other, due, limit=25)) for _ in range(2)]
    finally:
        await other.dispose()
    ids = [n.id for pair in rounds for claimed_now in pair for n in claimed_now]
    assert len(ids) == len(set(ids)) == 40


async def test_the_stored_text_has_no_id_number_in_clear(db: Database) -> None:
    await notices.post(db, [7], f"【异议处理结果】申请人身份证号 {PERSON_ID}，联系电话 13912345678。", "test")
    [row] = await stored(db)
    assert PERSON_ID not in row.text and "13912345678" not in row.text and PERSON_ID[:6] in row.text


async def test_a_prior_notice_document_is_retried_as_the_stored_pdf(harness: BotHarness) -> None:
    await add_subject(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="SCJGJ")
    harness.transport.unreachable.add(owner.chat.id)
    for line in ("/propose", HENGDA, "《企业信息公示暂行条例》第十八条", "连续三年未按规定报送年度报告", "#1", "#1"):
        await harness.say(official, line)
    told = texts(await harness.say(official, "#1"))
    assert "已发出事前告知书" in told and "暂未送达该主体" in told
    harness.transport.unreachable.clear()
    done = await retry_due(harness.app.bot, harness.db, utcnow() + dt.timedelta(minutes=2))  # type: ignore[attr-defined]
    assert done.delivered == 1
    async with harness.db.transaction() as s:
        pdf = await s.scalar(select(Listing.notice_pdf))
    [sent] = [o for o in harness.transport.sent if o.method == "sendDocument" and o.chat_id == owner.chat.id]
    assert sent.content == pdf and sent.file_name and sent.file_name.startswith("事前告知书-")
