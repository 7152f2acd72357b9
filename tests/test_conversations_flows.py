"""Every multi-step flow over the real Application with its state in the database (issue 12): a
restart mid-way continues; two processes on one database take one user's updates alternately;
/cancel answers at every step and when idle; a command mid-flow ends the open flow and says so;
the timeout tells the user; a step lost to another process gets a Chinese answer."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from telegram.ext import CallbackContext

from db.models import Check, Conversation, Listing
from handlers.flow import NOTHING_TO_CANCEL, sweep
from services.conversations import LOST_RACE
from tests.conftest import BotHarness
from tests.test_conversations_support import (
    CANCEL_SCRIPTS,
    FLOWS,
    OPENS_AT,
    Replicas,
    open_flow,
    seed_for_cancel,
)
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id, proof_file, today


@pytest.fixture
async def replicas(harness: BotHarness, tmp_path: Path) -> AsyncIterator[Replicas]:
    r = Replicas(harness, tmp_path)
    try:
        yield r
    finally:
        await r.close()


@pytest.mark.parametrize("flow", sorted(FLOWS))
async def test_a_restart_mid_flow_continues_it(replicas: Replicas, flow: str) -> None:
    replicas.restart_between = True
    await FLOWS[flow](replicas)
    assert replicas.restarts >= 1
    replicas.no_apology()


@pytest.mark.parametrize("flow", sorted(FLOWS))
async def test_two_processes_take_one_users_updates_alternately(replicas: Replicas, flow: str) -> None:
    await replicas.two()
    await FLOWS[flow](replicas)
    replicas.no_apology()
    async with replicas.harness.db.transaction() as s:
        assert (await s.scalars(select(Conversation))).all() == []  # every flow ended where it should


async def test_alternation_really_alternates(replicas: Replicas) -> None:
    await replicas.two()
    person = await replicas.person("public")
    for line in ("/help", "/whoami", "/help", "/whoami"):
        await person.say(line)
    first, second = person.handled_by[:2]
    assert first != second and person.handled_by == [first, second, first, second]


@pytest.mark.parametrize("flow", sorted(CANCEL_SCRIPTS))
async def test_cancel_answers_at_every_step(replicas: Replicas, flow: str) -> None:
    await seed_for_cancel(replicas.harness)
    role, dept, lines, cancelled = CANCEL_SCRIPTS[flow]
    person = await replicas.person(role, dept=dept, subject=HENGDA if role == "enterprise" else None)
    proof = str(proof_file(replicas.tmp_path))
    for upto in range(1, len(lines) + 1):
        for line in lines[:upto]:
            await person.say(line.replace("@proof", f"@{proof}"))
        answer = await person.say("/cancel")
        if upto - 1 >= OPENS_AT[flow]:
            assert cancelled in answer, (flow, lines[:upto], answer)
            assert NOTHING_TO_CANCEL not in answer
        else:
            assert answer == NOTHING_TO_CANCEL
        assert await open_flow(replicas.harness.db, person.uid) is None
    assert await person.say("/cancel") == NOTHING_TO_CANCEL  # idle: still an answer
    assert await person.say("取消") == NOTHING_TO_CANCEL
    replicas.no_apology()


async def test_a_command_during_a_feedback_note_ends_it_and_is_not_the_note(replicas: Replicas) -> None:
    await add_subject(replicas.harness.db)
    await replicas.refresh()
    official = await replicas.person("official", dept="SCJGJ")
    await official.say(HENGDA)
    await official.say("#1")
    await official.say("#1")
    assert "请简要说明办理情况" in await official.say("#3")  # 其他
    answer = await official.say(f"/propose {HENGDA}")
    assert "已结束进行中的「逢办必查反馈说明」" in answer and "没有可在本平台发起列入的名单类型" in answer
    assert answer.index("已结束进行中") < answer.index("没有可在本平台")  # told before the new command runs
    async with replicas.harness.db.transaction() as s:
        check = await s.scalar(select(Check))
        flow = await s.scalar(select(Conversation))
    assert check is not None and check.feedback is None and check.feedback_note is None
    assert flow is None  # the note flow ended; the market department decides no list it may propose here
    replicas.no_apology()


async def test_other_commands_and_a_stale_button_mid_flow(replicas: Replicas) -> None:
    await seed_for_cancel(replicas.harness)
    owner = await replicas.person("enterprise", subject=HENGDA)
    await owner.say("/objection")
    answer = await owner.say("/help")
    assert "已结束进行中的「提出异议」" in answer and "直接输入企业名称" in answer
    assert "已失效" in await owner.say("#1")  # the record list of the ended objection
    await owner.say("/objection")
    await owner.say("#1")
    # /declare is another flow's entry: the objection ends, the declaration starts.
    answer = await owner.say("/declare")
    assert "已结束进行中的「提出异议」" in answer and "请选择申报类别" in answer
    # /declare again mid-declaration is its own command: it resumes instead of ending.
    answer = await owner.say("/declare")
    assert "已为您恢复到上次的步骤" in answer and "已结束" not in answer
    # Another command parks the declaration: its draft waits, plain text is a question again.
    answer = await owner.say("/help")
    assert "已暂停「自主申报」" in answer and "草稿" in answer
    assert "请选择申报类别" not in await owner.say("恒达建材")
    answer = await owner.say("/declare")
    assert "已为您恢复到上次的步骤" in answer and "请选择申报类别" in answer
    replicas.no_apology()


async def expire_now(replicas: Replicas, uid: int) -> None:
    async with replicas.harness.db.transaction() as s:
        await s.execute(
            update(Conversation).where(Conversation.user_id == uid).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )


async def test_the_timeout_job_tells_the_user_once(replicas: Replicas) -> None:
    await seed_for_cancel(replicas.harness)
    await replicas.two()
    owner = await replicas.person("enterprise", subject=HENGDA)
    await owner.say("/objection")
    await owner.say("#1")
    await expire_now(replicas, owner.uid)
    start = len(replicas.transport.sent)
    for app in replicas.apps:  # both processes sweep: one tells
        await sweep(CallbackContext(app))  # type: ignore[arg-type]
    told = [o.text or "" for o in replicas.transport.sent[start:] if o.chat_id == owner.uid]
    assert told == ["「提出异议」等待回复超时，已结束，未提交任何内容。如需办理，请重新发送 /objection。"]
    assert await open_flow(replicas.harness.db, owner.uid) is None
    assert "已失效" in await owner.say("#1")
    replicas.no_apology()


async def test_writing_after_the_timeout_is_answered_as_such(replicas: Replicas) -> None:
    db = replicas.harness.db
    subject = await add_subject(db)
    await add_record(db, subject, await dept_id(db), "行政处罚", "安市监罚〔2026〕7号", today(replicas.harness) - dt.timedelta(days=5))
    await replicas.refresh()
    owner = await replicas.person("enterprise", subject=HENGDA)
    await owner.say("/objection")
    await owner.say("#1")
    await expire_now(replicas, owner.uid)
    late = await owner.say("处罚所依据的事实有误")  # the reason, typed too late
    assert late == "「提出异议」等待回复超时，已结束，未提交任何内容。如需办理，请重新发送 /objection。"
    assert "未找到" not in late  # not taken for a search
    assert await open_flow(db, owner.uid) is None
    replicas.no_apology()


async def test_a_step_lost_to_another_process_gets_a_chinese_answer(replicas: Replicas) -> None:
    """Two processes read the same state; the row is held while both try their step: one applies
    it, the other is told in Chinese that its message was not used."""
    db = replicas.harness.db
    subject = await add_subject(db)
    await add_record(db, subject, await dept_id(db), "行政处罚", "安市监罚〔2026〕7号", today(replicas.harness) - dt.timedelta(days=5))
    await replicas.two()
    await replicas.refresh()
    owner = await replicas.person("enterprise", subject=HENGDA)
    await owner.say("/objection")
    await owner.say("#1")
    first, second = owner.chat(replicas.apps[0]), owner.chat(replicas.apps[1])
    start = len(replicas.transport.sent)
    async with db.engine.connect() as conn:
        await conn.execute(text("UPDATE conversations SET step = step WHERE user_id = :u"), {"u": owner.uid})

        async def release() -> None:
            await asyncio.sleep(1.0)
            await conn.commit()

        await asyncio.gather(first.handle_line("理由甲：事实有误"), second.handle_line("理由乙：程序违法"), release())
    said = [o.text or "" for o in replicas.transport.sent[start:] if o.chat_id == owner.uid]
    assert len(said) == 2 and LOST_RACE in said and any("提交异议" in t for t in said), said
    flow = await open_flow(db, owner.uid)
    assert flow is not None and flow.step == "attach" and flow.data["reason"] in ("理由甲：事实有误", "理由乙：程序违法")
    replicas.no_apology()


async def test_confirming_twice_from_two_processes_issues_one_notice(replicas: Replicas) -> None:
    """The same confirm button pressed on both processes (a double tap, a retry): one notice."""
    await add_subject(replicas.harness.db)
    await replicas.two()
    await replicas.refresh()
    official = await replicas.person("official", dept="RSJ")
    for line in ("/propose", HENGDA, "#1", "拖欠农民工工资逾期未支付", "#1"):
        await official.say(line)
    answers = [await official.chat(app).handle_line("#1") for app in replicas.apps]
    said = "\n".join(o.text or "" for out in answers for o in out if o.chat_id == official.uid)
    assert said.count("已发出事前告知书") == 1 and "已失效" in said
    async with replicas.harness.db.transaction() as s:
        assert len((await s.scalars(select(Listing))).all()) == 1
    replicas.no_apology()
