"""Credit repair (信用修复) as a case with working-day limits.

A case is received (filed in chat, or arriving from 信用中国 / the provincial platform with its 受理编号),
then accepted (受理) or refused with a reason (不予受理), then approved (准予修复) or rejected (不予修复),
each step within its limit (rules/repair_case.py: the limits, their sources, and which are
unconfirmed). A step taken after its limit records which limit was missed and the department's
reason for it (`late_reason`, required then). Deciding a received case accepts it the same day.

谁认定、谁修复: only officials of the record's department take the steps. An approved repair sets the
record to "repaired": rules.visibility then keeps it off every card, report and port answer, out of
the measures and the evaluation (refreshed in the same transaction), and the change feed announces
it (services/changes.py) so department systems and the city's website drop it too. The row stays for
referential integrity; the decision (with what the record was) is in the audit trail, the one place
the record remains visible. The 信用修复决定书 is issued right after the decision
(services/repair_documents.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, CreditRecord, Listing, RepairRequest, Subject, utcnow
from db.session import Database
from rules import lifecycle
from rules import repair_case as rc
from rules.canonical import canonical_key
from rules.codes import validate_uscc
from rules.masking import scrub
from rules.roles import Viewer
from rules.workcal import DEFAULT_CALENDAR, WorkCalendar, announced_calendar
from services import changes
from services.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, Refusal
from services.evaluation import refresh_subjects
from services.objections import Attachment, record_label
from services.recipients import department_chats, subject_chats
from services.settings import Settings

REPAIRABLE_STATUSES = frozenset({"active", "objected", "expired", "masked"})  # masked: 暂时屏蔽
LATE = "late_reason"  # Refusal code: a limit passed, the reason for it is missing
EXTERNAL_ORIGINS = ("creditchina", "province")


@dataclass(frozen=True)
class CasePolicy:
    """The working-day calendar and the configured limits (bot/calendar_settings, `[repair]`)."""

    calendar: WorkCalendar = DEFAULT_CALENDAR
    limits: rc.Limits = field(default_factory=rc.Limits)


DEFAULT_POLICY = CasePolicy()


@dataclass(frozen=True)
class RepairItem:
    record_id: int
    subject_name: str
    label: str
    opens: dt.date


async def repairable_items(db: Database, viewer: Viewer) -> list[RepairItem]:
    """The caller's bound subjects' adverse records a repair could concern (penalties, coercive
    measures, listings; none with a case open), each with the day a repair opens. [] for a
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
        open_cases = set(
            (
                await s.scalars(
                    select(RepairRequest.record_id).where(
                        RepairRequest.subject_id.in_(viewer.subject_ids), RepairRequest.status.in_(rc.OPEN_STATUSES)
                    )
                )
            ).all()
        )
    return [
        RepairItem(r.id, name, record_label(r), lifecycle.repair_opens(r))
        for r, name in rows
        if lifecycle.repairable(r.category) and r.id not in open_cases
    ]


async def _own_record(s: AsyncSession, viewer: Viewer, record_id: int) -> CreditRecord:
    record = await s.get(CreditRecord, record_id)
    if record is None or record.subject_id not in viewer.subject_ids or viewer.account_id is None:
        raise Refusal("只能为本人（本单位）绑定的主体申请信用修复。")
    _repairable(record)
    return record


def _repairable(record: CreditRecord) -> None:
    if not lifecycle.repairable(record.category) or record.status not in REPAIRABLE_STATUSES:
        raise Refusal("该记录不属于可申请信用修复的失信信息，或已修复、已撤销。", code=CONFLICT)


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
    accept_due: dt.date


async def _open_case(s: AsyncSession, record_id: int) -> int | None:
    return await s.scalar(
        select(RepairRequest.id).where(RepairRequest.record_id == record_id, RepairRequest.status.in_(rc.OPEN_STATUSES))
    )


