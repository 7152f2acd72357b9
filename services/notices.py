"""The notice outbox (issue 12): a notice to another chat is written down first, then sent, and a
failed send is retried until it arrives or is given up, so an official is never told "已通知" for a
notice that did not arrive and a passing network fault does not lose one.

- `post` writes the notices right after the decision and hands them back already claimed, for the
  caller to send at once; `claim_due` hands the repeating job the notices whose retry is due.
- A claim is a lease (`LEASE`, far longer than one send may take: `SEND_TIMEOUT`), renewed right
  before each send (`take`), so a batch of slow sends never outlives it; `claimed_until` set and
  `version` raised in one conditional UPDATE,
  so two processes never both claim a row (on PostgreSQL the candidate rows are also locked with
  SKIP LOCKED, so a second process takes other rows instead of waiting). A sender that died holding
  a claim leaves the row to be retried once the lease ends.
- `take` also re-checks the recipient before every send: an account deactivated, unbound (its role
  changed) or no longer bound to the notice's subject is not sent it; the notice is refused with
  the reason, so it shows in /undelivered.
- `settle` records the outcome, only if the claim is still the sender's (same `version`): delivered;
  refused for good (the chat blocked the bot, or does not exist: never retried); or failed for now,
  retried after `RETRY_DELAYS` and given up after the last. A sender that lost its claim records
  nothing and reports the row's status as it is (never "refused" for a notice another sender has).
- `text` is masked (rules.masking.scrub): no ID or phone number in clear, for logs and /undelivered.
  What is sent is the official's own text, kept encrypted (`sealed`, db.upload_store.seal with the
  outbox's label) until the notice is settled for good, then dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, AccountSubject, Listing, Notice, StoredDocument, utcnow
from db.session import Database
from db.upload_store import SealError, seal, unseal
from rules.masking import scrub
from rules.roles import Viewer
from services.errors import Refusal

RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
)
LEASE = dt.timedelta(minutes=10)
SEND_TIMEOUT = dt.timedelta(seconds=90)  # one send; the lease is renewed before each
BATCH = 50  # notices claimed at a time
PENDING, DELIVERED, REFUSED, GIVEN_UP = "pending", "delivered", "refused", "given_up"
SEAL_LABEL = b"creditbot notice text v1\x00"
# `recipient`: a subject's bound account, or the role the account had when the notice was written.
SUBJECT = "subject"


@dataclass(frozen=True)
class Claimed:
    """A notice this process may send now; `version` proves the claim when the outcome is settled."""

    id: int
    chat_id: int
    text: str
    version: int
    listing_id: int | None = None
    file_name: str | None = None
    document_number: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What became of notices sent at once: the truth the official is told."""

    total: int = 0
    delivered: int = 0
    retrying: int = 0  # failed for now; the job tries again
    refused: int = 0  # will not arrive this way: the chat refuses the bot, or the last retry failed


@dataclass(frozen=True)
class Document:
    """A notice that is a document, sent as `file_name`: the stored 事前告知书 of `listing_id` (its
    列入决定书 when the name starts with DECISION_FILE_PREFIX), or the stored document numbered
    `number` (a 信用修复告知书 or 决定书, services.stored_documents)."""

    listing_id: int | None
    file_name: str
    number: str | None = None


