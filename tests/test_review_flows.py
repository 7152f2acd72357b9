"""The shared review conversation (handlers/review.py) through the real Application: the extra answer
an objection's correction needs, and a missing reason asked for again instead of ending."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from db.models import CreditRecord, Objection
from tests.conftest import BotHarness
from tests.test_declare_flow import fill_licence
from tests.test_declare_support import company, declarations, deliver, text_update
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id, texts, today


async def test_a_correction_asks_for_the_changes_then_the_reason(harness: BotHarness) -> None:
    t = today(harness)
    subject = await add_subject(harness.db)
    record = await add_record(harness.db, subject, await dept_id(harness.db), "行政处罚", "安市监罚〔2026〕7号", t - dt.timedelta(days=5))
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="SCJGJ")
    await harness.say(owner, "/objection")
    await harness.say(owner, "#1")
    await harness.say(owner, "处罚程度认定过重")
    await harness.say(owner, "#1")  # 提交异议, no attachment

    await harness.say(official, "/objections")
    await harness.say(official, "#1")
    assert "请输入更正内容" in texts(await harness.say(official, "#2"))  # 更正
    assert "无法识别的更正内容" in texts(await harness.say(official, "随便改改"))  # asked again
    assert "请输入处理理由" in texts(await harness.say(official, "严重程度：轻微"))
    decided = await harness.say(official, "经复核，情节轻微")
    assert "已处理：更正" in texts(decided) and "已通知该主体" in texts(decided)
    told = [o.text or "" for o in decided if o.chat_id == owner.chat.id]
    assert len(told) == 1 and "更正内容：严重程度：轻微" in told[0]
    async with harness.db.transaction() as s:
        objection = await s.scalar(select(Objection))
        corrected = await s.get(CreditRecord, record)
    assert objection is not None and objection.status == "corrected"
    assert corrected is not None and corrected.severity == "轻微"


async def test_a_blank_verification_reason_is_asked_for_again(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="ZJJ")
    await fill_licence(harness, owner, tmp_path)
    for press in ("#1", "#1", "#1", "#1"):  # 材料已发送完毕, 确认无误, 我承诺, 同意授权
        await harness.say(owner, press)

    await harness.say(official, "/verify")
    await harness.say(official, "#1")
    await harness.say(official, "#2")  # 核验通过
    blank = await deliver(official, text_update(official, "\u3000"))  # a full-width space: no reason at all
    assert "请填写核验意见或理由" in texts(blank)
    done = await harness.say(official, "核对无误")  # still in the conversation: this is the reason
    assert "已处理：核验通过" in texts(done)
    [declaration] = await declarations(harness.db)
    assert declaration.status == "verified" and declaration.decision_reason == "核对无误"


async def test_an_undelivered_notice_is_told_as_it_is(harness: BotHarness) -> None:
    """The subject blocked the bot: the official hears that the notice did not arrive, not "已通知"."""
    t = today(harness)
    subject = await add_subject(harness.db)
    await add_record(harness.db, subject, await dept_id(harness.db), "行政处罚", "安市监罚〔2026〕8号", t - dt.timedelta(days=5))
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="SCJGJ")
    for line in ("/objection", "#1", "处罚所依据的事实有误", "#1"):
        await harness.say(owner, line)
    harness.transport.blocked.add(owner.chat.id)
    await harness.say(official, "/objections")
    await harness.say(official, "#1")
    await harness.say(official, "#1")  # 维持
    decided = texts(await harness.say(official, "经复核，原处罚事实清楚"))
    assert "未能送达该主体" in decided and "请另行书面告知" in decided and "已通知" not in decided
