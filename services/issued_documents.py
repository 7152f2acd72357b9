"""Verifiable documents: seal a document before it is rendered, register it once its bytes exist,
and answer anyone who asks whether a document in their hands is genuine.

A seal is the number, a fresh verification code and the QR payload (rules.verification); the
renderer prints them, the issuing use case registers the hash of the rendered bytes in the same
transaction that numbered the document. `check_document` is the one use case every channel calls:
the chat's /checkreport today, the HTTP API's check endpoint later.

What a check answers: for a wrong code or an unknown number nothing but that (so numbers cannot be
used to learn who got a report); for the right code what the document itself printed — kind,
subject as printed, reader's role as printed, issuer, time of issue — plus the SHA-256 of the bytes
handed out, and, when the caller hands in the hash of its file, whether that file was altered.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, IssuedDocument
from db.session import Database
from rules import verification
from rules.roles import Viewer

KIND_LABELS = {
    "report": "信用报告",
    "notice": "严重失信主体名单列入事前告知书",
    "rnotice": "信用修复告知书",
    "rdecision": "信用修复决定书",
    "special": "专项信用报告",
    "decision": "严重失信主体名单列入决定书",
}

CheckStatus = Literal["genuine", "altered", "wrong_code", "unknown"]


@dataclass(frozen=True)
class Seal:
    """What a document prints so that it can be verified."""

    number: str
    code: str  # without separators; print `display_code`
    qr: str  # the QR code's payload

    @property
    def display_code(self) -> str:
        return verification.display_code(self.code)


def new_seal(number: str, public_url: str = "") -> Seal:
    code = verification.new_code()
    return Seal(number, code, verification.qr_payload(number, code, public_url))


@dataclass(frozen=True)
class Holder:
    """Whom a document is about and for, as printed on it."""

    subject_id: int
    subject_name: str
    subject_code: str
    issued_to: str
    issuer: str
    account_id: int | None = None
    period: tuple[dt.date, dt.date] | None = None


async def register_document(s: AsyncSession, kind: str, seal: Seal, sha256: str, holder: Holder) -> None:
    """Add the registry row in the caller's transaction (the one that numbered the document), so a
    document exists in the registry exactly when it was issued."""
    s.add(
        IssuedDocument(
            number=seal.number,
            kind=kind,
            code_digest=verification.code_digest(seal.number, seal.code),
            sha256=sha256,
            subject_id=holder.subject_id,
            subject_name=holder.subject_name,
            subject_code=holder.subject_code,
            issued_to=holder.issued_to,
            issuer=holder.issuer,
            account_id=holder.account_id,
            period_start=holder.period[0] if holder.period else None,
            period_end=holder.period[1] if holder.period else None,
        )
    )


@dataclass(frozen=True)
class DocumentCheck:
    """The answer to "is this document genuine?". Only `status` and `number` are set unless the
    code was right."""

    status: CheckStatus
    number: str
    kind: str | None = None  # Chinese label of the document type
    subject_name: str | None = None
    subject_code: str | None = None
    issued_to: str | None = None
    issuer: str | None = None
    issued_at: dt.datetime | None = None  # aware UTC
    sha256: str | None = None  # of the file the platform handed out
    period: tuple[dt.date, dt.date] | None = None


async def check_document(
    db: Database,
    number: str,
    code: str,
    file_sha256: str | None = None,
    checker: Viewer | None = None,
    channel: str = "chat",
) -> DocumentCheck:
    """Check a document by number and code, and optionally the SHA-256 (hex) of the holder's file.

    Statuses: "unknown" (no document has that number), "wrong_code" (the number exists, the code
    does not match; also for text that cannot be a code), "genuine" (code right; file identical when
    a hash was given), "altered" (code right, the file's hash differs from the one issued). Every
    check is written to the audit trail, anonymous ones included (role "public")."""
    number = verification.normalize_number(number)
    normalized = verification.normalize_code(code)
    async with db.transaction() as s:
        doc = await s.scalar(select(IssuedDocument).where(IssuedDocument.number == number))
        if doc is None:
            result = DocumentCheck("unknown", number)
        elif normalized is None or not hmac.compare_digest(
            verification.code_digest(doc.number, normalized), doc.code_digest
        ):
            result = DocumentCheck("wrong_code", number)
        else:
            altered = file_sha256 is not None and not hmac.compare_digest(file_sha256.lower(), doc.sha256)
            result = DocumentCheck(
                "altered" if altered else "genuine",
                doc.number,
                kind=KIND_LABELS.get(doc.kind, doc.kind),
                subject_name=doc.subject_name,
                subject_code=doc.subject_code,
                issued_to=doc.issued_to,
                issuer=doc.issuer,
                issued_at=doc.issued_at,
                sha256=doc.sha256,
                period=(doc.period_start, doc.period_end) if doc.period_start and doc.period_end else None,
            )
        s.add(
            AuditEntry(
                account_id=checker.account_id if checker else None,
                role=checker.role if checker else "public",
                action="document_check",
                subject_id=doc.subject_id if doc is not None else None,
                reason=number[:64],
                detail={"result": result.status, "channel": channel, "file_hash_given": file_sha256 is not None},
            )
        )
    return result
