"""The notice outbox (issue 12): a notice to another chat is written down first, then sent, and a
failed send is retried until it arrives or is given up, so an official is never told "已通知" for a
notice that did not arrive and a passing network fault does not lose one.

- `post` writes the notices right after the decision and hands them back already claimed, for the
  caller to send at once; `claim_due` hands the repeating job the notices whose retry is due.
- A claim is a lease (`LEASE`): `claimed_until` set and `version` raised in one conditional UPDATE,
  so two processes never both claim a row (on PostgreSQL the candidate rows are also locked with
  SKIP LOCKED, so a second process takes other rows instead of waiting). A sender that died holding
  a claim leaves the row to be retried once the lease ends.
- `settle` records the outcome, only if the claim is still the sender's (same `version`): delivered;
  refused for good (the chat blocked the bot, or does not exist: never retried); or failed for now,
  retried after `RETRY_DELAYS` and given up after the last.
- The text is masked (rules.masking.scrub) before it is stored: no ID or phone number in clear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Listing, Notice, utcnow
from db.session import Database
from rules.masking import scrub
from rules.roles import Viewer
from services.errors import Refusal

RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
)
LEASE = dt.timedelta(minutes=2)
BATCH = 50  # notices claimed at a time
PENDING, DELIVERED, REFUSED, GIVEN_UP = "pending", "delivered", "refused", "given_up"


@dataclass(frozen=True)
class Claimed:
    """A notice this process may send now; `version` proves the claim when the outcome is settled."""

    id: int
    chat_id: int
    text: str
    version: int
    listing_id: int | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What became of notices sent at once: the truth the official is told."""

    total: int = 0
    delivered: int = 0
    retrying: int = 0  # failed for now; the job tries again
    refused: int = 0  # will not arrive this way: the chat refuses the bot, or the last retry failed


@dataclass(frozen=True)
class Document:
    """A notice that is a document: the stored 事前告知书 of `listing_id`, sent as `file_name`."""

    listing_id: int
    file_name: str


def enqueue(
    s: AsyncSession, chats: Iterable[int], text: str, kind: str, now: dt.datetime,
    by_account_id: int | None = None, document: Document | None = None,
) -> list[Notice]:
    """Write one notice per distinct chat inside the caller's transaction, claimed for sending now;
    `by_account_id` is the official whose decision owes it."""
    rows = [
        Notice(
            chat_id=chat, kind=kind, text=scrub(text), account_id=by_account_id,
            listing_id=document.listing_id if document else None, file_name=document.file_name if document else None,
            status=PENDING, attempts=0, next_try_at=now, claimed_until=now + LEASE, version=1,
        )
        for chat in dict.fromkeys(chats)
    ]
    s.add_all(rows)
    return rows


def _claimed(row: Notice) -> Claimed:
    return Claimed(row.id, row.chat_id, row.text, row.version, row.listing_id, row.file_name)


async def post(
    db: Database, chats: Iterable[int], text: str, kind: str, now: dt.datetime | None = None,
    by_account_id: int | None = None, document: Document | None = None,
) -> list[Claimed]:
    """Write the notices for `chats` in their own transaction (right after the decision that owes
    them) and return them claimed, for the caller to send at once. Raises nothing of its own."""
    now = now or utcnow()
    async with db.transaction() as s:
        rows = enqueue(s, chats, text, kind, now, by_account_id, document)
        await s.flush()
        return [_claimed(r) for r in rows]


async def claim_due(db: Database, now: dt.datetime | None = None, limit: int = BATCH) -> list[Claimed]:
    """Claim up to `limit` notices whose retry is due and that no live claim holds. Safe with any
    number of processes running it at once: each row goes to one of them."""
    now = now or utcnow()
    free = or_(Notice.claimed_until.is_(None), Notice.claimed_until <= now)
    due = (
        select(Notice.id)
        .where(Notice.status == PENDING, Notice.next_try_at <= now, free)
        .order_by(Notice.next_try_at, Notice.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time anyway
    )
    async with db.transaction() as s:
        result = await s.execute(
            update(Notice)
            # The conditions again: a row claimed by another process meanwhile is re-checked and skipped.
            .where(Notice.id.in_(due.scalar_subquery()), Notice.status == PENDING, free)
            .values(claimed_until=now + LEASE, version=Notice.version + 1)
            .returning(Notice.id, Notice.chat_id, Notice.text, Notice.version, Notice.listing_id, Notice.file_name)
            .execution_options(synchronize_session=False)
        )
        return sorted((Claimed(*row) for row in result.all()), key=lambda c: c.id)


async def document_of(db: Database, claimed: Claimed) -> bytes | None:
    """The stored PDF a document notice carries (a listing's 事前告知书), or None."""
    if claimed.listing_id is None:
        return None
    async with db.transaction() as s:
        return await s.scalar(select(Listing.notice_pdf).where(Listing.id == claimed.listing_id))


async def settle(
    db: Database, claimed: Claimed, outcome: str, error: str | None = None, now: dt.datetime | None = None
) -> str | None:
    """Record what a send did: `outcome` is DELIVERED, REFUSED (for good) or "failed" (for now).

    Returns the notice's new status (PENDING while a retry is scheduled, GIVEN_UP after the last),
    or None when the claim was lost (its lease ended and another process took the row)."""
    now = now or utcnow()
    async with db.transaction() as s:
        row = await s.get(Notice, claimed.id, with_for_update=True)
        if row is None or row.version != claimed.version or row.status != PENDING:
            return None
        row.attempts += 1
        row.claimed_until = None
        row.last_error = (error or "")[:64] or None
        if outcome == DELIVERED:
            row.status, row.delivered_at = DELIVERED, now
        elif outcome == REFUSED:
            row.status = REFUSED
        elif row.attempts > len(RETRY_DELAYS):
            row.status = GIVEN_UP
        else:
            row.next_try_at = now + RETRY_DELAYS[row.attempts - 1]
        return row.status


@dataclass(frozen=True)
class Undelivered:
    """A notice that will not arrive by the bot, for the admins' list."""

    id: int
    kind: str
    status: str
    attempts: int
    created_at: dt.datetime
    text: str


async def undelivered(db: Database, viewer: Viewer, since: dt.datetime, limit: int = 30) -> list[Undelivered]:
    """Notices refused or given up since `since` (newest first), to be delivered in writing: an admin
    sees all, an official those its own decisions owed. Raises Refusal for anyone else."""
    if viewer.role not in ("admin", "official") or viewer.account_id is None:
        raise Refusal("该功能仅限办事人员和系统管理员使用。")
    where = [Notice.status.in_((REFUSED, GIVEN_UP)), Notice.created_at >= since]
    if viewer.role != "admin":
        where.append(Notice.account_id == viewer.account_id)
    async with db.transaction() as s:
        rows = (
            await s.scalars(select(Notice).where(*where).order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit))
        ).all()
    return [Undelivered(r.id, r.kind, r.status, r.attempts, r.created_at, r.text) for r in rows]
