"""Who is told: the chats bound to a subject and the chats of a department's officials.

Use cases return these chat ids with their result; the conversation (handlers/) sends the words.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, AccountSubject


async def subject_chats(s: AsyncSession, subject_id: int) -> list[int]:
    """Telegram chats of the active accounts bound to a subject (who gets notices and answers),
    in account order."""
    rows = await s.scalars(
        select(Account.telegram_user_id)
        .join(AccountSubject, AccountSubject.account_id == Account.id)
        .where(AccountSubject.subject_id == subject_id, Account.active.is_(True), Account.telegram_user_id.is_not(None))
        .order_by(Account.id)
    )
    return [int(x) for x in rows]


async def department_chats(s: AsyncSession, department_id: int | None) -> list[int]:
    """Telegram chats of a department's active officials (who get objections, repair requests and
    declarations to verify), in account order; [] without a department."""
    if department_id is None:
        return []
    rows = await s.scalars(
        select(Account.telegram_user_id)
        .where(
            Account.department_id == department_id,
            Account.role == "official",
            Account.active.is_(True),
            Account.telegram_user_id.is_not(None),
        )
        .order_by(Account.id)
    )
    return [int(x) for x in rows]
