"""专项信用报告 (发改财金〔2025〕565号: it replaces the 有无违法违规记录证明 each agency used to issue):
per field, "有" or "无违法违规记录" over the chosen period, with the records behind each "有" —
unpublished 简易程序 penalties included (rules/special_report.py).

It is issued only to the subject itself (its bound account) or to a department holding the
subject's authorisation: a one-time 授权码 the subject's account issues (`issue_authorisation`,
valid AUTHORISATION_HOURS, spent by the first report), or a department key with the scope
`special` (a standing authorisation agreed outside the platform, e.g. a tendering platform). Every
issue and every refusal is audited. The report is numbered, registered (verifiable by number and
code) and stored, so the subject and the authorised department can download it again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, CreditRecord, Department, ReportAuthorisation, Subject, utcnow
from db.session import Database
from db.special_report_data import current_catalogue
from rules import lifecycle
from rules import special_report as sr
from rules.report_sections import SpanError, record_last_day, report_period
from rules.roles import Viewer
from rules.verification import display_code, new_code, normalize_code
from rules.visibility import STATUS_LABELS, effective_publication_end
from services.errors import FORBIDDEN, INVALID, NOT_FOUND, Refusal
from services.issued_documents import Holder, Seal, new_seal, register_document
from services.numbering import next_number
from services.repair_documents import Issuer
from services.stored_documents import keep

AUTHORISATION_HOURS = 72
REPORT_KIND = "专报"  # 安信专报〔2026〕000001号
SECTION_CATEGORIES = ("行政处罚", "行政强制", "严重失信主体名单", "司法判决")
NO_AUTHORISATION = "专项信用报告仅向信用主体本身，或持有主体授权（授权码）的部门出具。"


def _code_hash(code: str, key: str, subject_id: int) -> str:
    return hmac.new(key.encode(), f"special-report:{subject_id}:{code}".encode(), hashlib.sha256).hexdigest()


async def issue_authorisation(db: Database, viewer: Viewer, subject_id: int, key: str, now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """A one-time 授权码 for a department to obtain `subject_id`'s 专项信用报告; shown once (only
    its keyed hash is kept). Returns (the code for display, when it expires). Raises Refusal when
    the viewer's account is not bound to the subject."""
    now = now or utcnow()
    if subject_id not in viewer.subject_ids or viewer.account_id is None:
        raise Refusal("只有信用主体本身（已绑定的账号）可以出具授权码。", code=FORBIDDEN)
    code = new_code()
    expires = now + dt.timedelta(hours=AUTHORISATION_HOURS)
    async with db.transaction() as s:
        s.add(ReportAuthorisation(subject_id=subject_id, code_hash=_code_hash(code, key, subject_id),
                                  issued_by_account_id=viewer.account_id, expires_at=expires))
        s.add(AuditEntry(account_id=viewer.account_id, role=viewer.role, action="special_auth_issued", subject_id=subject_id,
                         detail={"expires_at": expires.isoformat()}))
    return display_code(code), expires


@dataclass(frozen=True)
class Entry:
    section: str
    decision_date: dt.date
    doc_number: str
    title: str
    department: str
    status: str  # Chinese
    summary_procedure: bool  # 简易程序 (not published)


@dataclass(frozen=True)
class FieldResult:
    name: str
    entries: tuple[Entry, ...]

    @property
    def has_records(self) -> bool:
        return bool(self.entries)


@dataclass(frozen=True)
class SpecialReportData:
    number: str
    generated_at: dt.datetime
    subject_name: str
    code_label: str
    code: str
    period: tuple[dt.date, dt.date]
    reader: str  # 信用主体本身 / 经授权的部门：X
    sections: tuple[sr.Section, ...]
    fields: tuple[FieldResult, ...]
    catalogue_version: str
    catalogue_source: str
    seal: Seal | None = None


@dataclass(frozen=True)
class IssuedSpecialReport:
    number: str
    pdf: bytes
    sha256: str
    subject_name: str
    has_records: bool


async def _authorised(
    s: AsyncSession, viewer: Viewer, subject_id: int, code: str | None, standing: bool, key: str, now: dt.datetime,
) -> tuple[str, str]:
    """(how, reader as printed); raises Refusal(FORBIDDEN) after auditing the refusal."""
    if subject_id in viewer.subject_ids:
        return "self", "信用主体本身"
    dept = await s.get(Department, viewer.department_id) if viewer.department_id is not None else None
    if viewer.role == "official" and dept is not None:
        if standing:
            return "standing", f"经授权的部门：{dept.name}"
        wanted = normalize_code(code or "")
        if wanted is not None:
            spent = await s.execute(
                update(ReportAuthorisation)
                .where(ReportAuthorisation.subject_id == subject_id, ReportAuthorisation.code_hash == _code_hash(wanted, key, subject_id),
                       ReportAuthorisation.used_at.is_(None), ReportAuthorisation.expires_at > now)
                .values(used_at=now, used_by_account_id=viewer.account_id)
                .execution_options(synchronize_session=False)
            )
            if spent.rowcount:
                return "code", f"经授权的部门：{dept.name}"
    raise Refusal(NO_AUTHORISATION + ("授权码无效、已使用或已过期。" if code else ""), code=FORBIDDEN)


