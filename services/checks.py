"""The 逢办必查 loop: raise a check, answer with the measures, take the official's feedback."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import func, select

from db.catalogue import current_catalogue
from db.models import Check, Department, Subject, utcnow
from db.session import Database
from rules.masking import scrub
from rules.measures import MATTERS, Measure, MeasureAnswer, answer
from rules.roles import Viewer
from services.errors import Refusal
from services.lookup import SubjectCard, load_card
from services.persons import via_organisations

FEEDBACK = {"restricted": "已限制/不予办理", "proceeded": "已正常办理", "other": "其他"}


@dataclass(frozen=True)
class CheckAnswer:
    """A raised check: its id (for the feedback buttons), the matter key, the measures to take, the
    lists that restrict nothing for this matter (and why) and notes (rules.measures.answer)."""

    check_id: int
    subject_name: str
    matter: str
    answer: MeasureAnswer

    @property
    def measures(self) -> tuple[Measure, ...]:
        return self.answer.measures


def measures_answer(card: SubjectCard, matter: str) -> MeasureAnswer:
    """The one answer every door gives (chat, WeCom, the port, batch, XLSX): the catalogue of this
    process's region applied by rules.measures to the subject's lists, plus, for a person, the
    measures that bind them through the organisations they represent (services.persons)."""
    result = answer(current_catalogue(), card.kind, card.listings, matter)
    via = via_organisations(card, matter)
    return replace(result, measures=result.measures + via) if via else result


def check_payload(result: MeasureAnswer) -> dict[str, object]:
    """What the check row keeps of the answer: the measures with their basis and the catalogue
    edition, so the record shows what the official was told even after the catalogue changes."""
    return {
        "catalogue": result.catalogue,
        "items": [
            {"key": m.key, "text": m.text, "reason": m.reason, "list_type": m.list_type, "basis": list(m.basis),
             "implementer": m.implementer, "confirmed": m.confirmed}
            for m in result.measures
        ],
        "not_restricted": [{"list": n.list_name, "department": n.department, "why": n.why} for n in result.not_restricted],
        "notes": list(result.notes),
    }


@dataclass(frozen=True)
class CardAndCheck:
    """What an official sees for "<name> <matter>": the subject's card and the check raised on it."""

    card: SubjectCard
    check: CheckAnswer


async def raise_check(db: Database, viewer: Viewer, subject_id: int, matter: str, today: dt.date) -> CheckAnswer:
    """逢办必查 for `matter` (a key of rules.measures.MATTERS) on a subject, as of `today`.

    Writes the check row and one audit entry for the look-up, in one transaction. Raises Refusal
    when the viewer is not staff, the matter is unknown or the subject is gone."""
    return (await view_and_check(db, viewer, subject_id, matter, today)).check


async def view_and_check(db: Database, viewer: Viewer, subject_id: int, matter: str, today: dt.date) -> CardAndCheck:
    """The subject's card and a check raised on it, as one user action: one transaction, one audit
    entry (reason "逢办必查:<matter label>"). Refusals as `raise_check`."""
    if not viewer.is_staff or viewer.account_id is None:
        raise Refusal("逢办必查仅限办事人员使用。")
    if matter not in MATTERS:
        raise Refusal("未知的办理事项。")
    async with db.transaction() as s:
        card = await load_card(s, subject_id, viewer, today, reason=f"逢办必查:{MATTERS[matter]}")
        if card is None:
            raise Refusal("该主体已不在档案中。")
        result = measures_answer(card, matter)
        check = Check(
            account_id=viewer.account_id,
            department_id=viewer.department_id,
            subject_id=subject_id,
            matter=matter,
            measures=check_payload(result),
        )
        s.add(check)
        await s.flush()
        return CardAndCheck(card, CheckAnswer(check.id, card.name, matter, result))


async def record_feedback(db: Database, viewer: Viewer, check_id: int, feedback: str, note: str | None = None) -> Check:
    """The official's report on check `check_id`: `feedback` a key of FEEDBACK, `note` free text for
    "other". Returns the updated check. Raises Refusal: unknown feedback; a check not found or raised
    by someone else; feedback already given."""
    if feedback not in FEEDBACK:
        raise Refusal("未知的反馈类型。")
    async with db.transaction() as s:
        check = await s.get(Check, check_id)
        if check is None or check.account_id != viewer.account_id:
            raise Refusal("找不到这次核查，或它不是由您发起的。")
        if check.feedback is not None:
            raise Refusal(f"这次核查已反馈过（{FEEDBACK[check.feedback]}），无需重复反馈。")
        # Stored masked: a note may carry an ID or mobile number (privacy at rest).
        check.feedback, check.feedback_note, check.feedback_at = feedback, scrub(note) if note else note, utcnow()
        return check


@dataclass(frozen=True)
class OpenCheck:
    """A check the official never reported back on."""

    created_at: dt.datetime
    department: str
    subject_name: str
    matter: str


@dataclass(frozen=True)
class CheckStats:
    rows: tuple[tuple[str, str, int, int], ...]  # department, matter label, checks, without feedback
    total: int
    without_feedback: int
    open_checks: tuple[OpenCheck, ...] = ()


async def check_stats(db: Database, open_limit: int = 10) -> CheckStats:
    """Counts per department and matter, and the `open_limit` most recent checks still without
    feedback (for admins; the caller checks the role). Raises nothing."""
    async with db.transaction() as s:
        result = await s.execute(
            select(
                func.coalesce(Department.name, "（未指定部门）"),
                Check.matter,
                func.count(Check.id),
                func.count(Check.id).filter(Check.feedback.is_(None)),
            )
            .outerjoin(Department, Department.id == Check.department_id)
            .group_by(Department.name, Check.matter)
            .order_by(Department.name, Check.matter)
        )
        rows = tuple((dept, MATTERS.get(matter, matter), int(n), int(open_)) for dept, matter, n, open_ in result)
        recent_open = await s.execute(
            select(Check.created_at, func.coalesce(Department.name, "（未指定部门）"), Subject.name, Check.matter)
            .join(Subject, Subject.id == Check.subject_id)
            .outerjoin(Department, Department.id == Check.department_id)
            .where(Check.feedback.is_(None))
            .order_by(Check.created_at.desc(), Check.id.desc())
            .limit(open_limit)
        )
        open_checks = tuple(
            OpenCheck(at, dept, name, MATTERS.get(matter, matter)) for at, dept, name, matter in recent_open
        )
    return CheckStats(rows, sum(r[2] for r in rows), sum(r[3] for r in rows), open_checks)
