"""Repair under the 2026 rules, end to end through the chat (the real Application over the
in-process Bot API): 两书同达 for an imported penalty, and a case whose 受理 limit passes — the
reminder before it and the escalation after it on a moved clock, the reason asked for the missed
limit, the 信用修复决定书 to the subject and the official, verifiable, and the change announced."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import select
from telegram.ext import CallbackContext

from db.importers import samples
from db.models import IssuedDocument, RepairNotice, RepairRequest
from handlers.repair import deadline_scan, issue_owed_documents
from services import changes
from services.imports import import_file
from services.issued_documents import check_document
from tests.conftest import BotHarness
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id, pdf_text, proof_file, texts

FILED = dt.date(2026, 12, 1)  # a Tuesday: 受理 due Friday 12-04 (3 working days), reminded from 12-03


def at(harness: BotHarness, day: dt.date) -> None:
    """Move the bot's clock to `day` (09:00 Beijing time)."""
    svc = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    svc.today = lambda: day
    svc.now = lambda: dt.datetime.combine(day, dt.time(9), svc.settings.tz)


def code_of(pdf: bytes) -> str:
    found = re.search(r"核验码：([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", pdf_text(pdf))
    assert found, "no verification code printed"
    return found.group(1)


def sent_to(out: list, chat) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(o.text or "" for o in out if o.chat_id == chat.chat.id)


async def test_an_imported_penalty_serves_its_repair_notice_to_the_subject_and_the_department(
    harness: BotHarness, tmp_path: Path
) -> None:
    at(harness, FILED)
    await add_subject(harness.db)
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="SCJGJ")
    stranger = await harness.chat("official", dept="YJJ")
    rows = []
    for i, decided in ((701, FILED - dt.timedelta(days=3)), (702, FILED - dt.timedelta(days=200))):
        row = samples.penalty_row(i, decision=decided, person_every=0)
        row.update({"行政相对人名称": "安康市恒达建材有限公司", "行政相对人代码_1（统一社会信用代码）": HENGDA})
        rows.append(row)
    path = samples.write_csv(tmp_path / "penalties.csv", samples.HEADERS[("penalty", "2021")], rows)
    svc = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    report = await import_file(harness.db, path, dept_code="SCJGJ", id_key=svc.settings.privacy.id_hash_key, today=FILED)
    assert report.written and report.new == 2

    start = len(harness.transport.sent)
    await issue_owed_documents(CallbackContext(harness.app))  # type: ignore[arg-type]
    out = harness.transport.sent[start:]
    served = [o for o in out if o.chat_id == owner.chat.id and o.method == "sendDocument"]
    assert len(served) == 1  # only the recent penalty: the 200-day-old one was served long ago
    notice = served[0]
    assert notice.file_name and notice.file_name.startswith("信用修复告知书-安信修告〔2026〕")
    text = pdf_text(notice.content)
    for expected in ("信用修复告知书", "安市监罚〔2026〕701号", "最早可于2027年2月28日", "信用承诺书", "“信用中国”网站", "安康市市场监督管理局"):
        assert expected in text, expected
    number = notice.file_name.removeprefix("信用修复告知书-").removesuffix(".pdf")
    check = await check_document(harness.db, number, code_of(notice.content))
    assert check.status == "genuine" and check.kind == "信用修复告知书" and check.subject_name == "安康市恒达建材有限公司"

    # The department finds it under /documents; another department does not.
    listing = await harness.say(official, "/documents")
    assert number in texts(listing)
    again = await harness.say(official, "#1")
    assert [o.content for o in again if o.method == "sendDocument"] == [notice.content]
    assert number not in texts(await harness.say(stranger, "/documents"))
    assert number in texts(await harness.say(owner, "/documents"))

    page = await changes.read(harness.db, None, 50)
    kinds = [e.kind for e in page.events]
    assert kinds.count("record_added") == 2 and kinds.count("repair_notice") == 1
    async with harness.db.transaction() as s:
        assert len((await s.scalars(select(RepairNotice))).all()) == 1


