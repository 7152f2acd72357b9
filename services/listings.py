"""Listing under 国办发〔2020〕49号: propose a list entry of a specific list type with prior notice
(事前告知), let it take effect when the objection period ends without an objection, issue the numbered
列入决定书, and let it expire by its own period.

A department may propose only a list type it may decide (认定): the catalogue names the department
roles of each type (rules.catalogue.ListType.authority_roles, the region file names each
department's role), the type must be proposable here and its basis confirmed. The 事前告知书 names the
list, its standard and basis, its measures, period and removal conditions; the 列入决定书 adds 事由,
validity, 移出条件和程序 and 救济途径 (复议, 诉讼).

The proposed entry is a CreditRecord from the first day, status "proposed": rules.visibility keeps it
off every public view and out of the measures, while officials see it marked 拟列入. Taking effect is a
status change plus the decision date, so the publication period counts from the day it took effect.

`issue_decision` is the one place a listing decision is issued; hooks registered with
`on_decision_issued` run inside its transaction (a 信用修复告知书 served with the decision: 两书同达).
Document numbers come from `services.numbering`, the chats to tell from `services.recipients`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.catalogue import current_catalogue, current_region
from db.models import (
    AuditEntry,
    CreditRecord,
    Department,
    Listing,
    Objection,
    Subject,
)
from db.regions import default_region
from db.session import Database
from rules import lifecycle
from rules.catalogue import Catalogue, ListType, citations_text
from rules.categories import BLACKLIST
from rules.measures import is_person
from rules.publication import add_months, edition_for, publication_end
from rules.roles import Viewer
from rules.workcal import WorkCalendar
from services import notices
from services.errors import Refusal
from services.evaluation import refresh_subjects
from services.issued_documents import Holder, Seal, new_seal, register_document
from services.numbering import next_number
from services.recipients import subject_chats
from services.repair_documents import after_listing

NOTICE_KIND = "告"
DECISION_KIND = "决"
NOTICE_RECIPIENT = "被告知主体"  # whom a notice is issued to, as a check of it tells
DECISION_RECIPIENT = "被列入主体"
REPAIR_HINT = (
    "列入名单后，符合名单规定的提前移出或信用修复条件的，可通过本平台（发送 /repair）或向列入部门申请，"
    "并作出公开信用承诺。"
)
# The general time limits of 复议 and 诉讼; the catalogue cites them (xzfy2023, xzss2017).
GENERAL_RELIEF = "申请行政复议的，应当自知道该决定之日起六十日内提出；直接提起行政诉讼的，应当自知道该决定之日起六个月内提出"
GENERAL_RELIEF_SOURCES = (("xzfy2023", "第二十条"), ("xzss2017", "第四十六条"))


@dataclass(frozen=True)
class ListedMeasure:
    text: str
    basis: str
    implementer: str
    confirmed: bool


@dataclass(frozen=True)
class ListingTerms:
    """What both documents say of the list type: name, standard, basis, measures, period, removal."""

    list_type: str
    list_name: str
    standard: str
    basis: str
    measures: tuple[ListedMeasure, ...]
    period: str
    period_months: int | None
    removal: str
    removal_basis: str
    relief: str


@dataclass(frozen=True)
class NoticeData:
    """Everything a 事前告知书 says; rendered to PDF outside the db layer."""

    number: str
    subject_name: str
    subject_kind: str
    code_label: str
    code: str
    department: str
    basis: str
    reasons: str
    measures: tuple[str, ...]
    notice_date: dt.date
    objection_days: int
    deadline: dt.date
    deadline_provisional: bool
    repair_hint: str = REPAIR_HINT
    seal: Seal | None = None  # number, verification code and QR payload to print
    terms: ListingTerms | None = None


@dataclass(frozen=True)
class DecisionData:
    """Everything a 列入决定书 says (事由, 依据, measures, validity, 移出条件和程序, 救济途径)."""

    number: str
    notice_number: str
    subject_name: str
    subject_kind: str
    code_label: str
    code: str
    department: str
    reasons: str
    terms: ListingTerms
    decision_date: dt.date
    effective_on: dt.date
    expires_on: dt.date | None
    seal: Seal | None = None


@dataclass(frozen=True)
class ProposedListing:
    listing_id: int
    record_id: int
    notice: NoticeData
    pdf: bytes
    sha256: str
    chats: tuple[int, ...]


@dataclass(frozen=True)
class DecisionIssuer:
    """How a 列入决定书 is rendered and numbered: the channel layer passes it down (render/ is above
    services/)."""

    render: Callable[[DecisionData], bytes]
    prefix: str = ""
    public_url: str = ""
    # privacy.id_hash_key: when set, the decision is put in the notices outbox for the subject's
    # chats in the same transaction (the repeating notice job sends it, services/notices.py).
    notice_key: str = ""


@dataclass(frozen=True)
class IssuedDecision:
    listing_id: int
    record_id: int
    subject_id: int
    decision: DecisionData
    pdf: bytes
    sha256: str


DecisionHook = Callable[[AsyncSession, IssuedDecision], Awaitable[None]]
_DECISION_HOOKS: list[DecisionHook] = []


def on_decision_issued(hook: DecisionHook) -> None:
    """Register `hook(session, issued)`, run inside the transaction that issues every 列入决定书 (for a
    document that must be served with it). A hook that raises rolls the decision back."""
    if hook not in _DECISION_HOOKS:
        _DECISION_HOOKS.append(hook)


def department_role(dept: Department) -> str | None:
    """The department's role in the region file (labour, finance, court …); None when the region
    file does not name it."""
    for info in default_region(current_region()).departments:
        if info.code == dept.code:
            return info.role
    return None


def proposable_types(catalogue: Catalogue, role: str | None) -> tuple[ListType, ...]:
    """The list types a department of `role` may propose here: its own (认定), proposable, confirmed."""
    if role is None:
        return ()
    return tuple(t for t in catalogue.decidable_by(role) if t.proposable and t.confirmed and t.category == BLACKLIST)


def check_list_type(catalogue: Catalogue, dept: Department, key: str) -> ListType:
    """The list type `key` if this department may propose it. Raises Refusal saying why not: unknown;
    another department's list (49号: a list is decided by the department the law names); decided
    elsewhere (courts); basis not confirmed."""
    t = catalogue.list_type(key)
    if t is None or t.category != BLACKLIST:
        raise Refusal("未知的名单类型，请从本部门可认定的名单中选择。")
    role = department_role(dept)
    if role not in t.authority_roles:
        raise Refusal(f"{dept.name}不是{t.name}的认定部门（认定部门：{t.authority}），不能发起列入。")
    if not t.proposable:
        raise Refusal(f"{t.name}不经本平台发起列入（由{t.authority}依其程序决定）。")
    if not t.confirmed:
        raise Refusal(f"{t.name}的认定依据尚未核实（{t.note or '见失信惩戒目录'}），暂不能通过本平台发起列入。")
    return t


def listing_period(t: ListType, months: int | None) -> int | None:
    """The validity in months: the list's fixed period, or `months` within its range. Raises Refusal."""
    if t.period_months is not None:
        return t.period_months
    if t.period_min_months is None and t.period_max_months is None:
        return None
    low, high = t.period_min_months or 1, t.period_max_months or 120
    if months is None or not low <= months <= high:
        raise Refusal(f"{t.name}的列入期限应为 {low} 至 {high} 个月（{t.period}），请填写本案确定的期限。")
    return months


