"""Issue 12, part B: the notice outbox. A notice to a subject is written before it is sent; the
official is told whether it arrived; a passing failure is retried by the job with backoff and
delivered once; a chat that blocked the bot is not retried; two replicas never send one notice twice;
the stored text carries no ID number in clear."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select
from telegram.ext import CallbackContext

from db.models import Listing, Notice, utcnow
from db.session import Database
from handlers.listing import daily_lifecycle
from handlers.notify import retry_due, send_claimed
from rules.roles import Viewer
from services import notices
from services.accounts import ensure_local_account
from services.settings import PrivacySettings
from tests.conftest import BotHarness
from tests.test_declare_support import PERSON_ID
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id, texts, today

KEY = PrivacySettings().id_hash_key  # the harness's settings


async def objection_decided(
    harness: BotHarness, trouble: set[int] | None = None, reason: str = "经复核，原处罚事实清楚"
) -> tuple[object, object, str]:
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
    told = texts(await harness.say(official, reason))
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
    assert (await retry_due(bot, harness.db, KEY)).total == 0  # not due before its first delay
    later = utcnow() + notices.RETRY_DELAYS[0] + dt.timedelta(seconds=1)
    assert (await retry_due(bot, harness.db, KEY, later)).retrying == 1  # still down: the next delay
    harness.transport.unreachable.clear()
    assert (await retry_due(bot, harness.db, KEY, later)).total == 0
    due = later + notices.RETRY_DELAYS[1] + dt.timedelta(minutes=1)
    other = Database(harness.db.url)  # a second replica runs the same job at the same moment
    try:
        runs = await asyncio.gather(retry_due(bot, harness.db, KEY, due), retry_due(bot, other, KEY, due))
    finally:
        await other.dispose()
    assert sum(r.delivered for r in runs) == 1 and sum(r.total for r in runs) == 1
    assert sent_to(harness, owner.chat.id, "【异议处理结果】") == 1  # type: ignore[attr-defined]
    assert (await retry_due(bot, harness.db, KEY, later + dt.timedelta(days=1))).total == 0
    [notice] = [n for n in await stored(harness.db) if n.chat_id == owner.chat.id]  # type: ignore[attr-defined]
    assert notice.status == "delivered" and notice.attempts == 3


async def test_a_blocked_chat_is_told_and_not_retried(harness: BotHarness) -> None:
    owner, official, told = await objection_decided(harness, harness.transport.blocked)
    assert "未能送达该主体" in told and "请另行书面告知" in told and "已通知" not in told
    bot = harness.app.bot  # type: ignore[attr-defined]
    harness.transport.blocked.clear()  # even if the user unblocks later, a refused notice is not resent
    assert (await retry_due(bot, harness.db, KEY, utcnow() + dt.timedelta(days=1))).total == 0
    listed = texts(await harness.say(official, "/undelivered"))  # type: ignore[arg-type]
    assert "未能送达的通知 1 条" in listed and "已屏蔽" in listed
    assert "仅限办事人员" in texts(await harness.say(owner, "/undelivered"))  # type: ignore[arg-type]


async def test_backoff_then_given_up_and_a_lost_claim_changes_nothing(db: Database) -> None:
    now = utcnow()
    [first] = await notices.post(db, [42], "【通知】测试", "test", KEY, now)
    t, claimed = now, first
    for delay in notices.RETRY_DELAYS:
        assert await notices.settle(db, claimed, "failed", "NetworkError", t) == notices.PENDING
        assert await notices.claim_due(db, KEY, t + delay - dt.timedelta(seconds=1)) == []  # not yet
        t = t + delay
        [claimed] = await notices.claim_due(db, KEY, t)
        assert await notices.settle(db, first, notices.DELIVERED, now=t) == notices.PENDING  # an old claim is lost
    assert await notices.settle(db, claimed, "failed", "NetworkError", t) == notices.GIVEN_UP
    assert await notices.claim_due(db, KEY, t + dt.timedelta(days=1)) == []
    [row] = await stored(db)
    assert row.status == notices.GIVEN_UP and row.attempts == len(notices.RETRY_DELAYS) + 1
    admin = await ensure_local_account(db, 777, "admin")
    [listed] = (await notices.undelivered(db, Viewer(account_id=admin.id, role="admin"), now - dt.timedelta(days=1))).items
    assert listed.status == notices.GIVEN_UP


async def test_two_replicas_never_claim_one_notice_twice(db: Database) -> None:
    now = utcnow()
    claimed = await notices.post(db, range(1000, 1040), "【通知】测试", "test", KEY, now)
    for c in claimed:
        await notices.settle(db, c, "failed", "NetworkError", now)
    other = Database(db.url)  # a second process: its own engine and connections
    try:
        due = now + notices.RETRY_DELAYS[0]
        rounds = [await asyncio.gather(notices.claim_due(db, KEY, due, limit=25), notices.claim_due(other, KEY, due, limit=25)) for _ in range(2)]
    finally:
        await other.dispose()
    ids = [n.id for pair in rounds for claimed_now in pair for n in claimed_now]
    assert len(ids) == len(set(ids)) == 40


async def test_the_stored_text_has_no_id_number_in_clear(db: Database) -> None:
    await notices.post(db, [7], f"【异议处理结果】申请人身份证号 {PERSON_ID}，联系电话 13912345678。", "test", KEY)
    [row] = await stored(db)
    assert PERSON_ID not in row.text and "13912345678" not in row.text and PERSON_ID[:6] in row.text


async def test_a_prior_notice_document_is_retried_as_the_stored_pdf(harness: BotHarness) -> None:
    await add_subject(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="RSJ")
    harness.transport.unreachable.add(owner.chat.id)
    for line in ("/propose", HENGDA, "#1", "拖欠农民工工资逾期未支付", "#1"):
        await harness.say(official, line)
    told = texts(await harness.say(official, "#1"))
    assert "已发出事前告知书" in told and "暂未送达该主体" in told
    harness.transport.unreachable.clear()
    done = await retry_due(harness.app.bot, harness.db, KEY, utcnow() + dt.timedelta(minutes=2))  # type: ignore[attr-defined]
    assert done.delivered == 1
    async with harness.db.transaction() as s:
        pdf = await s.scalar(select(Listing.notice_pdf))
    [sent] = [o for o in harness.transport.sent if o.method == "sendDocument" and o.chat_id == owner.chat.id]
    assert sent.content == pdf and sent.file_name and sent.file_name.startswith("事前告知书-")


async def test_a_sender_that_lost_its_claim_neither_sends_again_nor_reports_refused(harness: BotHarness) -> None:
    chat = (await harness.chat("public")).chat.id  # type: ignore[attr-defined]
    bot = harness.app.bot  # type: ignore[attr-defined]
    now = utcnow()
    first = await notices.post(harness.db, [chat], "【通知】慢发送", "test", KEY, now)  # process A, slow to send
    assert notices.SEND_TIMEOUT * 4 < notices.LEASE  # a send cannot outlive the claim it was started under
    second = await notices.claim_due(harness.db, KEY, now + notices.LEASE + dt.timedelta(seconds=1))  # B, after the lease
    assert [c.id for c in second] == [c.id for c in first]
    assert (await send_claimed(bot, harness.db, second)).delivered == 1
    late = await send_claimed(bot, harness.db, first)  # A wakes up
    assert (late.delivered, late.refused) == (1, 0)  # the row's truth, never "refused"
    assert sent_to(harness, chat, "慢发送") == 1


async def test_a_retry_is_not_sent_to_an_account_unbound_meanwhile(harness: BotHarness) -> None:
    owner, official, _told = await objection_decided(harness, harness.transport.unreachable)
    harness.transport.unreachable.clear()  # reachable again: /unbind asks, and the owner confirms
    await harness.say(owner, "/unbind")  # type: ignore[arg-type]
    await harness.say(owner, "#1")  # type: ignore[arg-type]
    bot = harness.app.bot  # type: ignore[attr-defined]
    done = await retry_due(bot, harness.db, KEY, utcnow() + dt.timedelta(hours=1))
    assert (done.delivered, done.refused) == (0, 1)
    assert sent_to(harness, owner.chat.id, "【异议处理结果】") == 0  # type: ignore[attr-defined]
    [notice] = [n for n in await stored(harness.db) if n.chat_id == owner.chat.id]  # type: ignore[attr-defined]
    assert (notice.status, notice.last_error) == ("refused", "unbound")
    listed = texts(await harness.say(official, "/undelivered"))  # type: ignore[arg-type]
    assert "已解除绑定" in listed and "收件人：企业账号" in listed


async def test_the_subject_reads_the_number_the_official_wrote_but_none_is_stored_in_clear(harness: BotHarness) -> None:
    reason = "经复核，原处罚事实清楚。如有疑问请致电承办人 13912345678"
    owner, _official, told = await objection_decided(harness, harness.transport.unreachable, reason)
    assert "暂未送达" in told
    [notice] = [n for n in await stored(harness.db) if n.chat_id == owner.chat.id]  # type: ignore[attr-defined]
    assert notice.sealed and b"13912345678" not in notice.sealed and "13912345678" not in notice.text
    harness.transport.unreachable.clear()
    await retry_due(harness.app.bot, harness.db, KEY, utcnow() + dt.timedelta(hours=1))  # type: ignore[attr-defined]
    assert sent_to(harness, owner.chat.id, "致电承办人 13912345678") == 1  # type: ignore[attr-defined]
    [notice] = [n for n in await stored(harness.db) if n.chat_id == owner.chat.id]  # type: ignore[attr-defined]
    assert notice.status == "delivered" and notice.sealed is None  # the clear text goes once it arrived


async def test_the_official_who_proposed_a_listing_sees_its_undelivered_notices(harness: BotHarness) -> None:
    await add_subject(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="RSJ")
    for line in ("/propose", HENGDA, "#1", "拖欠农民工工资逾期未支付", "#1", "#1"):
        await harness.say(official, line)
    harness.transport.blocked.add(owner.chat.id)  # type: ignore[attr-defined]
    async with harness.db.transaction() as s:
        listing = await s.scalar(select(Listing))
        assert listing is not None
        listing.objection_deadline = today(harness) - dt.timedelta(days=1)
    await daily_lifecycle(CallbackContext(harness.app))  # type: ignore[arg-type,attr-defined]
    listed = texts(await harness.say(official, "/undelivered"))
    assert "【列入决定】" in listed and "收件人：该主体的绑定账号" in listed
