"""Storing the persons behind organisations from a 主体名录 file (db.models.persons).

A person is a natural-person `Subject` keyed by the keyed hash of the ID number; an organisation has
at most one person per role (法定代表人 legal_rep, 主要负责人 principal). A changed person is a
correction of the organisation, kept in `record_changes` with the masked numbers only. A number
already used by a subject that is not a natural person (a 个体工商户 filed under its operator's
number) is not linked: one number, one subject.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RecordChange, Subject, SubjectPerson

PERSON_KIND = "自然人"


async def link_persons(
    session: AsyncSession, links: Sequence[tuple[int, tuple[tuple[str, str, str, str], ...]]], now: dt.datetime, source: str
) -> int:
    """`links`: (organisation id, ((role, name, id_hash, id_masked), ...)). Creates missing person
    subjects, inserts or re-points the (organisation, role) links. Returns how many links changed.
    Four statements whatever the number of rows (reads by key, one insert of persons, one insert and
    one update of links)."""
    wanted = {(org, role): (name, h, masked) for org, persons in links for role, name, h, masked in persons}
    if not wanted:
        return 0
    hashes = sorted({h for _name, h, _m in wanted.values()})
    found = {row.id_hash: row for row in await session.execute(
        select(Subject.id, Subject.id_hash, Subject.kind).where(Subject.id_hash.in_(hashes)))}
    new = {h: (name, masked) for name, h, masked in wanted.values() if h not in found}
    if new:
        await session.execute(insert(Subject.__table__), [
            {"kind": PERSON_KIND, "name": name, "id_hash": h, "id_masked": masked, "status": "存续",
             "created_at": now, "updated_at": now} for h, (name, masked) in new.items()
        ])  # fmt: skip
        found |= {row.id_hash: row for row in await session.execute(
            select(Subject.id, Subject.id_hash, Subject.kind).where(Subject.id_hash.in_(sorted(new))))}
    orgs = sorted({org for org, _role in wanted})
    current = {(r.organisation_id, r.role): r for r in await session.execute(
        select(SubjectPerson.id, SubjectPerson.organisation_id, SubjectPerson.role, SubjectPerson.person_id)
        .where(SubjectPerson.organisation_id.in_(orgs)))}
    masked_of = {row.id: m for (_n, h, m) in wanted.values() if (row := found.get(h)) is not None}
    inserts, updates, changes = [], [], []
    for (org, role), (_name, h, masked) in wanted.items():
        person = found.get(h)
        if person is None or person.kind != PERSON_KIND:
            continue
        old = current.get((org, role))
        if old is None:
            inserts.append({"organisation_id": org, "person_id": person.id, "role": role, "source": source[:64],
                            "created_at": now, "updated_at": now})
        elif old.person_id != person.id:
            updates.append({"id": old.id, "person_id": person.id, "source": source[:64], "updated_at": now})
            changes.append({"record_id": None, "subject_id": org, "changed_at": now, "source_file": source,
                            "changes": {f"persons.{role}": [masked_of.get(old.person_id, "（原登记人员）"), masked]}})
    if inserts:
        await session.execute(insert(SubjectPerson.__table__), inserts)
    if updates:
        await session.execute(update(SubjectPerson), updates)
    if changes:
        await session.execute(insert(RecordChange), changes)
    return len(inserts) + len(updates)
