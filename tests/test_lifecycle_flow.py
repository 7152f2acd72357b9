"""Whole lifecycle conversations over the real Application: the publication end seen by the public,
prior notice → no objection → listed, prior notice → objection → revoked, repair too early and granted."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select
from telegram import CallbackQuery, Message, Update, User

from bot.console import ConsoleChat
from bot.transport import Outgoing
from db.models import AuditEntry, CreditRecord, Listing, Objection, RepairRequest
from render.buttons import PROPOSE_LIST_TYPE
from render.pdf import render_notice
from rules.publication import add_months
from services.expiry import mark_expired
from services.listings import activate_due_listings, propose_listing
from tests.conftest import BotHarness
from tests.test_lifecycle_support import (
    HENGDA,
    HUATAI,
    add_record,
    add_subject,
    dept_id,
    pdf_text,
    proof_file,
    texts,
    today,
)

SORRY = "抱歉，系统处理您的请求时出现问题"
NO_MEASURES = "该主体不在任何失信名单中"
PROCUREMENT_BAN = "在政府采购方面依法依规予以限制"  # 拖欠农民工工资失信联合惩戒对象名单, 条例第四十八条
WAGE = {"list_type": "wage_arrears", "dept_code": "RSJ"}  # the labour department decides that list


def no_errors(harness: BotHarness) -> None:
    """A handler that raised answers with the apology; none may have."""
    assert not [o for o in harness.transport.sent if SORRY in (o.text or "")]


async def procurement_check(harness: BotHarness, chat: object) -> str:
    """An official's 逢办必查 for 政府采购 on HENGDA: card → 逢办必查 → 政府采购."""
    card = await harness.say(chat, HENGDA)  # type: ignore[arg-type]
    assert any("逢办必查" in label for o in card for row in o.buttons for label in row)
    await harness.say(chat, "#1")  # type: ignore[arg-type]
    return texts(await harness.say(chat, "#1"))  # type: ignore[arg-type]


async def test_a_record_leaves_the_public_view_on_its_end_date_without_any_job(harness: BotHarness) -> None:
    t = today(harness)
    subject = await add_subject(harness.db)
    dept = await dept_id(harness.db)
    decided = t - dt.timedelta(days=180)
    await add_record(harness.db, subject, dept, "行政处罚", "安市监罚〔2026〕101号", decided, publication_end=t + dt.timedelta(days=1))
    await add_record(harness.db, subject, dept, "行政处罚", "安市监罚〔2026〕102号", decided, publication_end=t)
    await harness.refresh()
    public = texts(await harness.say(await harness.chat("public"), HENGDA))
    assert "安市监罚〔2026〕101号" in public  # the day before its end
    assert f"公示至 {t:%Y-%m-%d}" in public and "严重程度：一般" in public
    assert "安市监罚〔2026〕102号" not in public  # its end date: gone, no job has run
    staff = texts(await harness.say(await harness.chat("official", dept="SCJGJ"), HENGDA))
    assert "安市监罚〔2026〕102号" in staff  # still shared with officials, as history
    assert await mark_expired(harness.db, t) == 1  # the daily job only records what is already true
    staff = texts(await harness.say(await harness.chat("official", dept="SCJGJ"), HENGDA))
    assert "安市监罚〔2026〕102号" in staff and "已过公示期" in staff
    no_errors(harness)