async def _refused(db: Database, viewer: Viewer, subject_id: int, why: str) -> None:
    async with db.transaction() as s:
        s.add(AuditEntry(account_id=viewer.account_id, role=viewer.role, action="special_report_refused", subject_id=subject_id,
                         detail={"why": why}))


def _roles(division_code: str) -> dict[str, str]:
    from db.regions import default_region

    try:
        return {d.code: d.role for d in default_region(division_code).departments}
    except (FileNotFoundError, ValueError):
        return {}


async def issue_special_report(
    db: Database,
    viewer: Viewer,
    subject_id: int,
    *,
    years: int,
    now: dt.datetime,
    render: Callable[[SpecialReportData], bytes],
    issuer: Issuer,
    division_code: str,
    fields: Sequence[str] = (),
    authorisation_code: str | None = None,
    standing: bool = False,
) -> IssuedSpecialReport:
    """Number, assemble, render (in a worker thread), register and store one report, in one
    transaction. `years` 1-5 back from `now`'s date; `fields` the field names or words to include
    (all when empty); `authorisation_code` a 授权码 of the subject; `standing` a department key with
    the scope `special`. Raises Refusal: a span or field that does not exist (INVALID); no such
    subject (NOT_FOUND); no authorisation (FORBIDDEN, audited)."""
    catalogue = current_catalogue()
    try:
        period = report_period(now.date(), years)
        chosen = sr.pick_fields(catalogue, fields) if fields else catalogue.field_names
    except (SpanError, ValueError) as exc:
        raise Refusal(str(exc), code=INVALID) from None
    try:
        async with db.transaction() as s:
            seq = await next_number(s, "special_report", now.year)
            subject = await s.get(Subject, subject_id)
            if subject is None:
                raise Refusal("该主体已不在档案中。", code=NOT_FOUND)
            how, reader = await _authorised(s, viewer, subject_id, authorisation_code, standing, issuer.key, now)
            rows = (
                await s.execute(
                    select(CreditRecord, Department.code)
                    .outerjoin(Department, Department.id == CreditRecord.department_id)
                    .where(CreditRecord.subject_id == subject_id, CreditRecord.category.in_(SECTION_CATEGORIES))
                    .order_by(CreditRecord.decision_date, CreditRecord.id)
                )
            ).all()
            roles = _roles(division_code)
            found: dict[str, list[Entry]] = {name: [] for name in chosen}
            for record, dept_code in rows:
                fields_map = dict(record.fields or {})
                section = sr.section_of(catalogue, record.category, record.title, record.content, fields_map)
                if section is None:
                    continue
                last = record_last_day(record.category, record.decision_date, effective_publication_end(record), record.valid_until)
                if not sr.counts(section, record.status, record.decision_date, last, period):
                    continue
                field = catalogue.field_of(roles.get(dept_code or ""))
                if field in found:
                    found[field].append(Entry(
                        section, record.decision_date, record.doc_number, record.title or "", record.source_name,
                        STATUS_LABELS.get(record.status, record.status), sr.is_summary_procedure(record.title, fields_map),
                    ))
            person = subject.kind == "自然人"
            number = lifecycle.format_number(issuer.prefix, REPORT_KIND, now.year, seq, width=6)
            data = SpecialReportData(
                number, now, subject.name, "身份证号" if person else "统一社会信用代码",
                (subject.id_masked if person else subject.uscc) or "（未登记）", period, reader, catalogue.sections,
                tuple(FieldResult(name, tuple(found[name])) for name in chosen), catalogue.version, catalogue.source,
                new_seal(number, issuer.public_url),
            )
            pdf = await asyncio.to_thread(render, data)
            digest = hashlib.sha256(pdf).hexdigest()
            assert data.seal is not None
            holder = Holder(subject.id, subject.name, data.code, reader, issuer.platform, viewer.account_id, period)
            await register_document(s, "special", data.seal, digest, holder)
            await keep(s, number, "special", subject.id, viewer.department_id if how != "self" else None, pdf)
            has = any(f.has_records for f in data.fields)
            s.add(AuditEntry(
                account_id=viewer.account_id, role=viewer.role, action="special_report_issued", subject_id=subject.id,
                reason=number, detail={"authorisation": how, "years": years, "fields": list(chosen), "has_records": has},
            ))
            return IssuedSpecialReport(number, pdf, digest, subject.name, has)
    except Refusal as exc:
        if exc.code == FORBIDDEN:
            await _refused(db, viewer, subject_id, "no_authorisation")
        raise


async def subject_id_for(db: Database, uscc: str) -> int | None:
    """The subject with this (already checked) USCC, or None."""
    async with db.transaction() as s:
        return await s.scalar(select(Subject.id).where(Subject.uscc == uscc))