async def enqueue(
    s: AsyncSession, chats: Iterable[int], text: str, kind: str, now: dt.datetime, key: str,
    by_account_id: int | None = None, document: Document | None = None, subject_id: int | None = None,
    claim: bool = True,
) -> list[Notice]:
    """Write one notice per distinct chat inside the caller's transaction: claimed for sending now
    (`claim`), or left for the repeating job. `by_account_id` is the official whose decision owes
    it; `subject_id` the subject it is about (a recipient bound to it must still be, at each retry);
    `key` seals the text (privacy.id_hash_key)."""
    wanted = list(dict.fromkeys(chats))
    accounts = {
        a.telegram_user_id: a
        for a in (await s.scalars(select(Account).where(Account.telegram_user_id.in_(wanted)))).all()
    }
    bound: set[int] = set()
    if subject_id is not None and accounts:
        ids = [a.id for a in accounts.values()]
        bound = set(
            await s.scalars(
                select(AccountSubject.account_id).where(AccountSubject.subject_id == subject_id, AccountSubject.account_id.in_(ids))
            )
        )
    sealed = seal(text.encode(), key, SEAL_LABEL)
    rows = []
    for chat in wanted:
        account = accounts.get(chat)
        recipient = None if account is None else SUBJECT if account.id in bound else account.role
        rows.append(
            Notice(
                chat_id=chat, kind=kind, text=scrub(text), sealed=sealed, account_id=by_account_id,
                recipient_account_id=account.id if account else None, recipient=recipient, subject_id=subject_id,
                listing_id=document.listing_id if document else None, file_name=document.file_name if document else None,
                document_number=document.number if document else None,
                status=PENDING, attempts=0, next_try_at=now, claimed_until=now + LEASE if claim else None,
                version=1 if claim else 0,
            )
        )
    s.add_all(rows)
    return rows


def _opened(sealed: bytes | None, masked: str, key: str) -> str:
    """The text to send: the sealed original, or the masked copy if it cannot be opened (key changed)."""
    if sealed is None:
        return masked
    try:
        return unseal(sealed, key, SEAL_LABEL).decode()
    except SealError:
        return masked


def _claimed(row: Notice, text: str) -> Claimed:
    return Claimed(row.id, row.chat_id, text, row.version, row.listing_id, row.file_name, row.document_number)


async def post(
    db: Database, chats: Iterable[int], text: str, kind: str, key: str, now: dt.datetime | None = None,
    by_account_id: int | None = None, document: Document | None = None, subject_id: int | None = None,
) -> list[Claimed]:
    """Write the notices for `chats` in their own transaction (right after the decision that owes
    them) and return them claimed, for the caller to send at once. Raises nothing of its own."""
    now = now or utcnow()
    async with db.transaction() as s:
        rows = await enqueue(s, chats, text, kind, now, key, by_account_id, document, subject_id)
        await s.flush()
        return [_claimed(r, text) for r in rows]


async def claim_due(db: Database, key: str, now: dt.datetime | None = None, limit: int = BATCH) -> list[Claimed]:
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
            .returning(
                Notice.id, Notice.chat_id, Notice.text, Notice.sealed, Notice.version, Notice.listing_id, Notice.file_name,
                Notice.document_number,
            )
            .execution_options(synchronize_session=False)
        )
        claimed = [
            Claimed(i, chat, _opened(sealed, masked, key), version, listing, name, number)
            for i, chat, masked, sealed, version, listing, name, number in result.all()
        ]
        return sorted(claimed, key=lambda c: c.id)


async def _gone(s: AsyncSession, row: Notice) -> str | None:
    """Why the notice's recipient may no longer be sent it (deactivated, unbound), or None."""
    if row.recipient_account_id is None or row.recipient is None:
        return None
    account = await s.get(Account, row.recipient_account_id)
    if account is None or not account.active:
        return "inactive"
    if row.recipient == SUBJECT:
        bound = await s.get(AccountSubject, (account.id, row.subject_id)) if row.subject_id is not None else None
        return None if bound is not None else "unbound"
    return None if account.role == row.recipient else "unbound"


def _final(row: Notice, status: str, now: dt.datetime) -> None:
    row.status, row.claimed_until, row.sealed = status, None, None
    if status == DELIVERED:
        row.delivered_at = now


async def _held(s: AsyncSession, claimed: Claimed) -> tuple[Notice | None, str]:
    """The claimed row, locked, while the claim is still this sender's; else None and the status to
    report (REFUSED for a row that is gone, the row's own status when another sender has it)."""
    row = await s.get(Notice, claimed.id, with_for_update=True)
    if row is None:
        return None, REFUSED
    if row.version != claimed.version or row.status != PENDING:
        return None, row.status
    return row, PENDING


