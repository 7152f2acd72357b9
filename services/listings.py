"""Blacklist with prior notice (事前告知): propose a listing, number and keep the notice, let it take
effect when the objection period ends without an objection.

The proposed entry is a CreditRecord from the first day, status "proposed": rules.visibility keeps it
off every public view and out of the measures, while officials see it marked 拟列入. Taking effect is a
status change plus the decision date, so the publication period counts from the day it took effect.

Document numbers come from `services.numbering`, the chats to tell from `services.recipients`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    AuditEntry,
    CreditRecord,
    Department,
    Listing,
    Objection,
    Subject,
)
from db.session import Database
from rules import lifecycle
from rules.categories import BLACKLIST
from rules.publication import edition_for, publication_end
from rules.roles import Viewer
from rules.workcal import WorkCalendar
from services.errors import Refusal
from services.evaluation import refresh_subjects
from services.issued_documents import Holder, Seal, new_seal, register_document
from services.numbering import next_number
from services.recipients import subject_chats
from services.repair_documents import after_listing

NOTICE_KIND = "告"
NOTICE_RECIPIENT = "被告知主体"  # whom a notice is issued to, as a check of it tells
REPAIR_HINT = (
    "列入名单后，自列入之日起满一年（严重失信）且已纠正失信行为、履行相关义务的，可通过本平台"
    "（发送 /repair）或向列入部门申请信用修复，并作出公开信用承诺。"
)


@dataclass(frozen=True)
class NoticeData:
    """Everything a 事前告知书 says; rendered to PDF outside the db layer."""

    number: str
    subject_name: str
    subject_kind: str
    code_label: str
    code: str
    department: str
    basis: str
    reasons: str
    measures: tuple[str, ...]
    notice_date: dt.date
    objection_days: int
    deadline: dt.date
    deadline_provisional: bool
    repair_hint: str = REPAIR_HINT
    seal: Seal | None = None  # number, verification code and QR payload to print


@dataclass(frozen=True)
class ProposedListing:
    listing_id: int
    record_id: int
    notice: NoticeData
    pdf: bytes
    sha256: str
    chats: tuple[int, ...]


async def _department(s: AsyncSession, proposer: Viewer | None, dept_code: str | None) -> Department:
    if proposer is not None:
        if proposer.role != "official" or proposer.department_id is None:
            raise Refusal("只有列入部门的办事人员可以发起拟列入严重失信主体名单。")
        dept = await s.get(Department, proposer.department_id)
    else:
        dept = await s.scalar(select(Department).where(Department.code == (dept_code or "")))
    if dept is None:
        raise Refusal(f"找不到部门{('代码 ' + dept_code) if dept_code else ''}。")
    return dept


async def propose_listing(
    db: Database,
    *,
    subject_id: int,
    basis: str,
    reasons: str,
    today: dt.date,
    calendar: WorkCalendar,
    render: Callable[[NoticeData], bytes],
    proposer: Viewer | None = None,
    dept_code: str | None = None,
    measures: Sequence[str] | None = None,
    objection_days: int = lifecycle.OBJECTION_PERIOD_WORKING_DAYS,
    prefix: str = "",
    public_url: str = "",
) -> ProposedListing:
    """Propose a listing and issue its numbered prior notice, in one transaction.

    `proposer` is the official in chat (its department lists); the command line passes `dept_code`
    instead. `render` turns the notice into PDF bytes, which are kept with their hash: the notice
    is evidence that the subject was told, so the exact bytes sent must be producible later.
    `objection_days` is in working days (1-30, counted on `calendar` from `today`); `measures`
    defaults to the standard measures for the subject's kind; `prefix` opens the notice number.
    Returns the notice, its PDF bytes and SHA-256, and the subject's chats to deliver it to.
    Raises Refusal: basis or reasons empty; period out of range; the proposer not an official with a
    department, or an unknown `dept_code`; the subject gone; a listing already in progress."""
    basis, reasons = basis.strip(), reasons.strip()
    if not basis or not reasons:
        raise Refusal("列入依据和列入事由都必须填写。")
    if not 1 <= objection_days <= 30:
        raise Refusal("异议期应为 1 至 30 个工作日。")
    async with db.transaction() as s:
        seq = await next_number(s, "notice", today.year)
        dept = await _department(s, proposer, dept_code)
        subject = await s.get(Subject, subject_id)
        if subject is None:
            raise Refusal("该主体已不在档案中。")
        open_listing = await s.scalar(
            select(Listing.notice_number).where(
                Listing.subject_id == subject_id, Listing.department_id == dept.id, Listing.status == "proposed"
            )
        )
        if open_listing:
            raise Refusal(f"该主体已有未结束的拟列入程序（{open_listing}），请勿重复发起。")
        items = tuple(m.strip() for m in (measures or lifecycle.standard_measures(subject.kind)) if m.strip())
        deadline = lifecycle.objection_deadline(today, calendar, objection_days)
        number = lifecycle.format_number(prefix, NOTICE_KIND, today.year, seq)
        person = subject.kind == "自然人"
        notice = NoticeData(
            number=number,
            subject_name=subject.name,
            subject_kind=subject.kind,
            code_label="身份证号" if person else "统一社会信用代码",
            code=(subject.id_masked if person else subject.uscc) or "（未登记）",
            department=dept.name,
            basis=basis,
            reasons=reasons,
            measures=items,
            notice_date=today,
            objection_days=objection_days,
            deadline=deadline.due,
            deadline_provisional=deadline.provisional,
            seal=new_seal(number, public_url),
        )
        record = CreditRecord(
            subject_id=subject.id,
            category=BLACKLIST,
            department_id=dept.id,
            source_key=dept.uscc or dept.code,
            source_name=dept.name,
            doc_number=number,
            title="拟列入严重失信主体名单",
            content=reasons,
            decision_date=today,
            severity="严重",
            rule_edition=edition_for(today),
            status="proposed",
            fields={"依据": basis, "事由": reasons, "惩戒措施": list(items), "事前告知书": number},
        )
        s.add(record)
        await s.flush()
        pdf = await asyncio.to_thread(render, notice)  # CPU-bound: keep the event loop free
        digest = hashlib.sha256(pdf).hexdigest()
        listing = Listing(
            record_id=record.id,
            subject_id=subject.id,
            department_id=dept.id,
            proposed_by_account_id=proposer.account_id if proposer else None,
            basis=basis,
            reasons=reasons,
            measures={"items": list(items)},
            notice_number=number,
            notice_date=today,
            objection_days=objection_days,
            objection_deadline=deadline.due,
            notice_pdf=pdf,
            notice_sha256=digest,
        )
        s.add(listing)
        await s.flush()
        assert notice.seal is not None
        holder = Holder(subject.id, subject.name, notice.code, NOTICE_RECIPIENT, dept.name, proposer.account_id if proposer else None)
        await register_document(s, "notice", notice.seal, digest, holder)
        s.add(
            AuditEntry(
                account_id=proposer.account_id if proposer else None,
                role=proposer.role if proposer else "system",
                action="listing_proposed",
                subject_id=subject.id,
                reason=number,
                detail={"listing_id": listing.id, "record_id": record.id, "sha256": digest, "deadline": deadline.due.isoformat()},
            )
        )
        chats = tuple(await subject_chats(s, subject.id))
        return ProposedListing(listing.id, record.id, notice, pdf, digest, chats)


@dataclass(frozen=True)
class ActivatedListing:
    listing_id: int
    record_id: int
    subject_id: int
    subject_name: str
    notice_number: str
    effective_on: dt.date
    chats: tuple[int, ...]
    proposed_by_account_id: int | None = None  # the official who sees the notice in /undelivered


async def activate(s: AsyncSession, listing: Listing, today: dt.date) -> ActivatedListing:
    """The listing takes effect `today`, inside the caller's transaction: the record becomes an active
    blacklist entry whose publication period counts from today under the edition in force today; one
    audit entry (role system). Returns what to tell the subject's chats."""
    record = await s.get(CreditRecord, listing.record_id)
    subject = await s.get(Subject, listing.subject_id)
    assert record is not None and subject is not None
    edition = edition_for(today)
    record.status = "active"
    record.title = "列入严重失信主体名单"
    record.decision_date = today
    record.rule_edition = edition
    record.severity = record.severity or "严重"
    record.publication_end = publication_end(today, record.severity, edition)
    record.fields = {**(record.fields or {}), "列入日期": today.isoformat()}
    listing.status = "effective"
    listing.effective_on = today
    s.add(
        AuditEntry(
            account_id=None,
            role="system",
            action="listing_effective",
            subject_id=listing.subject_id,
            reason=listing.notice_number,
            detail={"listing_id": listing.id, "record_id": record.id},
        )
    )
    await refresh_subjects(s, [subject.id], today)
    await after_listing(s, record)  # change feed and the 信用修复告知书 (两书同达, issue 25)
    return ActivatedListing(
        listing.id, record.id, subject.id, subject.name, listing.notice_number, today, tuple(await subject_chats(s, subject.id)),
        listing.proposed_by_account_id,
    )


