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
from render.pdf import render_notice
from rules.publication import add_months
from rules.roles import Viewer
from rules.workcal import WorkCalendar
from services.errors import Refusal
from services.expiry import mark_expired
from services.listings import activate_due_listings, propose_listing
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
        basis="《企业信息公示暂行条例》第十八条",
        reasons="连续三年未报送年度报告",
        today=TODAY,
        calendar=CAL,
        render=lambda notice: render_notice(notice, "安康市公共信用信息平台"),
        dept_code="SCJGJ",
        prefix="安",
        **kw,
    )


async def test_prior_notice_is_numbered_kept_and_activates_after_the_period(db: Database) -> None:
    subject = await add_subject(db)
    await dept_id(db)
    first = await _propose(db, subject)
    assert first.notice.number == "安信告〔2026〕0001号"
    assert first.notice.deadline == dt.date(2026, 12, 4)
    text = pdf_text(first.pdf)
    for part in ("事前告知书", "安信告〔2026〕0001号", "《企业信息公示暂行条例》第十八条", "连续三年未报送年度报告",
                 "限制参与政府采购", "2026年12月4日", "/objection", "信用修复", HENGDA):
        assert part in text, part
    async with db.transaction() as s:
        listing = await s.scalar(select(Listing))
        assert listing is not None and listing.notice_pdf == first.pdf and len(listing.notice_sha256 or "") == 64
    with pytest.raises(Refusal, match="重复"):
        await _propose(db, subject)
    viewer = official(await dept_id(db))
    card = await view_subject(db, subject, viewer, TODAY)
    assert card is not None and [r.status for r in card.records] == ["proposed"] and card.listings == ()
    assert await activate_due_listings(db, dt.date(2026, 12, 4)) == []
    done = await activate_due_listings(db, dt.date(2026, 12, 5))
    assert [d.notice_number for d in done] == ["安信告〔2026〕0001号"]
    assert await activate_due_listings(db, dt.date(2026, 12, 6)) == []  # idempotent
    card = await view_subject(db, subject, viewer, dt.date(2026, 12, 5))
    assert card is not None and card.records[0].status == "active" and card.records[0].decision_date == dt.date(2026, 12, 5)
    assert card.records[0].publication_end == dt.date(2029, 12, 5)  # 2026 edition, 严重: 3 years
    assert len(card.listings) == 1


async def test_a_non_official_cannot_propose(db: Database) -> None:
    subject = await add_subject(db)
    with pytest.raises(Refusal, match="办事人员"):
        await propose_listing(
            db, subject_id=subject, basis="x", reasons="y", today=TODAY, calendar=CAL, render=lambda n: b"",
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
    await dept_id(db)
    settings = Settings(database=DatabaseSettings(url=db.url))
    parser = argparse.ArgumentParser()
    cli_lifecycle.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "notice.pdf"
    args = parser.parse_args([
        "listing", "propose", "--subject", HENGDA.lower(), "--dept", "SCJGJ", "--basis", "第十八条",
        "--reason", "未报送年报", "--today", "2026-11-27", "--out", str(out),
    ])
    assert await cli_lifecycle.run(args, settings) == 0
    printed = capsys.readouterr().out
    assert "安信告〔2026〕0001号" in printed and "2026-12-04" in printed
    assert "第十八条" in pdf_text(out.read_bytes())
    args = parser.parse_args(["listing", "activate", "--today", "2026-12-05"])
    assert await cli_lifecycle.run(args, settings) == 0
    assert "共 1 项" in capsys.readouterr().out
    bad = parser.parse_args(["listing", "propose", "--subject", "91610902MA70HD0010", "--dept", "SCJGJ", "--basis", "x", "--reason", "y"])
    assert await answer(cli_lifecycle.run(bad, settings)) == 2


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
