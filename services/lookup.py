"""Looking a subject up for a viewer: one use case, one transaction, always audited.

What a role may see and how it is masked is decided by `rules`; this module only loads, filters
through those rules and records the look-up, so every channel (chat, console, CLI, PDF) shows the
same thing to the same role.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.catalogue import current_catalogue
from db.models import AuditEntry, CreditRecord, Declaration, Division, Objection, Subject, SubjectPerson
from db.outbox import AUDIT, write_behind
from db.session import Database
from rules import declarations as declaration_rules
from rules import visibility
from rules.categories import ABNORMAL_LIST, BLACKLIST
from rules.masking import mask_address, mask_person_name
from rules.measures import ListingFact
from rules.publication import last_public_day
from rules.roles import (
    NATURAL_PERSON,
    Viewer,
    legal_rep_label,
    may_find_by_name,
    sees_name_masked,
    sees_operator_masked,
)

if TYPE_CHECKING:
    from services.persons import RelatedSubject


@dataclass(frozen=True)
class RecordView:
    id: int
    category: str
    doc_number: str
    department: str
    decision_date: dt.date
    title: str | None
    severity: str | None
    status: str
    publication_end: dt.date | None
    published: bool
    past_end: bool = False
    # An objection is pending (also for a proposed listing, whose status stays "proposed").
    objection_pending: bool = False
    valid_until: dt.date | None = None  # 有效期至 (licences), for a report's span

    @property
    def last_public_day(self) -> dt.date | None:
        """"公示至": the last day published (rules.publication.last_public_day), the same in the
        card, the PDF and the API; `publication_end` itself is the first day off publication."""
        return last_public_day(self.publication_end)


@dataclass(frozen=True)
class DeclarationView:
    """A self-declaration on the card: only its headline (never a counterpart's name)."""

    receipt_no: str
    category: str
    headline: str
    submitted_on: dt.date | None
    status: str


@dataclass(frozen=True)
class SubjectCard:
    subject_id: int
    name: str
    kind: str
    code_label: str
    code: str
    legal_rep: str | None
    legal_rep_label: str
    division: str | None
    address: str | None
    status: str
    flags: tuple[str, ...]
    records: tuple[RecordView, ...]
    listings: tuple[ListingFact, ...] = field(default=())
    declarations: tuple[DeclarationView, ...] = field(default=())
    # Staff only: subjects linked through the persons behind this one (services/persons.py).
    related: tuple[RelatedSubject, ...] = field(default=())

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.category for r in self.records)


def _subject_fields(subject: Subject, viewer: Viewer, divisions: dict[str, str]) -> dict[str, object]:
    person = subject.kind == NATURAL_PERSON
    show_name = mask_person_name(subject.name) if sees_name_masked(viewer, subject.kind, subject.id) else subject.name
    return {
        "name": show_name,
        "kind": subject.kind,
        "code_label": "身份证号" if person else "统一社会信用代码",
        # A person's full ID number never reaches a chat, whoever asks.
        "code": (subject.id_masked or "（未登记）") if person else (subject.uscc or "（未登记）"),
        "legal_rep": (
            mask_person_name(subject.legal_rep)
            if subject.legal_rep and sees_operator_masked(viewer, subject.kind, subject.id)
            else subject.legal_rep
        ),
        "legal_rep_label": legal_rep_label(subject.kind),
        "division": divisions.get(subject.division_code or "", subject.division_code),
        "address": (mask_address(subject.address or "") if person and viewer.mask_addresses else subject.address) or None,
        "status": subject.status,
    }


async def view_subject(
    db: Database,
    subject_id: int,
    viewer: Viewer,
    today: dt.date,
    reason: str = "查询",
    channel: str = "chat",
) -> SubjectCard | None:
    """The subject's card as this viewer may see it (rules.visibility, rules.masking), as of `today`;
    None when the subject is gone. The look-up is written to the audit trail with `reason` ("查询",
    "逢办必查:<matter>", ...) and `channel`. Raises nothing.

    With a read copy or an outbox (`db.defers_writes`) the card is read from the copy and its audit
    rows are written behind the answer (db/outbox.py); otherwise both in one unit of work."""
    if not db.defers_writes:
        async with db.transaction() as s:
            return await load_card(s, subject_id, viewer, today, reason, channel)
    async with db.reading() as conn:
        card = (await load_cards(conn, [subject_id], viewer, today)).get(subject_id)
    if card is not None:
        await write_behind(db, AUDIT, card_audit_rows(card, viewer, reason, channel))
    return card


async def load_card(
    s: AsyncSession,
    subject_id: int,
    viewer: Viewer,
    today: dt.date,
    reason: str = "查询",
    channel: str = "chat",
) -> SubjectCard | None:
    """`view_subject` inside the caller's transaction, for use cases that do more in the same unit of
    work (a credit report numbers itself and logs the issue; a check records itself): one action,
    one audit entry."""
    await s.flush()  # what the caller's unit of work changed so far is part of the card
    card = (await load_cards(await s.connection(), [subject_id], viewer, today)).get(subject_id)
    if card is not None:
        s.add_all(AuditEntry(**row) for row in card_audit_rows(card, viewer, reason, channel))
    return card