def listing_terms(catalogue: Catalogue, t: ListType, subject_kind: str, months: int | None) -> ListingTerms:
    person = is_person(subject_kind)
    measures = tuple(
        ListedMeasure(m.text, citations_text(m.basis), m.implementer, m.confirmed and all(c.confirmed for c in m.basis))
        for m in catalogue.measures_of(t.key)
        if not (person and "subject" not in m.reaches) and not (m.subject_kinds and subject_kind not in m.subject_kinds)
    )
    period = t.period if months is None or t.period_months else f"{months}个月（{t.period}）"
    relief_basis = [catalogue.sources[s].label + a for s, a in GENERAL_RELIEF_SOURCES if s in catalogue.sources]
    relief = (t.relief or "对本决定不服的，可以依法申请行政复议或者提起行政诉讼。") + GENERAL_RELIEF + (
        f"（{'、'.join(relief_basis)}）" if relief_basis else ""
    )
    return ListingTerms(
        list_type=t.key, list_name=t.name, standard=t.standard,
        basis=t.basis_text, measures=measures, period=period, period_months=months, removal=t.removal,
        removal_basis=citations_text(t.removal_basis), relief=relief,
    )


async def proposable_for(db: Database, proposer: Viewer) -> tuple[ListType, ...]:
    """The list types this official's department may propose (for /propose's buttons). Raises
    Refusal for anyone but an official of a department, or a department that decides no list here."""
    async with db.transaction() as s:
        dept = await _department(s, proposer, None)
    types = proposable_types(current_catalogue(), department_role(dept))
    if not types:
        decided = [t for t in current_catalogue().decidable_by(department_role(dept) or "") if t.category == BLACKLIST]
        why = "；".join(f"{t.name}：{'由' + t.authority + '依其程序决定' if not t.proposable else '认定依据尚未核实'}" for t in decided)
        raise Refusal(f"{dept.name}没有可在本平台发起列入的名单类型" + (f"（{why}）" if why else "（本部门不是任何名单的认定部门）") + "。")
    return types


