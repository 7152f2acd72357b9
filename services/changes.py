"""The change feed: what department systems and the city's website must learn, in one ordered log.

Writers call `emit` (one event), `emit_records` or `emit_imported` (every record an import wrote)
inside the transaction that makes the change, so an event exists exactly when its change committed.
Readers page with an opaque cursor (`read`, `GET /v1/changes?since=`).

Why the cursor is safe under concurrent writers (no change lost or repeated across pages):
PostgreSQL hands out ids when rows are inserted, not when they commit: a transaction that took id 5
may commit after one that took id 6, and a reader that went past 6 would never see 5. (Ordering by
transaction id and reading below the oldest running transaction does not help either: transaction
ids are shared by the whole server, so any long transaction in another database would stop the feed.)
So readers page by `seq`, which `stamp` gives only to committed events, in one UPDATE per batch,
under a lock held until that batch commits (an advisory lock of this database on PostgreSQL; SQLite's
one writer). A later batch starts after the earlier one committed and numbers from its maximum: every
event a reader could still receive has a higher `seq` than any it has already seen, and a batch
becomes visible all at once. SQLite takes ids in commit order already (one writer at a time, holding
the lock from its first write to its commit), so its batches use the id as `seq`. Every read stamps
first (or, when another reader is stamping, reads what is stamped and gets the rest next time).

What a key sees: scope `changes`; events about natural persons also need `idquery` (as their credit
files do). Events carry ids, kinds and masked labels only, never an ID number.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Integer, String, and_, case, func, insert, literal, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import Table

from db.models import ChangeEvent, CreditRecord, Department, Subject, utcnow
from db.session import Database
from services.errors import INVALID, Refusal

log = logging.getLogger(__name__)
MAX_PAGE = 1000
DEFAULT_PAGE = 200
PERSON = "自然人"

# Kinds, and whether they may change what the public sees.
KINDS: dict[str, tuple[str, bool]] = {
    "record_added": ("新增信用记录", True),
    "record_changed": ("信用记录变更", True),
    "listed": ("列入严重失信主体名单", True),
    "repaired": ("信用修复完成", True),
    "revoked": ("信用记录撤销", True),
    "corrected": ("信用记录更正", True),
    "expired": ("公示期届满", True),
    "masked": ("暂时屏蔽", True),
    "unmasked": ("恢复公示", True),
    "repair_notice": ("信用修复告知书已出具", False),
    "repair_decided": ("信用修复决定", False),
}


def _at() -> Any:
    return literal(utcnow(), ChangeEvent.at.type)


def _detail(detail: dict[str, Any] | None) -> Any:
    return literal(detail or {}, ChangeEvent.detail.type)


async def emit(
    s: AsyncSession, kind: str, subject_id: int, record_id: int | None = None, department_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One event inside the caller's transaction; `person` is read from the subject."""
    _label, public = KINDS[kind]
    person = case((Subject.kind == PERSON, True), else_=False)
    source = select(
        _at(), literal(kind, String), Subject.id, literal(record_id, Integer), literal(department_id, Integer),
        person, literal(public, Boolean), _detail(detail),
    ).where(Subject.id == subject_id)
    await s.execute(_insert_from(source))


def _insert_from(source: Any) -> Any:
    columns = ["at", "kind", "subject_id", "record_id", "department_id", "person", "public", "detail"]
    return insert(ChangeEvent).from_select(columns, source)


async def emit_records(s: AsyncSession, kind: str, record_ids: Iterable[int], detail: dict[str, Any] | None = None) -> None:
    """One event of `kind` per record in `record_ids` (set-based), inside the caller's transaction."""
    ids = list(dict.fromkeys(record_ids))
    _label, public = KINDS[kind]
    for i in range(0, len(ids), 1000):
        await s.execute(_insert_from(_record_source(literal(kind, String), public, detail).where(CreditRecord.id.in_(ids[i : i + 1000]))))


def _record_source(kind: Any, public: bool, detail: dict[str, Any] | None) -> Any:
    person = case((Subject.kind == PERSON, True), else_=False)
    return (
        select(
            _at(), kind, CreditRecord.subject_id, CreditRecord.id, CreditRecord.department_id,
            person, literal(public, Boolean), _detail(detail),
        )
        .select_from(CreditRecord)
        .join(Subject, Subject.id == CreditRecord.subject_id)
    )


async def emit_imported(s: AsyncSession, written_at: dt.datetime) -> None:
    """An event for every record an import wrote (inserted or updated at `written_at`, the
    writer's own timestamp), in one INSERT … SELECT inside the import's transaction."""
    kind = case((CreditRecord.created_at == written_at, "record_added"), else_="record_changed")
    await s.execute(_insert_from(_record_source(kind, True, None).where(CreditRecord.updated_at == written_at)))


# -- reading -----------------------------------------------------------------------------------

STAMP_BATCH = 50_000
# pg_advisory_xact_lock key of the stamper ("chgf"); advisory locks are per database.
STAMP_LOCK = 0x63686766


# The index's stream of changed subjects (services.subject_feed) is stamped the same way, by its own lock.
SUBJECT_STAMP_LOCK = 0x63686773


async def stamp(db: Database, batch: int = STAMP_BATCH) -> int:
    """Give `seq` to up to `batch` committed events without one, in id order, in one transaction
    (see the module docstring). Returns how many; 0 also when another process is stamping, or
    (SQLite) when a long write such as an import holds the database: nothing new can have committed
    meanwhile, and the next read stamps what it finds."""
    return await stamp_log(db, ChangeEvent.__table__, STAMP_LOCK, batch)


