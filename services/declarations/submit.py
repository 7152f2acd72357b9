"""Submission: the authorisation to integrate and share, then the receipt number, the routing to
the verifying department and the credit commitment record, all in the step's transaction.
"""

from __future__ import annotations

import functools

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, AuditEntry, CreditRecord, Declaration, Department, Subject
from db.session import Database
from rules import declarations as rules
from rules.visibility import UNVERIFIED
from services.declarations.drafts import Apply, Ctx, Outcome, Submitted, close, run_step
from services.numbering import next_number, region_abbr
from services.recipients import department_chats

SEQUENCE_KIND = "declaration"
COMMITMENT_SOURCE = "self-declaration"
COMMITMENT_SOURCE_NAME = "申报主体自主承诺"


def authorise_step(ctx: Ctx, accept: bool) -> Apply:
    """The authorisation to integrate and share; accepted, the declaration is submitted: receipt
    number, routing to the verifying department and the commitment record, all in this transaction."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | Outcome | None:
        if draft.step != "authorise":
            return "请按当前步骤操作。"
        if not accept:
            close(draft, "cancelled")
            return None
        return await _submit(s, draft, account, ctx)

    return apply


async def authorise(db: Database, ctx: Ctx, accept: bool) -> Outcome:
    """Step `authorise`: the authorisation to integrate and share. Accepted, the declaration is
    submitted (`ended` "submitted", `submitted` has the receipt number and the verifying department's
    chats); refused, the draft ends with nothing submitted. Raises nothing."""
    return await run_step(db, ctx, authorise_step(ctx, accept))


@functools.lru_cache(maxsize=4)
def _routing(division_code: str) -> tuple[tuple[rules.DepartmentRef, ...], str]:
    from db.regions import default_region

    region = default_region(division_code)
    refs = tuple(rules.DepartmentRef(d.code, d.name, d.short_name, d.role, d.division_code) for d in region.departments)
    return refs, region.code


async def _submit(s: AsyncSession, draft: Declaration, account: Account, ctx: Ctx) -> Outcome:
    assert draft.category is not None and draft.subject_id is not None and draft.committed_at is not None
    cat = rules.category(draft.category)
    values = dict((draft.data or {}).get("values", {}))
    refs, city = _routing(ctx.division_code)
    code = rules.route(cat, values, list(refs), city)
    dept = await s.scalar(select(Department).where(Department.code == code)) if code else None
    seq = await next_number(s, SEQUENCE_KIND, ctx.today.year)
    receipt = rules.receipt_number(region_abbr(ctx.division_code), ctx.today.year, seq)
    subject = await s.get(Subject, draft.subject_id)
    assert subject is not None
    record = CreditRecord(
        subject_id=subject.id,
        category="信用承诺",
        department_id=dept.id if dept else None,
        source_key=COMMITMENT_SOURCE,
        source_name=COMMITMENT_SOURCE_NAME,
        doc_number=receipt,
        title=f"自主申报信用承诺（{cat.label}）",
        content=draft.commitment_text,
        decision_date=ctx.today,
        severity=None,
        rule_edition=None,
        # Neither public nor scored until an official verifies the declaration (rules.declarations).
        status=UNVERIFIED,
        fields={"承诺书版本": draft.commitment_version, "申报编号": receipt},
    )
    s.add(record)
    await s.flush()
    draft.receipt_no = receipt
    draft.authorisation_version, draft.authorisation_text = rules.AUTHORISATION_VERSION, rules.AUTHORISATION_TEXT
    draft.authorised_at = ctx.now
    draft.department_id = dept.id if dept else None
    draft.submitted_on = ctx.today
    draft.commitment_record_id = record.id
    draft.step = "submitted"
    close(draft, "pending")
    s.add(
        AuditEntry(
            account_id=account.id, role=account.role, action="declaration_submitted", subject_id=subject.id,
            detail={"receipt": receipt, "category": cat.label, "link": draft.link},
        )
    )
    chats = tuple(await department_chats(s, draft.department_id))
    return Outcome(
        None,
        ended="submitted",
        submitted=Submitted(draft.id, receipt, subject.name, cat.label, dept.name if dept else "本平台", chats),
    )


