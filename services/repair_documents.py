"""The documents of a repair: the 信用修复告知书 served with a penalty or a listing decision
(两书同达) and the 信用修复决定书 of a decided case. Both are numbered, rendered with the embedded
font, registered (services.issued_documents: verifiable by number and code) and stored
(services.stored_documents: downloadable again by the subject and the department).

告知书: the transaction that imports a penalty (services/imports.py) or makes a listing effective
(services/listings.py) writes a pending `RepairNotice` (one set-based statement for an import, so a
file of 5,000 penalties costs one INSERT, not 5,000 PDFs inside the import); `issue_pending` (the
job, every minute) and `notice_for_record` (a department system asking for it right after a push)
issue them. The subject's bound accounts get the PDF through the notice outbox; the department gets
a change-feed event (kind repair_notice) and the document from /documents or the port.

决定书: `issue_decision` right after `services.repair.decide_repair` (and from the job for a
decision whose process died in between). Issuing is idempotent: a row is claimed with a write
before its number is taken, so a number is never spent twice or left unused by a race.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, exists, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CreditRecord, Department, RepairNotice, RepairRequest, Subject, utcnow
from db.session import Database
from rules import lifecycle
from rules import repair_case as rc
from rules.categories import BLACKLIST, normalize_category
from rules.publication import DEFAULT_SEVERITY, edition_for, last_public_day, window
from rules.visibility import effective_publication_end
from services import changes, notices
from services.issued_documents import Holder, Seal, new_seal, register_document
from services.numbering import next_number, region_abbr
from services.recipients import subject_chats
from services.settings import Settings
from services.stored_documents import file_name, keep

NOTICE_KIND, DECISION_KIND = "修告", "修决"  # 安信修告〔2026〕0001号, 安信修决〔2026〕0001号
PENALTY = "行政处罚"


@dataclass(frozen=True)
class Issuer:
    """How documents are numbered and sealed (from settings): the region's abbreviation opens the
    number, `public_url` goes into the QR code, `platform` is printed as the sender."""

    prefix: str = ""
    public_url: str = ""
    platform: str = ""
    key: str = ""  # privacy.id_hash_key: seals the outbox copy of the notice's caption


@dataclass(frozen=True)
class Party:
    subject_name: str
    code_label: str
    code: str
    department: str


@dataclass(frozen=True)
class RepairNoticeData:
    number: str
    party: Party
    category: str
    doc_number: str
    title: str
    decision_date: dt.date
    severity: str
    published: bool
    last_public_day: dt.date | None
    earliest_repair: dt.date
    issued_on: dt.date
    seal: Seal | None = None


@dataclass(frozen=True)
class RepairDecisionData:
    number: str
    party: Party
    record: str  # rules: "[category] date doc-number"
    filed_on: dt.date
    origin: str  # Chinese: 本平台 / 信用中国 / 省级平台
    external_ref: str | None
    accepted_on: dt.date | None
    approved: bool
    reason: str
    decided_on: dt.date
    missed: str | None  # the limits missed, in Chinese, with the reason given
    seal: Seal | None = None


def issuer_from(settings: Settings) -> Issuer:
    return Issuer(
        region_abbr(settings.region.division_code), settings.region.public_url, settings.region.platform_name,
        settings.privacy.id_hash_key,
    )


# -- the hooks of the writing transactions ---------------------------------------------------------


async def after_import(s: AsyncSession, written_at: dt.datetime, today: dt.date) -> None:
    """Inside an import's transaction: a change event for every record it wrote, and a pending
    告知书 for every new penalty decided within rules.repair_case.NOTICE_WITHIN_DAYS."""
    await changes.emit_imported(s, written_at)
    oldest = today - dt.timedelta(days=rc.NOTICE_WITHIN_DAYS)
    owed = exists().where(RepairNotice.record_id == CreditRecord.id)
    await s.execute(
        insert(RepairNotice).from_select(
            ["record_id", "subject_id", "department_id", "cause", "status", "created_at"],
            select(
                CreditRecord.id, CreditRecord.subject_id, CreditRecord.department_id, literal("penalty"),
                literal("pending"), literal(utcnow(), RepairNotice.created_at.type),
            ).where(
                and_(
                    CreditRecord.created_at == written_at, CreditRecord.category == PENALTY, CreditRecord.status == "active",
                    CreditRecord.decision_date >= oldest, ~owed,
                )
            ),
        )
    )


async def after_listing(s: AsyncSession, record: CreditRecord) -> None:
    """Inside the transaction that makes a listing effective: announce it and owe its 告知书."""
    await changes.emit(s, "listed", record.subject_id, record.id, record.department_id)
    if await s.scalar(select(RepairNotice.id).where(RepairNotice.record_id == record.id)) is None:
        s.add(RepairNotice(record_id=record.id, subject_id=record.subject_id, department_id=record.department_id, cause="listing"))


# -- issuing -------------------------------------------------------------------------------------


async def _party(s: AsyncSession, subject_id: int, department_id: int | None, fallback: str) -> Party:
    subject = await s.get(Subject, subject_id)
    dept = await s.get(Department, department_id) if department_id is not None else None
    assert subject is not None
    person = subject.kind == "自然人"
    return Party(
        subject.name, "身份证号" if person else "统一社会信用代码",
        (subject.id_masked if person else subject.uscc) or "（未登记）", dept.name if dept else fallback,
    )


def notice_facts(record: CreditRecord, issued_on: dt.date) -> tuple[str, bool, dt.date | None, dt.date]:
    """(severity, published, last public day, earliest repair day) of a record, as rules.publication
    and rules.visibility read it (a blacklist entry without a grade is 严重)."""
    category = normalize_category(record.category) or record.category
    severity = record.severity or ("严重" if category == BLACKLIST else DEFAULT_SEVERITY)
    published = window(record.rule_edition or edition_for(record.decision_date), severity).published
    return severity, published, last_public_day(effective_publication_end(record)), lifecycle.repair_opens(record)


@dataclass(frozen=True)
class Issued:
    number: str
    subject_id: int
    pdf: bytes
    chats: tuple[int, ...]


async def _claim(s: AsyncSession, statement: object) -> bool:
    """A write first (SQLite: the write lock before any read; PostgreSQL: the row locked): True when
    the row was still to be issued."""
    result = await s.execute(statement.execution_options(synchronize_session=False))  # type: ignore[attr-defined]
    return bool(result.rowcount)


async def _issue_notice(
    s: AsyncSession, notice_id: int, render: Callable[[RepairNoticeData], bytes], issuer: Issuer, now: dt.datetime,
) -> Issued | None:
    if not await _claim(
        s, update(RepairNotice).where(RepairNotice.id == notice_id, RepairNotice.status == "pending").values(status="pending")
    ):
        return None
    row = await s.get(RepairNotice, notice_id)
    record = await s.get(CreditRecord, row.record_id) if row is not None else None
    assert row is not None and record is not None
    today = now.date()
    number = lifecycle.format_number(issuer.prefix, NOTICE_KIND, today.year, await next_number(s, "repair_notice", today.year))
    party = await _party(s, record.subject_id, record.department_id, record.source_name)
    severity, published, last_day, opens = notice_facts(record, today)
    data = RepairNoticeData(
        number, party, record.category, record.doc_number, record.title or "", record.decision_date, severity, published,
        last_day, opens, today, new_seal(number, issuer.public_url),
    )
    pdf = await asyncio.to_thread(render, data)
    digest = hashlib.sha256(pdf).hexdigest()
    assert data.seal is not None
    await register_document(s, "rnotice", data.seal, digest, Holder(record.subject_id, party.subject_name, party.code, "被告知主体", party.department))
    await keep(s, number, "rnotice", record.subject_id, record.department_id, pdf)
    row.status, row.number, row.issued_at = "issued", number, now
    await changes.emit(s, "repair_notice", record.subject_id, record.id, record.department_id, {"number": number})
    chats = tuple(await subject_chats(s, record.subject_id))
    opens_text = f"最早可于 {opens:%Y年%m月%d日} 申请信用修复" if opens > record.decision_date else "履行义务后即可申请信用修复"
    caption = f"【信用修复告知书】{party.department}对 {record.doc_number} 的处理：{opens_text}（告知书 {number}）。"
    await notices.enqueue(
        s, chats, caption, "repair_notice", utcnow(), issuer.key, document=notices.Document(None, file_name("信用修复告知书", number), number),
        subject_id=record.subject_id, claim=False,
    )
    return Issued(number, record.subject_id, pdf, chats)


async def notice_for_record(
    db: Database, record_id: int, render: Callable[[RepairNoticeData], bytes], issuer: Issuer, now: dt.datetime,
) -> str | None:
    """Issue the record's pending 告知书 now (the job would within a minute); returns its number,
    or None when none is owed."""
    async with db.transaction() as s:
        row = await s.scalar(select(RepairNotice).where(RepairNotice.record_id == record_id))
        if row is None:
            return None
        if row.status == "issued":
            return row.number
        issued = await _issue_notice(s, row.id, render, issuer, now)
    if issued is not None:
        return issued.number
    async with db.transaction() as s:  # another process issued it meanwhile
        return await s.scalar(select(RepairNotice.number).where(RepairNotice.record_id == record_id))


async def _issue_decision(
    s: AsyncSession, request_id: int, render: Callable[[RepairDecisionData], bytes], issuer: Issuer, now: dt.datetime,
) -> Issued | None:
    decided = RepairRequest.status.in_((rc.APPROVED, rc.REJECTED))
    if not await _claim(
        s, update(RepairRequest).where(RepairRequest.id == request_id, decided, RepairRequest.decision_number.is_(None))
        .values(decision_number=None)
    ):
        return None
    request = await s.get(RepairRequest, request_id)
    record = await s.get(CreditRecord, request.record_id) if request is not None else None
    assert request is not None and record is not None
    today = now.date()
    number = lifecycle.format_number(issuer.prefix, DECISION_KIND, today.year, await next_number(s, "repair_decision", today.year))
    party = await _party(s, record.subject_id, record.department_id, record.source_name)
    missed = None
    if request.missed:
        stages = "、".join(rc.STAGE_LABELS.get(m, m) for m in request.missed.split(","))
        missed = f"本申请{stages}超过规定期限。逾期原因：{request.missed_reason or '（未说明）'}"
    decided_on = (request.decided_at or now).astimezone(now.tzinfo or dt.UTC).date()
    data = RepairDecisionData(
        number, party, f"[{record.category}] {record.decision_date:%Y-%m-%d} {record.doc_number}", request.filed_on,
        rc.ORIGIN_LABELS.get(request.origin, request.origin), request.external_ref, request.accepted_on,
        request.status == rc.APPROVED, request.decision_reason or "", decided_on, missed, new_seal(number, issuer.public_url),
    )
    pdf = await asyncio.to_thread(render, data)
    assert data.seal is not None
    holder = Holder(record.subject_id, party.subject_name, party.code, "申请人（信用主体）", party.department)
    await register_document(s, "rdecision", data.seal, hashlib.sha256(pdf).hexdigest(), holder)
    await keep(s, number, "rdecision", record.subject_id, record.department_id, pdf)
    request.decision_number = number
    chats = tuple(await subject_chats(s, record.subject_id))
    verdict = "准予信用修复" if data.approved else "不予信用修复"
    await notices.enqueue(
        s, chats, f"【信用修复决定书】{verdict}：{record.doc_number}（决定书 {number}）。", "repair_decision", utcnow(), issuer.key,
        document=notices.Document(None, file_name("信用修复决定书", number), number), subject_id=record.subject_id, claim=False,
    )
    return Issued(number, record.subject_id, pdf, chats)


async def issue_decision(
    db: Database, request_id: int, render: Callable[[RepairDecisionData], bytes], issuer: Issuer, now: dt.datetime,
) -> str | None:
    """Issue the 决定书 of a decided case (idempotent); returns its number, None for a case not
    decided (or refused, which has no 决定书)."""
    async with db.transaction() as s:
        issued = await _issue_decision(s, request_id, render, issuer, now)
    if issued is not None:
        return issued.number
    async with db.transaction() as s:
        return await s.scalar(select(RepairRequest.decision_number).where(RepairRequest.id == request_id))


async def issue_pending(
    db: Database, render_notice: Callable[[RepairNoticeData], bytes], render_decision: Callable[[RepairDecisionData], bytes],
    issuer: Issuer, now: dt.datetime, limit: int = 50,
) -> list[str]:
    """The job: issue up to `limit` owed 告知书 and 决定书, each in its own transaction (safe with
    several processes: a claimed row is skipped by the others). Returns the numbers issued."""
    async with db.transaction() as s:
        notice_ids = list(await s.scalars(select(RepairNotice.id).where(RepairNotice.status == "pending").order_by(RepairNotice.id).limit(limit)))
        decision_ids = list(
            await s.scalars(
                select(RepairRequest.id)
                .where(RepairRequest.status.in_((rc.APPROVED, rc.REJECTED)), RepairRequest.decision_number.is_(None))
                .order_by(RepairRequest.id).limit(limit)
            )
        )
    numbers: list[str] = []
    for notice_id in notice_ids:
        async with db.transaction() as s:
            issued = await _issue_notice(s, notice_id, render_notice, issuer, now)
        numbers += [issued.number] if issued else []
    for request_id in decision_ids:
        async with db.transaction() as s:
            issued = await _issue_decision(s, request_id, render_decision, issuer, now)
        numbers += [issued.number] if issued else []
    return numbers