async def test_prior_notice_without_objection_ends_listed(harness: BotHarness) -> None:
    t = today(harness)
    await add_subject(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="RSJ")
    public = await harness.chat("public")

    assert "请输入主体" in texts(await harness.say(official, "/propose"))
    offered = await harness.say(official, HENGDA)
    assert offered[-1].buttons == [["拖欠农民工工资失信联合惩戒对象名单"]]  # the only list the labour department decides
    chosen = texts(await harness.say(official, "#1"))
    assert "认定标准" in chosen and "第四十八条" in chosen and "列入事由" in chosen
    assert "异议期" in texts(await harness.say(official, "拖欠农民工工资120万元，经安人社限支〔2026〕3号责令限期支付，逾期未支付"))
    confirm = texts(await harness.say(official, "#1"))
    assert "请确认事前告知内容" in confirm and "5 个工作日" in confirm and "3年" in confirm
    done = await harness.say(official, "#1")

    async with harness.db.transaction() as s:
        listing = await s.scalar(select(Listing))
    assert listing is not None and listing.status == "proposed"
    number = f"安信告〔{t.year}〕0001号"
    assert listing.notice_number == number
    notices = [o for o in done if o.method == "sendDocument" and o.chat_id == owner.chat.id]
    assert len(notices) == 1 and notices[0].file_name == f"事前告知书-{number}.pdf"
    assert notices[0].content == listing.notice_pdf  # the exact bytes sent are the ones kept
    notice = pdf_text(notices[0].content)
    deadline = listing.objection_deadline
    for part in (number, "第四十八条", "拖欠农民工工资失信联合惩戒对象名单", "安人社限支〔2026〕3号", PROCUREMENT_BAN,
                 "3年", "提前移出", f"{deadline.year}年{deadline.month}月{deadline.day}日", "异议", "信用修复", "/objection"):
        assert part in notice, part
    assert f"已发出事前告知书 {number}" in texts(done) and "已通知该主体" in texts(done)

    # During the notice period: officials see 拟列入, the public sees nothing, no measures apply.
    assert "严重失信主体名单" not in texts(await harness.say(public, HENGDA))
    assert "拟列入" in texts(await harness.say(official, HENGDA))
    assert NO_MEASURES in await procurement_check(harness, official)

    assert await activate_due_listings(harness.db, deadline) == []  # the last day is still open
    activated = await activate_due_listings(harness.db, deadline + dt.timedelta(days=1))
    assert [a.notice_number for a in activated] == [number]

    listed = texts(await harness.say(public, HENGDA))
    assert "严重失信主体名单" in listed and "该主体已列入严重失信主体名单" in listed
    assert PROCUREMENT_BAN in await procurement_check(harness, official)
    no_errors(harness)


async def test_prior_notice_with_objection_is_revoked(harness: BotHarness, tmp_path: Path) -> None:
    t = today(harness)
    subject = await add_subject(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="RSJ")
    services = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    proposed = await propose_listing(
        harness.db, subject_id=subject, reasons="拖欠农民工工资，经责令限期支付逾期未支付",
        today=t, calendar=services.calendar, render=lambda n: render_notice(n, "安康市公共信用信息平台"),
        prefix="安", **WAGE,
    )

    items = await harness.say(owner, "/objection")
    assert [label for o in items for row in o.buttons for label in row] == [f"拟列入 [严重失信主体名单] {t:%Y-%m-%d} {proposed.notice.number}"]
    assert "异议理由" in texts(await harness.say(owner, "#1"))
    assert "提交异议" in texts(await harness.say(owner, "我单位已于本月补报全部年度报告，不应列入"))
    assert "已收到第 1 个附件" in texts(await owner.handle_line(f"@{proof_file(tmp_path, '年报回执.pdf')}"))
    filed = await harness.say(owner, "#1")
    assert "异议已提交" in texts(filed)
    assert any(o.chat_id == official.chat.id and "【异议待处理】" in (o.text or "") for o in filed)

    staff = texts(await harness.say(official, HENGDA))
    assert "拟列入" in staff and "异议处理中" in staff
    # The objection holds the listing past its period.
    assert await activate_due_listings(harness.db, proposed.notice.deadline + dt.timedelta(days=1)) == []

    queue = await harness.say(official, "/objections")
    assert "待处理异议 1 件" in texts(queue)
    detail = texts(await harness.say(official, "#1"))
    assert "我单位已于本月补报全部年度报告" in detail and "附件：1 个" in detail
    attachments = await harness.say(official, "#4")  # 查看附件
    assert [o.method for o in attachments if o.chat_id == official.chat.id] == ["sendDocument"]
    assert "撤销" in texts(await harness.say(official, "#3"))
    decided = await harness.say(official, "经核实，该企业已补报年度报告，撤销拟列入")
    assert "已处理：撤销" in texts(decided)
    told = [o.text or "" for o in decided if o.chat_id == owner.chat.id]
    assert len(told) == 1 and "【异议处理结果】" in told[0] and "撤销" in told[0]

    async with harness.db.transaction() as s:
        listing = await s.scalar(select(Listing))
        objection = await s.scalar(select(Objection))
    assert listing is not None and listing.status == "withdrawn"
    assert objection is not None and objection.status == "revoked" and objection.attachments["items"][0]["name"] == "年报回执.pdf"
    assert await activate_due_listings(harness.db, proposed.notice.deadline + dt.timedelta(days=30)) == []
    assert "严重失信主体名单" not in texts(await harness.say(official, HENGDA))
    assert NO_MEASURES in await procurement_check(harness, official)
    no_errors(harness)


