"""Review 2 of the multi-step flows (issue 12), finding by finding, on SQLite and PostgreSQL, through
the whole Application and the strict in-process Bot API: redeliveries of earlier and final steps
(F1, F5) and of presses (F4), IDs typed with separators at rest (F3), the subject binding of a parked
declaration (F2), cancel words with punctuation (F6), stale buttons (F7, F8, F9), /cancel with a
parked draft (F10) and an over-long decision reason (F11)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from db.models import Check, Conversation, Declaration, Listing, Objection
from handlers.flow import NOTHING_TO_CANCEL, is_cancel_word
from rules.codes import complete_ric
from rules.lifecycle import DECISION_REASON_LIMIT
from services.accounts import set_active
from services.declarations.drafts import BINDING_LOST
from tests.conftest import BotHarness
from tests.test_conversations_support import (
    SORRY,
    Person,
    Replicas,
    deliver,
    file_update,
    open_flow,
    press_update,
    seed_for_cancel,
    text_update,
)
from tests.test_declare_flow import LICENCE
from tests.test_declare_support import PDF, write
from tests.test_lifecycle_support import HENGDA

PERSON = complete_ric("61090219850512003")
SPACED = f"{PERSON[:6]} {PERSON[6:14]} {PERSON[14:]}"
DASHED = f"{PERSON[:6]}-{PERSON[6:14]}-{PERSON[14:]}"


async def _filed_objection(r: Replicas) -> Person:
    owner = await r.person("enterprise", subject=HENGDA)
    for line in ("/objection", "#1", "处罚所依据的事实有误", "#1"):
        await owner.say(line)
    return owner


async def _objection(db) -> Objection:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        found = await s.scalar(select(Objection))
    assert found is not None
    return found


async def _feedback_note_asked(r: Replicas) -> Person:
    """An official who checked 恒达建材, chose a matter and pressed 其他: the note is awaited."""
    official = await r.person("official", dept="SCJGJ")
    for line in (HENGDA, "#1", "#1"):
        await official.say(line)
    return official


# -- F1, F5, F4: redeliveries ---------------------------------------------------------------------------


async def test_redelivered_earlier_attachments_are_dropped(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    owner = await r.person("enterprise", subject=HENGDA)
    for line in ("/objection", "#1", "处罚所依据的事实有误"):
        await owner.say(line)
    chat = owner.chat()
    first, second = file_update(chat, b"%PDF-1.4 a", "甲.pdf"), file_update(chat, b"%PDF-1.4 b", "乙.pdf")
    assert "已收到第 1 个附件" in await deliver(chat, first)
    assert "已收到第 2 个附件" in await deliver(chat, second)
    # a poller that died before confirming its offset gets both again
    assert await deliver(chat, first) == ""
    assert await deliver(chat, second) == ""
    assert "异议已提交" in await owner.say("#1")
    assert [a["name"] for a in (await _objection(harness.db)).attachments["items"]] == ["甲.pdf", "乙.pdf"]
    r.no_apology()


async def test_a_redelivered_reason_never_becomes_the_objection_period(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    official = await r.person("official", dept="RSJ")
    await official.say("/propose")
    await official.say(HENGDA)
    await official.say("#1")  # 拖欠农民工工资失信联合惩戒对象名单
    chat = official.chat()
    reason = text_update(chat, "拖欠农民工工资120万元，逾期未支付")
    assert "异议期" in await deliver(chat, reason)
    assert await deliver(chat, reason) == ""
    row = await open_flow(harness.db, official.uid)
    assert row is not None and row.step == "period" and "days" not in row.data
    for line in ("#1", "#1"):  # default period, confirm
        await official.say(line)
    async with harness.db.transaction() as s:
        listing = await s.scalar(select(Listing))
    assert listing is not None and listing.reasons == "拖欠农民工工资120万元，逾期未支付" and listing.objection_days == 5


async def test_redelivered_final_steps_after_the_end_are_dropped(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    official = await _feedback_note_asked(r)
    chat = official.chat()
    other = press_update(chat, 3)  # 其他: opens the note flow
    assert await deliver(chat, other) != ""
    note = text_update(chat, "恒达建材负责人未到场")
    assert "已记录" in await deliver(chat, note) or await open_flow(harness.db, official.uid) is None
    assert await deliver(chat, note) == ""  # not a search for the note
    assert await deliver(chat, other) == ""  # nor the note asked again, nor the apology
    await official.say("汉阴的恒达")  # the next query is a query, not the note
    async with harness.db.transaction() as s:
        check = await s.scalar(select(Check))
    assert check is not None and check.feedback_note == "恒达建材负责人未到场"
    r.no_apology()


async def test_a_press_delivered_twice_outside_any_flow_gets_no_apology(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    user = await r.person("official", dept="SCJGJ")
    await user.say(HENGDA)
    chat = user.chat()
    press = press_update(chat, 1)  # 逢办必查: the matters to choose from (no flow)
    first = await deliver(chat, press)
    assert first != ""
    again = await deliver(chat, press)  # Telegram refuses the second answer: harmless
    assert SORRY not in again
    r.no_apology()


# -- F3: IDs typed with separators ----------------------------------------------------------------------


async def _at_rest(harness: BotHarness) -> str:
    async with harness.db.engine.connect() as conn:
        rows = [(await conn.execute(text(f"SELECT {column} FROM {table}"))).all() for table, column in (
            ("conversations", "data"), ("objections", "reason"), ("checks", "feedback_note"),
        )]
    return repr(rows)


async def test_spaced_ids_in_a_reason_and_a_note_are_masked_at_rest(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    owner = await r.person("enterprise", subject=HENGDA)
    for line in ("/objection", "#1", f"被处罚人不是我，我的身份证号 {SPACED}，另一证件 {DASHED}，电话 １３９１２３４５６７８"):
        await owner.say(line)
    assert PERSON[6:14] not in await _at_rest(harness) and "１２３４５６７８" not in await _at_rest(harness)
    await owner.say("#1")
    official = await _feedback_note_asked(r)
    await official.say("#3")
    await official.say(f"法定代表人 {SPACED} 未到场")
    stored = await _at_rest(harness)
    assert PERSON[6:14] not in stored and "１２３４５６７８" not in stored
    assert f"{PERSON[:6]}********{PERSON[-4:]}" in stored


# -- F6: cancel words -----------------------------------------------------------------------------------


def test_cancel_words_with_punctuation_spaces_and_full_width() -> None:
    assert all(is_cancel_word(w) for w in ("取消", "取消。", "取消！", " 取消 ", "取消操作。", "算了", "算了吧"[:2] + "！", "不办了"))
    assert not any(is_cancel_word(w) for w in ("取消该记录", "维持", "取消处罚决定有误", ""))


async def test_a_cancel_word_with_punctuation_cancels_a_decision(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    await _filed_objection(r)
    official = await r.person("official", dept="SCJGJ")
    for line in ("/objections", "#1", "#1"):  # open, 维持
        await official.say(line)
    assert "已取消「异议处理」" in await official.say("取消。")
    assert (await _objection(harness.db)).status == "pending"
    assert NOTHING_TO_CANCEL in await official.say("取消！")  # outside a flow: not a search


# -- F2: the binding of a parked declaration ---------------------------------------------------------


async def test_unbind_mid_declaration_ends_the_draft_on_resume(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    owner = await r.person("enterprise", subject=HENGDA)
    await owner.say("/declare")
    await owner.say("#1")
    for value in LICENCE:
        await owner.say(value)
    await owner.say(f"@{write(tmp_path, '证书.pdf', PDF)}")
    assert "已暂停「自主申报」" in await owner.say("/unbind")
    assert "已解除绑定" in await owner.say("#1")  # 确认解除绑定
    assert BINDING_LOST in await owner.say("/declare")
    for line in ("#1", "#1", "#1", "#1"):
        assert "申报已提交" not in await owner.say(line)
    async with harness.db.transaction() as s:
        statuses = (await s.scalars(select(Declaration.status))).all()
    assert "pending" not in statuses and "cancelled" in statuses


async def test_a_declaration_step_after_the_account_was_deactivated_ends_the_draft(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    owner = await r.person("enterprise", subject=HENGDA)
    for line in ("/declare", "#1", LICENCE[0]):
        await owner.say(line)
    await set_active(harness.db, owner.uid, False)  # `creditbot admin deactivate`, no command in the chat
    assert BINDING_LOST in await owner.say(LICENCE[1])
    assert await open_flow(harness.db, owner.uid) is None


# -- F7, F8, F9: stale buttons --------------------------------------------------------------------------


async def test_a_button_of_an_earlier_step_says_what_the_open_flow_waits_for(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    owner = await r.person("enterprise", subject=HENGDA)
    await owner.say("/objection")
    await owner.say("#1")
    out = await owner.say("#1")  # the record list again
    assert "该按钮已使用过" in out and "异议理由" in out and "已结束" not in out
    assert "提交异议" in await owner.say("事实有误")


async def test_a_stale_decision_button_of_a_decided_case_is_refused_at_once(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    await _filed_objection(r)
    a = await r.person("official", dept="SCJGJ")
    b = await r.person("official", dept="SCJGJ")
    for official in (a, b):
        await official.say("/objections")
        await official.say("#1")
    await a.say("#1")
    assert "已处理：维持" in await a.say("维持原记录")
    out = await b.say("#3")  # 撤销, on the card opened before A decided
    assert "已处理" in out and "请输入处理理由" not in out
    assert await open_flow(harness.db, b.uid) is None


async def test_a_press_after_the_flow_timed_out_gets_one_message(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    owner = await r.person("enterprise", subject=HENGDA)
    await owner.say("/objection")
    async with harness.db.transaction() as s:
        await s.execute(update(Conversation).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    start = len(r.transport.sent)
    await owner.say("#1")
    said = [o.text for o in r.transport.sent[start:] if o.method == "sendMessage"]
    assert len(said) == 1 and "超时" in (said[0] or "")


# -- F10: /cancel and a parked declaration ---------------------------------------------------------------


async def test_cancel_discards_a_parked_declaration_draft(harness: BotHarness, tmp_path: Path) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    owner = await r.person("enterprise", subject=HENGDA)
    for line in ("/declare", "#1", LICENCE[0]):
        await owner.say(line)
    assert "/cancel 放弃草稿" in await owner.say("/help")  # parks the draft; /help says how to drop it
    assert "已放弃暂停中的「自主申报」草稿" in await owner.say("/cancel")
    assert NOTHING_TO_CANCEL in await owner.say("/cancel")
    assert "已为您恢复" not in await owner.say("/declare")


# -- F11: an over-long decision reason --------------------------------------------------------------------


@pytest.mark.parametrize("extra", [1, 5000])
async def test_an_over_long_decision_reason_is_refused_not_cut(harness: BotHarness, tmp_path: Path, extra: int) -> None:
    r = Replicas(harness, tmp_path)
    await seed_for_cancel(harness)
    owner = await _filed_objection(r)
    official = await r.person("official", dept="SCJGJ")
    for line in ("/objections", "#1", "#1"):
        await official.say(line)
    start = len(r.transport.sent)
    assert f"最多 {DECISION_REASON_LIMIT} 字" in await official.say("维" * (DECISION_REASON_LIMIT + extra))
    assert not [o for o in r.transport.sent[start:] if o.chat_id == owner.uid]  # the subject hears nothing
    assert (await _objection(harness.db)).status == "pending"
    reason = "维" * DECISION_REASON_LIMIT
    assert "已处理：维持" in await official.say(reason)
    assert (await _objection(harness.db)).decision_reason == reason
    told = [o.text or "" for o in r.transport.sent[start:] if o.chat_id == owner.uid]
    assert told and reason in "".join(told)
