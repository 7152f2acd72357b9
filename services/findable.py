"""Which subjects a name search may offer to a viewer: decided once here, for every door.

A natural person is never a search result for the public or an enterprise account (only for staff
and for the person's own bound account): `rules.roles.may_find_by_name`. The chat's free-text
questions, the candidate buttons, the subject typed into /report or /propose, and the card itself
(a forged button) all pass through this module or `services.lookup.load_card`, so no channel can
list people by name, partial name or pinyin initials.
"""

from __future__ import annotations

from db.session import Database
from nlp.index_parts import Resolution
from nlp.resolver import NameIndex
from rules.roles import Viewer, may_find_by_name
from services.subjects import SubjectBrief, subject_briefs


def resolve_for(
    index: NameIndex, viewer: Viewer, name: str, division_code: str | None = None, exact_only: bool = False
) -> Resolution:
    """`index.resolve(name)` among the subjects this viewer may find by name.

    The subjects left out are dropped before ranking (`NameIndex.resolve(admit=...)`): a person
    called 王芳 neither answers the public's "王芳" nor hides the company 安康市王芳商贸有限公司,
    and when nothing else matches the answer is "none", exactly what a name nobody bears gets."""
    return index.resolve(
        name,
        division_code=division_code,
        exact_only=exact_only,
        admit=lambda entry: may_find_by_name(viewer, entry.kind, entry.subject_id),
    )


async def findable_briefs(db: Database, viewer: Viewer, subject_ids: list[int]) -> dict[int, SubjectBrief]:
    """Button labels for the candidates this viewer may be offered; the others are left out."""
    briefs = await subject_briefs(db, subject_ids)
    return {sid: b for sid, b in briefs.items() if may_find_by_name(viewer, b.kind, sid)}

