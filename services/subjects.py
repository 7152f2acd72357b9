"""Small read-only look-ups of subjects that are not card views (no audit entry needed)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from db.models import Division, Subject
from db.session import Database
from rules.masking import id_match_key


@dataclass(frozen=True)
class SubjectBrief:
    """Enough to label a candidate button: never a clear ID number."""

    name: str
    kind: str
    uscc: str | None
    id_masked: str | None
    division: str | None


# Built once (a statement's construction costs more CPU than its round trip); `ids` expands to IN (…).
_BRIEFS = (
    select(Subject.id, Subject.name, Subject.kind, Subject.uscc, Subject.id_masked, Division.short_name)
    .outerjoin(Division, Division.code == Subject.division_code)
    .where(Subject.id.in_(bindparam("ids", expanding=True)))
)


async def subject_briefs(db: Database, ids: list[int]) -> dict[int, SubjectBrief]:
    if not ids:
        return {}
    async with db.read(copy=True) as conn:  # one statement, button labels: the read copy may serve it
        rows = await conn.execute(_BRIEFS, {"ids": ids})
        return {row[0]: SubjectBrief(*row[1:]) for row in rows}


async def find_by_id_number(db: Database, id_number: str, key: str) -> int | None:
    async with db.read_transaction() as s:
        return await s.scalar(select(Subject.id).where(Subject.id_hash == id_match_key(id_number, key)))