async def test_a_case_past_its_limit_is_reminded_escalated_and_decided_with_the_reason(harness: BotHarness, tmp_path: Path) -> None:
    at(harness, FILED)
    subject = await add_subject(harness.db)
    await add_record(
        harness.db, subject, await dept_id(harness.db), "严重失信主体名单", "安市监列〔2025〕3号", FILED - dt.timedelta(days=400),
        severity="严重",
    )
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="SCJGJ")
    credit = await harness.chat("official", dept="FGW")  # the 信用主管部门 (role credit)

    await harness.say(owner, "/repair")
    await harness.say(owner, "#1")
    await harness.say(owner, "#1")
    await owner.handle_line(f"@{proof_file(tmp_path)}")
    filed = await harness.say(owner, "我承诺")
    assert "应于 2026-12-04 前决定是否受理" in sent_to(filed, owner)
    assert "受理期限 2026-12-04" in sent_to(filed, official)

    context = CallbackContext(harness.app)
    assert await deadline_scan(context, dt.date(2026, 12, 2)) == 0  # not yet
    start = len(harness.transport.sent)
    assert await deadline_scan(context, dt.date(2026, 12, 3)) == 1
    reminded = harness.transport.sent[start:]
    assert "【信用修复期限提醒】" in sent_to(reminded, official) and "受理期限为 2026-12-04" in sent_to(reminded, official)
    assert sent_to(reminded, credit) == ""
    assert await deadline_scan(context, dt.date(2026, 12, 4)) == 0  # reminded once, however often it runs
    start = len(harness.transport.sent)
    assert await deadline_scan(context, dt.date(2026, 12, 7)) == 1
    escalated = harness.transport.sent[start:]
    assert "【信用修复逾期】安康市市场监督管理局未在 2026-12-04 前" in sent_to(escalated, credit)
    assert "须说明逾期原因" in sent_to(escalated, official)
    assert await deadline_scan(context, dt.date(2026, 12, 8)) == 0

    at(harness, dt.date(2026, 12, 7))
    queue = texts(await harness.say(official, "/repairs"))
    assert "待审核信用修复申请 1 件" in queue and "【已逾期】" in queue and "受理期限 2026-12-04" in queue
    assert "已超过受理期限（2026-12-04）" in texts(await harness.say(official, "#1"))  # 批准
    assert "请输入审核意见" in texts(await harness.say(official, "需调取缴款凭证原件核实"))
    decided = await harness.say(official, "已履行全部义务，准予修复")
    answer = sent_to(decided, official)
    assert "准予修复" in answer and "决定书 安信修决〔2026〕0001号 已出具" in answer
    to_official = [o for o in decided if o.chat_id == official.chat.id and o.method == "sendDocument"]
    to_owner = [o for o in decided if o.chat_id == owner.chat.id and o.method == "sendDocument"]
    assert len(to_official) == 1 and len(to_owner) == 1 and to_owner[0].content == to_official[0].content
    assert "【信用修复结果】" in sent_to(decided, owner)
    text = pdf_text(to_owner[0].content)
    for expected in ("准予信用修复决定书", "安市监列〔2025〕3号", "终止公示、停止共享和使用", "受理超过规定期限", "需调取缴款凭证原件核实"):
        assert expected in text, expected
    check = await check_document(harness.db, "安信修决〔2026〕0001号", code_of(to_owner[0].content))
    assert check.status == "genuine" and check.kind == "信用修复决定书"

    async with harness.db.transaction() as s:
        case = await s.scalar(select(RepairRequest))
        registered = await s.scalar(select(IssuedDocument).where(IssuedDocument.kind == "rdecision"))
    assert case is not None and case.status == "approved" and case.missed == "accept"
    assert case.missed_reason == "需调取缴款凭证原件核实" and case.accepted_on == dt.date(2026, 12, 7)
    assert registered is not None and registered.number == case.decision_number
    kinds = [e.kind for e in (await changes.read(harness.db, None, 50)).events]
    assert "repaired" in kinds and "repair_decided" in kinds
    assert "安市监列〔2025〕3号" not in texts(await harness.say(official, "安康市恒达建材有限公司"))


async def test_a_case_accepted_in_time_then_refused_to_accept_another(harness: BotHarness, tmp_path: Path) -> None:
    at(harness, FILED)
    subject = await add_subject(harness.db)
    dept = await dept_id(harness.db)
    for doc in ("安市监罚〔2025〕11号", "安市监罚〔2025〕12号"):
        await add_record(harness.db, subject, dept, "行政处罚", doc, FILED - dt.timedelta(days=200))
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="SCJGJ")
    for pick in ("#1", "#1"):
        await harness.say(owner, "/repair")
        await harness.say(owner, pick)
        await harness.say(owner, "#1")
        await owner.handle_line(f"@{proof_file(tmp_path)}")
        assert "信用修复申请已提交" in texts(await harness.say(owner, "我承诺"))
    queue = await harness.say(official, "/repairs")
    assert "待审核信用修复申请 2 件" in texts(queue)
    assert queue[-1].buttons[1] == ["受理 1", "不予受理 1"]
    accepted = await harness.say(official, "#3")
    assert "申请 1 已受理，办结期限 2026-12-08" in sent_to(accepted, official)
    assert "【信用修复受理】" in sent_to(accepted, owner)
    assert "已受理" in texts(await harness.say(official, "#3"))  # the old card: nothing happens twice
    queue = await harness.say(official, "/repairs")
    assert "已受理，待办结（办结期限 2026-12-08）" in texts(queue)
    assert "不予受理的理由" in texts(await harness.say(official, "#4"))  # the second case's 不予受理
    refused = await harness.say(official, "证明材料与处罚决定不符")
    assert "不予受理" in sent_to(refused, official) and "证明材料与处罚决定不符" in sent_to(refused, owner)
    assert not [o for o in refused if o.method == "sendDocument"]  # no 决定书 for a refusal to accept
    async with harness.db.transaction() as s:
        statuses = sorted((await s.scalars(select(RepairRequest.status))).all())
    assert statuses == ["accepted", "refused"]
