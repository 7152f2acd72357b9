"""Documents the platform keeps to hand out again: 信用修复告知书, 信用修复决定书, 专项信用报告.

`keep` stores the exact bytes in the transaction that numbered and registered the document
(services.issued_documents), so what a subject downloads next month is what was issued, and its
SHA-256 still verifies. `fetch_document` is the one use case every door calls to hand a stored
document to a person or a system (the chat's /documents, the port's GET /v1/documents/{number}, the
WeChat download links): it re-checks who may have it and writes the hand-out to the audit trail.

Who may have a document: the subject's own bound accounts; officials of the department that issued
it (or whose record it concerns); admins. Anyone else gets the same answer as for an unknown number,
so numbers (sequential, guessable) reveal nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, IssuedDocument, StoredDocument
from db.session import Database
from rules.roles import Viewer
from rules.verification import normalize_number
from services.errors import NOT_FOUND, Refusal
from services.issued_documents import KIND_LABELS

NOT_YOURS = "找不到该文书，或您无权获取。"


async def keep(s: AsyncSession, number: str, kind: str, subject_id: int, department_id: int | None, pdf: bytes) -> None:
    """Store the bytes of a document numbered in this transaction."""
    s.add(StoredDocument(number=number, kind=kind, subject_id=subject_id, department_id=department_id, pdf=pdf))


@dataclass(frozen=True)
class FetchedDocument:
    number: str
    kind: str  # Chinese label (信用修复告知书 …)
    file_name: str
    pdf: bytes
    sha256: str
    subject_name: str
    issued_at: dt.datetime


def may_fetch(viewer: Viewer, subject_id: int, department_id: int | None) -> bool:
    if subject_id in viewer.subject_ids:
        return True
    if viewer.role == "admin":
        return True
    return viewer.role == "official" and department_id is not None and viewer.department_id == department_id


def file_name(kind_label: str, number: str) -> str:
    return f"{kind_label}-{number}.pdf"


async def fetch_document(db: Database, viewer: Viewer, number: str, channel: str = "chat") -> FetchedDocument:
    """The stored bytes of document `number` for `viewer`, with its registry entry; the hand-out is
    audited (action document_fetched). Raises Refusal(NOT_FOUND) for an unknown number and for a
    document the viewer may not have (same words, see the module docstring)."""
    wanted = normalize_number(number)
    async with db.transaction() as s:
        row = (
            await s.execute(
                select(StoredDocument, IssuedDocument)
                .join(IssuedDocument, IssuedDocument.number == StoredDocument.number)
                .where(StoredDocument.number == wanted)
            )
        ).first()
        if row is None or not may_fetch(viewer, row[0].subject_id, row[0].department_id):
            raise Refusal(NOT_YOURS, code=NOT_FOUND)
        stored, issued = row
        s.add(
            AuditEntry(
                account_id=viewer.account_id, role=viewer.role, action="document_fetched", subject_id=stored.subject_id,
                reason=stored.number[:64], detail={"kind": stored.kind, "channel": channel},
            )
        )
    label = KIND_LABELS.get(stored.kind, stored.kind)
    return FetchedDocument(
        stored.number, label, file_name(label, stored.number), stored.pdf, hashlib.sha256(stored.pdf).hexdigest(),
        issued.subject_name, issued.issued_at,
    )


@dataclass(frozen=True)
class DocumentEntry:
    number: str
    kind: str  # Chinese label
    subject_name: str
    issued_at: dt.datetime


async def documents_for(db: Database, viewer: Viewer, limit: int = 20) -> list[DocumentEntry]:
    """The newest stored documents the viewer may have: its bound subjects' and, for an official,
    its department's; [] for anyone else. Raises nothing."""
    conditions = []
    if viewer.subject_ids:
        conditions.append(StoredDocument.subject_id.in_(viewer.subject_ids))
    if viewer.role == "official" and viewer.department_id is not None:
        conditions.append(StoredDocument.department_id == viewer.department_id)
    if not conditions:
        return []

    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(StoredDocument.number, StoredDocument.kind, IssuedDocument.subject_name, IssuedDocument.issued_at)
                .join(IssuedDocument, IssuedDocument.number == StoredDocument.number)
                .where(or_(*conditions))
                .order_by(IssuedDocument.issued_at.desc(), StoredDocument.number.desc())
                .limit(limit)
            )
        ).all()
    return [DocumentEntry(n, KIND_LABELS.get(k, k), name, at) for n, k, name, at in rows]
