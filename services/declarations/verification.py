"""Verification by the responsible department: the queue, one declaration, and the decision —
approve or reject a pending declaration, revoke a verified one later found false.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, CreditRecord, Declaration, Department, LinkSecret, Subject, utcnow
from db.session import Database
from rules import declarations as rules
from rules.publication import add_months, edition_for
from rules.roles import Viewer
from rules.visibility import UNVERIFIED
from services.declarations.items import DeclarationItem, item_of, items_where
from services.declarations.submit import COMMITMENT_SOURCE
from services.errors import Refusal
from services.evaluation import refresh_subjects
from services.recipients import subject_chats

REASON_REQUIRED = "reason_required"  # Refusal code: the decision lacks its reason; ask for it again
OWN_CODE = (
    "该申报人是凭您签发的授权码核验与主体的关系的。为避免利益冲突，您不能核验该申报，请由本部门其他办事人员处理。"
)


async def issued_the_code(s: AsyncSession, d: Declaration, account_id: int | None) -> bool:
    """Whether `account_id` issued the 授权码 the declarant spent to link to the subject."""
    if d.link != "proved" or account_id is None:
        return False
    found = await s.scalar(
        select(LinkSecret.id).where(
            LinkSecret.subject_id == d.subject_id, LinkSecret.used_by_account_id == d.account_id,
            LinkSecret.issued_by_account_id == account_id,
        ).limit(1)
    )
    return found is not None


async def pending_for(db: Database, viewer: Viewer) -> list[DeclarationItem]:
    """The verification queue of the viewer's department, oldest first.

    Raises Refusal unless the viewer is an official with a department."""
    if viewer.role != "official" or viewer.department_id is None:
        raise Refusal("自主申报核验仅限负责部门的办事人员。")
    async with db.transaction() as s:
        items = await items_where(s, Declaration.department_id == viewer.department_id, Declaration.status == "pending")
    return list(reversed(items))


async def open_for_official(db: Database, viewer: Viewer, declaration_id: int | None = None, receipt: str | None = None) -> DeclarationItem:
    """One submitted declaration of the viewer's department, by `declaration_id` or by `receipt`
    (受理编号), whatever its status. Raises Refusal unless the viewer is an official with a department,
    or when the declaration is not found in that department."""
    if viewer.role != "official" or viewer.department_id is None:
        raise Refusal("自主申报核验仅限负责部门的办事人员。")
    async with db.transaction() as s:
        where = Declaration.id == declaration_id if receipt is None else Declaration.receipt_no == receipt
        items = await items_where(s, where, Declaration.department_id == viewer.department_id, Declaration.status.in_(rules.SUBMITTED))
    if not items:
        raise Refusal("该申报不存在，或不属于本部门核验。")
    return items[0]


@dataclass(frozen=True)
class Decided:
    declaration_id: int
    receipt_no: str
    subject_name: str
    category_label: str
    headline: str
    status: str
    reason: str
    declarant_chats: tuple[int, ...]


async def decide(db: Database, viewer: Viewer, declaration_id: int, action: str, reason: str, today: dt.date) -> Decided:
    """`action` approve / reject a pending declaration, or revoke a verified one found false, with
    `reason` (whitespace collapsed); `today` dates the broken-commitment record.

    Revocation records the broken commitment (rules.declarations says how it is graded) and takes
    the original commitment record off the file; rejection takes the commitment record off too,
    since it vouched for a declaration that never counted. One audit entry. Returns `Decided` with
    the chats to tell (the declarant's and the subject's bound accounts).
    Raises Refusal: code REASON_REQUIRED without a reason; the viewer not an official of the
    department; the declaration not found there; its status not allowing the action; the viewer
    issued the 授权码 the declarant linked with (OWN_CODE)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Refusal("请填写核验意见或理由。", code=REASON_REQUIRED)
    if viewer.role != "official" or viewer.department_id is None:
        raise Refusal("自主申报核验仅限负责部门的办事人员。")
    async with db.transaction() as s:
        d = await s.scalar(select(Declaration).where(Declaration.id == declaration_id).with_for_update())
        if d is None or d.department_id != viewer.department_id or d.status not in rules.SUBMITTED:
            raise Refusal("该申报不存在，或不属于本部门核验。")
        wanted = {"approve": "pending", "reject": "pending", "revoke": "verified"}[action]
        if await issued_the_code(s, d, viewer.account_id):
            raise Refusal(OWN_CODE)
        if d.status != wanted:
            raise Refusal(f"该申报当前状态为“{rules.STATUS_LABELS[d.status]}”，不能{ {'approve': '核验通过', 'reject': '驳回', 'revoke': '撤销'}[action] }。")
        subject = await s.get(Subject, d.subject_id)
        assert subject is not None and d.receipt_no is not None
        commitment = await s.get(CreditRecord, d.commitment_record_id) if d.commitment_record_id else None
        d.decided_by_account_id, d.decided_at = viewer.account_id, utcnow()
        if action == "approve":
            d.status = "verified"
            d.decision_reason = reason
            if commitment is not None and commitment.status == UNVERIFIED:
                commitment.status = "active"  # verified: now public and a kept commitment
        elif action == "reject":
            d.status = "rejected"
            d.decision_reason = reason
            if commitment is not None:
                commitment.status = "revoked"
        else:
            d.status = "revoked"
            d.decision_reason = reason
            if commitment is not None:
                commitment.status = "revoked"
            broken = CreditRecord(
                subject_id=subject.id,
                category="信用承诺",
                department_id=viewer.department_id,
                source_key=COMMITMENT_SOURCE,
                source_name=(await s.get(Department, viewer.department_id)).name,  # type: ignore[union-attr]
                doc_number=f"{d.receipt_no}（违诺）",
                title=rules.BROKEN_TITLE,
                content=reason,
                decision_date=today,
                severity=rules.BROKEN_SEVERITY,
                rule_edition=edition_for(today),
                publication_end=add_months(today, rules.BROKEN_PUBLICATION_MONTHS),
                status="active",
                fields={"申报编号": d.receipt_no, "承诺书版本": d.commitment_version},
            )
            s.add(broken)
            await s.flush()
            d.broken_record_id = broken.id
        s.add(
            AuditEntry(
                account_id=viewer.account_id, role=viewer.role, action=f"declaration_{d.status}", subject_id=subject.id,
                detail={"receipt": d.receipt_no, "reason": reason[:200]},
            )
        )
        await refresh_subjects(s, [subject.id], today)
        chats = {d.chat_id, *await subject_chats(s, subject.id)}
        item = item_of(d, subject.name, None)
        return Decided(d.id, d.receipt_no, subject.name, item.category_label, item.headline, d.status, reason, tuple(sorted(chats)))

