"""Submitted declarations as lists: the declarant's own, and what the verification queue shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, Declaration, Department, Subject
from db.session import Database
from rules import declarations as rules


@dataclass(frozen=True)
class DeclarationItem:
    id: int
    receipt_no: str | None
    subject_name: str
    category: str | None
    category_label: str
    headline: str
    status: str
    submitted_on: dt.date | None
    department: str | None
    attachments: tuple[dict[str, Any], ...]
    values: dict[str, str]
    decision_reason: str | None
    commitment_version: str | None
    link: str | None


def item_of(d: Declaration, subject_name: str, dept: str | None) -> DeclarationItem:
    """One declaration as lists show it (category label and headline from rules.declarations)."""
    cat = rules.CATEGORIES.get(d.category or "")
    values = dict((d.data or {}).get("values", {}))
    return DeclarationItem(
        id=d.id,
        receipt_no=d.receipt_no,
        subject_name=subject_name,
        category=d.category,
        category_label=cat.label if cat else "（未选类别）",
        headline=values.get(cat.headline, "") if cat else "",
        status=d.status,
        submitted_on=d.submitted_on,
        department=dept,
        attachments=tuple((d.attachments or {}).get("items", [])),
        values=values,
        decision_reason=d.decision_reason,
        commitment_version=d.commitment_version,
        link=d.link,
    )


async def items_where(s: AsyncSession, *where: Any) -> list[DeclarationItem]:
    """Declarations matching `where` with their subject and department names, newest first."""
    rows = (
        await s.execute(
            select(Declaration, Subject.name, Department.name)
            .outerjoin(Subject, Subject.id == Declaration.subject_id)
            .outerjoin(Department, Department.id == Declaration.department_id)
            .where(*where)
            .order_by(Declaration.id.desc())
        )
    ).all()
    return [item_of(d, name or "（未选主体）", dept) for d, name, dept in rows]


async def my_declarations(db: Database, telegram_user_id: int) -> list[DeclarationItem]:
    """Everything the account of `telegram_user_id` submitted, newest first, plus an open draft if
    there is one (`receipt_no` None). [] for an unknown user; raises nothing."""
    async with db.transaction() as s:
        account_id = await s.scalar(select(Account.id).where(Account.telegram_user_id == telegram_user_id))
        if account_id is None:
            return []
        return await items_where(s, Declaration.account_id == account_id, Declaration.status.in_([*rules.SUBMITTED, "draft"]))