async def apply_for_repair(
    db: Database,
    viewer: Viewer,
    record_id: int,
    obligations_met: bool,
    proof: Sequence[Attachment],
    commitment: str,
    today: dt.date,
    policy: CasePolicy = DEFAULT_POLICY,
) -> FiledRepair:
    """File a repair case; every condition is checked here again, whatever the channel asked.

    `proof` are the files sent (Telegram file ids), `commitment` the words the applicant wrote
    (rules.lifecycle.is_commitment), `today` the platform's date (the day of receipt). Returns the
    case with its 受理 limit and the department's chats to tell. Raises Refusal: not the viewer's
    record or not repairable; the minimum publication period not over; obligations not met; no
    proof; no commitment; a case already open."""
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
        if await _open_case(s, record.id):
            raise Refusal("该记录已有信用修复申请正在办理，请等待结果。")
        assert viewer.account_id is not None
        due = rc.accept_due(today, policy.calendar, policy.limits).due
        request = RepairRequest(
            record_id=record.id,
            subject_id=record.subject_id,
            department_id=record.department_id,
            account_id=viewer.account_id,
            obligations_met=True,
            proof={"items": [a.as_dict() for a in proof]},
            commitment=lifecycle.COMMITMENT_TEXT,
            filed_on=today,
            status=rc.RECEIVED,
            origin="chat",
            accept_due=due,
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
        chats = tuple(await department_chats(s, record.department_id))
        return FiledRepair(request.id, record_label(record), subject.name, chats, due)


# -- applications from 信用中国 / the provincial platform ---------------------------------------


@dataclass(frozen=True)
class ExternalApplication:
    """One application as the national or provincial platform forwards it."""

    origin: str  # creditchina / province
    external_ref: str  # that platform's 受理编号
    subject_code: str  # the subject's USCC
    doc_number: str  # the 文书号 of the record to repair
    received_on: dt.date
    applicant: str = ""
    materials: tuple[str, ...] = ()  # names of the files the platform holds (证明材料, 信用承诺书)
    commitment: bool = True


@dataclass(frozen=True)
class ReceivedCase:
    request_id: int
    created: bool  # False: the same 受理编号 was received before (a retry), nothing changed
    record_label: str
    subject_name: str
    accept_due: dt.date | None
    status: str
    department_chats: tuple[int, ...]


async def receive_external(
    db: Database,
    app: ExternalApplication,
    policy: CasePolicy = DEFAULT_POLICY,
    department_ids: frozenset[int] | None = None,
    by: Viewer | None = None,
) -> ReceivedCase:
    """Put an application forwarded by 信用中国 or the provincial platform into the same queue as
    chat applications; receiving the same 受理编号 again returns the first case unchanged.

    The record is found by the subject's USCC and the 文书号 (any bracket or width variant).
    `department_ids` restricts the records the caller may file cases for (a department key: its own
    department's; None: any, the CLI). Raises Refusal: unknown origin; no 受理编号; an invalid code;
    no such record (NOT_FOUND); a record of another department (FORBIDDEN); not repairable; no
    credit commitment (INVALID); another case already open for the record (CONFLICT)."""
    async with db.transaction() as s:
        return await _receive(s, app, policy, department_ids, by)


class _Rollback(Exception):
    pass


async def receive_batch(
    db: Database, apps: Sequence[ExternalApplication], policy: CasePolicy = DEFAULT_POLICY,
    department_ids: frozenset[int] | None = None, by: Viewer | None = None,
) -> tuple[list[ReceivedCase], list[tuple[int, str]]]:
    """A file of applications, all or none: returns (the cases, []) or ([], [(index, reason), ...])
    with every row's refusal (rules as `receive_external`)."""
    cases: list[ReceivedCase] = []
    errors: list[tuple[int, str]] = []
    try:
        async with db.transaction() as s:
            for i, app in enumerate(apps):
                try:
                    cases.append(await _receive(s, app, policy, department_ids, by))
                except Refusal as exc:
                    errors.append((i, exc.reason))
            if errors:
                raise _Rollback
    except _Rollback:
        return [], errors
    return cases, []


async def _receive(
    s: AsyncSession, app: ExternalApplication, policy: CasePolicy, department_ids: frozenset[int] | None, by: Viewer | None,
) -> ReceivedCase:
    if app.origin not in EXTERNAL_ORIGINS:
        raise Refusal(f"未知的申请来源“{app.origin}”（应为 {'、'.join(EXTERNAL_ORIGINS)}）。", code=INVALID)
    ref = scrub(app.external_ref.strip())[:64]
    if not ref:
        raise Refusal("缺少受理编号。", code=INVALID)
    code = validate_uscc(app.subject_code, repair=True)
    if not code.ok:
        raise Refusal(f"统一社会信用代码有误：{code.error}", code=INVALID)
    known = await s.scalar(select(RepairRequest).where(RepairRequest.origin == app.origin, RepairRequest.external_ref == ref))
    if known is not None:
        record = await s.get(CreditRecord, known.record_id)
        subject = await s.get(Subject, known.subject_id)
        assert record is not None and subject is not None
        return ReceivedCase(known.id, False, record_label(record), subject.name, known.accept_due, known.status, ())
    found = (
        await s.execute(
            select(CreditRecord, Subject)
            .join(Subject, Subject.id == CreditRecord.subject_id)
            .where(Subject.uscc == code.value, CreditRecord.doc_key == canonical_key(app.doc_number))
        )
    ).all()
    candidates = [(r, sub) for r, sub in found if lifecycle.repairable(r.category)]
    if not candidates:
        raise Refusal("找不到该主体文书号对应的失信记录。", code=NOT_FOUND)
    record, subject = candidates[0]
    if department_ids is not None and record.department_id not in department_ids:
        raise Refusal("该记录不属于本部门认定（谁认定、谁修复），请转送认定部门办理。", code=FORBIDDEN)
    _repairable(record)
    if not app.commitment:
        raise Refusal("申请须附信用承诺书。", code=INVALID)
    if await _open_case(s, record.id):
        raise Refusal("该记录已有信用修复申请正在办理。", code=CONFLICT)
    due = rc.accept_due(app.received_on, policy.calendar, policy.limits).due
    request = RepairRequest(
        record_id=record.id, subject_id=subject.id, department_id=record.department_id, account_id=None,
        obligations_met=True, proof={"items": [{"name": scrub(m)[:200], "kind": "external"} for m in app.materials]},
        commitment=lifecycle.COMMITMENT_TEXT, filed_on=app.received_on, status=rc.RECEIVED, origin=app.origin,
        external_ref=ref, applicant=scrub(app.applicant.strip())[:100] or None, accept_due=due,
    )
    s.add(request)
    await s.flush()
    s.add(
        AuditEntry(
            account_id=by.account_id if by else None, role=by.role if by else "system", action="repair_received",
            subject_id=subject.id, reason=record.doc_number[:64],
            detail={"request_id": request.id, "origin": app.origin, "external_ref": ref},
        )
    )
    chats = tuple(await department_chats(s, record.department_id))
    return ReceivedCase(request.id, True, record_label(record), subject.name, due, rc.RECEIVED, chats)


# -- the department's queue and steps -------------------------------------------------------------


@dataclass(frozen=True)
class PendingRepair:
    request_id: int
    record_id: int
    subject_name: str
    record_label: str
    proof: tuple[dict[str, str], ...]
    filed_on: dt.date
    status: str = rc.RECEIVED
    due: dt.date | None = None  # the limit of the step the case waits for
    overdue: bool = False
    origin: str = "chat"
    external_ref: str | None = None


async def pending_repairs(db: Database, department_id: int, today: dt.date | None = None) -> list[PendingRepair]:
    """A department's open cases, the most urgent limit first, with their proof; `overdue` once
    the limit of the step they wait for has passed (`today`, default: never). Raises nothing; the
    caller checks the role (the steps check it again)."""
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(RepairRequest, CreditRecord, Subject.name)
                .join(CreditRecord, CreditRecord.id == RepairRequest.record_id)
                .join(Subject, Subject.id == RepairRequest.subject_id)
                .where(RepairRequest.department_id == department_id, RepairRequest.status.in_(rc.OPEN_STATUSES))
                .order_by(RepairRequest.filed_on, RepairRequest.id)
            )
        ).all()
    items = []
    for q, r, name in rows:
        due = q.accept_due if q.status == rc.RECEIVED else q.decide_due
        late = today is not None and rc.overdue(q.status, q.accept_due, q.decide_due, today)
        items.append(
            PendingRepair(
                q.id, r.id, name, record_label(r), tuple((q.proof or {}).get("items", [])), q.filed_on, q.status, due, late,
                q.origin, q.external_ref,
            )
        )
    return sorted(items, key=lambda p: (p.due or dt.date.max, p.request_id))


