"""Use cases of the joint rewards-and-punishments port (联合奖惩应用端口): look a subject up, show its
credit file, raise a check (发起 → 响应), take the feedback (反馈), check a whole list at once.

They run the chat's rules unchanged: the ambiguity policy of the name index (a subject is named only
when the resolver says it is clearly the one meant), `load_card`/`load_cards` for visibility,
masking and the look-up audit row, `services.checks.measures_answer` for the answer, and
`services.checks.record_feedback` for the feedback. What the port adds is written beside them: the
department's case number and operator (`ApiCheck`) and an audit row naming the key, department,
operator and matter.

Checks are the port's hot path (issue 15: 300 a second on two cores): one check and a batch of
1,000 run the same few set-based statements on a Core connection, in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models import ApiCheck, AuditEntry, Check, Subject
from db.outbox import AUDIT, write_behind
from db.session import Database
from nlp.message_names import mask_id_numbers
from rules.masking import id_match_key, scrub
from rules.measures import MATTERS, ListingFact, Measure, MeasureAnswer
from services.apikeys import Principal
from services.checks import FEEDBACK, check_payload, measures_answer, record_feedback
from services.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, TOO_LARGE, Refusal
from services.lookup import (
    SUBJECTS_BY_ID,
    SubjectCard,
    Viewer,
    card_audit_rows,
    load_card,
    load_cards,
)
from services.runtime import Services
from services.subject_query import Reading, read_texts
from services.subjects import SubjectBrief

MAX_BATCH = 1000
GONE = "该主体已不在档案中"


def viewer_for(principal: Principal, mask_person_names: bool = True, mask_addresses: bool = True) -> Viewer:
    """A key sees what an official of its department sees in the chat."""
    return Viewer(
        account_id=principal.account_id, role="official", department_id=principal.department_id,
        mask_person_names=mask_person_names, mask_addresses=mask_addresses,
    )


# -- look-up -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    subject_id: int
    brief: SubjectBrief


@dataclass
class Resolution:
    """clear: `subject` is the one meant; ambiguous: pick from `candidates`; none: `candidates` are
    the nearest names (maybe empty). `note` says why in Chinese (a wrong check character ...)."""

    status: str
    subject: Found | None = None
    candidates: list[Found] = field(default_factory=list)
    note: str | None = None


ID_SCOPE = "该接口密钥无权按身份证号查询自然人（需要 idquery 权限）。"
# The same refusal as one line of a batch: the other lines are still answered.
ID_SCOPE_LINE = "此行是身份证号码，该接口密钥无权按身份证号查询自然人（需要 idquery 权限），此行未核查"


def _port_view(reading: Reading, briefs: dict[int, SubjectBrief], *, per_line: bool = False) -> Resolution:
    """The port's answer for one text from the shared reading (services.subject_query): clear only
    when exactly one subject is clearly meant; a choice or a suggestion is `ambiguous` (409 for a
    check), a contradiction or nothing found is `none` (404), each with its candidates.
    Raises Refusal (FORBIDDEN) for an ID number the key may not search; with `per_line` (a batch)
    that line is answered `none` with the reason instead, so one line does not refuse the others."""
    asked = reading.asked
    if any(a.status == "refused" for a in asked):
        if per_line:
            return Resolution("none", note=ID_SCOPE_LINE)
        raise Refusal(ID_SCOPE, code=FORBIDDEN)
    if not asked:
        return Resolution("none", note="没有找到主体名称或代码")
    if len(asked) > 1:
        ids = [i for a in asked for i in ((a.subject_id,) if a.subject_id else a.candidates[:2])]
        typed = "、".join(f"“{a.typed}”" for a in asked if a.typed)
        return Resolution("ambiguous", candidates=_found(dict.fromkeys(ids), briefs),
                          note=f"提交内容里有 {len(asked)} 个主体{('（' + typed + '）') if typed else ''}，一次只能核查一个，请分别提交")
    a = asked[0]
    if a.status == "clear" and a.subject_id in briefs:
        return Resolution("clear", Found(a.subject_id, briefs[a.subject_id]), note=a.message or None)
    found = _found(a.candidates, briefs)
    if a.status == "clear":
        return Resolution("none", note=GONE)
    if a.status == "choose":
        return Resolution("ambiguous", candidates=found, note=f"有多个与“{a.typed}”相近的主体，请用统一社会信用代码指明")
    if a.status == "suggest":
        return Resolution("ambiguous", candidates=found, note=a.message.rstrip("：:") + "候选中的主体")
    note = a.message.split("。")[0] if a.status in ("none", "loading") else a.message.rstrip("：:")
    return Resolution("none", candidates=found, note=note)


def _found(ids: object, briefs: dict[int, SubjectBrief]) -> list[Found]:
    return [Found(i, briefs[i]) for i in ids if i in briefs]  # type: ignore[attr-defined]


async def _resolve_many(
    conn: AsyncConnection, svc: Services, viewer: Viewer, texts: list[str], *, allow_id_number: bool,
) -> tuple[list[Resolution], dict[int, Any]]:
    """What each text means by the shared use case (services.subject_query: the same answers as the
    chat's), then the subjects named or offered read in one query on this connection. Also returns
    the subjects' rows (`SUBJECT_ROW`), which the cards of a check then need not read again."""
    readings = await read_texts(svc, viewer, texts, id_numbers=allow_id_number)
    return await _views(conn, readings)


async def _views(
    conn: AsyncConnection, readings: list[Reading], *, per_line: bool = False
) -> tuple[list[Resolution], dict[int, Any]]:
    """The port's answers for readings, with every subject named or offered read in one query;
    `per_line` as `_port_view`."""
    wanted = {i for r in readings for a in r.asked for i in (*((a.subject_id,) if a.subject_id else ()), *a.candidates)}
    rows: dict[int, Any] = {}
    if wanted:
        rows = {row.id: row for row in await conn.execute(SUBJECTS_BY_ID, {"ids": sorted(wanted)})}
    briefs = {sid: SubjectBrief(r.name, r.kind, r.uscc, r.id_masked, r.division_short) for sid, r in rows.items()}
    return [_port_view(r, briefs, per_line=per_line) for r in readings], rows


async def resolve_subject(svc: Services, viewer: Viewer, text: str, *, allow_id_number: bool) -> Resolution:
    """What `text` (a name, short name, USCC, old code or ID number) means, by the chat's use case.

    Raises Refusal (FORBIDDEN) for an ID number when the key may not search persons."""
    async with svc.db.reading() as conn:  # a read: the read copy serves it when there is one
        resolutions, _rows = await _resolve_many(conn, svc, viewer, [text], allow_id_number=allow_id_number)
    return resolutions[0]


def _audit_row(principal: Principal, action: str, subject_id: int | None, reason: str, **detail: Any) -> dict[str, Any]:
    """The port's audit row (key, department and whatever the action adds) as plain values."""
    return {
        "account_id": principal.account_id, "role": "official", "action": action, "subject_id": subject_id,
        "reason": reason[:64],
        "detail": {
            "channel": "api", "key": principal.prefix, "key_name": principal.name,
            "department": principal.department_code,
            **{k: v for k, v in detail.items() if v is not None},
        },
    }


def _audit(
    s: AsyncSession, principal: Principal, action: str, subject_id: int | None, reason: str, **detail: Any
) -> None:
    s.add(AuditEntry(**_audit_row(principal, action, subject_id, reason, **detail)))


async def audit_lookup(db: Database, principal: Principal, resolution: Resolution, operator: str | None) -> None:
    """A look-up that named a subject is a read of that subject: it goes to the audit trail (behind
    the answer when the process has an outbox, db/outbox.py)."""
    subject_id = resolution.subject.subject_id if resolution.subject else None
    await write_behind(db, AUDIT, [_audit_row(principal, "api_lookup", subject_id, "接口查询", status=resolution.status,
                                              operator=operator, candidates=len(resolution.candidates))])


# -- credit file -------------------------------------------------------------------------------------


async def subject_id_by_code(db: Database, uscc: str) -> int | None:
    async with db.read(copy=True) as conn:  # the read copy, the primary while it cannot be reached
        return await conn.scalar(select(Subject.id).where(Subject.uscc == uscc))


async def subject_id_by_id_number(db: Database, id_number: str, id_key: str) -> int | None:
    async with db.read(copy=True) as conn:
        return await conn.scalar(select(Subject.id).where(Subject.id_hash == id_match_key(id_number, id_key)))


async def credit_file(
    db: Database, principal: Principal, viewer: Viewer, subject_id: int, today: dt.date, operator: str | None
) -> SubjectCard | None:
    """The card as an official of the key's department sees it; audited twice in one transaction:
    the shared look-up row (`load_card`) and the port's row with key and operator. With a read copy
    or an outbox the card is read from the copy and both rows are written behind the answer."""
    if not db.defers_writes:
        async with db.transaction() as s:
            card = await load_card(s, subject_id, viewer, today, reason="接口查询", channel="api")
            if card is not None:
                _audit(s, principal, "api_credit_file", subject_id, "接口查询", operator=operator)
            return card
    async with db.reading() as conn:
        card = (await load_cards(conn, [subject_id], viewer, today)).get(subject_id)
    if card is not None:
        await write_behind(db, AUDIT, [*card_audit_rows(card, viewer, "接口查询", "api"),
                                       _audit_row(principal, "api_credit_file", subject_id, "接口查询", operator=operator)])
    return card


# -- 逢办必查: 发起 → 响应 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    check_id: int
    subject_id: int
    subject_name: str
    kind: str
    code: str
    matter: str
    answer: MeasureAnswer
    listings: tuple[ListingFact, ...]

    @property
    def measures(self) -> tuple[Measure, ...]:
        return self.answer.measures


# Core inserts, built once: no ORM bookkeeping for rows nobody reads back.
_INSERT_CHECK = insert(Check.__table__).returning(Check.__table__.c.id, sort_by_parameter_order=True)
_INSERT_API_CHECK = insert(ApiCheck.__table__)
_INSERT_AUDIT = insert(AuditEntry.__table__)


async def _checks_in(
    conn: AsyncConnection,
    principal: Principal,
    viewer: Viewer,
    subject_ids: list[int],
    matter: str,
    today: dt.date,
    case_number: str | None,
    operator: str | None,
    batch: bool,
    rows: dict[int, Any] | None = None,
) -> dict[int, CheckResult]:
    """A check on each subject inside the caller's transaction, with a fixed number of statements
    whatever their number: the cards set-based (`load_cards`), then one insert each for the checks,
    the port's rows and the audit rows (the shared look-up row and the port's row per subject).
    Subjects no longer in the archive get no check and are absent from the answer."""
    reason = f"逢办必查:{MATTERS[matter]}"
    cards = await load_cards(conn, subject_ids, viewer, today, rows)
    order = [sid for sid in dict.fromkeys(subject_ids) if sid in cards]
    if not order:
        return {}
    answers = {sid: measures_answer(cards[sid], matter) for sid in order}
    check_ids = (await conn.execute(
        _INSERT_CHECK,
        [{"account_id": principal.account_id, "department_id": principal.department_id, "subject_id": sid,
          "matter": matter, "measures": check_payload(answers[sid])}
         for sid in order],
    )).scalars().all()
    await conn.execute(_INSERT_API_CHECK, [
        {"check_id": cid, "api_key_id": principal.key_id, "case_number": case_number, "operator": operator,
         "batch": batch} for cid in check_ids
    ])
    audit = []
    for sid, cid in zip(order, check_ids, strict=True):
        audit += card_audit_rows(cards[sid], viewer, reason, "api")
        audit.append(_audit_row(principal, "api_check", sid, reason, matter=matter, case_number=case_number,
                                operator=operator, check_id=cid, batch=batch or None))
    await conn.execute(_INSERT_AUDIT, audit)
    return {
        sid: CheckResult(cid, sid, cards[sid].name, cards[sid].kind, cards[sid].code, matter, answers[sid],
                         cards[sid].listings)
        for sid, cid in zip(order, check_ids, strict=True)
    }


def _require_check_rights(viewer: Viewer, matter: str) -> None:
    """Re-checked here, whatever the caller did: only staff check, and only for a known matter."""
    if not viewer.is_staff or viewer.account_id is None:
        raise Refusal("逢办必查仅限办事人员使用。", code=FORBIDDEN)
    if matter not in MATTERS:
        raise Refusal(f"未知的办理事项“{matter}”，可选：{'、'.join(MATTERS)}", code=INVALID)


async def raise_api_check(
    db: Database,
    principal: Principal,
    viewer: Viewer,
    subject_id: int,
    matter: str,
    today: dt.date,
    case_number: str | None,
    operator: str | None,
) -> CheckResult:
    """One check in one transaction: the look-up, the check, the port's row and audit rows."""
    _require_check_rights(viewer, matter)
    async with db.core_transaction() as conn:
        result = await _checks_in(conn, principal, viewer, [subject_id], matter, today, case_number, operator, False)
    if subject_id not in result:
        raise Refusal("该主体已不在档案中。", code=NOT_FOUND)
    return result[subject_id]


@dataclass
class BatchLine:
    """One input line: `result` when the subject was clearly identified, else the resolution."""

    index: int
    query: str
    resolution: Resolution
    result: CheckResult | None = None


GONE = "该主体已不在档案中"
# Runs last inside the checks' transaction, with its lines: the port stores the answer to an
# Idempotency-Key there, so the checks and that answer commit together (services/api_idempotency.py).
Within = Callable[[AsyncConnection, list[BatchLine]], Awaitable[None]]


async def _resolve_and_check(
    svc: Services,
    principal: Principal,
    viewer: Viewer,
    queries: list[str],
    matter: str,
    today: dt.date,
    *,
    allow_id_number: bool,
    case_number: str | None,
    operator: str | None,
    batch: bool,
    within: Within | None = None,
) -> list[BatchLine]:
    _require_check_rights(viewer, matter)
    readings = await read_texts(svc, viewer, queries, id_numbers=allow_id_number)  # off the transaction
    async with svc.db.core_transaction() as conn:
        resolutions, rows = await _views(conn, readings, per_line=batch)
        # A line is echoed with any ID number in it masked (also in the XLSX column 提交内容).
        lines = [BatchLine(i, mask_id_numbers(q), r) for i, (q, r) in enumerate(zip(queries, resolutions, strict=True))]
        clear = [line.resolution.subject.subject_id for line in lines if line.resolution.subject is not None]
        results = await _checks_in(conn, principal, viewer, clear, matter, today, case_number, operator, batch, rows)
        for line in lines:
            if line.resolution.subject is not None:
                line.result = results.get(line.resolution.subject.subject_id)
                if line.result is None:  # removed between the index and the card
                    line.resolution = Resolution("none", note=GONE)
        if within is not None:
            await within(conn, lines)
    return lines


async def check_subject(
    svc: Services,
    principal: Principal,
    viewer: Viewer,
    query: str,
    matter: str,
    today: dt.date,
    *,
    allow_id_number: bool,
    case_number: str | None,
    operator: str | None,
    within: Within | None = None,
) -> BatchLine:
    """发起 → 响应 for what `query` names, in one transaction: resolve it (the chat's ambiguity
    policy), and when it clearly names one subject, check it. `result` is None when it did not (the
    resolution says why and offers candidates). Raises Refusal as `batch_check`."""
    return (await _resolve_and_check(
        svc, principal, viewer, [query], matter, today,
        allow_id_number=allow_id_number, case_number=case_number, operator=operator, batch=False, within=within,
    ))[0]


async def batch_check(
    svc: Services,
    principal: Principal,
    viewer: Viewer,
    queries: list[str],
    matter: str,
    today: dt.date,
    *,
    allow_id_number: bool,
    case_number: str | None,
    operator: str | None,
    within: Within | None = None,
) -> list[BatchLine]:
    """Resolve every line; each clearly identified subject gets a check of its own (audited as one),
    once however many lines name it: those lines share the check and its answer. Lines not
    identified get their candidates and no check.

    Set-based, in one transaction: names through the in-memory index, every code and brief in at
    most two queries, the cards in three, and the checks, the port's rows and the audit rows in one
    insert each. Raises Refusal: not staff, unknown matter, too many lines. An ID number without the
    idquery scope is that line's `none` with the reason (ID_SCOPE_LINE), not the batch's refusal."""
    if len(queries) > MAX_BATCH:
        raise Refusal(f"一次最多核查 {MAX_BATCH} 个主体，本次 {len(queries)} 个。", code=TOO_LARGE)
    return await _resolve_and_check(
        svc, principal, viewer, queries, matter, today,
        allow_id_number=allow_id_number, case_number=case_number, operator=operator, batch=True, within=within,
    )


# -- 反馈 ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackResult:
    check_id: int
    outcome: str
    note: str | None
    at: dt.datetime | None
    repeated: bool


async def _own_check(db: Database, principal: Principal, check_id: int) -> Check:
    async with db.sessions() as s:
        check = await s.get(Check, check_id)
    if check is None or check.account_id != principal.account_id:
        raise Refusal("找不到这次核查，或它不是由本接入系统发起的。", code=NOT_FOUND)
    return check


async def api_feedback(
    db: Database, principal: Principal, viewer: Viewer, check_id: int, outcome: str, note: str | None
) -> FeedbackResult:
    """Feedback once: the same feedback again is answered as before (nothing doubled); a different
    one after the first is refused with 409."""
    if outcome not in FEEDBACK:
        raise Refusal(f"未知的反馈结果“{outcome}”，可选：{'、'.join(FEEDBACK)}", code=INVALID)
    # The note is stored scrubbed (services.checks.record_feedback): the answer and the comparison
    # with a retry use that stored form, so a phone in the note is never echoed and a retry matches.
    note = scrub((note or "").strip()) or None
    check = await _own_check(db, principal, check_id)
    if check.feedback is None:
        try:
            check = await record_feedback(db, viewer, check_id, outcome, note)
            async with db.transaction() as s:
                _audit(s, principal, "api_feedback", check.subject_id, "逢办必查反馈", check_id=check_id,
                       outcome=outcome)
            return FeedbackResult(check_id, outcome, note, check.feedback_at, False)
        except Refusal:
            check = await _own_check(db, principal, check_id)  # another request was first
    if check.feedback == outcome and (check.feedback_note or None) == note:
        return FeedbackResult(check_id, outcome, check.feedback_note, check.feedback_at, True)
    raise Refusal(
        f"这次核查已反馈过（{FEEDBACK[check.feedback or 'other']}），不能改为其他结果。",
        code=CONFLICT, details={"recorded_outcome": check.feedback},
    )


# -- statistics by source ----------------------------------------------------------------------------


async def check_counts_by_source(db: Database) -> dict[str, int]:
    """{"chat": n, "api": m}: checks raised in a chat and through the port (those with an ApiCheck)."""
    async with db.sessions() as s:
        total = await s.scalar(select(func.count(Check.id))) or 0
        api = await s.scalar(select(func.count(ApiCheck.check_id))) or 0
    return {"chat": int(total) - int(api), "api": int(api)}
