"""Lifecycle use cases on both backends: numbering under concurrency, the expiry job, prior notice and
activation, objections (queue, permissions, corrections), repair refusals, the schema migration."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from bot import cli_lifecycle
from bot.cli import answer
from db.models import AuditEntry, Base, CreditRecord, Listing, RecordChange
from db.session import Database
from render.pdf import render_decision, render_notice
from rules.publication import add_months
from rules.roles import Viewer
from rules.workcal import WorkCalendar
from services.errors import Refusal
from services.expiry import mark_expired
from services.issued_documents import check_document
from services.listings import DecisionIssuer, activate_due_listings, expire_listings, propose_listing
from services.lookup import view_subject
from services.numbering import next_number
from services.objections import (
    Attachment,
    decide_objection,
    file_objection,
    objectable_items,
    pending_objections,
)
from services.repair import apply_for_repair, decide_repair
from services.settings import DatabaseSettings, Settings
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id, pdf_text

CAL = WorkCalendar()
ISSUER = DecisionIssuer(lambda d: render_decision(d, "安康市公共信用信息平台"), "安")
TODAY = dt.date(2026, 11, 27)  # a Friday


def official(department_id: int, account_id: int | None = None) -> Viewer:
    return Viewer(account_id=account_id, role="official", department_id=department_id)


def owner(subject_id: int, account_id: int = 1) -> Viewer:
    return Viewer(account_id=account_id, role="enterprise", subject_ids=frozenset({subject_id}))


async def accounts(db: Database, *roles: tuple[int, str, int | None]) -> None:
    """Account rows for the ids the viewers carry (foreign keys of objections and repairs)."""
    from db.models import Account

    async with db.transaction() as s:
        for account_id, role, department in roles:
            s.add(Account(id=account_id, telegram_user_id=800000 + account_id, role=role, department_id=department))


async def test_document_numbers_are_unique_under_concurrency(db: Database) -> None:
    async def one() -> int:
        async with db.transaction() as s:
            return await next_number(s, "notice", 2026)

    numbers = await asyncio.gather(*(one() for _ in range(8)))
    assert sorted(numbers) == list(range(1, 9))
    async with db.transaction() as s:
        assert await next_number(s, "notice", 2027) == 1  # a new year starts again
        assert await next_number(s, "report", 2026) == 1  # each kind has its own counter


async def test_mark_expired_marks_exactly_the_records_past_their_end(db: Database) -> None:
    subject = await add_subject(db)
    dept = await dept_id(db)
    ends_today = await add_record(db, subject, dept, "行政处罚", "A", TODAY - dt.timedelta(days=200), publication_end=TODAY)
    ends_tomorrow = await add_record(
        db, subject, dept, "行政处罚", "B", TODAY - dt.timedelta(days=200), publication_end=TODAY + dt.timedelta(days=1)
    )
    # No stored end: the rules' maximum (2026 一般: 12 months) applies.
    computed_today = await add_record(db, subject, dept, "行政处罚", "C", add_months(TODAY, -12), rule_edition="2026")
    computed_later = await add_record(
        db, subject, dept, "行政处罚", "D", add_months(TODAY, -12) + dt.timedelta(days=1), rule_edition="2026"
    )
    objected = await add_record(db, subject, dept, "行政处罚", "E", TODAY - dt.timedelta(days=400), publication_end=TODAY, status="objected")
    no_period = await add_record(db, subject, dept, "检查抽查", "F", TODAY - dt.timedelta(days=2000))
    assert await mark_expired(db, TODAY) == 2
    assert await mark_expired(db, TODAY) == 0  # idempotent
    async with db.transaction() as s:
        status = dict((await s.execute(select(CreditRecord.id, CreditRecord.status))).all())
    assert status[ends_today] == "expired" and status[computed_today] == "expired"
    assert status[ends_tomorrow] == status[computed_later] == status[no_period] == "active"
    assert status[objected] == "objected"


async def _propose(db: Database, subject: int, **kw: object):  # type: ignore[no-untyped-def]
    return await propose_listing(
        db,
        subject_id=subject,
        list_type=kw.pop("list_type", "wage_arrears"),
        reasons="拖欠农民工工资，经责令限期支付逾期未支付",
        today=TODAY,
        calendar=CAL,
        render=lambda notice: render_notice(notice, "安康市公共信用信息平台"),
        dept_code=kw.pop("dept_code", "RSJ"),
        prefix="安",
        **kw,
    )


async def test_prior_notice_is_numbered_kept_and_activates_after_the_period(db: Database) -> None:
    subject = await add_subject(db)
    await dept_id(db, "RSJ")
    first = await _propose(db, subject)
    assert first.notice.number == "安信告〔2026〕0001号"
    assert first.notice.deadline == dt.date(2026, 12, 4)
    text = pdf_text(first.pdf)
    for part in ("事前告知书", "安信告〔2026〕0001号", "拖欠农民工工资失信联合惩戒对象名单", "《保障农民工工资支付条例》第四十八条",
                 "人力资源社会保障部令第45号", "经责令限期支付逾期未支付", "在政府采购方面依法依规予以限制", "3年",
                 "提前移出", "2026年12月4日", "/objection", "信用修复", HENGDA):
        assert part in text, part
    async with db.transaction() as s:
        listing = await s.scalar(select(Listing))
        assert listing is not None and listing.notice_pdf == first.pdf and len(listing.notice_sha256 or "") == 64
    with pytest.raises(Refusal, match="重复"):
        await _propose(db, subject)
    viewer = official(await dept_id(db, "RSJ"))
    card = await view_subject(db, subject, viewer, TODAY)
    assert card is not None and [r.status for r in card.records] == ["proposed"] and card.listings == ()
    assert await activate_due_listings(db, dt.date(2026, 12, 4), ISSUER) == []
    done = await activate_due_listings(db, dt.date(2026, 12, 5), ISSUER)
    assert [d.notice_number for d in done] == ["安信告〔2026〕0001号"]
    assert await activate_due_listings(db, dt.date(2026, 12, 6), ISSUER) == []  # idempotent
    card = await view_subject(db, subject, viewer, dt.date(2026, 12, 5))
    assert card is not None and card.records[0].status == "active" and card.records[0].decision_date == dt.date(2026, 12, 5)
    assert card.records[0].publication_end == dt.date(2029, 12, 5)  # the list's own 3 years (第十一条)
    assert [(item.list_type, item.list_name) for item in card.listings] == [("wage_arrears", "拖欠农民工工资失信联合惩戒对象名单")]

    # The 列入决定书: numbered, kept, registered, verifiable; its text carries what 第八条 requires.
    decision = done[0].decision
    assert decision is not None and decision.decision.number == "安信决〔2026〕0001号"
    async with db.transaction() as s:
        listing = await s.scalar(select(Listing))
    assert listing is not None and listing.decision_pdf == decision.pdf and listing.decision_sha256 == decision.sha256
    assert listing.expires_on == dt.date(2029, 12, 5)
    text = pdf_text(decision.pdf)
    for part in ("拖欠农民工工资失信联合惩戒对象名单列入决定书", "安信决〔2026〕0001号", "列入事由", "列入依据", "第四十八条",
                 "失信惩戒措施提示", "在政府采购方面依法依规予以限制", "列入期限", "2026年12月5日", "2029年12月5日前一日止",
                 "移出条件和程序", "第十二条", "救济途径", "行政复议", "六十日", "行政诉讼", "六个月", "安信告〔2026〕0001号"):
        assert part in text, part
    code = decision.decision.seal.code if decision.decision.seal else ""
    check = await check_document(db, "安信决〔2026〕0001号", code, decision.sha256)
    assert check.status == "genuine" and check.kind == "严重失信主体名单列入决定书"
    assert (await check_document(db, "安信决〔2026〕0001号", code, "0" * 64)).status == "altered"

    # It leaves the list by its own period: no measure the day it ends, marked expired by the job.
    end = dt.date(2029, 12, 5)
    card = await view_subject(db, subject, viewer, end)
    assert card is not None and card.listings == ()
    assert await expire_listings(db, end - dt.timedelta(days=1)) == 0
    assert await expire_listings(db, end) == 1 and await expire_listings(db, end) == 0
    async with db.transaction() as s:
        listing = await s.scalar(select(Listing))
        record = await s.get(CreditRecord, listing.record_id if listing else 0)
    assert listing is not None and listing.status == "expired" and record is not None and record.status == "expired"


async def test_a_department_may_propose_only_the_lists_it_decides(db: Database) -> None:
    subject = await add_subject(db)
    for code in ("RSJ", "SCJGJ", "CZJ", "ZY"):
        await dept_id(db, code)
    with pytest.raises(Refusal, match="不是拖欠农民工工资失信联合惩戒对象名单的认定部门"):
        await _propose(db, subject, dept_code="SCJGJ")
    with pytest.raises(Refusal, match="认定依据尚未核实"):
        await _propose(db, subject, dept_code="SCJGJ", list_type="market_serious")
    with pytest.raises(Refusal, match="不经本平台发起"):
        await _propose(db, subject, dept_code="ZY", list_type="judgment_defaulter")
    with pytest.raises(Refusal, match="未知的名单类型"):
        await _propose(db, subject, list_type="abnormal")
    with pytest.raises(Refusal, match="12 至 36 个月"):
        await _propose(db, subject, dept_code="CZJ", list_type="procurement_record")
    chosen = await _propose(db, subject, dept_code="CZJ", list_type="procurement_record", period_months=18)
    assert chosen.notice.terms is not None and chosen.notice.terms.period.startswith("18个月")
    async with db.transaction() as s:
        listing = await s.scalar(select(Listing))
        assert listing is not None and listing.period_months == 18 and listing.list_type == "procurement_record"


async def test_a_non_official_cannot_propose(db: Database) -> None:
    subject = await add_subject(db)
    with pytest.raises(Refusal, match="办事人员"):
        await propose_listing(
            db, subject_id=subject, list_type="wage_arrears", reasons="y", today=TODAY, calendar=CAL, render=lambda n: b"",
            proposer=Viewer(account_id=None, role="enterprise"),
        )


async def test_objection_queue_permissions_and_correction(db: Database) -> None:
    subject = await add_subject(db)
    dept = await dept_id(db)
    other = await dept_id(db, "SWJ")
    await accounts(db, (1, "enterprise", None), (2, "official", dept), (3, "official", other))
    record = await add_record(
        db, subject, dept, "行政处罚", "安市监罚〔2026〕7号", dt.date(2026, 6, 1), publication_end=dt.date(2027, 6, 1)
    )
    stranger = Viewer(account_id=1, role="enterprise", subject_ids=frozenset({subject + 1}))
    with pytest.raises(Refusal, match="绑定主体"):
        await file_objection(db, stranger, record, "不对", [], TODAY, CAL)
    filed = await file_objection(db, owner(subject), record, "罚款金额有误", [Attachment("f1", "document", "凭证.pdf")], TODAY, CAL)
    assert filed.answer_due == dt.date(2026, 12, 4)
    with pytest.raises(Refusal, match="正在处理"):
        await file_objection(db, owner(subject), record, "再说一次", [], TODAY, CAL)
    assert await objectable_items(db, owner(subject), TODAY) == []
    queue = await pending_objections(db, dept, dt.date(2026, 12, 4))
    assert [(q.objection_id, q.overdue) for q in queue] == [(filed.objection_id, False)]
    assert queue[0].attachments[0]["file_id"] == "f1"
    assert (await pending_objections(db, dept, dt.date(2026, 12, 5)))[0].overdue
    assert await pending_objections(db, other, TODAY) == []
    card = await view_subject(db, subject, official(dept), TODAY)
    assert card is not None and card.records[0].status == "objected" and card.records[0].objection_pending
    with pytest.raises(Refusal, match="责任部门"):
        await decide_objection(db, official(other, 3), filed.objection_id, "revoked", "不归我们", TODAY)
    decided = await decide_objection(
        db, official(dept, 2), filed.objection_id, "corrected", "核实后更正", TODAY, {"severity": "轻微", "content": "警告"}
    )
    assert decided.decision == "corrected"
    async with db.transaction() as s:
        row = await s.get(CreditRecord, record)
        assert row is not None and row.status == "active" and row.severity == "轻微" and row.content == "警告"
        assert row.publication_end == dt.date(2026, 9, 1)  # 2026 轻微: at most 3 months
        change = await s.scalar(select(RecordChange).where(RecordChange.record_id == record))
        assert change is not None and change.changes["severity"] == ["一般", "轻微"]
    with pytest.raises(Refusal, match="已处理"):
        await decide_objection(db, official(dept, 2), filed.objection_id, "upheld", "重复", TODAY)


async def test_repair_refusals_and_the_audit_trail(db: Database) -> None:
    subject = await add_subject(db)
    dept = await dept_id(db)
    await accounts(db, (1, "enterprise", None), (2, "official", dept))
    young = await add_record(db, subject, dept, "行政处罚", "young", TODAY - dt.timedelta(days=10))
    old = await add_record(db, subject, dept, "行政处罚", "old", dt.date(2026, 4, 10))
    proof = [Attachment("p1", "photo")]
    with pytest.raises(Refusal, match="最早可于 2027年02月"):
        await apply_for_repair(db, owner(subject), young, True, proof, "我承诺", TODAY)
    with pytest.raises(Refusal, match="履行"):
        await apply_for_repair(db, owner(subject), old, False, proof, "我承诺", TODAY)
    with pytest.raises(Refusal, match="证明材料"):
        await apply_for_repair(db, owner(subject), old, True, [], "我承诺", TODAY)
    with pytest.raises(Refusal, match="信用承诺"):
        await apply_for_repair(db, owner(subject), old, True, proof, "好", TODAY)
    filed = await apply_for_repair(db, owner(subject), old, True, proof, "我承诺", TODAY)
    with pytest.raises(Refusal, match="所属部门"):
        await decide_repair(db, owner(subject), filed.request_id, True, "准", TODAY)
    await decide_repair(db, official(dept, 2), filed.request_id, True, "已缴清罚款", TODAY)
    async with db.transaction() as s:
        assert (await s.get(CreditRecord, old)).status == "repaired"  # type: ignore[union-attr]
        audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "repair_approved"))
        assert audit is not None and audit.detail["doc_number"] == "old" and audit.detail["prior_status"] == "active"


async def test_cli_proposes_and_activates(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await add_subject(db)
    await dept_id(db, "RSJ")
    settings = Settings(database=DatabaseSettings(url=db.url))
    parser = argparse.ArgumentParser()
    cli_lifecycle.add_parser(parser.add_subparsers(dest="command"))
    assert await cli_lifecycle.run(parser.parse_args(["listing", "types", "--dept", "RSJ"]), settings) == 0
    assert capsys.readouterr().out.startswith("wage_arrears\t拖欠农民工工资失信联合惩戒对象名单\t依据：《保障农民工工资支付条例》第四十八条")
    out = tmp_path / "notice.pdf"
    args = parser.parse_args([
        "listing", "propose", "--subject", HENGDA.lower(), "--dept", "RSJ", "--type", "wage_arrears",
        "--reason", "拖欠农民工工资逾期未支付", "--today", "2026-11-27", "--out", str(out),
    ])
    assert await cli_lifecycle.run(args, settings) == 0
    printed = capsys.readouterr().out
    assert "安信告〔2026〕0001号" in printed and "2026-12-04" in printed
    assert "第四十八条" in pdf_text(out.read_bytes())
    args = parser.parse_args(["listing", "activate", "--today", "2026-12-05"])
    assert await cli_lifecycle.run(args, settings) == 0
    assert "列入决定书 安信决〔2026〕0001号" in capsys.readouterr().out
    bad = parser.parse_args(["listing", "propose", "--subject", "91610902MA70HD0010", "--dept", "RSJ", "--type", "wage_arrears", "--reason", "y"])
    assert await answer(cli_lifecycle.run(bad, settings)) == 2
    other = parser.parse_args(["listing", "propose", "--subject", HENGDA, "--dept", "RSJ", "--type", "procurement_record", "--reason", "y"])
    assert await answer(cli_lifecycle.run(other, settings)) == 2
    assert "不是政府采购严重违法失信行为记录名单的认定部门" in capsys.readouterr().err


async def test_migration_matches_the_lifecycle_models(db: Database) -> None:
    lifecycle_tables = {"document_sequences", "listings", "objections", "repair_requests", "credit_reports"}

    def diff(connection) -> list:  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)

    def table_of(change: object) -> str | None:
        item = change[0] if isinstance(change, list) else change
        for part in item[1:] if isinstance(item, tuple) else ():
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None):
                return table.name
            if name in lifecycle_tables:
                return name
            if isinstance(part, str) and part in lifecycle_tables:
                return part
        return None

    assert [c for c in changes if table_of(c) in lifecycle_tables] == []