async def department_types(db: Database, dept_code: str) -> tuple[ListType, ...]:
    """For the command line: the list types department `dept_code` may propose. Raises Refusal."""
    async with db.transaction() as s:
        dept = await _department(s, None, dept_code)
    return proposable_types(current_catalogue(), department_role(dept))


def preview_terms(list_type: str, subject_kind: str, period_months: int | None) -> ListingTerms:
    """The terms a notice will state, for the official's confirmation step. Raises Refusal."""
    catalogue = current_catalogue()
    t = catalogue.list_type(list_type)
    if t is None:
        raise Refusal("未知的名单类型。")
    return listing_terms(catalogue, t, subject_kind, listing_period(t, period_months))


async def _department(s: AsyncSession, proposer: Viewer | None, dept_code: str | None) -> Department:
    if proposer is not None:
        if proposer.role != "official" or proposer.department_id is None:
            raise Refusal("只有列入部门的办事人员可以发起拟列入严重失信主体名单。")
        dept = await s.get(Department, proposer.department_id)
    else:
        dept = await s.scalar(select(Department).where(Department.code == (dept_code or "")))
    if dept is None:
        raise Refusal(f"找不到部门{('代码 ' + dept_code) if dept_code else ''}。")
    return dept


def _code(subject: Subject) -> tuple[str, str]:
    if subject.kind == "自然人":
        return "身份证号", subject.id_masked or "（未登记）"
    return "统一社会信用代码", subject.uscc or "（未登记）"


