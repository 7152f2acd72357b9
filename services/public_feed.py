"""What the city's 信用网站 shows: the records published now, and the changes to them.

The website must never show what the bot no longer shows, so it takes the same rule the public card
takes (rules.visibility.is_published: status, publication period, the 2026 "轻微 not published"
rule) and nothing else: `published_records` pages through what is published today (to load or
rebuild the site), `public_changes` follows the change feed (services/changes.py, events that may
change the public view) and gives, for each record, its public form now or `None` — remove it.
Natural persons are not a public directory here (README, Privacy), so their records are in neither.
The site should also drop a record on its `last_public_day`; the daily job's "expired" event repeats
that, for a site that did not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from db.models import CreditRecord, Subject
from db.session import Database
from rules.masking import scrub
from rules.publication import last_public_day
from rules.visibility import EFFECTIVE_STATUSES, effective_publication_end, is_published
from services import changes

PERSON = "自然人"
MAX_PAGE = 1000


@dataclass(frozen=True)
class PublicRecord:
    record_id: int
    subject_name: str
    uscc: str | None
    category: str
    doc_number: str
    title: str | None
    content: str | None
    decision_date: dt.date
    department: str
    severity: str | None
    last_public_day: dt.date | None


def _public(record: CreditRecord, subject: Subject, today: dt.date) -> PublicRecord | None:
    if subject.kind == PERSON or not is_published(record, today):
        return None
    return PublicRecord(
        record.id, subject.name, subject.uscc, record.category, record.doc_number, scrub(record.title or "") or None,
        scrub(record.content or "") or None, record.decision_date, record.source_name, record.severity,
        last_public_day(effective_publication_end(record)),
    )


async def public_views(db: Database, record_ids: Iterable[int], today: dt.date) -> dict[int, PublicRecord | None]:
    """Each record's public form today, or None when the public no longer sees it."""
    ids = list(dict.fromkeys(record_ids))
    found: dict[int, PublicRecord | None] = dict.fromkeys(ids)
    async with db.transaction() as s:
        for i in range(0, len(ids), 1000):
            rows = await s.execute(
                select(CreditRecord, Subject).join(Subject, Subject.id == CreditRecord.subject_id)
                .where(CreditRecord.id.in_(ids[i : i + 1000]))
            )
            for record, subject in rows:
                found[record.id] = _public(record, subject, today)
    return found


@dataclass(frozen=True)
class PublishedPage:
    records: list[PublicRecord]
    next_after: int  # pass as `after` for the next page
    more: bool


async def published_records(db: Database, after: int, limit: int, today: dt.date) -> PublishedPage:
    """Records published today with an id above `after`, in id order (pages of at most `limit`
    records scanned). Raises nothing."""
    limit = max(1, min(limit, MAX_PAGE))
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(CreditRecord, Subject).join(Subject, Subject.id == CreditRecord.subject_id)
                .where(CreditRecord.id > after, CreditRecord.status.in_(EFFECTIVE_STATUSES), Subject.kind != PERSON)
                .order_by(CreditRecord.id).limit(limit + 1)
            )
        ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    out = [view for record, subject in rows if (view := _public(record, subject, today)) is not None]
    return PublishedPage(out, rows[-1][0].id if rows else after, more)


@dataclass(frozen=True)
class PublicChange:
    seq: int
    kind: str
    record_id: int
    record: PublicRecord | None  # None: not (or no longer) published — remove it


async def public_changes(db: Database, since: str | None, limit: int, today: dt.date) -> tuple[list[PublicChange], str, bool]:
    """The feed's public events after `since`, each with its record's public form today; returns
    (changes, next cursor, more). Raises Refusal(INVALID) for a bad cursor or limit."""
    page = await changes.read(db, since, limit, persons=False, public_only=True)
    views = await public_views(db, [e.record_id for e in page.events if e.record_id is not None], today)
    out = [PublicChange(e.seq, e.kind, e.record_id, views.get(e.record_id)) for e in page.events if e.record_id is not None]
    return out, page.next_cursor, page.more
