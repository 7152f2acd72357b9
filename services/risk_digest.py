"""The daily risk-warning digest: who hears of which warnings, and the claim that makes sending safe.

Who hears: the officials of every department that holds records of the subject, and whoever watches
the subject (a watcher also hears of every new record: audience "watchers"). One digest per official
per day, CLAIMED before it is sent exactly like the reminders (a row in `reminder_claims`, unique per
person, key and day): a second scan, a restart or another replica finds the claim and sends nothing.
The warnings a digest carries are written to `warning_deliveries`, so tomorrow's digest does not
repeat them; a failed send releases both, and the next scan tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, exists, select, union, update

from db.models import (
    Account,
    CreditRecord,
    ReminderClaim,
    RiskWarning,
    Subject,
    WarningDelivery,
    WatchSubscription,
)
from db.session import Database
from db.upsert import insert_ignore
from services.collection.reminders import claim

log = logging.getLogger(__name__)
DIGEST_KEY = "risk digest"
# Warnings older than this are no longer news: a digest missed for two weeks is not caught up.
LOOKBACK_DAYS = 14


@dataclass(frozen=True)
class DigestItem:
    warning_id: int
    subject_id: int
    subject_name: str
    label: str
    risk: str
    watched: bool


@dataclass
class Digest:
    account_id: int
    telegram_user_id: int
    day: dt.date
    items: list[DigestItem] = field(default_factory=list)


@dataclass
class DigestResult:
    planned: list[Digest] = field(default_factory=list)
    sent: list[Digest] = field(default_factory=list)
    skipped: int = 0  # claimed already (another scan, another process)
    failed: int = 0


async def plan(db: Database) -> list[Digest]:
    """Every official's undelivered warnings of the last LOOKBACK_DAYS (read-only). Warnings older
    than the account or, for a watcher, than the subscription are not news to that person."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=LOOKBACK_DAYS)
    # Driven from the recent warnings (index on created_at), then the subject's records (index on
    # subject_id) to the departments holding them: never from a department's whole archive.
    department_pairs = (
        select(Account.id.label("account_id"), RiskWarning.id.label("warning_id"))
        .select_from(RiskWarning)
        .join(CreditRecord, CreditRecord.subject_id == RiskWarning.subject_id)
        .join(Account, and_(Account.department_id == CreditRecord.department_id, Account.role == "official"))
        .where(RiskWarning.audience == "departments", RiskWarning.created_at >= since, RiskWarning.created_at >= Account.created_at)
    )
    watcher_pairs = (
        select(WatchSubscription.account_id.label("account_id"), RiskWarning.id.label("warning_id"))
        .select_from(RiskWarning)
        .join(WatchSubscription, WatchSubscription.subject_id == RiskWarning.subject_id)
        .where(RiskWarning.created_at >= since, RiskWarning.created_at >= WatchSubscription.created_at)
    )
    pairs = union(department_pairs, watcher_pairs).subquery()
    delivered = exists().where(WarningDelivery.warning_id == pairs.c.warning_id, WarningDelivery.account_id == pairs.c.account_id)
    watched = exists().where(WatchSubscription.account_id == pairs.c.account_id, WatchSubscription.subject_id == RiskWarning.subject_id)
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(
                    Account.id, Account.telegram_user_id, RiskWarning.id, Subject.id, Subject.name, RiskWarning.label,
                    RiskWarning.risk, watched,
                )
                .select_from(pairs)
                .join(Account, Account.id == pairs.c.account_id)
                .join(RiskWarning, RiskWarning.id == pairs.c.warning_id)
                .join(Subject, Subject.id == RiskWarning.subject_id)
                .where(~delivered, Account.active.is_(True), Account.role == "official", Account.telegram_user_id.is_not(None))
                .order_by(Account.id, RiskWarning.id)
            )
        ).all()
    out: dict[int, Digest] = {}
    for account_id, user_id, warning_id, subject_id, name, label, risk, is_watched in rows:
        d = out.get(account_id) or out.setdefault(account_id, Digest(account_id, user_id, dt.date.min))
        d.items.append(DigestItem(warning_id, subject_id, name, label, risk, bool(is_watched)))
    return list(out.values())


async def _release(db: Database, d: Digest) -> None:
    async with db.transaction() as s:
        await s.execute(delete(WarningDelivery).where(WarningDelivery.account_id == d.account_id, WarningDelivery.day == d.day))
        await s.execute(
            delete(ReminderClaim).where(ReminderClaim.account_id == d.account_id, ReminderClaim.key == DIGEST_KEY, ReminderClaim.day == d.day)
        )


async def run_digest(db: Database, day: dt.date, send: Callable[[Digest], Awaitable[None]] | None, dry_run: bool = False) -> DigestResult:
    """Plan, then claim (account, "risk digest", day) and send each digest; a dry run claims nothing."""
    result = DigestResult(await plan(db))
    for d in result.planned:
        d.day = day
    if dry_run or send is None:
        return result
    for d in result.planned:
        if not await claim(db, d.account_id, DIGEST_KEY, day):
            result.skipped += 1
            continue
        async with db.transaction() as s:
            now = dt.datetime.now(dt.UTC)
            rows = [{"warning_id": i.warning_id, "account_id": d.account_id, "day": day, "delivered_at": now} for i in d.items]
            taken = set((await s.scalars(insert_ignore(s, WarningDelivery, rows, ["warning_id", "account_id"]).returning(WarningDelivery.warning_id))).all())
        d.items = [i for i in d.items if i.warning_id in taken]
        if not d.items:
            continue
        try:
            await send(d)
        except Exception as exc:  # a blocked bot or a network error: the next scan retries
            log.warning("risk digest to account %s failed: %s", d.account_id, type(exc).__name__)
            await _release(db, d)
            result.failed += 1
            continue
        async with db.transaction() as s:
            await s.execute(
                update(ReminderClaim)
                .where(ReminderClaim.account_id == d.account_id, ReminderClaim.key == DIGEST_KEY, ReminderClaim.day == day)
                .values(sent_at=dt.datetime.now(dt.UTC))
            )
        result.sent.append(d)
    return result


def by_subject(items: list[DigestItem]) -> dict[int, list[DigestItem]]:
    out: dict[int, list[DigestItem]] = defaultdict(list)
    for i in items:
        out[i.subject_id].append(i)
    return out
