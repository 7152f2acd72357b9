"""The deadline scan of repair cases: the deciding department's officials are reminded before a
limit ends, and the 信用主管部门 (the region's credit department, role "credit"; admins when it has
no officials on the bot) is told once a limit has passed, as is the deciding department (it must
give the reason when it takes the step).

Each reminder and escalation is claimed on its case (`reminded_for` / `escalated_for` = the stage)
with a conditional UPDATE and written to the notice outbox in the same transaction, so a restart,
a repeated run or a second replica never sends one twice and a failed send is retried by the
outbox. Run daily (and once at start-up, to catch up); `today` is a parameter, so a test or an
operator can run it as of any day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from db.models import Account, CreditRecord, Department, RepairRequest, Subject, utcnow
from db.session import Database
from rules import repair_case as rc
from services import notices
from services.objections import record_label
from services.recipients import department_chats
from services.repair import CasePolicy


@dataclass(frozen=True)
class DeadlineNotice:
    request_id: int
    kind: str  # remind / escalate
    stage: str  # accept / decide
    due: dt.date
    chats: tuple[int, ...]


async def _escalation_chats(s, credit_codes: frozenset[str]) -> list[int]:  # type: ignore[no-untyped-def]
    chats: list[int] = []
    for dept_id in await s.scalars(select(Department.id).where(Department.code.in_(credit_codes))):
        chats += await department_chats(s, dept_id)
    if not chats:
        chats = [
            int(c) for c in await s.scalars(
                select(Account.telegram_user_id).where(
                    Account.role == "admin", Account.active.is_(True), Account.telegram_user_id.is_not(None)
                ).order_by(Account.id)
            )
        ]
    return chats


async def scan_deadlines(
    db: Database, today: dt.date, policy: CasePolicy, credit_codes: frozenset[str], key: str,
    now: dt.datetime | None = None,
) -> list[DeadlineNotice]:
    """Claim and queue every reminder and escalation due on `today`; returns them (the notices are
    in the outbox, for `handlers.notify` to send). `credit_codes` are the credit departments' codes,
    `key` seals the outbox texts (privacy.id_hash_key). Raises nothing of its own."""
    now = now or utcnow()
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(RepairRequest.id, RepairRequest.status, RepairRequest.accept_due, RepairRequest.decide_due,
                       RepairRequest.reminded_for, RepairRequest.escalated_for)
                .where(RepairRequest.status.in_(rc.OPEN_STATUSES),
                       or_(RepairRequest.accept_due.is_not(None), RepairRequest.decide_due.is_not(None)))
                .order_by(RepairRequest.id)
            )
        ).all()
    out: list[DeadlineNotice] = []
    for case_id, status, accept_due, decide_due, reminded, escalated in rows:
        stage = rc.stage(status)
        due = accept_due if stage == "accept" else decide_due
        if stage is None or due is None:
            continue
        if today > due and escalated != stage:
            kind = "escalate"
        elif rc.remind_from(due, policy.calendar, policy.limits) <= today <= due and reminded != stage:
            kind = "remind"
        else:
            continue
        found = await _queue(db, case_id, kind, stage, due, credit_codes, key, now)
        if found is not None:
            out.append(found)
    return out


async def _queue(
    db: Database, case_id: int, kind: str, stage: str, due: dt.date, credit_codes: frozenset[str], key: str, now: dt.datetime,
) -> DeadlineNotice | None:
    column = RepairRequest.escalated_for if kind == "escalate" else RepairRequest.reminded_for
    async with db.transaction() as s:
        claimed = await s.execute(
            update(RepairRequest)
            .where(RepairRequest.id == case_id, RepairRequest.status == {"accept": rc.RECEIVED, "decide": rc.ACCEPTED}[stage],
                   or_(column.is_(None), column != stage))
            .values({column.key: stage})
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:
            return None  # another run or replica has it, or the case moved on
        case, record, subject_name, dept_name = (
            await s.execute(
                select(RepairRequest, CreditRecord, Subject.name, Department.name)
                .join(CreditRecord, CreditRecord.id == RepairRequest.record_id)
                .join(Subject, Subject.id == RepairRequest.subject_id)
                .outerjoin(Department, Department.id == RepairRequest.department_id)
                .where(RepairRequest.id == case_id)
            )
        ).one()
        step = rc.STAGE_LABELS[stage]
        what = f"{subject_name} 申请修复 {record_label(record)}（申请 {case.id}）"
        dept_chats = await department_chats(s, case.department_id)
        if kind == "remind":
            text = f"【信用修复期限提醒】{what}的{step}期限为 {due:%Y-%m-%d}，请及时办理（发送 /repairs）。"
            chats = dept_chats
            await notices.enqueue(s, chats, text, "repair_deadline", now, key, subject_id=None, claim=False)
        else:
            text = f"【信用修复逾期】{dept_name or record.source_name}未在 {due:%Y-%m-%d} 前对{what}作出{step}决定。"
            chats = await _escalation_chats(s, credit_codes)
            await notices.enqueue(s, chats, text, "repair_overdue", now, key, claim=False)
            own = f"【信用修复逾期】{what}已超过{step}期限（{due:%Y-%m-%d}），已报告信用主管部门；办理时须说明逾期原因（发送 /repairs）。"
            await notices.enqueue(s, dept_chats, own, "repair_overdue", now, key, claim=False)
            chats = list(dict.fromkeys([*chats, *dept_chats]))
        return DeadlineNotice(case_id, kind, stage, due, tuple(chats))