async def _case_for_step(s: AsyncSession, viewer: Viewer, request_id: int) -> RepairRequest:
    request = await s.get(RepairRequest, request_id, with_for_update=True)
    if request is None:
        raise Refusal("找不到该信用修复申请。", code=NOT_FOUND)
    if viewer.role != "official" or viewer.department_id is None or viewer.department_id != request.department_id:
        raise Refusal("只有该记录所属部门（认定部门）的办事人员可以办理该申请。", code=FORBIDDEN)
    if request.status not in rc.OPEN_STATUSES:
        raise Refusal(f"该申请已办结（{rc.STATUS_LABELS.get(request.status, request.status)}）。", code=CONFLICT)
    return request


def _lateness(request: RepairRequest, today: dt.date, late_reason: str | None) -> None:
    """Record the limits this step comes too late for, with the reason; raise Refusal(LATE) when
    one passed and no reason was given."""
    missed = rc.missed_stages(request.status, request.accept_due, request.decide_due, today)
    if not missed:
        return
    reason = scrub((late_reason or "").strip())
    if not reason:
        names = "、".join(rc.STAGE_LABELS[m] for m in missed)
        due = request.accept_due if missed[0] == "accept" else request.decide_due
        raise Refusal(f"已超过{names}期限（{due:%Y-%m-%d}），请先说明逾期原因。", code=LATE)
    previous = [m for m in (request.missed or "").split(",") if m]
    request.missed = ",".join(dict.fromkeys([*previous, *missed]))
    request.missed_reason = "\n".join(x for x in (request.missed_reason, reason[: lifecycle.DECISION_REASON_LIMIT]) if x)


