"""Credit report (信用报告): the subject's card, numbered and logged, for the PDF renderer.

The content is exactly what `services.lookup` shows the reader on a card (same visibility, same masking,
same audit entry), so a report can never disclose more than a chat would. One transaction numbers
the report, looks the subject up, and logs the issue with the hash of the bytes handed out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from db.models import CreditReport
from db.session import Database
from rules import lifecycle
from rules.report_sections import SpanError, in_period, record_in_period, record_last_day, report_period
from rules.roles import ROLE_LABELS, Viewer
from services.errors import Refusal
from services.evaluation_views import GradeView, grade_for
from services.issued_documents import Holder, Seal, new_seal, register_document
from services.lookup import SubjectCard, load_card
from services.numbering import next_number

REPORT_KIND = "报"


@dataclass(frozen=True)
class ReportData:
    number: str
    generated_at: dt.datetime  # aware, in the platform's time zone
    card: SubjectCard
    reader_role: str
    staff: bool
    own: bool  # the reader is the subject itself (its bound account)
    seal: Seal | None = None  # number, verification code and QR payload to print
    period: tuple[dt.date, dt.date] | None = None  # the span chosen for a subject's own report
    # The credit evaluation as this reader may see it (services.evaluation_views.grade_for), if any.
    grade: GradeView | None = None

    @property
    def reader(self) -> str:
        """The reader as printed (报告使用人) and as a check of the report tells it."""
        return ROLE_LABELS.get(self.reader_role, self.reader_role) + ("（主体本人）" if self.own else "")


@dataclass(frozen=True)
class IssuedReport:
    number: str
    pdf: bytes
    sha256: str
    subject_name: str


def may_request(viewer: Viewer, subject_id: int) -> bool:
    """Officials for any subject; everyone else only for a subject bound to their account."""
    return viewer.is_staff or subject_id in viewer.subject_ids


async def issue_report(
    db: Database,
    viewer: Viewer,
    subject_id: int,
    now: dt.datetime,
    render: Callable[[ReportData], bytes],
    prefix: str = "",
    public_url: str = "",
    issuer: str = "",
    span_years: int | None = None,
    public_grades: bool = False,
) -> IssuedReport:
    """Number, assemble, seal, render (through `render`, in a worker thread), log and register one
    report, in one transaction.

    `now` is aware, in the platform's time zone (it dates the report and picks the year of the
    number); `prefix` opens the number; `issuer` is the platform's name as printed; `public_url`
    goes into the QR code. `span_years` (1-5, rules.report_sections) limits the report to records
    not ended before the last years began (rules.report_sections.record_in_period) and declarations
    submitted in them; None means the full history (officials'
    reports); `public_grades` (setting `evaluation.public_grades`) lets the public see the grade.
    The look-up is audited like a card view (channel "report"). Returns the number, the PDF
    bytes and their SHA-256. Raises Refusal when the viewer may not request this subject's report
    (may_request), for a span outside 1-5 years, or when the subject is gone."""
    if not may_request(viewer, subject_id):
        raise Refusal("公众和企业只能获取本人（本单位）绑定主体的信用报告；查询他人请联系办事窗口。")
    try:
        period = report_period(now.date(), span_years) if span_years is not None else None
    except SpanError as exc:
        raise Refusal(str(exc)) from None
    async with db.transaction() as s:
        seq = await next_number(s, "report", now.year)
        card = await load_card(s, subject_id, viewer, now.date(), reason="信用报告", channel="report")
        if card is None:
            raise Refusal("该主体已不在档案中。")
        number = lifecycle.format_number(prefix, REPORT_KIND, now.year, seq, width=6)
        if period is not None:
            card = dataclasses.replace(
                card,
                # Still in force or still published: in any span; only what ended before it is left out.
                records=tuple(
                    r
                    for r in card.records
                    if record_in_period(
                        r.decision_date, record_last_day(r.category, r.decision_date, r.publication_end, r.valid_until), period
                    )
                ),
                declarations=tuple(d for d in card.declarations if in_period(d.submitted_on, period)),
            )
        seal = new_seal(number, public_url)
        own = subject_id in viewer.subject_ids
        grade = await grade_for(s, subject_id, viewer, public_grades)
        data = ReportData(number, now, card, viewer.role, viewer.is_staff, own, seal, period, grade)
        pdf = await asyncio.to_thread(render, data)  # CPU-bound: keep the event loop free
        digest = hashlib.sha256(pdf).hexdigest()
        s.add(
            CreditReport(
                number=number,
                subject_id=subject_id,
                account_id=viewer.account_id,
                role=viewer.role,
                records=len(card.records),
                sha256=digest,
            )
        )
        holder = Holder(subject_id, card.name, card.code, data.reader, issuer, viewer.account_id, period)
        await register_document(s, "report", seal, digest, holder)
        return IssuedReport(number, pdf, digest, card.name)
