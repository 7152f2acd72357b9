"""The credit report: a real PDF whose Chinese text extracts back (pypdf), with the platform, number
and time, the sections per category, and the content and masking of the reader's role."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db.models import AuditEntry, CreditReport
from render.pdf import render_report
from rules.codes import complete_ric
from rules.roles import Viewer
from services.report import issue_report
from tests.conftest import BotHarness
from tests.test_lifecycle_support import (
    HENGDA,
    add_record,
    add_subject,
    bind,
    compact,
    dept_id,
    pdf_text,
    texts,
    today,
)

PLATFORM = "安康市公共信用信息平台"
ID_NUMBER = complete_ric("61090219800101123")
ID_MASKED = ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]


async def seed_company(harness: BotHarness) -> None:
    t = today(harness)
    subject = await add_subject(harness.db)
    dept = await dept_id(harness.db)
    add = add_record
    await add(harness.db, subject, dept, "行政处罚", "安市监罚〔2026〕201号", t - dt.timedelta(days=30), publication_end=t + dt.timedelta(days=300))
    # 2026 edition, 轻微: not published at all.
    await add(harness.db, subject, dept, "行政处罚", "安市监罚〔2026〕202号", t - dt.timedelta(days=20), severity="轻微", rule_edition="2026")
    await add(harness.db, subject, dept, "行政处罚", "安市监罚〔2025〕203号", t - dt.timedelta(days=500), publication_end=t - dt.timedelta(days=1))
    await add(harness.db, subject, dept, "行政许可", "安市监许〔2026〕204号", t - dt.timedelta(days=60), severity=None)
    await add(harness.db, subject, dept, "行政处罚", "安市监罚〔2025〕205号", t - dt.timedelta(days=300), status="repaired")
    await harness.refresh()


def documents(out: list, chat_id: int) -> list:  # type: ignore[type-arg]
    return [o for o in out if o.method == "sendDocument" and o.chat_id == chat_id]


async def test_official_and_enterprise_reports_differ_by_role(harness: BotHarness) -> None:
    await seed_company(harness)
    official = await harness.chat("official", dept="SCJGJ")
    owner = await harness.chat("enterprise", subject=HENGDA)
    year = dt.datetime.now(ZoneInfo("Asia/Shanghai")).year

    staff_docs = documents(await harness.say(official, f"/report {HENGDA}"), official.chat.id)
    assert len(staff_docs) == 1 and staff_docs[0].file_name == f"信用报告-安信报〔{year}〕000001号.pdf"
    staff = pdf_text(staff_docs[0].content)
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    for part in (PLATFORM, "信用报告", f"报告编号：安信报〔{year}〕000001号", f"生成时间：{now:%Y-%m-%d}", "（北京时间）",
                 "报告使用人：办事人员", "安康市恒达建材有限公司", HENGDA, "法定代表人", "张伟",
                 "行政许可：1 条", "行政处罚：3 条", "安市监罚〔2026〕201号", "安市监罚〔2026〕202号",
                 "安市监罚〔2025〕203号", "安市监许〔2026〕204号", "未公示（仅供政务共享）", "已过公示期（仅供政务共享）"):
        assert compact(part) in staff, part
    assert "安市监罚〔2025〕205号" not in staff  # repaired: in no report
    assert staff.index("行政许可：") < staff.index("行政处罚：")  # sections in the catalogue's order

    own_docs = documents(await harness.say(owner, "/report"), owner.chat.id)
    assert len(own_docs) == 1
    own = pdf_text(own_docs[0].content)
    assert f"安信报〔{year}〕000002号" in own and "报告使用人：企业（主体本人）" in own
    assert "安市监罚〔2026〕201号" in own and "安市监许〔2026〕204号" in own and compact("行政处罚：1 条") in own
    for hidden in ("安市监罚〔2026〕202号", "安市监罚〔2025〕203号", "安市监罚〔2025〕205号", "未公示"):
        assert hidden not in own, hidden

    async with harness.db.transaction() as s:
        issued = (await s.scalars(select(CreditReport).order_by(CreditReport.id))).all()
        audits = (await s.scalars(select(AuditEntry).where(AuditEntry.reason == "信用报告"))).all()
    assert [r.role for r in issued] == ["official", "enterprise"]
    assert [r.sha256 for r in issued] == [hashlib.sha256(d.content).hexdigest() for d in (staff_docs[0], own_docs[0])]
    assert [a.detail["channel"] for a in audits] == ["report", "report"]


async def test_others_may_not_fetch_a_report(harness: BotHarness) -> None:
    await seed_company(harness)
    stranger = await harness.chat("public")
    assert "须先绑定信用主体" in texts(await harness.say(stranger, "/report"))
    out = await harness.say(stranger, f"/report {HENGDA}")
    assert "只能获取本人" in texts(out) and not documents(out, stranger.chat.id)


async def test_a_persons_report_masks_the_id_for_both_roles(harness: BotHarness) -> None:
    t = today(harness)
    person = await add_subject(
        harness.db, name="张三丰", uscc=None, kind="自然人", id_masked=ID_MASKED, id_hash="h" * 64,
        address="陕西省安康市汉滨区老城街道新城路12号",
    )
    dept = await dept_id(harness.db)
    await add_record(harness.db, person, dept, "行政处罚", "安市监罚〔2026〕301号", t - dt.timedelta(days=30), publication_end=t + dt.timedelta(days=300))
    await add_record(harness.db, person, dept, "行政处罚", "安市监罚〔2026〕302号", t - dt.timedelta(days=20), severity="轻微", rule_edition="2026")
    me = await harness.chat("public")
    await bind(harness.db, me.chat.id, person)

    docs = documents(await harness.say(me, "/report"), me.chat.id)
    assert len(docs) == 1
    own = pdf_text(docs[0].content)
    assert "张三丰" in own and ID_MASKED in own and ID_NUMBER not in own
    assert "老城街道" in own and "新城路" not in own and "12号" not in own  # address down to the town
    assert "安市监罚〔2026〕301号" in own and "安市监罚〔2026〕302号" not in own

    services = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    staff_viewer = Viewer(account_id=None, role="official", department_id=dept)
    issued = await issue_report(harness.db, staff_viewer, person, services.now(), lambda d: render_report(d, PLATFORM), prefix="安")
    staff = pdf_text(issued.pdf)
    assert ID_MASKED in staff and ID_NUMBER not in staff
    assert "安市监罚〔2026〕301号" in staff and "安市监罚〔2026〕302号" in staff
    # A person's report never prints a full ID, whoever reads it.
    for text in (own, staff):
        assert not any(ch.isdigit() for ch in text.split(ID_MASKED[:6], 1)[1][:8])
