"""Which subjects a name search may offer to a viewer: decided once here, for every door.

A natural person is never a search result for the public or an enterprise account (only for staff
and for the person's own bound account): `rules.roles.may_find_by_name`. Every typed question is
resolved among the subjects the viewer may find (services.subject_query passes the rule to the
resolver, which leaves the others out before ranking), the candidate buttons pass through this
module, and the card itself (a forged button) through `services.lookup.load_card`, so no channel
can list people by name, partial name or pinyin initials.
"""

from __future__ import annotations

from db.session import Database
from rules.roles import Viewer, may_find_by_name
from services.subjects import SubjectBrief, subject_briefs


async def findable_briefs(db: Database, viewer: Viewer, subject_ids: list[int]) -> dict[int, SubjectBrief]:
    """Button labels for the candidates this viewer may be offered; the others are left out."""
    briefs = await subject_briefs(db, subject_ids)
    return {sid: b for sid, b in briefs.items() if may_find_by_name(viewer, b.kind, sid)}