async def take(db: Database, claimed: Claimed, now: dt.datetime | None = None) -> str | None:
    """Right before a send: renew the claim for another LEASE and check the recipient again.

    Returns None to go ahead; else the status to report without sending: the row's own status when
    the claim was lost (another sender has it), REFUSED when the recipient may no longer get it
    (recorded, with the reason as `last_error`)."""
    now = now or utcnow()
    async with db.transaction() as s:
        row, lost = await _held(s, claimed)
        if row is None:
            return lost
        why = await _gone(s, row)
        if why is not None:
            row.attempts += 1
            row.last_error = why
            _final(row, REFUSED, now)
            return REFUSED
        row.claimed_until = now + LEASE
        return None


# A document notice names its file; one named so carries the listing's 列入决定书, any other its 事前告知书.
DECISION_FILE_PREFIX = "列入决定书"


async def document_of(db: Database, claimed: Claimed) -> bytes | None:
    """The stored PDF a document notice carries (a listing's 事前告知书 or 列入决定书, a stored
    document), or None."""
    if claimed.document_number is not None:
        async with db.transaction() as s:
            return await s.scalar(select(StoredDocument.pdf).where(StoredDocument.number == claimed.document_number))
    if claimed.listing_id is None:
        return None
    decision = (claimed.file_name or "").startswith(DECISION_FILE_PREFIX)
    column = Listing.decision_pdf if decision else Listing.notice_pdf
    async with db.transaction() as s:
        return await s.scalar(select(column).where(Listing.id == claimed.listing_id))


async def settle(
    db: Database, claimed: Claimed, outcome: str, error: str | None = None, now: dt.datetime | None = None
) -> str | None:
    """Record what a send did: `outcome` is DELIVERED, REFUSED (for good) or "failed" (for now).

    Returns the notice's new status (PENDING while a retry is scheduled, GIVEN_UP after the last).
    When the claim was lost (another process took the row), nothing is recorded and the row's
    status as it stands is returned: a lost claim is never reported as refused."""
    now = now or utcnow()
    async with db.transaction() as s:
        row, lost = await _held(s, claimed)
        if row is None:
            return lost
        row.attempts += 1
        row.claimed_until = None
        row.last_error = (error or "")[:64] or None
        if outcome in (DELIVERED, REFUSED):
            _final(row, outcome, now)
        elif row.attempts > len(RETRY_DELAYS):
            _final(row, GIVEN_UP, now)
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
    recipient: str | None  # SUBJECT, a role, or None (a chat without an account)
    recipient_name: str | None  # the account's display name, so the official knows whom to serve
    last_error: str | None = None


@dataclass(frozen=True)
class UndeliveredList:
    items: list[Undelivered]
    total: int  # all that match; `items` holds at most the limit


async def undelivered(db: Database, viewer: Viewer, since: dt.datetime, limit: int = 30) -> UndeliveredList:
    """Notices refused or given up since `since` (newest first, at most `limit`, with the count of
    all), to be delivered in writing: an admin sees all, an official those its own decisions owed
    (a listing's notices are owed by the official who proposed it). Raises Refusal for anyone else."""
    if viewer.role not in ("admin", "official") or viewer.account_id is None:
        raise Refusal("该功能仅限办事人员和系统管理员使用。")
    where = [Notice.status.in_((REFUSED, GIVEN_UP)), Notice.created_at >= since]
    if viewer.role != "admin":
        where.append(Notice.account_id == viewer.account_id)
    async with db.transaction() as s:
        total = int(await s.scalar(select(func.count()).select_from(Notice).where(*where)) or 0)
        rows = (
            await s.execute(
                select(Notice, Account.display_name)
                .outerjoin(Account, Account.id == Notice.recipient_account_id)
                .where(*where)
                .order_by(Notice.created_at.desc(), Notice.id.desc())
                .limit(limit)
            )
        ).all()
    items = [
        Undelivered(r.id, r.kind, r.status, r.attempts, r.created_at, r.text, r.recipient, name, r.last_error)
        for r, name in rows
    ]
    return UndeliveredList(items, total)
