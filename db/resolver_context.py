"""Use cases around the resolver (issue 11): the chat's current subject, and subjects by old codes.

* `remember_subject` / `recent_subject`: the subject last shown in a chat to a user, so a follow-up
  ("许可呢", "政府采购", "更多") in this or another bot process refers to it for a configured time.
* `subjects_by_legacy_code`: a 工商注册号 or 组织机构代码 the archive holds only in the legacy code
  columns of imported records (the 双公示 templates' 行政相对人代码_2/_3, kept in `fields`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CreditRecord
from db.models_resolver_context import ChatSubject
from db.session import Database

REGISTRATION_NUMBER = "工商注册号"
ORGANISATION_CODE = "组织机构代码"


def _upsert(session: AsyncSession, values: dict[str, object]):  # type: ignore[no-untyped-def]
    assert session.bind is not None
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(ChatSubject).values(values)
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "user_id"],
        set_={"subject_id": stmt.excluded.subject_id, "shown_at": stmt.excluded.shown_at},
    )


async def remember_subject(db: Database, chat_id: int, user_id: int, subject_id: int, now: dt.datetime) -> None:
    """Make `subject_id` the chat's current subject for this user (one row per chat and user)."""
    async with db.transaction() as s:
        await s.execute(_upsert(s, {"chat_id": chat_id, "user_id": user_id, "subject_id": subject_id, "shown_at": now}))


async def recent_subject(
    db: Database, chat_id: int, user_id: int, now: dt.datetime, window: dt.timedelta
) -> int | None:
    """The subject shown to this user in this chat within `window` before `now`, else None."""
    async with db.transaction() as s:
        row = await s.get(ChatSubject, (chat_id, user_id))
        if row is None or row.shown_at < now - window:
            return None
        return row.subject_id


async def subjects_by_legacy_code(db: Database, label: str, values: list[str]) -> list[int]:
    """Subjects with a record whose legacy code column `label` holds one of `values` (as written,
    e.g. with and without the dash of a 组织机构代码)."""
    if not values:
        return []
    async with db.transaction() as s:
        rows = await s.scalars(
            select(CreditRecord.subject_id)
            .where(CreditRecord.fields[label].as_string().in_(values))
            .distinct()
            .order_by(CreditRecord.subject_id)
            .limit(10)
        )
        return list(rows.all())