async def activate_due_listings(db: Database, today: dt.date) -> list[ActivatedListing]:
    """Daily: every proposed listing whose objection period ended before `today`, with no objection
    pending, takes effect; returns them (with the chats to tell). Idempotent, and safe with several
    processes (rows are claimed with SKIP LOCKED on PostgreSQL; SQLite has one writer at a time).
    Raises nothing."""
    pending = exists().where(Objection.record_id == Listing.record_id, Objection.status == "pending")
    async with db.transaction() as s:
        rows = (
            await s.scalars(
                select(Listing)
                .where(Listing.status == "proposed", Listing.objection_deadline < today, ~pending)
                .order_by(Listing.id)
                .with_for_update(skip_locked=True)
            )
        ).all()
        return [await activate(s, listing, today) for listing in rows]


@dataclass(frozen=True)
class ListingSummary:
    listing_id: int
    subject_name: str
    notice_number: str
    status: str
    deadline: dt.date
    objection_pending: bool


async def department_listings(db: Database, department_id: int, limit: int = 20) -> list[ListingSummary]:
    """A department's proposed listings still in their notice period, newest first, at most `limit`
    (what its officials follow up with /listings). Raises nothing; the caller checks the role."""
    pending = exists().where(Objection.record_id == Listing.record_id, Objection.status == "pending")
    async with db.transaction() as s:
        rows = await s.execute(
            select(Listing.id, Subject.name, Listing.notice_number, Listing.status, Listing.objection_deadline, pending)
            .join(Subject, Subject.id == Listing.subject_id)
            .where(Listing.department_id == department_id, Listing.status == "proposed")
            .order_by(Listing.id.desc())
            .limit(limit)
        )
        return [ListingSummary(*row) for row in rows]


async def subject_id_by_uscc(db: Database, uscc: str) -> int:
    """For the command line, which names subjects by code only (no fuzzy guessing off-line).

    Returns the subject's id; look-alike characters (O for 0, I for 1 ...) are repaired first.
    Raises Refusal for an invalid code or one not on file."""
    from rules.codes import validate_uscc

    check = validate_uscc(uscc, repair=True)
    if not check.ok:
        raise Refusal(f"统一社会信用代码有误：{check.error}")
    async with db.transaction() as s:
        subject_id = await s.scalar(select(Subject.id).where(Subject.uscc == check.value))
    if subject_id is None:
        raise Refusal(f"档案中没有统一社会信用代码为 {check.value} 的主体。")
    return int(subject_id)