async def stamp_log(db: Database, table: Table, lock: int, batch: int = STAMP_BATCH) -> int:
    """`stamp` for any log table with an id, an empty-until-stamped `seq` and nothing else the
    stamper writes: the change feed's events and the name index's `subject_changes`, so the
    product has one way to put changes in commit order. `lock` keeps each log's stamper apart."""
    seq = table.c.seq
    async with db.transaction() as s:  # a read first: no lock taken when there is nothing to number
        if await s.scalar(select(table.c.id).where(seq.is_(None)).limit(1)) is None:
            return 0
    try:
        return await _stamp(db, table, lock, batch)
    except OperationalError as exc:
        if db.dialect == "postgresql":
            raise
        log.info("%s not stamped now (%s)", table.name, type(exc).__name__)
        return 0


async def _stamp(db: Database, table: Table, lock: int, batch: int) -> int:
    async with db.transaction() as s:
        if s.get_bind().dialect.name != "postgresql":
            todo = select(table.c.id).where(table.c.seq.is_(None)).order_by(table.c.id).limit(batch)
            result = await s.execute(
                update(table).where(table.c.id.in_(todo.scalar_subquery())).values(seq=table.c.id)
            )
            return int(result.rowcount or 0)
        if not await s.scalar(select(func.pg_try_advisory_xact_lock(lock))):
            return 0
        base = int(await s.scalar(select(func.coalesce(func.max(table.c.seq), 0))) or 0)
        result = await s.execute(
            text(
                f"UPDATE {table.name} SET seq = :base + todo.n FROM ("
                f" SELECT id, row_number() OVER (ORDER BY id) AS n FROM {table.name}"
                " WHERE seq IS NULL ORDER BY id LIMIT :batch) AS todo"
                f" WHERE {table.name}.id = todo.id"
            ),
            {"base": base, "batch": batch},
        )
        return int(result.rowcount or 0)


@dataclass(frozen=True)
class Cursor:
    seq: int = 0

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"c1:{self.seq}".encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> Cursor:
    """The position after which to read; "" or None is the beginning. Raises Refusal(INVALID) for
    anything that is not a cursor this feed handed out."""
    if not raw:
        return Cursor()
    try:
        padded = raw + "=" * (-len(raw) % 4)
        tag, seq = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        if tag != "c1" or not seq.isdigit():
            raise ValueError(tag)
        return Cursor(int(seq))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Refusal("游标无效：请使用上一页返回的 next_cursor，或不带 since 从头读取。", code=INVALID) from None


@dataclass(frozen=True)
class Event:
    seq: int
    at: dt.datetime
    kind: str
    label: str
    subject_id: int
    subject_name: str
    subject_code: str | None  # USCC, or a person's masked ID
    person: bool
    record_id: int | None
    category: str | None
    doc_number: str | None
    department: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class Page:
    events: list[Event]
    next_cursor: str
    more: bool


async def read(
    db: Database, since: str | None, limit: int = DEFAULT_PAGE, *, persons: bool = False, public_only: bool = False,
) -> Page:
    """The events after cursor `since`, in commit order, at most `limit` (1-MAX_PAGE), and the
    cursor to pass next time (the same one when nothing new has committed). `persons`: include
    events about natural persons; `public_only`: only those that may change the public view.
    Raises Refusal(INVALID) for a malformed cursor or a limit out of range."""
    if not 1 <= limit <= MAX_PAGE:
        raise Refusal(f"每页条数应在 1-{MAX_PAGE} 之间。", code=INVALID)
    cursor = decode_cursor(since)
    await stamp(db)
    where = [ChangeEvent.seq > cursor.seq]
    if not persons:
        where.append(ChangeEvent.person.is_(False))
    if public_only:
        where.append(ChangeEvent.public.is_(True))
    async with db.transaction() as s:
        rows = (
            await s.execute(
                select(ChangeEvent, Subject.name, Subject.uscc, Subject.id_masked, CreditRecord.category,
                       CreditRecord.doc_number, Department.name)
                .join(Subject, Subject.id == ChangeEvent.subject_id)
                .outerjoin(CreditRecord, CreditRecord.id == ChangeEvent.record_id)
                .outerjoin(Department, Department.id == ChangeEvent.department_id)
                .where(and_(*where))
                .order_by(ChangeEvent.seq)
                .limit(limit + 1)
            )
        ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    events = [
        Event(
            int(e.seq), e.at, e.kind, KINDS.get(e.kind, (e.kind, False))[0], e.subject_id, name, uscc or masked_id,
            e.person, e.record_id, category, doc, dept, dict(e.detail or {}),
        )
        for e, name, uscc, masked_id, category, doc, dept in rows
    ]
    next_cursor = Cursor(events[-1].seq).encode() if events else Cursor(cursor.seq).encode()
    return Page(events, next_cursor, more)


async def head(db: Database) -> str:
    """A cursor at the end of what is committed now: a website that loads the published records
    takes it first, then follows the feed from it (nothing in between is missed)."""
    await stamp(db)
    async with db.transaction() as s:
        last = await s.scalar(select(func.max(ChangeEvent.seq)))
    return Cursor(int(last or 0)).encode()
