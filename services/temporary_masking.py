"""暂时屏蔽: a firm under a reorganisation plan (重整计划) or settlement (和解协议) approved by a court
has its adverse records masked and their measures lifted, to help it recover (国办发〔2025〕22号:
the department may "暂时屏蔽相关失信信息、暂时解除相应失信惩戒措施、更新信用评价结果"), until the
ruling's term ends or the ruling is revoked.

An admin or an official of the credit department (the region's role "credit") records the court's
ruling; the subject's effective adverse records of the categories the 2026 measures call 失信信息
(行政处罚, 行政强制, 经营异常名录, 严重失信主体名单 — court records are the court's own) become
"masked" (rules.visibility: not published, not a trigger of measures, not scored, still shared with
officials marked 暂时屏蔽); each keeps the status it had, to be restored. Records reported after
the ruling are not masked: the masking is of the past. Ending (its term passed: the daily job; or
recorded by an official) or revoking restores every record still masked. Each step is one
transaction with its own audit entry, re-evaluates the subject and is announced on the change feed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, AuditEntry, CreditRecord, Subject, SubjectMasking
from db.session import Database
from rules.categories import ABNORMAL_LIST, BLACKLIST
from rules.masking import scrub
from rules.roles import Viewer
from rules.visibility import EFFECTIVE_STATUSES, MASKED
from services import changes
from services.declarations.link_secrets import credit_departments
from services.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, Refusal
from services.evaluation import refresh_subjects
from services.recipients import subject_chats

BASES = ("重整计划", "和解协议")
MASKED_CATEGORIES = ("行政处罚", "行政强制", ABNORMAL_LIST, BLACKLIST)
ENDINGS = {"ended": "期满或执行完毕", "revoked": "裁定撤销或终止"}


async def _may_record(s: AsyncSession, viewer: Viewer, division_code: str) -> None:
    account = await s.get(Account, viewer.account_id) if viewer.account_id is not None else None
    if account is not None and account.active and account.role == "admin":
        return
    dept = await account.awaitable_attrs.department if account is not None else None
    if viewer.role == "official" and dept is not None and dept.code in credit_departments(division_code):
        return
    raise Refusal("暂时屏蔽须由信用主管部门的办事人员或系统管理员登记。", code=FORBIDDEN)


@dataclass(frozen=True)
class Masking:
    masking_id: int
    subject_name: str
    basis: str
    ruling_number: str
    records: int
    ends_on: dt.date | None
    subject_chats: tuple[int, ...]


async def record_masking(
    db: Database, viewer: Viewer, subject_id: int, *, basis: str, court: str, ruling_number: str, ruling_date: dt.date,
    today: dt.date, division_code: str, ends_on: dt.date | None = None,
) -> Masking:
    """Record a court's ruling and mask the subject's effective adverse records from `today`.
    Raises Refusal: not an admin or a credit-department official (FORBIDDEN); an unknown basis, an
    empty court or ruling number, a ruling dated in the future, an end before today (INVALID); no such
    subject (NOT_FOUND); a masking already active for it (CONFLICT)."""
    basis, court, ruling_number = basis.strip(), scrub(court.strip()), scrub(ruling_number.strip())
    if basis not in BASES:
        raise Refusal(f"屏蔽依据应为 {'或'.join(BASES)}。", code=INVALID)
    if not court or not ruling_number:
        raise Refusal("请写明作出裁定的人民法院和裁定书文号。", code=INVALID)
    if ruling_date > today or (ends_on is not None and ends_on < today):
        raise Refusal("裁定日期不能晚于今天，屏蔽截止日期不能早于今天。", code=INVALID)
    async with db.transaction() as s:
        await _may_record(s, viewer, division_code)
        subject = await s.get(Subject, subject_id, with_for_update=True)
        if subject is None:
            raise Refusal("该主体已不在档案中。", code=NOT_FOUND)
        if subject.kind == "自然人":
            raise Refusal("暂时屏蔽适用于重整或和解中的企业，不适用于自然人。", code=INVALID)
        active = await s.scalar(select(SubjectMasking.id).where(SubjectMasking.subject_id == subject_id, SubjectMasking.status == "active"))
        if active is not None:
            raise Refusal(f"该主体已有生效的暂时屏蔽（登记号 {active}）。", code=CONFLICT)
        records = (
            await s.scalars(
                select(CreditRecord).where(
                    CreditRecord.subject_id == subject_id, CreditRecord.category.in_(MASKED_CATEGORIES),
                    CreditRecord.status.in_(EFFECTIVE_STATUSES),
                ).with_for_update()
            )
        ).all()
        items = [[r.id, r.status] for r in records]
        for r in records:
            r.status = MASKED
        masking = SubjectMasking(
            subject_id=subject_id, basis=basis, court=court[:128], ruling_number=ruling_number[:128], ruling_date=ruling_date,
            starts_on=today, ends_on=ends_on, status="active", records={"items": items}, recorded_by_account_id=viewer.account_id,
        )
        s.add(masking)
        await s.flush()
        s.add(AuditEntry(account_id=viewer.account_id, role=viewer.role, action="masking_recorded", subject_id=subject_id,
                         reason=ruling_number[:64], detail={"masking_id": masking.id, "basis": basis, "court": court,
                                                            "records": items, "ends_on": ends_on.isoformat() if ends_on else None}))
        await refresh_subjects(s, [subject_id], today)
        await changes.emit_records(s, "masked", [r.id for r in records], {"masking_id": masking.id, "basis": basis})
        return Masking(masking.id, subject.name, basis, ruling_number, len(items), ends_on, tuple(await subject_chats(s, subject_id)))


async def _restore(s: AsyncSession, masking: SubjectMasking, status: str, today: dt.date, reason: str, viewer: Viewer | None) -> int:
    restored = []
    for record_id, prior in (masking.records or {}).get("items", []):
        record = await s.get(CreditRecord, record_id, with_for_update=True)
        if record is not None and record.status == MASKED:  # repaired or revoked meanwhile: left as it is
            record.status = prior
            restored.append(record_id)
    masking.status, masking.ended_on, masking.end_reason = status, today, reason
    masking.ended_by_account_id = viewer.account_id if viewer else None
    s.add(AuditEntry(account_id=viewer.account_id if viewer else None, role=viewer.role if viewer else "system",
                     action=f"masking_{status}", subject_id=masking.subject_id, reason=masking.ruling_number[:64],
                     detail={"masking_id": masking.id, "restored": restored, "reason": reason}))
    await refresh_subjects(s, [masking.subject_id], today)
    await changes.emit_records(s, "unmasked", restored, {"masking_id": masking.id, "ending": status})
    return len(restored)


@dataclass(frozen=True)
class Ended:
    masking_id: int
    subject_id: int
    subject_name: str
    status: str
    restored: int
    subject_chats: tuple[int, ...]


async def end_masking(
    db: Database, viewer: Viewer, masking_id: int, status: str, reason: str, today: dt.date, division_code: str,
) -> Ended:
    """End (`status` "ended": the plan's term ended or it was carried out) or revoke ("revoked": the
    ruling was revoked or the procedure terminated) an active masking, with a reason; the records
    still masked get their status back. Raises Refusal: FORBIDDEN as `record_masking`; unknown
    status or no reason (INVALID); not found; not active (CONFLICT)."""
    if status not in ENDINGS:
        raise Refusal("应为 ended（期满或执行完毕）或 revoked（裁定撤销或终止）。", code=INVALID)
    reason = scrub(reason.strip())
    if not reason:
        raise Refusal("请写明结束屏蔽的原因。", code=INVALID)
    async with db.transaction() as s:
        await _may_record(s, viewer, division_code)
        masking = await s.get(SubjectMasking, masking_id, with_for_update=True)
        if masking is None:
            raise Refusal("找不到该暂时屏蔽登记。", code=NOT_FOUND)
        if masking.status != "active":
            raise Refusal("该暂时屏蔽已结束。", code=CONFLICT)
        restored = await _restore(s, masking, status, today, reason[:2000], viewer)
        subject = await s.get(Subject, masking.subject_id)
        assert subject is not None
        return Ended(masking.id, subject.id, subject.name, status, restored, tuple(await subject_chats(s, subject.id)))


async def end_due_maskings(db: Database, today: dt.date) -> list[Ended]:
    """Daily: maskings whose term ended before `today` end by themselves. Idempotent."""
    async with db.transaction() as s:
        due = (await s.scalars(
            select(SubjectMasking).where(SubjectMasking.status == "active", SubjectMasking.ends_on < today)
            .order_by(SubjectMasking.id).with_for_update(skip_locked=True)
        )).all()
        out = []
        for masking in due:
            restored = await _restore(s, masking, "ended", today, "屏蔽期限届满", None)
            subject = await s.get(Subject, masking.subject_id)
            assert subject is not None
            out.append(Ended(masking.id, subject.id, subject.name, "ended", restored, tuple(await subject_chats(s, subject.id))))
        return out


@dataclass(frozen=True)
class ActiveMasking:
    masking_id: int
    subject_name: str
    basis: str
    court: str
    ruling_number: str
    starts_on: dt.date
    ends_on: dt.date | None
    records: int


async def active_maskings(db: Database) -> list[ActiveMasking]:
    async with db.transaction() as s:
        rows = (await s.execute(
            select(SubjectMasking, Subject.name).join(Subject, Subject.id == SubjectMasking.subject_id)
            .where(SubjectMasking.status == "active").order_by(SubjectMasking.id)
        )).all()
    return [ActiveMasking(m.id, name, m.basis, m.court, m.ruling_number, m.starts_on, m.ends_on,
                          len((m.records or {}).get("items", []))) for m, name in rows]
