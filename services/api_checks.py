"""Use cases of the joint rewards-and-punishments port (联合奖惩应用端口): look a subject up, show its
credit file, raise a check (发起 → 响应), take the feedback (反馈), check a whole list at once.

They run the chat's rules unchanged: the ambiguity policy of the name index (a subject is named only
when the resolver says it is clearly the one meant), `load_card` for visibility, masking and the
look-up audit row, `rules.measures.measures_for` for the answer, and `services.checks.record_feedback`
for the feedback. What the port adds is written beside them: the department's case number and
operator (`ApiCheck`) and an audit row naming the key, department, operator and matter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApiCheck, AuditEntry, Check, Division, Subject
from db.session import Database
from nlp.codes_in_text import find_codes
from nlp.intent import parse
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex
from rules.masking import id_match_key
from rules.measures import MATTERS, ListingFact, Measure, measures_for
from services.apikeys import Principal
from services.checks import FEEDBACK, record_feedback
from services.errors import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, TOO_LARGE, Refusal
from services.lookup import SubjectCard, Viewer, load_card
from services.subjects import SubjectBrief, subject_briefs

MAX_BATCH = 1000
# Checks of one batch running at once on PostgreSQL (the engine's pool holds 10 connections).
BATCH_PARALLEL = 4



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


async def _found(db: Database, ids: list[int]) -> list[Found]:
    briefs = await subject_briefs(db, ids)
    return [Found(i, briefs[i]) for i in ids if i in briefs]


async def _found_by_uscc(db: Database, usccs: list[str]) -> dict[str, Found]:
    """Subjects by USCC with their briefs, one query for many codes (from the database, not the
    index: every worker answers the same at once after a push)."""
    if not usccs:
        return {}
    async with db.sessions() as s:
        rows = await s.execute(
            select(Subject.id, Subject.uscc, Subject.name, Subject.kind, Subject.id_masked, Division.short_name)
            .outerjoin(Division, Division.code == Subject.division_code)
            .where(Subject.uscc.in_(sorted(set(usccs))))
        )
        return {uscc: Found(sid, SubjectBrief(name, kind, uscc, masked, division))
                for sid, uscc, name, kind, masked, division in rows}


async def resolve_subject(
    db: Database,
    index: NameIndex,
    lexicon: Lexicon,
    text: str,
    *,
    id_key: str,
    allow_id_number: bool,
    known: dict[str, Found] | None = None,
) -> Resolution:
    """What `text` (a name, short name, USCC or ID number) means, by the chat's ambiguity policy.

    `known`: subjects already loaded by USCC (a batch loads all its codes in one query).
    Raises Refusal (FORBIDDEN) for an ID number when the key may not search persons."""
    text = (text or "").strip()
    if not text:
        return Resolution("none", note="查询内容为空")
    usccs, ids, _rest = find_codes(text)
    for mention in usccs:
        if mention.valid:
            found = known.get(mention.value) if known is not None else (
                await _found_by_uscc(db, [mention.value])).get(mention.value)
            if found is None:
                return Resolution("none", note=f"档案中没有统一社会信用代码为 {mention.value} 的主体")
            return Resolution("clear", found)
        near = index.near_uscc(mention.value) if mention.value and len(mention.value) == 18 else []
        return Resolution(
            "none", candidates=await _found(db, [e.subject_id for e in near[:5]]),
            note=f"统一社会信用代码有误：{mention.error}",
        )
    for mention in ids:
        if not allow_id_number:
            raise Refusal("该接口密钥无权按身份证号查询自然人（需要 idquery 权限）。", code=FORBIDDEN)
        if not mention.valid:
            return Resolution("none", note=f"身份证号码有误：{mention.error}")
        async with db.sessions() as s:
            sid = await s.scalar(select(Subject.id).where(Subject.id_hash == id_match_key(mention.value, id_key)))
        if sid is None:
            return Resolution("none", note="档案中没有该身份证号对应的自然人")
        return Resolution("clear", (await _found(db, [sid]))[0])
    query = parse(text, lexicon)
    name = query.names[0] if query.names else text
    result = index.resolve(name, division_code=query.division_code)
    found = await _found(db, [c.subject_id for c in result.candidates])
    if result.status == "clear" and found:
        return Resolution("clear", found[0])
    if result.status == "ambiguous":
        return Resolution("ambiguous", candidates=found, note=f"有多个与“{name}”相近的主体，请用统一社会信用代码指明")
    return Resolution("none", candidates=found, note=f"没有找到与“{name}”相符的主体")


def _audit(
    s: AsyncSession, principal: Principal, action: str, subject_id: int | None, reason: str, **detail: Any
) -> None:
    s.add(
        AuditEntry(
            account_id=principal.account_id, role="official", action=action, subject_id=subject_id,
            reason=reason[:64],
            detail={
                "channel": "api", "key": principal.prefix, "key_name": principal.name,
                "department": principal.department_code,
                **{k: v for k, v in detail.items() if v is not None},
            },
        )
    )


async def audit_lookup(db: Database, principal: Principal, resolution: Resolution, operator: str | None) -> None:
    """A look-up that named a subject is a read of that subject: it goes to the audit trail."""
    async with db.transaction() as s:
        subject_id = resolution.subject.subject_id if resolution.subject else None
        _audit(s, principal, "api_lookup", subject_id, "接口查询", status=resolution.status, operator=operator,
               candidates=len(resolution.candidates))


# -- credit file -------------------------------------------------------------------------------------


async def subject_id_by_code(db: Database, uscc: str) -> int | None:
    found = (await _found_by_uscc(db, [uscc])).get(uscc)
    return found.subject_id if found else None


async def subject_id_by_id_number(db: Database, id_number: str, id_key: str) -> int | None:
    async with db.sessions() as s:
        return await s.scalar(select(Subject.id).where(Subject.id_hash == id_match_key(id_number, id_key)))


async def credit_file(
    db: Database, principal: Principal, viewer: Viewer, subject_id: int, today: dt.date, operator: str | None
) -> SubjectCard | None:
    """The card as an official of the key's department sees it; audited twice in one transaction:
    the shared look-up row (`load_card`) and the port's row with key and operator."""
    async with db.transaction() as s:
        card = await load_card(s, subject_id, viewer, today, reason="接口查询", channel="api")
        if card is not None:
            _audit(s, principal, "api_credit_file", subject_id, "接口查询", operator=operator)
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
    measures: tuple[Measure, ...]
    listings: tuple[ListingFact, ...]