def card_audit_rows(card: SubjectCard, viewer: Viewer, reason: str, channel: str) -> list[dict[str, Any]]:
    """The look-up's audit rows as plain values, so a batch writes all of them in one insert: the
    card's, and one per related subject it showed (a person's links are look-ups too)."""
    rows = [{
        "account_id": viewer.account_id, "role": viewer.role, "action": "view_subject", "subject_id": card.subject_id,
        "reason": reason,
        "detail": {"channel": channel, "records_shown": len(card.records), "declarations_shown": len(card.declarations)},
    }]  # fmt: skip
    rows += [
        {"account_id": viewer.account_id, "role": viewer.role, "action": "view_related", "subject_id": r.subject_id,
         "reason": reason, "detail": {"channel": channel, "via": card.subject_id, "role": r.role}}
        for r in card.related
    ]
    return rows


# Built once: a statement's construction and cache key cost more CPU than its round trip. `ids` is
# an expanding parameter (IN with as many values as given).
IDS = bindparam("ids", expanding=True)
# Whether a subject has any submitted declaration: most have none, and their cards then skip that query.
# Whether persons are linked to a subject (either side): most have none, and their cards skip that work.
_HAS_PERSONS = (
    select(SubjectPerson.id)
    .where(or_(SubjectPerson.organisation_id == Subject.id, SubjectPerson.person_id == Subject.id))
    .exists()
)
_HAS_DECLARATIONS = (
    select(Declaration.id)
    .where(Declaration.subject_id == Subject.id, Declaration.status.in_(sorted(declaration_rules.SUBMITTED)))
    .exists()
)
# A subject as a card and a candidate's brief need it; look-ups add their WHERE.
SUBJECT_ROW = (
    select(Subject.id, Subject.name, Subject.kind, Subject.uscc, Subject.id_masked, Subject.id_hash,
           Subject.legal_rep, Subject.division_code, Subject.address, Subject.status,
           Division.name.label("division_name"), Division.short_name.label("division_short"),
           _HAS_DECLARATIONS.label("has_declarations"), _HAS_PERSONS.label("has_persons"))
    .outerjoin(Division, Division.code == Subject.division_code)
)
SUBJECTS_BY_ID = SUBJECT_ROW.where(Subject.id.in_(IDS))
_PENDING_OBJECTION = (
    select(Objection.id)
    .where(Objection.record_id == CreditRecord.id, Objection.subject_id == CreditRecord.subject_id,
           Objection.status == "pending")
    .exists()
)
_RECORDS = (
    select(
        CreditRecord.id, CreditRecord.subject_id, CreditRecord.category, CreditRecord.doc_number,
        CreditRecord.source_name, CreditRecord.decision_date, CreditRecord.title, CreditRecord.severity,
        CreditRecord.status, CreditRecord.publication_end, CreditRecord.rule_edition, CreditRecord.valid_until,
        CreditRecord.fields, CreditRecord.list_type, _PENDING_OBJECTION.label("objection_pending"),
    )
    .where(CreditRecord.subject_id.in_(IDS))
    .order_by(CreditRecord.subject_id, CreditRecord.decision_date.desc(), CreditRecord.id.desc())
)
# What a card needs of a record, for a statement that reads records with something else.
RECORD_COLUMNS = tuple(_RECORDS.selected_columns)
_DECLARATIONS = (
    select(Declaration.subject_id, Declaration.account_id, Declaration.category, Declaration.receipt_no,
           Declaration.status, Declaration.data, Declaration.submitted_on)
    .where(Declaration.subject_id.in_(IDS), Declaration.status.in_(sorted(declaration_rules.SUBMITTED)))
    .order_by(Declaration.subject_id, Declaration.submitted_on.desc(), Declaration.id.desc())
)


