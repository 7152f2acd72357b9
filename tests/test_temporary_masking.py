"""暂时屏蔽 end to end through the chat: the credit department records a court-approved
reorganisation plan, the firm's adverse records leave the public card and its measures are lifted
(officials still see them, marked), the change is announced; the masking ends by itself when its
term passes and everything comes back; a second one is revoked by an official."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from telegram.ext import CallbackContext

from db.models import CreditRecord, SubjectMasking
from handlers import masking
from services import changes
from tests.conftest import BotHarness
from tests.test_lifecycle_flow import NO_MEASURES, PROCUREMENT_BAN, procurement_check
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id, texts
from tests.test_repair_cases_flow import at, sent_to

TODAY = dt.date(2026, 12, 1)


async def test_a_masking_lifts_measures_until_it_ends_and_a_second_is_revoked(harness: BotHarness) -> None:
    at(harness, TODAY)
    subject = await add_subject(harness.db)
    dept = await dept_id(harness.db)
    await add_record(harness.db, subject, dept, "严重失信主体名单", "安市监列〔2026〕7号", TODAY - dt.timedelta(days=30), severity="严重",
                     list_type="wage_arrears")  # a list whose measures the catalogue gives
    await add_record(harness.db, subject, dept, "行政处罚", "安市监罚〔2026〕71号", TODAY - dt.timedelta(days=30))
    await add_record(harness.db, subject, dept, "行政许可", "安市监许〔2026〕72号", TODAY - dt.timedelta(days=30))
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    market = await harness.chat("official", dept="SCJGJ")
    credit = await harness.chat("official", dept="FGW")
    public = await harness.chat("public")
    assert PROCUREMENT_BAN in await procurement_check(harness, market)

    command = f"/mask {HENGDA} 重整计划 安康市中级人民法院 （2026）陕09破1号 2026-11-20 2026-12-31"
    assert "信用主管部门" in texts(await harness.say(market, command))
    done = await harness.say(credit, command)
    assert "屏蔽 2 条失信信息，至 2026-12-31" in sent_to(done, credit)
    assert "【暂时屏蔽】" in sent_to(done, owner)
    assert "已有生效的暂时屏蔽" in texts(await harness.say(credit, command))

    card = texts(await harness.say(public, "安康市恒达建材有限公司"))
    assert "安市监罚〔2026〕71号" not in card and "安市监许〔2026〕72号" in card  # a licence is no 失信信息
    assert NO_MEASURES in await procurement_check(harness, market)
    staff = texts(await harness.say(market, "安康市恒达建材有限公司"))
    assert "安市监罚〔2026〕71号" in staff and "暂时屏蔽" in staff
    assert "生效的暂时屏蔽 1 项" in texts(await harness.say(credit, "/masks"))
    assert "仅限工作人员" in texts(await harness.say(public, "/masks"))

    at(harness, dt.date(2027, 1, 1))  # the term has passed: the daily job ends it
    start = len(harness.transport.sent)
    await masking.daily(CallbackContext(harness.app))  # type: ignore[arg-type]
    assert "【暂时屏蔽结束】" in sent_to(harness.transport.sent[start:], owner)
    await masking.daily(CallbackContext(harness.app))  # type: ignore[arg-type]  # once only
    assert sent_to(harness.transport.sent[start:], owner).count("【暂时屏蔽结束】") == 1
    assert PROCUREMENT_BAN in await procurement_check(harness, market)
    async with harness.db.transaction() as s:
        statuses = dict((await s.execute(select(CreditRecord.doc_number, CreditRecord.status))).all())
        first = await s.scalar(select(SubjectMasking))
    assert statuses["安市监列〔2026〕7号"] == "active" and statuses["安市监罚〔2026〕71号"] == "active"
    assert first is not None and first.status == "ended" and first.end_reason == "屏蔽期限届满"

    again = await harness.say(credit, f"/mask {HENGDA} 和解协议 安康市中级人民法院 （2027）陕09破2号 2027-01-01")
    assert "至裁定执行完毕或撤销" in sent_to(again, credit)
    assert "用法" in texts(await harness.say(credit, "/unmask 2 不知道"))
    revoked = await harness.say(credit, "/unmask 2 终止 法院裁定终止和解程序")
    assert "已结束（裁定撤销或终止），2 条信息恢复原状态" in sent_to(revoked, credit)
    kinds = [e.kind for e in (await changes.read(harness.db, None, 100)).events]
    assert kinds.count("masked") == 4 and kinds.count("unmasked") == 4