async def propose_listing(
    db: Database,
    *,
    subject_id: int,
    list_type: str,
    reasons: str,
    today: dt.date,
    calendar: WorkCalendar,
    render: Callable[[NoticeData], bytes],
    proposer: Viewer | None = None,
    dept_code: str | None = None,
    period_months: int | None = None,
    objection_days: int = lifecycle.OBJECTION_PERIOD_WORKING_DAYS,
    prefix: str = "",
    public_url: str = "",
) -> ProposedListing:
    """Propose a listing of `list_type` (a catalogue key) and issue its numbered prior notice, in one
    transaction.

    `proposer` is the official in chat (its department lists); the command line passes `dept_code`
    instead. The basis, standard, measures, period and removal conditions come from the catalogue;
    the official gives the facts (`reasons`) and, for a list whose period the decision sets, the
    months (`period_months`). `render` turns the notice into PDF bytes, kept with their hash: the
    notice is evidence that the subject was told. `objection_days` is in working days (1-30).
    Returns the notice, its PDF bytes and SHA-256, and the subject's chats to deliver it to.
    Raises Refusal: reasons empty; period out of range; the proposer not an official with a
    department, or an unknown `dept_code`; a list type the department may not decide (or not here,
    or not confirmed); the subject gone; a listing already in progress."""
    reasons = reasons.strip()
    if not reasons:
        raise Refusal("列入事由必须填写。")
    if not 1 <= objection_days <= 30:
        raise Refusal("异议期应为 1 至 30 个工作日。")
    catalogue = current_catalogue()
    async with db.transaction() as s:
        seq = await next_number(s, "notice", today.year)
        dept = await _department(s, proposer, dept_code)
        t = check_list_type(catalogue, dept, list_type)
        months = listing_period(t, period_months)
        subject = await s.get(Subject, subject_id)
        if subject is None:
            raise Refusal("该主体已不在档案中。")
        open_listing = await s.scalar(
            select(Listing.notice_number).where(
                Listing.subject_id == subject_id, Listing.department_id == dept.id, Listing.status == "proposed"
            )
        )
        if open_listing:
            raise Refusal(f"该主体已有未结束的拟列入程序（{open_listing}），请勿重复发起。")
        terms = listing_terms(catalogue, t, subject.kind, months)
        basis = f"{terms.basis}；认定标准：{terms.standard}"
        deadline = lifecycle.objection_deadline(today, calendar, objection_days)
        number = lifecycle.format_number(prefix, NOTICE_KIND, today.year, seq)
        code_label, code = _code(subject)
        notice = NoticeData(
            number=number,
            subject_name=subject.name,
            subject_kind=subject.kind,
            code_label=code_label,
            code=code,
            department=dept.name,
            basis=basis,
            reasons=reasons,
            measures=tuple(m.text for m in terms.measures),
            notice_date=today,
            objection_days=objection_days,
            deadline=deadline.due,
            deadline_provisional=deadline.provisional,
            seal=new_seal(number, public_url),
            terms=terms,
        )
        record = CreditRecord(
            subject_id=subject.id,
            category=BLACKLIST,
            list_type=t.key,
            department_id=dept.id,
            source_key=dept.uscc or dept.code,
            source_name=dept.name,
            doc_number=number,
            title=f"拟列入{t.name}",
            content=reasons,
            decision_date=today,
            severity="严重",
            rule_edition=edition_for(today),
            status="proposed",
            fields={"名单类型": t.name, "依据": terms.basis, "认定标准": terms.standard, "事由": reasons,
                    "惩戒措施": list(notice.measures), "列入期限": terms.period, "事前告知书": number},
        )
        s.add(record)
        await s.flush()
        pdf = await asyncio.to_thread(render, notice)  # CPU-bound: keep the event loop free
        digest = hashlib.sha256(pdf).hexdigest()
        listing = Listing(
            record_id=record.id,
            subject_id=subject.id,
            department_id=dept.id,
            proposed_by_account_id=proposer.account_id if proposer else None,
            list_type=t.key,
            basis=terms.basis,
            reasons=reasons,
            measures={"items": list(notice.measures)},
            notice_number=number,
            notice_date=today,
            objection_days=objection_days,
            objection_deadline=deadline.due,
            period_months=months,
            notice_pdf=pdf,
            notice_sha256=digest,
        )
        s.add(listing)
        await s.flush()
        assert notice.seal is not None
        holder = Holder(subject.id, subject.name, notice.code, NOTICE_RECIPIENT, dept.name, proposer.account_id if proposer else None)
        await register_document(s, "notice", notice.seal, digest, holder)
        s.add(
            AuditEntry(
                account_id=proposer.account_id if proposer else None,
                role=proposer.role if proposer else "system",
                action="listing_proposed",
                subject_id=subject.id,
                reason=number,
                detail={"listing_id": listing.id, "record_id": record.id, "sha256": digest,
                        "deadline": deadline.due.isoformat(), "list_type": t.key},
            )
        )
        chats = tuple(await subject_chats(s, subject.id))
        return ProposedListing(listing.id, record.id, notice, pdf, digest, chats)


@dataclass(frozen=True)
class ActivatedListing:
    listing_id: int
    record_id: int
    subject_id: int
    subject_name: str
    notice_number: str
    effective_on: dt.date
    chats: tuple[int, ...]
    proposed_by_account_id: int | None = None  # the official who sees the notice in /undelivered
    list_name: str = "严重失信主体名单"
    decision: IssuedDecision | None = None  # None: issued by the next `issue_pending_decisions`


async def activate(
    s: AsyncSession, listing: Listing, today: dt.date, issuer: DecisionIssuer | None = None
) -> ActivatedListing:
    """The listing takes effect `today`, inside the caller's transaction: the record becomes an active
    blacklist entry whose publication period counts from today under the edition in force today, and
    ends with the list's own validity where the list type gives one; one audit entry (role system);
    with an `issuer` the 列入决定书 is issued in the same transaction (without one, the next
    `issue_pending_decisions` issues it). Returns what to tell the subject's chats."""
    record = await s.get(CreditRecord, listing.record_id)
    subject = await s.get(Subject, listing.subject_id)
    assert record is not None and subject is not None
    t = current_catalogue().list_type(listing.list_type)
    edition = edition_for(today)
    record.status = "active"
    record.title = f"列入{t.name}" if t else "列入严重失信主体名单"
    record.decision_date = today
    record.rule_edition = edition
    record.severity = record.severity or "严重"
    listing.status = "effective"
    listing.effective_on = today
    if listing.period_months:
        listing.expires_on = add_months(today, listing.period_months)
        record.valid_until = listing.expires_on
        record.publication_end = listing.expires_on
    else:
        record.publication_end = publication_end(today, record.severity, edition)
    record.fields = {**(record.fields or {}), "列入日期": today.isoformat()}
    s.add(
        AuditEntry(
            account_id=None,
            role="system",
            action="listing_effective",
            subject_id=listing.subject_id,
            reason=listing.notice_number,
            detail={"listing_id": listing.id, "record_id": record.id, "list_type": listing.list_type},
        )
    )
    await refresh_subjects(s, [subject.id], today)
    await after_listing(s, record)  # change feed and the 信用修复告知书 (两书同达, issue 25)
    issued = await issue_decision(s, listing, today, issuer) if issuer is not None else None
    return ActivatedListing(
        listing.id, record.id, subject.id, subject.name, listing.notice_number, today, tuple(await subject_chats(s, subject.id)),
        listing.proposed_by_account_id, t.name if t else "严重失信主体名单", issued,
    )


