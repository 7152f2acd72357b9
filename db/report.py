"""Credit report (信用报告): the subject's card, numbered and logged, for the PDF renderer.

The content is exactly what `db.lookup` shows the reader on a card (same visibility, same masking,
same audit entry), so a report can never disclose more than a chat would. One transaction numbers
the report, looks the subject up, and logs the issue with the hash of the bytes handed out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from db.evaluation_views import GradeView, grade_for
from db.listings import LifecycleError, next_number
from db.lookup import SubjectCard, Viewer, load_card
from db.models_lifecycle import CreditReport
from db.session import Database
from rules import lifecycle

REPORT_KIND = "报"


@dataclass(frozen=True)
class ReportData:
    number: str
    generated_at: dt.datetime  # aware, in the platform's time zone
    card: SubjectCard
    reader_role: str
    staff: bool
    own: bool  # the reader is the subject itself (its bound account)
    # The credit evaluation as this reader may see it (db.evaluation_views.grade_for), if any.
    grade: GradeView | None = None


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
    public_grades: bool = False,
) -> IssuedReport:
    """Number, assemble, render (through `render`) and log one report."""
    if not may_request(viewer, subject_id):
        raise LifecycleError("公众和企业只能获取本人（本单位）绑定主体的信用报告；查询他人请联系办事窗口。")
    async with db.transaction() as s:
        seq = await next_number(s, "report", now.year)
        card = await load_card(s, subject_id, viewer, now.date(), reason="信用报告", channel="report")
        if card is None:
            raise LifecycleError("该主体已不在档案中。")
        number = lifecycle.format_number(prefix, REPORT_KIND, now.year, seq, width=6)
        grade = await grade_for(s, subject_id, viewer, public_grades)
        data = ReportData(number, now, card, viewer.role, viewer.is_staff, subject_id in viewer.subject_ids, grade)
        pdf = render(data)
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
        return IssuedReport(number, pdf, digest, card.name)
