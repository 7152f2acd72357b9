"""Credit repair (信用修复): ask once the minimum period has passed, with obligations met, proof and a
public credit commitment; the record's department decides.

An approved repair sets the record to "repaired": rules.visibility then keeps it off every card
(public and official), out of sharing and out of the measures. The row stays for referential
integrity, and the decision (with what the record was) is written to the audit trail, the one place
the record remains visible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, CreditRecord, Listing, RepairRequest, Subject, utcnow
from db.session import Database
from rules import lifecycle
from rules.masking import scrub
from rules.roles import Viewer
from services.errors import Refusal
from services.evaluation import refresh_subjects
from services.objections import Attachment, record_label
from services.recipients import department_chats, subject_chats

REPAIRABLE_STATUSES = frozenset({"active", "objected", "expired"})


@dataclass(frozen=True)
class RepairItem:
    record_id: int
    subject_name: str
    label: str
    opens: dt.date


async def repairable_items(db: Database, viewer: Viewer) -> list[RepairItem]:
    """The caller's bound subjects' adverse records a repair could concern (penalties, coercive
    measures, listings; none with a request pending), each with the day a repair opens. [] for a
    viewer without bound subjects; raises nothing."""
    if not viewer.subject_ids:
        return []
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(CreditRecord, Subject.name)
                .join(Subject, Subject.id == CreditRecord.subject_id)
                .where(
                    CreditRecord.subject_id.in_(viewer.subject_ids),
                    CreditRecord.status.in_(REPAIRABLE_STATUSES),
                )
                .order_by(CreditRecord.decision_date.desc(), CreditRecord.id.desc())
            )
        ).all()
        pending = set(
            (
                await s.scalars(
                    select(RepairRequest.record_id).where(
                        RepairRequest.subject_id.in_(viewer.subject_ids), RepairRequest.status == "pending"
                    )
                )
            ).all()
        )
    return [
        RepairItem(r.id, name, record_label(r), lifecycle.repair_opens(r))
        for r, name in rows
        if lifecycle.repairable(r.category) and r.id not in pending
    ]


async def _own_record(s: AsyncSession, viewer: Viewer, record_id: int) -> CreditRecord:
    record = await s.get(CreditRecord, record_id)
    if record is None or record.subject_id not in viewer.subject_ids or viewer.account_id is None:
        raise Refusal("只能为本人（本单位）绑定的主体申请信用修复。")
    if not lifecycle.repairable(record.category) or record.status not in REPAIRABLE_STATUSES:
        raise Refusal("该记录不属于可申请信用修复的失信信息。")
    return record


async def repair_opens(db: Database, viewer: Viewer, record_id: int) -> RepairItem:
    """The earliest day a repair of this record may be asked for (checked before collecting
    anything, so nobody fills in a form that will be refused for its date).

    Raises Refusal when the record is not one of the viewer's bound subjects' or cannot be repaired."""
    async with db.transaction() as s:
        record = await _own_record(s, viewer, record_id)
        subject = await s.get(Subject, record.subject_id)
        assert subject is not None
        return RepairItem(record.id, subject.name, record_label(record), lifecycle.repair_opens(record))


@dataclass(frozen=True)
class FiledRepair:
    request_id: int
    record_label: str
    subject_name: str
    department_chats: tuple[int, ...]


async def apply_for_repair(
    db: Database,
    viewer: Viewer,
    record_id: int,
    obligations_met: bool,
    proof: Sequence[Attachment],
    commitment: str,
    today: dt.date,
) -> FiledRepair:
    """File a repair request; every condition is checked here again, whatever the channel asked.

    `proof` are the files sent (Telegram file ids), `commitment` the words the applicant wrote
    (rules.lifecycle.is_commitment), `today` the platform's date. Returns the request with the
    department's chats to tell. Raises Refusal: not the viewer's record or not repairable; the
    minimum publication period not over; obligations not met; no proof; no commitment; a request
    already pending."""
    async with db.transaction() as s:
        record = await _own_record(s, viewer, record_id)
        opens = lifecycle.repair_opens(record)
        if today < opens:
            raise Refusal(f"该记录最早可于 {opens:%Y年%m月%d日} 申请信用修复（最短公示期未满）。")
        if not obligations_met:
            raise Refusal("须先履行行政处罚决定或列入名单所规定的义务（如缴清罚款），方可申请信用修复。")
        if not proof:
            raise Refusal("请提交已履行义务的证明材料。")
        if not lifecycle.is_commitment(commitment):
            raise Refusal(f"须作出公开信用承诺（回复“{lifecycle.COMMITMENT_WORD}”）方可申请。")
        already = await s.scalar(
            select(RepairRequest.id).where(RepairRequest.record_id == record.id, RepairRequest.status == "pending")
        )
        if already:
            raise Refusal("该记录已有信用修复申请正在审核，请等待结果。")
        assert viewer.account_id is not None
        request = RepairRequest(
            record_id=record.id,
            subject_id=record.subject_id,
            department_id=record.department_id,
            account_id=viewer.account_id,
            obligations_met=True,
            proof={"items": [a.as_dict() for a in proof]},
            commitment=lifecycle.COMMITMENT_TEXT,
            filed_on=today,
        )
        s.add(request)
        await s.flush()
        s.add(
            AuditEntry(
                account_id=viewer.account_id,
                role=viewer.role,
                action="repair_requested",
                subject_id=record.subject_id,
                reason=record.doc_number[:64],
                detail={"request_id": request.id, "record_id": record.id, "commitment": lifecycle.COMMITMENT_TEXT},
            )
        )
        subject = await s.get(Subject, record.subject_id)
        assert subject is not None
        return FiledRepair(request.id, record_label(record), subject.name, tuple(await department_chats(s, record.department_id)))


@dataclass(frozen=True)
class PendingRepair:
    request_id: int
    record_id: int
    subject_name: str
    record_label: str
    proof: tuple[dict[str, str], ...]
    filed_on: dt.date


async def pending_repairs(db: Database, department_id: int) -> list[PendingRepair]:
    """A department's repair requests awaiting a decision, oldest first, with their proof. Raises
    nothing; the caller checks the role (decide_repair checks it again)."""
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(RepairRequest, CreditRecord, Subject.name)
                .join(CreditRecord, CreditRecord.id == RepairRequest.record_id)
                .join(Subject, Subject.id == RepairRequest.subject_id)
                .where(RepairRequest.department_id == department_id, RepairRequest.status == "pending")
                .order_by(RepairRequest.filed_on, RepairRequest.id)
            )
        ).all()
    return [
        PendingRepair(q.id, r.id, name, record_label(r), tuple((q.proof or {}).get("items", [])), q.filed_on)
        for q, r, name in rows
    ]


@dataclass(frozen=True)
class DecidedRepair:
    request_id: int
    approved: bool
    subject_name: str
    record_label: str
    reason: str
    subject_chats: tuple[int, ...]


async def decide_repair(
    db: Database, viewer: Viewer, request_id: int, approve: bool, reason: str, today: dt.date
) -> DecidedRepair:
    """Approve or reject request `request_id` with `reason`; an approval repairs the record (see the
    module docstring). Returns the decision with the subject's chats to tell.
    Raises Refusal: no reason; request not found; the viewer not an official of the record's
    department; the request already decided."""
    reason = scrub(reason.strip())  # stored: no ID or mobile number in clear (privacy at rest)
    if not reason:
        raise Refusal("请填写审核意见。")
    async with db.transaction() as s:
        request = await s.get(RepairRequest, request_id, with_for_update=True)
        if request is None:
            raise Refusal("找不到该信用修复申请。")
        if viewer.role != "official" or viewer.department_id is None or viewer.department_id != request.department_id:
            raise Refusal("只有该记录所属部门的办事人员可以审核该申请。")
        if request.status != "pending":
            raise Refusal(f"该申请已审核（{lifecycle.REPAIR_DECISIONS.get(request.status, request.status)}）。")
        record = await s.get(CreditRecord, request.record_id, with_for_update=True)
        assert record is not None
        label = record_label(record)
        detail = {
            "request_id": request.id,
            "record_id": record.id,
            "category": record.category,
            "doc_number": record.doc_number,
            "decision_date": record.decision_date.isoformat(),
            "department": record.source_name,
            "prior_status": record.status,
            "decided_on": today.isoformat(),
        }
        if approve:
            record.status = "repaired"
            listing = await s.scalar(select(Listing).where(Listing.record_id == record.id))
            if listing is not None:
                listing.status = "repaired"
        request.status = "approved" if approve else "rejected"
        request.decided_by_account_id = viewer.account_id
        request.decision_reason = reason[: lifecycle.DECISION_REASON_LIMIT]
        request.decided_at = utcnow()
        s.add(
            AuditEntry(
                account_id=viewer.account_id,
                role=viewer.role,
                action="repair_approved" if approve else "repair_rejected",
                subject_id=record.subject_id,
                reason=record.doc_number[:64],
                detail=detail,
            )
        )
        if approve:
            await refresh_subjects(s, [record.subject_id], today)
        subject = await s.get(Subject, record.subject_id)
        assert subject is not None
        return DecidedRepair(request.id, approve, subject.name, label, reason, tuple(await subject_chats(s, record.subject_id)))