async def _check_in(
    s: AsyncSession,
    principal: Principal,
    viewer: Viewer,
    subject_id: int,
    matter: str,
    today: dt.date,
    case_number: str | None,
    operator: str | None,
    batch: bool,
) -> CheckResult:
    card = await load_card(s, subject_id, viewer, today, reason=f"逢办必查:{MATTERS[matter]}", channel="api")
    if card is None:
        raise Refusal("该主体已不在档案中。", code=NOT_FOUND)
    measures = tuple(measures_for(card.kind, card.listings, matter))
    check = Check(
        account_id=principal.account_id, department_id=principal.department_id, subject_id=subject_id,
        matter=matter, measures={"items": [{"text": m.text, "reason": m.reason} for m in measures]},
    )
    s.add(check)
    await s.flush()
    s.add(ApiCheck(check_id=check.id, api_key_id=principal.key_id, case_number=case_number, operator=operator,
                   batch=batch))
    _audit(s, principal, "api_check", subject_id, f"逢办必查:{MATTERS[matter]}", matter=matter,
           case_number=case_number, operator=operator, check_id=check.id, batch=batch or None)
    return CheckResult(check.id, subject_id, card.name, card.kind, card.code, matter, measures, card.listings)


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
    async with db.transaction() as s:
        return await _check_in(s, principal, viewer, subject_id, matter, today, case_number, operator, False)


@dataclass
class BatchLine:
    """One input line: `result` when the subject was clearly identified, else the resolution."""

    index: int
    query: str
    resolution: Resolution
    result: CheckResult | None = None


async def batch_check(
    db: Database,
    index: NameIndex,
    lexicon: Lexicon,
    principal: Principal,
    viewer: Viewer,
    queries: list[str],
    matter: str,
    today: dt.date,
    *,
    id_key: str,
    allow_id_number: bool,
    case_number: str | None,
    operator: str | None,
) -> list[BatchLine]:
    """Resolve every line; each clearly identified subject gets a check of its own (audited as one),
    once however many lines name it: those lines share the check and its answer. Lines not
    identified get their candidates and no check.

    The codes of the whole batch are loaded in one query. The checks are independent of each
    other (one transaction each, as in the chat), so on PostgreSQL up to `BATCH_PARALLEL` run at
    once on the connection pool; SQLite has one writer and runs them one after the other."""
    _require_check_rights(viewer, matter)
    if len(queries) > MAX_BATCH:
        raise Refusal(f"一次最多核查 {MAX_BATCH} 个主体，本次 {len(queries)} 个。", code=TOO_LARGE)
    codes = [m.value for q in queries for m in find_codes(q or "")[0] if m.valid]
    known = await _found_by_uscc(db, codes)
    lines = []
    for i, q in enumerate(queries):
        lines.append(BatchLine(i, q, await resolve_subject(
            db, index, lexicon, q, id_key=id_key, allow_id_number=allow_id_number, known=known)))
    gate = asyncio.Semaphore(BATCH_PARALLEL if db.dialect == "postgresql" else 1)

    async def check(line: BatchLine) -> None:
        assert line.resolution.subject is not None
        async with gate, db.transaction() as s:
            line.result = await _check_in(
                s, principal, viewer, line.resolution.subject.subject_id, matter, today, case_number, operator, True
            )

    # A subject named on several lines (twice the same code, its code and its name) is one check:
    # the first such line raises it and every line of that subject answers with it.
    first: dict[int, BatchLine] = {}
    for line in lines:
        if line.resolution.subject is not None:
            first.setdefault(line.resolution.subject.subject_id, line)
    await asyncio.gather(*(check(line) for line in first.values()))
    for line in lines:
        if line.resolution.subject is not None:
            line.result = first[line.resolution.subject.subject_id].result
    return lines


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
    note = (note or "").strip() or None
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
        return FeedbackResult(check_id, outcome, note, check.feedback_at, True)
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
