"""Never block everyone (issue 12): users' updates side by side but each user's in order, heavy jobs
in a small shared limiter (queued, one per user), inputs bounded."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from telegram import Chat, Message, MessageEntity, Update, User

from bot.updates import PerUserUpdateProcessor
from handlers.query import MAX_QUESTION_CHARS
from services.errors import Refusal
from services.heavy import BUSY, FULL, HeavyWork
from tests.test_collect_upload import penalty_file, until

pytestmark = pytest.mark.asyncio


def _update(update_id: int, user_id: int) -> Update:
    user = User(id=user_id, first_name="用户", is_bot=False)
    chat = Chat(id=user_id, type=Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, dt.datetime.now(dt.UTC), chat, from_user=user, text="x"))


async def test_one_users_updates_in_order_other_users_meanwhile() -> None:
    processor = PerUserUpdateProcessor(max_concurrent_updates=8)
    log: list[str] = []
    release = asyncio.Event()

    async def work(name: str, wait: bool) -> None:
        log.append(f"{name} start")
        if wait:
            await release.wait()
        log.append(f"{name} end")

    slow = asyncio.create_task(processor.process_update(_update(1, 1), work("a1", True)))
    await asyncio.sleep(0)
    same = asyncio.create_task(processor.process_update(_update(2, 1), work("a2", False)))
    other = asyncio.create_task(processor.process_update(_update(3, 2), work("b1", False)))
    await other  # another user is answered while user 1's first update still runs
    assert log == ["a1 start", "b1 start", "b1 end"]
    release.set()
    await asyncio.gather(slow, same)
    assert log[3:] == ["a1 end", "a2 start", "a2 end"]  # user 1's second update only after the first


async def test_a_flooding_user_holds_no_slot_others_need() -> None:
    processor = PerUserUpdateProcessor(max_concurrent_updates=2)
    release = asyncio.Event()

    async def wait() -> None:
        await release.wait()

    async def quick() -> None:
        return None

    flood = [asyncio.create_task(processor.process_update(_update(i, 1), wait())) for i in range(1, 20)]
    await asyncio.sleep(0.01)
    await asyncio.wait_for(processor.process_update(_update(100, 2), quick()), 1)  # not stuck behind the flood
    release.set()
    await asyncio.gather(*flood)


async def test_heavy_work_runs_a_few_at_once_and_one_per_user() -> None:
    heavy = HeavyWork(slots=1)
    queued: list[int] = []
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def job(user: int) -> None:
        async def on_queued(position: int) -> None:
            queued.append(position)

        async with heavy.slot(user, on_queued):
            order.append(f"{user} start")
            first_in.set()
            await release.wait()
            order.append(f"{user} end")

    one = asyncio.create_task(job(1))
    await first_in.wait()
    two = asyncio.create_task(job(2))
    await asyncio.sleep(0.01)
    assert queued == [1] and order == ["1 start"]  # user 2 waits, told its place
    with pytest.raises(Refusal) as refused:
        async with heavy.slot(1):
            pass
    assert refused.value.reason == BUSY  # user 1 already has a job: refused, not piled up
    release.set()
    await asyncio.gather(one, two)
    assert order == ["1 start", "1 end", "2 start", "2 end"]
    async with heavy.slot(1):  # free again once finished
        assert heavy.running == 1


async def test_waiting_heavy_jobs_are_bounded() -> None:
    """Each waiting job holds one of the bot's places for concurrent updates: past MAX_WAITING a new
    one is refused at once instead of queueing, so waiting jobs can never freeze everybody else."""
    heavy = HeavyWork(slots=1, max_waiting=2)
    release = asyncio.Event()
    started = asyncio.Event()

    async def job(user: int) -> None:
        async with heavy.slot(user):
            started.set()
            await release.wait()

    tasks = [asyncio.create_task(job(1))]
    await started.wait()
    tasks += [asyncio.create_task(job(u)) for u in (2, 3)]
    await asyncio.sleep(0.01)
    assert heavy.waiting == 2
    with pytest.raises(Refusal) as refused:
        async with heavy.slot(4):
            pass
    assert refused.value.reason == FULL
    release.set()
    await asyncio.gather(*tasks)
    async with heavy.slot(4):  # room again once the queue drained
        assert heavy.running == 1


async def test_a_second_upload_while_the_first_is_checked_is_refused(harness, tmp_path: Path) -> None:
    collector = await harness.chat("collector", dept="SCJGJ")
    big = penalty_file(tmp_path / "big.csv", 3000, dt.date.today())
    small = penalty_file(tmp_path / "small.csv", 3, dt.date.today())
    first = asyncio.create_task(harness.say(collector, f"@{big}"))
    await until(harness, lambda o: "正在按" in (o.text or ""))
    await harness.say(collector, f"@{small}")
    await until(harness, lambda o: o.chat_id == collector.chat.id and "还在处理中" in (o.text or ""))
    await first
    assert any("共读取 3000 行" in (o.text or "") for o in harness.transport.sent)


async def test_an_overlong_question_is_refused_at_once(harness) -> None:
    chat = await harness.chat("official")
    out = await harness.say(chat, "恒达建材" * (MAX_QUESTION_CHARS // 4 + 1))
    assert out[-1].text is not None and f"超过 {MAX_QUESTION_CHARS} 字" in out[-1].text


async def test_the_bot_processes_updates_per_user(harness) -> None:
    assert isinstance(harness.app.update_processor, PerUserUpdateProcessor)
    assert harness.app.update_processor.max_concurrent_updates > 1


async def _enqueue(harness, user_id: int, text: str) -> None:  # type: ignore[no-untyped-def]
    """What polling does with a private-chat text: put it on the Application's update queue, so it
    goes through the update processor (harness.say calls process_update and bypasses it)."""
    user = User(id=user_id, first_name="用户", is_bot=False)
    chat = Chat(id=user_id, type=Chat.PRIVATE, first_name="用户")
    entities = None
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        entities = [MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command.encode("utf-16-le")) // 2)]
    message = Message(harness.transport.next_message_id(), dt.datetime.now(dt.UTC), chat, from_user=user, text=text,
                      entities=entities)
    update = Update(harness.transport.next_message_id(), message=message)
    await harness.app.update_queue.put(Update.de_json(update.to_dict(), harness.app.bot))  # as polling decodes it


async def test_users_waiting_for_heavy_work_never_freeze_the_others(harness) -> None:  # type: ignore[no-untyped-def]
    """Through the real update processor: while a heavy job runs, 64 officials ask for reports (as
    many as the processor's places for concurrent updates). At most MAX_WAITING wait, the rest are
    told to come back, and a bystander's /help is answered at once."""
    from services.heavy import MAX_WAITING
    from tests.test_lifecycle_support import HENGDA
    from tests.test_report_pdf import seed_company

    await seed_company(harness)
    heavy = harness.app.bot_data["services"].heavy
    officials = [await harness.chat("official", dept="SCJGJ") for _ in range(64)]
    bystander = await harness.chat("public")
    gate = asyncio.Event()

    async def nightly() -> None:
        async with heavy.slot():  # what the nightly evaluation does
            await gate.wait()

    await harness.app.start()
    job = asyncio.create_task(nightly())
    try:
        await asyncio.sleep(0.05)
        for official in officials:
            await _enqueue(harness, official.user.id, f"/report {HENGDA}")
        await until(harness, lambda o: "排队处理的任务较多" in (o.text or ""), timeout=30)
        await _enqueue(harness, bystander.user.id, "/help")
        await until(harness, lambda o: o.chat_id == bystander.chat.id, timeout=5)
        assert heavy.waiting <= MAX_WAITING
    finally:
        gate.set()  # let the waiters finish, so a failure above cannot hang the stop
        await job
        await harness.app.stop()