async def issue_decision(s: AsyncSession, listing: Listing, today: dt.date, issuer: DecisionIssuer) -> IssuedDecision | None:
    """Issue the numbered, verifiable 列入决定书 of an effective listing, inside the caller's transaction:
    number, render, keep the bytes and their hash on the listing, register the document, run the
    decision hooks. None (nothing issued) for a listing decided before list types existed (its
    notice named no list type) or one that has its decision already."""
    if listing.decision_number is not None or listing.status != "effective" or listing.effective_on is None:
        return None
    catalogue = current_catalogue()
    t = catalogue.list_type(listing.list_type)
    if t is None:
        return None
    record = await s.get(CreditRecord, listing.record_id)
    subject = await s.get(Subject, listing.subject_id)
    dept = await s.get(Department, listing.department_id)
    assert record is not None and subject is not None and dept is not None
    seq = await next_number(s, "decision", today.year)
    number = lifecycle.format_number(issuer.prefix, DECISION_KIND, today.year, seq)
    code_label, code = _code(subject)
    decision = DecisionData(
        number=number, notice_number=listing.notice_number, subject_name=subject.name, subject_kind=subject.kind,
        code_label=code_label, code=code, department=dept.name, reasons=listing.reasons,
        terms=listing_terms(catalogue, t, subject.kind, listing.period_months), decision_date=today,
        effective_on=listing.effective_on, expires_on=listing.expires_on, seal=new_seal(number, issuer.public_url),
    )
    pdf = await asyncio.to_thread(issuer.render, decision)
    digest = hashlib.sha256(pdf).hexdigest()
    listing.decision_number, listing.decision_pdf, listing.decision_sha256 = number, pdf, digest
    record.fields = {**(record.fields or {}), "列入决定书": number}
    assert decision.seal is not None
    holder = Holder(subject.id, subject.name, code, DECISION_RECIPIENT, dept.name, None)
    await register_document(s, "decision", decision.seal, digest, holder)
    s.add(AuditEntry(account_id=None, role="system", action="listing_decision", subject_id=subject.id,
                     reason=number, detail={"listing_id": listing.id, "sha256": digest}))
    issued = IssuedDecision(listing.id, record.id, subject.id, decision, pdf, digest)
    if issuer.notice_key:
        await notices.enqueue(
            s, await subject_chats(s, subject.id), decision_caption(issued, listing.notice_number), "listing_decision",
            dt.datetime.now(dt.UTC), issuer.notice_key, by_account_id=listing.proposed_by_account_id,
            document=notices.Document(listing.id, f"{notices.DECISION_FILE_PREFIX}-{number}.pdf"),
            subject_id=subject.id, claim=False,
        )
    for hook in _DECISION_HOOKS:
        await hook(s, issued)
    return issued


def decision_caption(issued: IssuedDecision, notice_number: str) -> str:
    d = issued.decision
    return (
        f"【列入决定】{d.subject_name}已自 {d.effective_on:%Y-%m-%d} 起列入{d.terms.list_name}（列入决定书 {d.number}，"
        f"事前告知书 {notice_number}）。如不服，可依法申请行政复议或者提起行政诉讼；满足条件后可发送 /repair 申请信用修复。"
    )