async def test_repair_too_early_then_granted(harness: BotHarness, tmp_path: Path) -> None:
    t = today(harness)
    subject = await add_subject(harness.db)
    dept = await dept_id(harness.db)
    await add_record(
        harness.db, subject, dept, "严重失信主体名单", "安市监列〔2025〕3号", t - dt.timedelta(days=400),
        severity="严重", fields={"依据": "《保障农民工工资支付条例》第四十八条"}, list_type="wage_arrears",
    )
    young = t - dt.timedelta(days=10)
    await add_record(harness.db, subject, dept, "行政处罚", "安市监罚〔2026〕88号", young)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="SCJGJ")
    public = await harness.chat("public")
    assert PROCUREMENT_BAN in await procurement_check(harness, official)

    # Too early: the penalty (newest, first button) opens three months after its decision.
    await harness.say(owner, "/repair")
    early = texts(await harness.say(owner, "#1"))
    opens = add_months(young, 3)
    assert f"最早可于 {opens:%Y年%m月%d日} 申请信用修复" in early
    assert "尚未履行" not in early

    await harness.say(owner, "/repair")
    assert "是否已履行相关义务" in texts(await harness.say(owner, "#2"))
    assert "证明材料" in texts(await harness.say(owner, "#1"))
    assert "我承诺" in texts(await owner.handle_line(f"@{proof_file(tmp_path)}"))
    filed = await harness.say(owner, "我承诺")
    assert "信用修复申请已提交" in texts(filed)
    assert any(o.chat_id == official.chat.id and "【信用修复待审核】" in (o.text or "") for o in filed)

    queue = await harness.say(official, "/repairs")
    assert "待审核信用修复申请 1 件" in texts(queue) and "证明材料 1 份" in texts(queue)
    await harness.say(official, "#1")  # 批准
    decided = await harness.say(official, "已履行全部义务，准予修复")
    assert "准予修复" in texts(decided)
    assert any(o.chat_id == owner.chat.id and "【信用修复结果】" in (o.text or "") for o in decided)

    # Gone from every card and from the measures; only the audit trail keeps it.
    assert "安市监列〔2025〕3号" not in texts(await harness.say(public, HENGDA))
    staff = texts(await harness.say(official, HENGDA))
    assert "安市监列〔2025〕3号" not in staff and "该主体已列入" not in staff
    assert "安市监罚〔2026〕88号" in staff  # the other record is untouched
    assert NO_MEASURES in await procurement_check(harness, official)
    async with harness.db.transaction() as s:
        request = await s.scalar(select(RepairRequest))
        audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "repair_approved"))
    assert request is not None and request.status == "approved" and request.proof["items"][0]["name"] == "缴款凭证.pdf"
    assert audit is not None and audit.detail["doc_number"] == "安市监列〔2025〕3号"
    no_errors(harness)


async def test_cancel_leaves_nothing_behind(harness: BotHarness) -> None:
    await add_subject(harness.db)
    await harness.refresh()
    official = await harness.chat("official", dept="RSJ")
    await harness.say(official, "/propose")
    await harness.say(official, HENGDA)
    assert "已取消" in texts(await harness.say(official, "/cancel"))
    async with harness.db.transaction() as s:
        assert await s.scalar(select(Listing)) is None
    public = await harness.chat("public")
    assert "拟列入严重失信主体名单须由列入部门的办事人员发起" in texts(await harness.say(public, "/propose"))
    no_errors(harness)


