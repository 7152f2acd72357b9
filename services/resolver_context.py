"""Use cases around the resolver (issue 11): the chat's current subject, and subjects by old codes.

* `remember_subject_in` / `recent_subject`: the subject last shown in a chat to a user, so a follow-up
  ("许可呢", "政府采购", "更多") in this or another bot process refers to it for a configured time.
* `subjects_by_legacy_code`: a 工商注册号 or 组织机构代码 the archive holds only in the legacy code
  columns of imported records (the 双公示 templates' 行政相对人代码_2/_3, kept in `fields`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import ChatSubject, CreditRecord
from db.outbox import CHAT_SUBJECT, write_behind
from db.session import Database
from db.upsert import CHAT_SUBJECT_UPSERTS

REGISTRATION_NUMBER = "工商注册号"
ORGANISATION_CODE = "组织机构代码"


async def remember_subject_in(conn: AsyncConnection, chat_id: int, user_id: int, subject_id: int, now: dt.datetime) -> None:
    """Make `subject_id` the chat's current subject for this user (one row per chat and user), inside
    the caller's transaction: the card that showed it (services.chat_card)."""
    values = {"chat_id": chat_id, "user_id": user_id, "subject_id": subject_id, "shown_at": now}
    await conn.execute(CHAT_SUBJECT_UPSERTS[conn.dialect.name], values)


async def remember_subject(db: Database, chat_id: int, user_id: int, subject_id: int, now: dt.datetime) -> None:
    """Make `subject_id` the chat's current subject for this user, behind the answer when the process
    has an outbox (db/outbox.py), else at once on the primary: for a card read apart from its writes."""
    await write_behind(db, CHAT_SUBJECT, [{"chat_id": chat_id, "user_id": user_id, "subject_id": subject_id, "shown_at": now}])


async def recent_subject(
    db: Database, chat_id: int, user_id: int, now: dt.datetime, window: dt.timedelta
) -> int | None:
    """The subject shown to this user in this chat within `window` before `now`, else None.

    Read from the primary, not the read copy: a follow-up comes seconds after the card, sooner than
    a standby may have replayed it; a value still in this process's outbox is newer than both."""
    pending = db.outbox.pending_chat_subject(chat_id, user_id) if db.outbox is not None else None
    if pending is not None:
        shown_at, subject_id = pending["shown_at"], pending["subject_id"]
    else:
        async with db.read() as conn:
            row = (await conn.execute(
                select(ChatSubject.subject_id, ChatSubject.shown_at)
                .where(ChatSubject.chat_id == chat_id, ChatSubject.user_id == user_id)
            )).first()
        if row is None:
            return None
        shown_at, subject_id = row.shown_at, row.subject_id
    return None if shown_at < now - window else subject_id


async def subjects_by_legacy_code(db: Database, label: str, values: list[str]) -> list[int]:
    """Subjects with a record whose legacy code column `label` holds one of `values` (as written,
    e.g. with and without the dash of a 组织机构代码).

    The JSON text is searched for the code and each hit is checked in Python: SQLite's json_extract
    does not match a non-ASCII key stored with escapes (the default of json.dumps), so a JSON path
    works only on PostgreSQL. Codes are letters, digits and a dash: safe inside LIKE.
    """
    wanted = {v for v in values if v and all(c.isalnum() or c == "-" for c in v)}
    if not wanted:
        return []
    found: set[int] = set()
    async with db.read_transaction() as s:
        text = cast(CreditRecord.fields, String)
        rows = await s.execute(
            select(CreditRecord.subject_id, CreditRecord.fields).where(or_(*(text.like(f"%{v}%") for v in wanted)))
        )
        for subject_id, fields in rows:
            if str((fields or {}).get(label, "")).strip().upper() in wanted:
                found.add(subject_id)
    return sorted(found)[:10]
