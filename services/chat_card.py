"""The card a chat shows for a subject, with everything around it, in one transaction (issue 27).

A card in the chat is more than `services.lookup`'s card: the grade block (`services.evaluation_views`),
whether an official watches the subject (关注 / 取消关注), for a question with a matter the 逢办必查
check, the audit row of the look-up and the chat's current subject for follow-ups
(`services.resolver_context`). With a read copy or an outbox (`Database.defers_writes`) a card
without a check is read from the copy and its audit row and current subject are written behind
the answer (db/outbox.py); a check, which the official acts on, is one transaction on the primary. Each used to be its own transaction (six per card); here they are one
Core transaction of three statements for an ordinary card: the subject with its records, grade and
watch flag, the audit row, the chat's current subject (a check adds its row; a subject with
declarations or linked persons adds those reads, as `load_cards` does for every door).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import AuditEntry, Check, CreditRecord, Subject, SubjectEvaluation, WatchSubscription
from db.outbox import AUDIT, write_behind
from db.session import Database
from rules.measures import MATTERS
from rules.roles import Viewer
from services.checks import CheckAnswer, check_payload, measures_answer
from services.evaluation_views import GradeView, grade_view
from services.lookup import RECORD_COLUMNS, SUBJECT_ROW, SubjectCard, card_audit_rows, load_cards
from services.resolver_context import remember_subject, remember_subject_in


@dataclass(frozen=True)
class ChatCard:
    """A card as the chat shows it: `grade` None when not evaluated or not for this viewer;
    `watching` only ever True for an official; `check` the 逢办必查 answer when a matter was asked."""

    card: SubjectCard
    grade: GradeView | None
    watching: bool
    check: CheckAnswer | None


# The card's subject row (`SUBJECT_ROW`) with its stored evaluation and the viewer's watch flag, so
# neither needs a statement of its own. Built once: building costs more CPU than running it.
_CARD_SUBJECT = (
    SUBJECT_ROW.add_columns(
        SubjectEvaluation.subject_id.label("evaluated"), SubjectEvaluation.score, SubjectEvaluation.grade,
        SubjectEvaluation.model_version, SubjectEvaluation.computed_at, SubjectEvaluation.explanation,
        SubjectEvaluation.risk_class,
        select(WatchSubscription.id)
        .where(WatchSubscription.account_id == bindparam("account_id"), WatchSubscription.subject_id == Subject.id)
        .exists().label("watching"),
    )
    .outerjoin(SubjectEvaluation, SubjectEvaluation.subject_id == Subject.id)
    .where(Subject.id == bindparam("subject_id"))
)
# …and its records (newest first) in the same statement: one row per record, the subject's columns
# repeated (a single row with empty record columns when it has none).
_RECORD_NAMES = tuple(column.name for column in RECORD_COLUMNS)
_CARD_ROWS = (
    _CARD_SUBJECT.add_columns(*(column.label(f"record_{column.name}") for column in RECORD_COLUMNS))
    .outerjoin(CreditRecord, CreditRecord.subject_id == Subject.id)
    .order_by(CreditRecord.decision_date.desc(), CreditRecord.id.desc())
)
_INSERT_AUDIT = insert(AuditEntry.__table__)
_INSERT_CHECK = insert(Check.__table__).returning(Check.__table__.c.id)


def _record(row: Any) -> SimpleNamespace:
    """A record's columns of a card row, under the names `services.lookup` reads them by."""
    values = row._mapping
    return SimpleNamespace(**{name: values[f"record_{name}"] for name in _RECORD_NAMES})


async def chat_card(
    db: Database,
    subject_id: int,
    viewer: Viewer,
    today: dt.date,
    *,
    shown_in: tuple[int, int],
    now: dt.datetime,
    public_grades: bool,
    matter: str | None = None,
) -> ChatCard | None:
    """The subject's card for this viewer as of `today` (rules as `services.lookup.view_subject`),
    its grade (`public_grades`: the setting `evaluation.public_grades`) and watch flag; audited with
    reason "查询", or "逢办必查:<matter>" when `matter` (a key of rules.measures.MATTERS) is given,
    and then, for staff, with the check raised (as `services.checks.view_and_check`). The subject
    becomes the current one of chat `shown_in` = (chat id, user id) at `now`. None when the subject
    is gone or not for this viewer; nothing is written then. Raises nothing."""
    check_it = matter in MATTERS and viewer.is_staff and viewer.account_id is not None
    reason = f"逢办必查:{MATTERS[matter]}" if matter in MATTERS else "查询"
    if db.defers_writes and not check_it:  # a read copy or an outbox: read there, write behind the answer
        async with db.reading() as conn:
            read = await _read_card(conn, subject_id, viewer, today)
        if read is None:
            return None
        row, card = read
        await write_behind(db, AUDIT, card_audit_rows(card, viewer, reason, "chat"))
        await remember_subject(db, shown_in[0], shown_in[1], subject_id, now)
        return _shown(row, card, viewer, public_grades, None)
    async with db.core_transaction() as conn:
        read = await _read_card(conn, subject_id, viewer, today)
        if read is None:
            return None
        row, card = read
        check = None
        if check_it:
            assert matter is not None
            result = measures_answer(card, matter)
            check_id = (await conn.execute(_INSERT_CHECK, {
                "account_id": viewer.account_id, "department_id": viewer.department_id, "subject_id": subject_id,
                "matter": matter, "measures": check_payload(result),
            })).scalar_one()
            check = CheckAnswer(check_id, card.name, matter, result)
        audit = card_audit_rows(card, viewer, reason, "chat")
        await conn.execute(_INSERT_AUDIT, audit[0] if len(audit) == 1 else audit)  # one row: no executemany
        await remember_subject_in(conn, shown_in[0], shown_in[1], subject_id, now)
    return _shown(row, card, viewer, public_grades, check)


async def _read_card(conn: AsyncConnection, subject_id: int, viewer: Viewer, today: dt.date) -> tuple[Any, SubjectCard] | None:
    """The card row (subject, grade, watch flag, records: one statement) and the card; None when the
    subject is gone or not for this viewer."""
    rows = (await conn.execute(_CARD_ROWS, {"subject_id": subject_id, "account_id": viewer.account_id})).all()
    if not rows:
        return None
    records = [_record(r) for r in rows if r.record_id is not None]
    card = (await load_cards(conn, [subject_id], viewer, today, rows={subject_id: rows[0]},
                             read_records={subject_id: records})).get(subject_id)
    return None if card is None else (rows[0], card)


def _shown(row: Any, card: SubjectCard, viewer: Viewer, public_grades: bool, check: CheckAnswer | None) -> ChatCard:
    grade = grade_view(row, viewer, public_grades) if row.evaluated is not None else None
    return ChatCard(card, grade, bool(row.watching) and viewer.role == "official", check)