async def test_the_daily_job_lists_due_listings_and_tells_the_subject(harness: BotHarness) -> None:
    from telegram.ext import CallbackContext

    from handlers.listing import daily_lifecycle

    t = today(harness)
    subject = await add_subject(harness.db)
    dept = await dept_id(harness.db)
    await add_record(harness.db, subject, dept, "行政处罚", "安市监罚〔2026〕9号", t - dt.timedelta(days=100), publication_end=t)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    services = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    proposed = await propose_listing(
        harness.db, subject_id=subject, reasons="拖欠农民工工资逾期未支付", today=t - dt.timedelta(days=30),
        calendar=services.calendar, render=lambda n: render_notice(n, "安康市公共信用信息平台"), prefix="安", **WAGE,
    )
    start = len(harness.transport.sent)
    await daily_lifecycle(CallbackContext(harness.app))  # type: ignore[arg-type]
    told = [o for o in harness.transport.sent[start:] if o.chat_id == owner.chat.id]
    async with harness.db.transaction() as s:
        listing = await s.scalar(select(Listing))
        statuses = sorted((await s.scalars(select(CreditRecord.status))).all())
    assert listing is not None and listing.status == "effective" and listing.effective_on == t
    assert listing.decision_number == f"安信决〔{t.year}〕0001号" and listing.expires_on == add_months(t, 36)
    # The 列入决定书 itself reaches the subject, with the notice it follows.
    assert len(told) == 1 and told[0].method == "sendDocument" and told[0].content == listing.decision_pdf
    assert "【列入决定】" in (told[0].text or "") and proposed.notice.number in (told[0].text or "")
    decision = pdf_text(listing.decision_pdf or b"")
    for part in (listing.decision_number, "列入事由", "拖欠农民工工资逾期未支付", "列入依据", "第四十八条", PROCUREMENT_BAN,
                 "列入期限", "移出条件和程序", "第十二条", "救济途径", "行政复议", "行政诉讼", "六十日", "六个月"):
        assert part in decision, part
    assert statuses == ["active", "expired"]
    await daily_lifecycle(CallbackContext(harness.app))  # type: ignore[arg-type]
    assert not [o for o in harness.transport.sent[start + 1 :] if o.chat_id == owner.chat.id]  # nothing twice
    no_errors(harness)


async def test_propose_finds_the_subject_by_name_and_asks_when_unclear(harness: BotHarness) -> None:
    await add_subject(harness.db)
    await harness.refresh()
    official = await harness.chat("official", dept="RSJ")
    await harness.say(official, "/propose")
    assert "请选择拟列入的名单" in texts(await harness.say(official, "安康市恒达建材有限公司"))
    await harness.say(official, "/cancel")
    await add_subject(harness.db, name="汉阴县恒达建材有限公司", uscc=HUATAI)
    await harness.refresh()
    await harness.say(official, "/propose")
    offered = await harness.say(official, "恒达建材")
    labels = [label for o in offered for row in o.buttons for label in row]
    assert "请选择" in texts(offered) and len(labels) == 2
    assert "请选择拟列入的名单" in texts(await harness.say(official, "#1"))
    no_errors(harness)


async def test_propose_offers_only_the_departments_own_lists_and_refuses_forged_ones(harness: BotHarness) -> None:
    """49号: a list is decided by the department the law names. The market department decides a list
    whose rule could not be confirmed: nothing to propose, and it hears why; a forged button for
    another department's list is refused by the use case."""
    await add_subject(harness.db)
    await harness.refresh()
    market = await harness.chat("official", dept="SCJGJ")
    refused = texts(await harness.say(market, "/propose"))
    assert "没有可在本平台发起列入的名单类型" in refused and "市场监督管理严重违法失信名单：认定依据尚未核实" in refused
    court = texts(await harness.say(await harness.chat("official", dept="ZY"), "/propose"))
    assert "失信被执行人名单：由人民法院依其程序决定" in court
    finance = await harness.chat("official", dept="CZJ")
    await harness.say(finance, "/propose")
    assert (await harness.say(finance, HENGDA))[-1].buttons == [["政府采购严重违法失信行为记录名单"]]
    forged = texts(await press_data(harness, finance, PROPOSE_LIST_TYPE.pack("wage_arrears")))
    assert "本部门不能认定该名单" in forged
    assert "第七十七条" in texts(await harness.say(finance, "#1"))
    assert "列入期限由本决定确定" in texts(await harness.say(finance, "提供虚假材料谋取中标，见安财采处〔2026〕2号"))  # 1 to 3 years
    assert "应为 12 至 36 个月" in texts(await harness.say(finance, "48"))
    assert "异议期" in texts(await harness.say(finance, "24"))
    async with harness.db.transaction() as s:
        assert await s.scalar(select(Listing)) is None
    no_errors(harness)


async def press_data(harness: BotHarness, chat: ConsoleChat, data: str) -> list[Outgoing]:
    """A button press carrying `data` the bot never sent (a forged or stale button)."""
    bot_user = User(700000001, "信用通", is_bot=True)
    message = Message(1, dt.datetime.now(dt.UTC), chat.chat, from_user=bot_user, text="按钮")
    update = Update(9_100_001, callback_query=CallbackQuery("forged-1", chat.user, chat_instance="x", data=data, message=message))
    start = len(harness.transport.sent)
    await harness.app.process_update(Update.de_json(json.loads(json.dumps(update.to_dict())), harness.app.bot))
    return harness.transport.sent[start:]
