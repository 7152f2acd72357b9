"""Portable INSERT … ON CONFLICT: the claim primitive of reminders and warnings (DO NOTHING), and
the chat's current subject (DO UPDATE: one row per chat and user)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChatSubject


def _dialect(session: AsyncSession) -> str:
    assert session.bind is not None
    return session.bind.dialect.name


def dialect_insert(dialect: str) -> Any:
    """The `insert` of `dialect` ("postgresql" or "sqlite"), which has `on_conflict_do_…`."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def insert_ignore(session: AsyncSession, model: Any, values: dict[str, Any] | list[dict[str, Any]], keys: list[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on either backend: the loser of a race inserts nothing."""
    return dialect_insert(_dialect(session))(model).values(values).on_conflict_do_nothing(index_elements=keys)


def _chat_subject_upsert(dialect: str) -> Insert:
    stmt = dialect_insert(dialect)(ChatSubject)
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=["chat_id", "user_id"],
        set_={"subject_id": stmt.excluded.subject_id, "shown_at": stmt.excluded.shown_at},
    )


# The chat's current subject, by dialect: executed with the rows as parameters (chat_id, user_id,
# subject_id, shown_at). Built once: every card writes it, and building the statement cost more CPU
# than running it.
CHAT_SUBJECT_UPSERTS: dict[str, Insert] = {d: _chat_subject_upsert(d) for d in ("postgresql", "sqlite")}