async def activate_due_listings(db: Database, today: dt.date, issuer: DecisionIssuer | None = None) -> list[ActivatedListing]:
    """Daily: every proposed listing whose objection period ended before `today`, with no objection
    pending, takes effect and (with an `issuer`) gets its 列入决定书; returns them (with the chats to
    tell). Idempotent, and safe with several processes (rows are claimed with SKIP LOCKED on
    PostgreSQL; SQLite has one writer at a time). Raises nothing."""
    pending = exists().where(Objection.record_id == Listing.record_id, Objection.status == "pending")
    async with db.transaction() as s:
        rows = (
            await s.scalars(
                select(Listing)
                .where(Listing.status == "proposed", Listing.objection_deadline < today, ~pending)
                .order_by(Listing.id)
                .with_for_update(skip_locked=True)
            )
        ).all()
        return [await activate(s, listing, today, issuer) for listing in rows]


async def issue_pending_decisions(db: Database, today: dt.date, issuer: DecisionIssuer) -> list[ActivatedListing]:
    """Effective listings of a list type still without their 列入决定书 (made effective by an objection
    decision, or by a run without an issuer): issue them now. Idempotent; claimed with SKIP LOCKED."""
    async with db.transaction() as s:
        rows = (
            await s.scalars(
                select(Listing)
                .where(Listing.status == "effective", Listing.decision_number.is_(None), Listing.list_type.is_not(None))
                .order_by(Listing.id)
                .with_for_update(skip_locked=True)
            )
        ).all()
        out = []
        for listing in rows:
            issued = await issue_decision(s, listing, today, issuer)
            subject = await s.get(Subject, listing.subject_id)
            if issued is None or subject is None or listing.effective_on is None:
                continue
            out.append(ActivatedListing(
                listing.id, listing.record_id, subject.id, subject.name, listing.notice_number, listing.effective_on,
                tuple(await subject_chats(s, subject.id)), listing.proposed_by_account_id,
                issued.decision.terms.list_name, issued,
            ))  # fmt: skip
        return out


async def expire_listings(db: Database, today: dt.date) -> int:
    """Listings whose own validity ended (expires_on <= today) leave the list: listing and record
    become "expired", so no measure applies any more (rules.visibility counts a list entry only while
    its record is effective). Returns how many. Idempotent."""
    async with db.transaction() as s:
        rows = (
            await s.scalars(
                select(Listing)
                .where(Listing.status == "effective", Listing.expires_on.is_not(None), Listing.expires_on <= today)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for listing in rows:
            listing.status = "expired"
            record = await s.get(CreditRecord, listing.record_id)
            if record is not None and record.status == "active":
                record.status = "expired"
            s.add(AuditEntry(account_id=None, role="system", action="listing_expired", subject_id=listing.subject_id,
                             reason=listing.decision_number or listing.notice_number, detail={"listing_id": listing.id}))
        if rows:
            await refresh_subjects(s, sorted({r.subject_id for r in rows}), today)
        return len(rows)


@dataclass(frozen=True)
class ListingSummary:
    listing_id: int
    subject_name: str
    notice_number: str
    status: str
    deadline: dt.date
    objection_pending: bool


async def department_listings(db: Database, department_id: int, limit: int = 20) -> list[ListingSummary]:
    """A department's proposed listings still in their notice period, newest first, at most `limit`
    (what its officials follow up with /listings). Raises nothing; the caller checks the role."""
    pending = exists().where(Objection.record_id == Listing.record_id, Objection.status == "pending")
    async with db.transaction() as s:
        rows = await s.execute(
            select(Listing.id, Subject.name, Listing.notice_number, Listing.status, Listing.objection_deadline, pending)
            .join(Subject, Subject.id == Listing.subject_id)
            .where(Listing.department_id == department_id, Listing.status == "proposed")
            .order_by(Listing.id.desc())
            .limit(limit)
        )
        return [ListingSummary(*row) for row in rows]


async def subject_id_by_uscc(db: Database, uscc: str) -> int:
    """For the command line, which names subjects by code only (no fuzzy guessing off-line).

    Returns the subject's id; look-alike characters (O for 0, I for 1 ...) are repaired first.
    Raises Refusal for an invalid code or one not on file."""
    from rules.codes import validate_uscc

    check = validate_uscc(uscc, repair=True)
    if not check.ok:
        raise Refusal(f"统一社会信用代码有误：{check.error}")
    async with db.transaction() as s:
        subject_id = await s.scalar(select(Subject.id).where(Subject.uscc == check.value))
    if subject_id is None:
        raise Refusal(f"档案中没有统一社会信用代码为 {check.value} 的主体。")
    return int(subject_id)