@dataclass(frozen=True)
class AcceptedCase:
    request_id: int
    subject_name: str
    record_label: str
    decide_due: dt.date
    subject_chats: tuple[int, ...]


async def accept_case(
    db: Database, viewer: Viewer, request_id: int, today: dt.date, policy: CasePolicy = DEFAULT_POLICY,
    late_reason: str | None = None,
) -> AcceptedCase:
    """受理: the case now runs against its 办结 limit. Raises Refusal: not found; not an official of
    the record's department; already accepted or closed (CONFLICT); the 受理 limit passed and no
    `late_reason` (LATE)."""
    async with db.transaction() as s:
        request = await _case_for_step(s, viewer, request_id)
        if request.status != rc.RECEIVED:
            raise Refusal("该申请已受理，请作出是否修复的决定。", code=CONFLICT)
        _lateness(request, today, late_reason)
        request.status = rc.ACCEPTED
        request.accepted_on = today
        request.accepted_by_account_id = viewer.account_id
        request.decide_due = rc.decide_due(today, policy.calendar, policy.limits).due
        request.reminded_for = request.escalated_for = None
        record = await s.get(CreditRecord, request.record_id)
        subject = await s.get(Subject, request.subject_id)
        assert record is not None and subject is not None
        s.add(
            AuditEntry(
                account_id=viewer.account_id, role=viewer.role, action="repair_accepted", subject_id=subject.id,
                reason=record.doc_number[:64], detail={"request_id": request.id, "decide_due": request.decide_due.isoformat()},
            )
        )
        return AcceptedCase(request.id, subject.name, record_label(record), request.decide_due, tuple(await subject_chats(s, subject.id)))


@dataclass(frozen=True)
class DecidedRepair:
    request_id: int
    approved: bool
    subject_name: str
    record_label: str
    reason: str
    subject_chats: tuple[int, ...]
    status: str = rc.APPROVED
    origin: str = "chat"
    external_ref: str | None = None


async def refuse_case(
    db: Database, viewer: Viewer, request_id: int, reason: str, today: dt.date, late_reason: str | None = None,
) -> DecidedRepair:
    """不予受理, with its reason (the applicant is told it). Raises Refusal as `accept_case`, and for
    an empty reason (INVALID)."""
    written = reason.strip()
    if not written:
        raise Refusal("请填写不予受理的理由。", code=INVALID)
    async with db.transaction() as s:
        request = await _case_for_step(s, viewer, request_id)
        if request.status != rc.RECEIVED:
            raise Refusal("该申请已受理，只能作出准予或不予修复的决定。", code=CONFLICT)
        _lateness(request, today, late_reason)
        return await _close(s, viewer, request, rc.REFUSED, written, today)


async def decide_repair(
    db: Database, viewer: Viewer, request_id: int, approve: bool, reason: str, today: dt.date,
    policy: CasePolicy = DEFAULT_POLICY, late_reason: str | None = None,
) -> DecidedRepair:
    """准予 or 不予修复 with `reason`; a received case is accepted the same day. An approval repairs
    the record (module docstring). The 决定书 is issued afterwards (services.repair_documents).
    Returns the decision with the subject's chats to tell. Raises Refusal: no reason (INVALID);
    not found; not an official of the record's department; already closed; a limit passed and no
    `late_reason` (LATE)."""
    written = reason.strip()
    if not scrub(written):
        raise Refusal("请填写审核意见。", code=INVALID)
    del policy  # the 办结 limit of a case accepted and decided at once is moot
    async with db.transaction() as s:
        request = await _case_for_step(s, viewer, request_id)
        _lateness(request, today, late_reason)
        if request.status == rc.RECEIVED:
            request.accepted_on = today
            request.accepted_by_account_id = viewer.account_id
        return await _close(s, viewer, request, rc.APPROVED if approve else rc.REJECTED, written, today)


