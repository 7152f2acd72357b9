"""Evaluation in chat, end to end through the console transport: grades on the card by role and
setting, watch lists, the daily risk digest (once across scans and processes), the high-risk list
and the admins' chart and grade changes."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from sqlalchemy import select
from telegram import Bot

from bot.app import LOCAL_TOKEN
from bot.transport import InProcessBotAPI
from db.models import AuditEntry, RiskWarning, WatchSubscription
from db.session import Database
from handlers.evaluation import digest_sender
from rules.codes import complete_uscc
from services.evaluation import evaluate_subject, full_run
from services.risk_digest import run_digest
from services.settings import EvaluationSettings
from tests.conftest import BotHarness
from tests.test_lifecycle_support import (
    HENGDA,
    HUATAI,
    add_record,
    add_subject,
    compact,
    dept_id,
    pdf_text,
    texts,
    today,
)


async def seed(harness: BotHarness) -> tuple[int, int, int]:
    """恒达 with a recent 一般 penalty by 市场监管 (660, 中); 华泰 clean (700, 良); both evaluated."""
    t = today(harness)
    dept = await dept_id(harness.db, "SCJGJ")
    hengda = await add_subject(harness.db)
    huatai = await add_subject(harness.db, "安康市华泰商贸有限公司", HUATAI)
    await add_record(harness.db, hengda, dept, "行政处罚", "安市监罚〔2026〕88号", t - dt.timedelta(days=20))
    await full_run(harness.db, t)
    await harness.refresh()
    return hengda, huatai, dept


async def test_grades_on_the_card_by_role_and_setting(harness: BotHarness) -> None:
    await seed(harness)
    official = await harness.chat("official", dept="SCJGJ")
    text = texts(await harness.say(official, HENGDA))
    assert "信用评价：中（660 分，满分 1000；模型 2026.1" in text
    assert "风险分类：一般风险；建议检查频次：按常规比例双随机抽查，每年 1 次" in text
    assert "-40 分 · 行政处罚" in text and "安市监罚" not in text.split("影响最大的记录：")[1].splitlines()[1]
    public = await harness.chat("public")
    assert "信用评价" not in texts(await harness.say(public, HENGDA))  # default: the public sees no grades
    svc = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    svc.settings = dataclasses.replace(svc.settings, evaluation=EvaluationSettings(public_grades=True))
    shown = texts(await harness.say(public, HENGDA))
    assert "信用评价：中（660 分" in shown
    assert "风险分类" not in shown and "影响最大的记录" not in shown  # officials only


async def test_watch_and_unwatch(harness: BotHarness) -> None:
    _hengda, huatai, _dept = await seed(harness)
    official = await harness.chat("official", dept="SCJGJ")
    assert "已关注“安康市恒达建材有限公司”" in texts(await harness.say(official, f"/watch {HENGDA}"))
    card = await harness.say(official, "华泰商贸")
    labels = [b for row in card[0].buttons for b in row]
    assert labels[-1].startswith("关注该主体")
    assert "已关注“安康市华泰商贸有限公司”" in texts(await harness.say(official, f"#{len(labels)}"))
    listing = await harness.say(official, "/watchlist")
    assert "您关注的主体（2 个）" in texts(listing) and "信用评价 中" in texts(listing)
    assert listing[0].buttons == [["查看 1", "取消关注 1"], ["查看 2", "取消关注 2"]]
    assert "已取消关注" in texts(await harness.say(official, "#2"))
    async with harness.db.transaction() as s:
        assert (await s.scalars(select(WatchSubscription.subject_id))).all() == [huatai]
        actions = (await s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("%watch%")).order_by(AuditEntry.id))).all()
    assert actions == ["watch_subject", "watch_subject", "unwatch_subject"]
    card = await harness.say(official, HENGDA)
    assert [b for row in card[0].buttons for b in row][-1] == "关注该主体（有新记录或预警时提醒我）"
    assert "仅限办事人员" in texts(await harness.say(await harness.chat("public"), f"/watch {HENGDA}"))
    assert "没有找到" in texts(await harness.say(official, "/watch 不存在的公司名称"))


async def digest(db: Database, day: dt.date, transport: InProcessBotAPI | None = None):  # type: ignore[no-untyped-def]
    transport = transport or InProcessBotAPI()
    async with Bot(LOCAL_TOKEN, request=transport) as bot:
        result = await run_digest(db, day, digest_sender(bot))
    return result, transport


async def test_the_digest_is_sent_once_across_scans_and_processes(harness: BotHarness) -> None:
    hengda, _huatai, dept = await seed(harness)
    t = today(harness)
    official = await harness.chat("official", dept="SCJGJ")
    other_dept = await harness.chat("official", dept="SWJ")  # holds no records of 恒达
    watcher = await harness.chat("official", dept="SWJ")
    await harness.say(watcher, f"/watch {HENGDA}")
    await add_record(harness.db, hengda, dept, "行政处罚", "安市监罚〔2026〕99号", t - dt.timedelta(days=2), severity="严重")
    await evaluate_subject(harness.db, hengda, t)
    async with harness.db.transaction() as s:
        rules = sorted((await s.scalars(select(RiskWarning.rule).where(RiskWarning.subject_id == hengda))).all())
    assert rules == ["grade_drop", "new_record", "repeat_penalty", "severe_penalty"]  # 660 中 → 510 差

    second = Database(harness.db.url)  # another replica
    try:
        (a, ta), (b, tb) = await asyncio.gather(digest(harness.db, t), digest(second, t))
    finally:
        await second.dispose()
    sent = [m for m in ta.sent + tb.sent]
    assert sorted(m.chat_id for m in sent) == sorted([official.chat.id, watcher.chat.id])  # once each
    assert other_dept.chat.id not in {m.chat_id for m in sent}
    to_official = next(m.text or "" for m in sent if m.chat_id == official.chat.id)
    assert "【信用通·风险预警】" in to_official and "受到严重行政处罚" in to_official and "信用等级下降" in to_official
    assert "新增行政处罚记录" not in to_official  # new records go to watchers only
    to_watcher = next(m for m in sent if m.chat_id == watcher.chat.id)
    assert "（关注）" in (to_watcher.text or "") and "关注主体新增行政处罚记录" in (to_watcher.text or "")
    assert to_watcher.buttons == [["查看 安康市恒达建材有限公司"]]
    assert len(a.sent) + len(b.sent) == 2  # whichever process claimed a digest first sent it

    again, transport = await digest(harness.db, t)  # a second scan (or a restart) the same day
    assert not again.planned and not again.sent and not transport.sent
    tomorrow, transport = await digest(harness.db, t + dt.timedelta(days=1))
    assert not tomorrow.planned and not transport.sent  # delivered warnings do not come back
    assert to_watcher.callback_data == [[f"s:{hengda}:-:-"]]  # the candidate button: opens the card


async def test_risk_list_and_admin_views(harness: BotHarness) -> None:
    hengda, _huatai, dept = await seed(harness)
    t = today(harness)
    await add_record(harness.db, hengda, dept, "严重失信主体名单", "安市监黑〔2026〕1号", t - dt.timedelta(days=3), severity="严重")
    third = await add_subject(harness.db, "安康市兴达餐饮有限公司", complete_uscc("91610902MA70XD005"))
    await add_record(harness.db, third, dept, "行政奖励", "安市监奖〔2026〕1号", t - dt.timedelta(days=3), severity=None)
    await full_run(harness.db, t)
    official = await harness.chat("official", dept="SCJGJ")
    risk = texts(await harness.say(official, "/risklist"))
    assert "共 1 个" in risk and "安康市恒达建材有限公司：高风险，信用评价 差（360 分）" in risk  # 700 - 40 - 300
    assert "重点监管，每季度至少 1 次现场检查" in risk

    admin = await harness.chat("admin", dept="SCJGJ")
    out = await harness.say(admin, "/grades")
    photo = out[-2]
    assert photo.method == "sendPhoto" and (photo.content or b"")[:8] == b"\x89PNG\r\n\x1a\n"
    assert "汉滨区：优 0，良 2，中 0，差 1" in (photo.text or "")
    by_trade = (await harness.say(admin, "#2"))[-2]  # 按行业
    for line in ("建材：优 0，良 0，中 0，差 1", "商贸：优 0，良 1，中 0，差 0", "餐饮：优 0，良 1，中 0，差 0"):
        assert line in (by_trade.text or ""), line
    changes = texts(await harness.say(admin, "/grades 变化"))
    assert "信用等级变化（共 1 起" in changes and "安康市恒达建材有限公司：中 → 差 ↓（660 → 360 分）" in changes
    assert "仅限系统管理员" in texts(await harness.say(official, "/grades"))


async def test_the_credit_report_carries_the_grade_for_officials(harness: BotHarness) -> None:
    await seed(harness)
    official = await harness.chat("official", dept="SCJGJ")
    out = await harness.say(official, f"/report {HENGDA}")
    pdf = pdf_text(next(o.content for o in out if o.method == "sendDocument"))
    assert compact("信用评价：中（660 分，满分 1000") in pdf and compact("-40 分 · 行政处罚") in pdf
    owner = await harness.chat("enterprise", subject=HENGDA)
    out = await harness.say(owner, "/report")
    assert "信用评价" not in pdf_text(next(o.content for o in out if o.method == "sendDocument"))  # setting off
