"""Portable INSERT … ON CONFLICT DO NOTHING: the claim primitive of reminders and warnings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


def _dialect(session: AsyncSession) -> str:
    assert session.bind is not None
    return session.bind.dialect.name


def insert_ignore(session: AsyncSession, model: Any, values: dict[str, Any] | list[dict[str, Any]], keys: list[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on either backend: the loser of a race inserts nothing."""
    if _dialect(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).values(values).on_conflict_do_nothing(index_elements=keys)