async def _close(
    s: AsyncSession, viewer: Viewer, request: RepairRequest, status: str, written: str, today: dt.date,
) -> DecidedRepair:
    reason = scrub(written)  # stored: no ID or mobile number in clear (privacy at rest)
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
        "missed": request.missed,
    }
    approved = status == rc.APPROVED
    if approved:
        record.status = "repaired"
        listing = await s.scalar(select(Listing).where(Listing.record_id == record.id))
        if listing is not None:
            listing.status = "repaired"
    request.status = status
    request.decided_by_account_id = viewer.account_id
    request.decision_reason = reason[: lifecycle.DECISION_REASON_LIMIT]
    request.decided_at = utcnow()
    action = {rc.APPROVED: "repair_approved", rc.REJECTED: "repair_rejected", rc.REFUSED: "repair_refused"}[status]
    s.add(
        AuditEntry(
            account_id=viewer.account_id, role=viewer.role, action=action, subject_id=record.subject_id,
            reason=record.doc_number[:64], detail=detail,
        )
    )
    if approved:
        await refresh_subjects(s, [record.subject_id], today)
        await changes.emit(s, "repaired", record.subject_id, record.id, record.department_id)
    await changes.emit(
        s, "repair_decided", record.subject_id, record.id, record.department_id,
        {"request_id": request.id, "result": status, "origin": request.origin, "external_ref": request.external_ref},
    )
    subject = await s.get(Subject, record.subject_id)
    assert subject is not None
    return DecidedRepair(
        request.id, approved, subject.name, label, written, tuple(await subject_chats(s, record.subject_id)), status,
        request.origin, request.external_ref,
    )


def policy_from(settings: Settings, calendar: WorkCalendar | None = None) -> CasePolicy:
    """The policy of the configured `[repair]` limits on `calendar` (default: the configured one)."""
    r = settings.repair
    cal = calendar or announced_calendar(settings.calendar.holidays, settings.calendar.workdays)
    return CasePolicy(cal, rc.Limits(r.accept_working_days, r.decide_working_days, r.remind_before_working_days))


@dataclass(frozen=True)
class CaseResult:
    """A closed case in the form the national or provincial platform takes back (its 受理编号 first)."""

    external_ref: str
    doc_number: str
    subject_code: str | None
    result: str  # 不予受理 / 准予修复 / 不予修复
    reason: str
    decided_on: dt.date
    decision_number: str | None
    missed: str | None


async def case_results(
    db: Database, origin: str, since: dt.date, tz: dt.tzinfo, department_ids: frozenset[int] | None = None,
) -> list[CaseResult]:
    """Cases from `origin` closed on or after `since` (in time zone `tz`), oldest first, to send back
    to that platform; `department_ids` as in `receive_external`. Raises nothing."""
    start = dt.datetime.combine(since, dt.time(), tz)
    query = (
        select(RepairRequest, CreditRecord.doc_number, Subject.uscc)
        .join(CreditRecord, CreditRecord.id == RepairRequest.record_id)
        .join(Subject, Subject.id == RepairRequest.subject_id)
        .where(RepairRequest.origin == origin, RepairRequest.decided_at >= start,
               RepairRequest.status.in_((rc.REFUSED, rc.APPROVED, rc.REJECTED)))
        .order_by(RepairRequest.decided_at, RepairRequest.id)
    )
    if department_ids is not None:
        query = query.where(RepairRequest.department_id.in_(department_ids))
    async with db.transaction() as s:
        rows = (await s.execute(query)).all()
    return [
        CaseResult(
            q.external_ref or "", doc, uscc, rc.STATUS_LABELS[q.status], q.decision_reason or "",
            q.decided_at.astimezone(tz).date() if q.decided_at else since, q.decision_number,
            "、".join(rc.STAGE_LABELS.get(m, m) for m in q.missed.split(",")) if q.missed else None,
        )
        for q, doc, uscc in rows
    ]
