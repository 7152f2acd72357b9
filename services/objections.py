"""Objections (异议): a subject disputes one of its records or a proposed listing; the responsible
department answers within a set number of working days: upheld (维持), corrected (更正) or revoked (撤销).

An objection does not suspend a published record (rules.visibility explains why); it marks it
"objected" so officials see 异议处理中. A proposed listing under objection keeps status "proposed"
and simply does not take effect until the department has decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from db.models import AuditEntry, CreditRecord, Listing, Objection, RecordChange, Subject, utcnow
from db.session import Database
from rules import lifecycle, visibility
from rules.masking import scrub
from rules.publication import publication_end
from rules.roles import Viewer
from rules.workcal import WorkCalendar
from services.changes import emit as announce
from services.errors import Refusal
from services.evaluation import refresh_subjects
from services.listings import activate
from services.recipients import department_chats, subject_chats

ATTACHMENT_LIMIT = 10


@dataclass(frozen=True)
class Attachment:
    """A Telegram file the applicant sent: kept by id, fetched by the department when needed."""

    file_id: str
    kind: str  # document / photo
    name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "kind": self.kind, "name": self.name}


def record_label(r: CreditRecord) -> str:
    """How a record is named to people: "[category] date doc-number"."""
    return f"[{r.category}] {r.decision_date:%Y-%m-%d} {r.doc_number}"


@dataclass(frozen=True)
class ObjectableItem:
    record_id: int
    subject_name: str
    label: str
    proposed: bool


def _objectable(r: CreditRecord, listing: Listing | None, today: dt.date) -> bool:
    if r.status == "proposed":
        return listing is not None and listing.status == "proposed" and today <= listing.objection_deadline
    return visibility.is_published(r, today)


async def objectable_items(db: Database, viewer: Viewer, today: dt.date) -> list[ObjectableItem]:
    """What the caller's bound subjects may object to: their published records and proposed
    listings still inside the objection period, minus those already under objection. [] without
    bound subjects; raises nothing."""
    if not viewer.subject_ids:
        return []
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(CreditRecord, Subject.name, Listing)
                .join(Subject, Subject.id == CreditRecord.subject_id)
                .outerjoin(Listing, Listing.record_id == CreditRecord.id)
                .where(CreditRecord.subject_id.in_(viewer.subject_ids))
                .order_by(CreditRecord.decision_date.desc(), CreditRecord.id.desc())
            )
        ).all()
        pending = set(
            (
                await s.scalars(
                    select(Objection.record_id).where(
                        Objection.subject_id.in_(viewer.subject_ids), Objection.status == "pending"
                    )
                )
            ).all()
        )
    return [
        ObjectableItem(r.id, name, ("拟列入 " if r.status == "proposed" else "") + record_label(r), r.status == "proposed")
        for r, name, listing in rows
        if r.id not in pending and _objectable(r, listing, today)
    ]


@dataclass(frozen=True)
class FiledObjection:
    objection_id: int
    record_label: str
    subject_name: str
    answer_due: dt.date
    department_chats: tuple[int, ...]


async def file_objection(
    db: Database,
    viewer: Viewer,
    record_id: int,
    reason: str,
    attachments: Sequence[Attachment],
    today: dt.date,
    calendar: WorkCalendar,
    answer_days: int = lifecycle.OBJECTION_ANSWER_WORKING_DAYS,
) -> FiledObjection:
    """File an objection of the caller's bound subject; the department's answer is due in
    `answer_days` working days counted on `calendar` from `today`. `attachments` are Telegram file
    ids (at most ATTACHMENT_LIMIT). Returns the objection with its due date and the department's
    chats to tell. Raises Refusal: no reason; too many attachments; not the viewer's record; an
    objection already pending; the objection period of a proposed listing over; a record not
    published."""
    reason = scrub(reason.strip())  # stored: no ID or mobile number in clear (privacy at rest)
    if not reason:
        raise Refusal("请填写异议理由。")
    if len(attachments) > ATTACHMENT_LIMIT:
        raise Refusal(f"附件最多 {ATTACHMENT_LIMIT} 个。")
    async with db.transaction() as s:
        record = await s.get(CreditRecord, record_id, with_for_update=True)
        if record is None or record.subject_id not in viewer.subject_ids or viewer.account_id is None:
            raise Refusal("只能对本人（本单位）绑定主体的信用记录提出异议。")
        listing = await s.scalar(select(Listing).where(Listing.record_id == record.id))
        already = await s.scalar(
            select(Objection.id).where(Objection.record_id == record.id, Objection.status == "pending")
        )
        if already:
            raise Refusal("该记录已有异议正在处理，请等待处理结果。")
        if not _objectable(record, listing, today):
            if record.status == "proposed":
                raise Refusal("该拟列入事项的异议期已届满，不能再提出异议。")
            raise Refusal("该记录当前不在公示中，无需提出异议。")
        due = lifecycle.answer_due(today, calendar, answer_days).due
        objection = Objection(
            record_id=record.id,
            subject_id=record.subject_id,
            department_id=record.department_id,
            account_id=viewer.account_id,
            reason=reason[:2000],
            attachments={"items": [a.as_dict() for a in attachments]},
            prior_status=record.status,
            filed_on=today,
            answer_due=due,
        )
        s.add(objection)
        if record.status == "active":
            record.status = "objected"
        await s.flush()
        s.add(
            AuditEntry(
                account_id=viewer.account_id,
                role=viewer.role,
                action="objection_filed",
                subject_id=record.subject_id,
                reason=record.doc_number[:64],
                detail={"objection_id": objection.id, "record_id": record.id, "attachments": len(attachments)},
            )
        )
        subject = await s.get(Subject, record.subject_id)
        assert subject is not None
        return FiledObjection(
            objection.id, record_label(record), subject.name, due, tuple(await department_chats(s, record.department_id))
        )


@dataclass(frozen=True)
class PendingObjection:
    objection_id: int
    record_id: int
    subject_name: str
    record_label: str
    proposed_listing: bool
    reason: str
    attachments: tuple[dict[str, Any], ...]
    filed_on: dt.date
    answer_due: dt.date
    overdue: bool


async def pending_objections(db: Database, department_id: int, today: dt.date) -> list[PendingObjection]:
    """A department's undecided objections, the most urgent first; `overdue` once the answer date
    has passed (what the reminder scan looks for). Raises nothing; the caller checks the role
    (decide_objection checks it again)."""
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(Objection, CreditRecord, Subject.name)
                .join(CreditRecord, CreditRecord.id == Objection.record_id)
                .join(Subject, Subject.id == Objection.subject_id)
                .where(Objection.department_id == department_id, Objection.status == "pending")
                .order_by(Objection.answer_due, Objection.id)
            )
        ).all()
    return [
        PendingObjection(
            o.id,
            r.id,
            name,
            record_label(r),
            r.status == "proposed",
            o.reason,
            tuple((o.attachments or {}).get("items", [])),
            o.filed_on,
            o.answer_due,
            today > o.answer_due,
        )
        for o, r, name in rows
    ]


@dataclass(frozen=True)
class DecidedObjection:
    objection_id: int
    decision: str
    subject_name: str
    record_label: str
    reason: str
    corrections: dict[str, str]
    listing_effective: bool
    subject_chats: tuple[int, ...]


def _apply_corrections(record: CreditRecord, listing: Listing | None, corrections: dict[str, str]) -> dict[str, Any]:
    """Change the record as the department corrected it; returns {name: [old, new]} for the history."""
    changes: dict[str, Any] = {}
    fields = dict(record.fields or {})
    for key, value in corrections.items():
        value = scrub(value)  # goes into the record's title, content or fields: masked at rest
        if key in ("title", "content", "severity"):
            changes[key] = [getattr(record, key), value]
            setattr(record, key, value)
            if key == "content" and listing is not None:
                listing.reasons = value
                fields["事由"] = value
        else:
            changes[key] = [fields.get(key), value]
            fields[key] = value
            if key == "依据" and listing is not None:
                listing.basis = value
    record.fields = fields
    if "severity" in corrections and record.publication_end is not None and record.status != "proposed":
        record.publication_end = publication_end(record.decision_date, record.severity, record.rule_edition)
        changes["publication_end"] = record.publication_end.isoformat()
    return changes


async def decide_objection(
    db: Database,
    viewer: Viewer,
    objection_id: int,
    decision: str,
    reason: str,
    today: dt.date,
    corrections: dict[str, str] | None = None,
) -> DecidedObjection:
    """The responsible department's answer: `decision` a key of rules.lifecycle.OBJECTION_DECISIONS,
    `corrections` {field: new value} for "corrected" (rules.lifecycle.parse_corrections).

    Upheld or corrected, the record returns to its state before the objection (a proposed listing
    whose period is over takes effect at once); revoked, the record is gone from every view and a
    proposed listing is withdrawn. Returns the decision with the subject's chats to tell.
    Raises Refusal: unknown decision; no reason; a correction without its content; objection not
    found; the viewer not an official of the responsible department; already decided."""
    if decision not in lifecycle.OBJECTION_DECISIONS:
        raise Refusal("未知的处理结果。")
    # The subject is told the reason as written (the notice outbox keeps it encrypted); what is
    # stored here is masked: no ID or mobile number in clear (privacy at rest).
    written = reason.strip()
    reason = scrub(written)
    if not reason:
        raise Refusal("请填写处理理由。")
    if decision == "corrected" and not corrections:
        raise Refusal("更正须写明更正的内容。")
    async with db.transaction() as s:
        objection = await s.get(Objection, objection_id, with_for_update=True)
        if objection is None:
            raise Refusal("找不到该异议。")
        if viewer.role != "official" or viewer.department_id is None or viewer.department_id != objection.department_id:
            raise Refusal("只有责任部门的办事人员可以处理该异议。")
        if objection.status != "pending":
            label = lifecycle.OBJECTION_DECISIONS.get(objection.status, objection.status)
            raise Refusal(f"该异议已处理（{label}），无需重复处理。")
        record = await s.get(CreditRecord, objection.record_id, with_for_update=True)
        assert record is not None
        listing = await s.scalar(select(Listing).where(Listing.record_id == record.id))
        changes: dict[str, Any] = {}
        effective = False
        if decision == "revoked":
            record.status = "revoked"
            if listing is not None and listing.status == "proposed":
                listing.status = "withdrawn"
        else:
            if record.status == "objected":
                record.status = objection.prior_status
            if decision == "corrected":
                changes = _apply_corrections(record, listing, corrections or {})
                s.add(RecordChange(record_id=record.id, subject_id=record.subject_id, source_file="异议更正", changes=changes))
            if listing is not None and listing.status == "proposed" and today > listing.objection_deadline:
                await activate(s, listing, today)
                effective = True
        objection.status = decision
        objection.decided_by_account_id = viewer.account_id
        objection.decision_reason = reason[: lifecycle.DECISION_REASON_LIMIT]
        objection.corrections = {k: scrub(v) for k, v in (corrections or {}).items()}
        objection.decided_at = utcnow()
        s.add(
            AuditEntry(
                account_id=viewer.account_id,
                role=viewer.role,
                action=f"objection_{decision}",
                subject_id=record.subject_id,
                reason=record.doc_number[:64],
                detail={"objection_id": objection.id, "record_id": record.id, "changes": changes},
            )
        )
        await refresh_subjects(s, [record.subject_id], today)
        if decision in ("revoked", "corrected"):
            await announce(s, decision, record.subject_id, record.id, record.department_id)
        subject = await s.get(Subject, record.subject_id)
        assert subject is not None
        return DecidedObjection(
            objection.id,
            decision,
            subject.name,
            record_label(record),
            written,
            dict(corrections or {}),
            effective,
            tuple(await subject_chats(s, record.subject_id)),
        )
