"""The daily job's use case: records past their publication period get status "expired".

Visibility never waits for this: rules.visibility compares dates, so a record leaves every public
view on its end date even if this job has not run (or the bot was down). Marking them keeps the
stored status honest for exports, statistics and anything else that reads the column.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update

from db.models import CreditRecord
from db.session import Database
from rules import visibility
from rules.publication import add_months
from services import changes

# No publication window is shorter than this, so younger records without a stored end cannot be due.
SHORTEST_WINDOW_MONTHS = 3
BATCH = 1000


async def mark_expired(db: Database, today: dt.date) -> int:
    """Mark every active record whose publication ended on or before `today`; returns how many.

    Only "active" records: an objected record waits for its decision, which restores "active", and
    the next run expires it. Idempotent, so a missed or repeated run does no harm."""
    oldest_possible = add_months(today, -SHORTEST_WINDOW_MONTHS)
    async with db.transaction() as s:
        rows = await s.execute(
            select(
                CreditRecord.id,
                CreditRecord.category,
                CreditRecord.status,
                CreditRecord.publication_end,
                CreditRecord.severity,
                CreditRecord.decision_date,
                CreditRecord.rule_edition,
            ).where(
                CreditRecord.status == "active",
                or_(
                    CreditRecord.publication_end <= today,
                    CreditRecord.publication_end.is_(None) & (CreditRecord.decision_date <= oldest_possible),
                ),
            )
        )
        due = [row.id for row in rows if _ended(row, today)]
        for i in range(0, len(due), BATCH):
            await s.execute(
                update(CreditRecord)
                .where(CreditRecord.id.in_(due[i : i + BATCH]), CreditRecord.status == "active")
                .values(status="expired")
                .execution_options(synchronize_session=False)
            )
        await changes.emit_records(s, "expired", due)
    return len(due)


def _ended(row: visibility.RecordLike, today: dt.date) -> bool:
    end = visibility.effective_publication_end(row)
    return end is not None and end <= today