async def load_cards(
    conn: AsyncConnection, subject_ids: list[int], viewer: Viewer, today: dt.date,
    rows: dict[int, Any] | None = None,
    read_records: dict[int, list[Any]] | None = None,
) -> dict[int, SubjectCard]:
    """The cards of many subjects as this viewer may see them, with at most three set-based queries
    (subjects with their division, records with their pending objections, declarations of the
    subjects that have any) whatever their number:
    a check costs few round trips and a batch of 1,000 no more. Subjects gone or not to be shown to
    this viewer (rules.roles.may_find_by_name) are absent. Writes no audit row (`card_audit_rows`).

    `rows`: subjects already read in this transaction with `SUBJECT_ROW` (a check resolved them),
    so they are not read twice. `read_records`: the records of some of them read already, each with
    `RECORD_COLUMNS`' names (the chat's card reads them with its subject in one statement)."""
    ids = sorted(set(subject_ids))
    if not ids:
        return {}
    rows = rows or {}
    known = [rows[i] for i in ids if i in rows]
    missing = [i for i in ids if i not in rows]
    read = list(await conn.execute(SUBJECTS_BY_ID, {"ids": missing})) if missing else []
    subjects = [
        row for row in known + read
        # A person's file is not shown to the public by any path (a forged button, an old code):
        # the same "not there" as a subject that is gone (rules.roles.may_find_by_name).
        if may_find_by_name(viewer, row.kind, row.id)
    ]
    if not subjects:
        return {}
    shown_ids = [row.id for row in subjects]
    read_records = read_records or {}
    records: dict[int, list[Any]] = {i: [r for r in read_records.get(i, ()) if _may_see(viewer, i, r, today)]
                                     for i in shown_ids}
    unread = [i for i in shown_ids if i not in read_records]
    for r in await conn.execute(_RECORDS, {"ids": unread}) if unread else ():
        if _may_see(viewer, r.subject_id, r, today):
            records[r.subject_id].append(r)
    declared = [row.id for row in subjects if row.has_declarations]
    declarations = await _declarations(conn, declared, viewer) if declared else {}
    cards = {
        row.id: _card(row, viewer, today, records[row.id], declarations.get(row.id, ()))
        for row in subjects
    }
    linked = {row.id: cards[row.id] for row in subjects if row.has_persons}
    if linked and viewer.is_staff:
        from services.persons import related_subjects

        for sid, related in (await related_subjects(conn, linked, viewer, today)).items():
            cards[sid] = replace(cards[sid], related=related)
    return cards


def _card(subject: Any, viewer: Viewer, today: dt.date, shown: list[Any],
          declarations: tuple[DeclarationView, ...]) -> SubjectCard:
    records = tuple(
        RecordView(
            id=r.id,
            category=r.category,
            doc_number=r.doc_number,
            department=r.source_name,
            decision_date=r.decision_date,
            title=r.title,
            severity=r.severity,
            status=r.status,
            publication_end=(end := visibility.effective_publication_end(r)),
            published=visibility.is_published(r, today),
            past_end=end is not None and end <= today,
            objection_pending=r.status == "objected" or bool(r.objection_pending),
            valid_until=r.valid_until,
        )
        for r in shown
    )
    listings = tuple(
        listing_fact(r) for r in shown if r.category in (BLACKLIST, ABNORMAL_LIST) and visibility.counts_for_measures(r, today)
    )
    flags = tuple(_flag(item) for item in listings)
    divisions = {subject.division_code: subject.division_name} if subject.division_name else {}
    return SubjectCard(
        subject_id=subject.id,
        **_subject_fields(subject, viewer, divisions),  # type: ignore[arg-type]
        flags=flags,
        records=records,
        listings=listings,
        declarations=declarations,
    )


def listing_fact(r: Any) -> ListingFact:
    """A list entry as the measures see it: its list type as stored, else as its 名单类型 field or
    its title names it in the catalogue; None when nothing tells (rules.measures then applies nothing)."""
    fields = r.fields or {}
    catalogue = current_catalogue()
    t = catalogue.list_type(r.list_type or catalogue.identify(fields.get("名单类型"), r.title, category=r.category))
    return ListingFact(r.category, r.source_name, r.decision_date, fields.get("依据"),
                       t.key if t else None, t.name if t else None)


def _flag(item: ListingFact) -> str:
    named = f"·{item.list_name}" if item.list_name and item.list_name != item.category else ""
    return f"该主体已列入{item.category}{named}（{item.department}，{item.since:%Y-%m-%d} 起）"


async def _declarations(
    conn: AsyncConnection, subject_ids: list[int], viewer: Viewer
) -> dict[int, tuple[DeclarationView, ...]]:
    """Submitted self-declarations this viewer may see (rules.declarations.visible_to): verified ones
    for everyone, the others for officials and for the declarant (its account or the bound subject)."""
    rows = await conn.execute(_DECLARATIONS, {"ids": subject_ids})
    out: dict[int, list[DeclarationView]] = {}
    for d in rows:
        own = d.account_id == viewer.account_id or d.subject_id in viewer.subject_ids
        cat = declaration_rules.CATEGORIES.get(d.category or "")
        if cat is None or d.receipt_no is None or not declaration_rules.visible_to(d.status, viewer.role, own):
            continue
        headline = (d.data or {}).get("values", {}).get(cat.headline, "")
        out.setdefault(d.subject_id, []).append(DeclarationView(d.receipt_no, cat.label, headline, d.submitted_on, d.status))
    return {k: tuple(v) for k, v in out.items()}


def _may_see(viewer: Viewer, subject_id: int, record: visibility.RecordLike, today: dt.date) -> bool:
    """Role rules first; a subject's own bound account sees its own published file as well."""
    if visibility.visible_to(viewer.role, record, today):
        return True
    return subject_id in viewer.subject_ids and visibility.is_published(record, today)
