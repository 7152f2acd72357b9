"""The look-up path's own writes, taken off the answer's way and never lost.

Every look-up writes an audit row, and every card the chat's current subject (`chat_subjects`). With
reads on a hot standby (`database.read_url`) those two writes would be the only reason an answer
waits on the primary. Here they are written behind the answer:

1. `Outbox.put` appends the entry, numbered, as one JSON line to this process's spool file (one
   `write` to a file opened with O_APPEND, so it is in the operating system's hands before `put`
   returns: killing the process loses nothing) and queues it in memory.
2. A background task writes the queue to the primary in batches, in order: one transaction holds a
   batch's inserts and the advance of `outbox_progress.last_seq` for this spool, so a batch is either
   written and noted, or neither.
3. A process that dies leaves its spool file behind, unlocked. The next process started on the same
   directory (each holds an exclusive `flock` on its own file) finds it, skips every entry at or below
   the `last_seq` the primary noted and writes the rest, then deletes the file.

While the primary cannot be reached (a failover, a network cut) entries wait in memory and in the
file; the task retries with a growing pause (a round that hangs, as on a network cut with no reset,
is cut off after `FLUSH_TIMEOUT_SECONDS`), and while entries wait it forces the file to disk
(`fdatasync`) every second, so entries waiting out an outage survive a power cut too. Entries put
within the last flush interval (`outbox_flush_ms`, 200 ms by default) live only in the operating
system's cache until written: the window PostgreSQL's `synchronous_commit = off` accepts, without a
disk flush on every answer. A spool wholly written is emptied, so a dead process's file holds only
what the primary may lack. Without `database.outbox_dir` these writes are made at
once in their own transaction (`write_behind`), as before.

Entries are plain rows: `AUDIT` rows of `audit_entries`, `CHAT_SUBJECT` rows of `chat_subjects`
(upserted; within a batch the newest per chat and user wins, as it would have row by row).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Account, AuditEntry, OutboxProgress, Subject
from db.session import Database
from db.upsert import CHAT_SUBJECT_UPSERTS, dialect_insert

log = logging.getLogger(__name__)

AUDIT = "audit"
CHAT_SUBJECT = "chat_subject"
# Fields holding a datetime, per kind: written as ISO text in the spool, read back as datetimes.
_DATETIMES = {AUDIT: ("at",), CHAT_SUBJECT: ("shown_at",)}
SPOOL_SUFFIX = ".outbox"
BATCH_ROWS = 500
# A flush that has not finished after this long counts as failed (a network cut with no reset
# leaves a connection waiting for ever): the spool is forced to disk and the flush tried again.
FLUSH_TIMEOUT_SECONDS = 15.0
# While entries wait for the primary, the spool is forced to disk at least this often.
SYNC_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
ORPHAN_SCAN_SECONDS = 30.0
PROGRESS_KEEP_DAYS = 30


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    row: dict[str, Any]


def _stamp(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row with its time set now (the look-up's time, not the flush's)."""
    out = dict(row)
    for key in _DATETIMES[kind]:
        out.setdefault(key, dt.datetime.now(dt.UTC))
    return out


def _encode(entry: Entry) -> bytes:
    row = {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in entry.row.items()}
    return (json.dumps({"seq": entry.seq, "kind": entry.kind, "row": row}, ensure_ascii=False) + "\n").encode()


def _decode(line: bytes) -> Entry | None:
    """An entry of a spool file; None for a line cut short by a crash mid-write (never acknowledged)."""
    try:
        data = json.loads(line)
        kind = data["kind"]
        row = dict(data["row"])
        for key in _DATETIMES[kind]:
            if isinstance(row.get(key), str):
                row[key] = dt.datetime.fromisoformat(row[key])
        return Entry(int(data["seq"]), kind, row)
    except (ValueError, KeyError, TypeError):
        return None


def read_spool(path: Path) -> list[Entry]:
    """The entries of a spool file, in order (a torn last line is left out)."""
    return [e for line in path.read_bytes().splitlines() if line.strip() and (e := _decode(line)) is not None]


def _progress_upsert(conn: AsyncConnection, spool: str, last_seq: int) -> Any:
    now = dt.datetime.now(dt.UTC)
    stmt = dialect_insert(conn.dialect.name)(OutboxProgress.__table__).values(spool=spool, last_seq=last_seq, updated_at=now)
    return stmt.on_conflict_do_update(index_elements=["spool"], set_={"last_seq": last_seq, "updated_at": now})


async def write_rows(conn: AsyncConnection, entries: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Write entries inside the caller's transaction on the primary: audit rows in one insert, the
    chat's current subject as one upsert of the newest value per chat and user."""
    audits: list[dict[str, Any]] = []
    chats: dict[tuple[int, int], dict[str, Any]] = {}
    for kind, row in entries:
        if kind == AUDIT:
            audits.append(row)
        elif kind == CHAT_SUBJECT:
            chats[(row["chat_id"], row["user_id"])] = row
        else:  # pragma: no cover - only this module's kinds are ever put
            raise ValueError(f"unknown outbox kind {kind!r}")
    if audits:
        await conn.execute(insert(AuditEntry.__table__), audits)
    if chats:
        await conn.execute(CHAT_SUBJECT_UPSERTS[conn.dialect.name], list(chats.values()))


async def _still_valid(conn: AsyncConnection, entries: list[Entry]) -> list[tuple[str, dict[str, Any]]]:
    """The entries as they can still be written: an audit row keeps the look-up with the id of a
    deleted subject or account moved into its detail; the chat subject of a deleted subject is
    dropped (the chat has nothing to follow up on)."""
    subject_ids = {e.row.get("subject_id") for e in entries} - {None}
    account_ids = {e.row.get("account_id") for e in entries if e.kind == AUDIT} - {None}
    subjects = set(await conn.scalars(select(Subject.id).where(Subject.id.in_(subject_ids)))) if subject_ids else set()
    accounts = set(await conn.scalars(select(Account.id).where(Account.id.in_(account_ids)))) if account_ids else set()
    out: list[tuple[str, dict[str, Any]]] = []
    for e in entries:
        row = dict(e.row)
        if e.kind == CHAT_SUBJECT:
            if row["subject_id"] in subjects:
                out.append((e.kind, row))
            continue
        detail = dict(row.get("detail") or {})
        if row.get("subject_id") is not None and row["subject_id"] not in subjects:
            detail["deleted_subject_id"], row["subject_id"] = row["subject_id"], None
        if row.get("account_id") is not None and row["account_id"] not in accounts:
            detail["deleted_account_id"], row["account_id"] = row["account_id"], None
        row["detail"] = detail
        out.append((e.kind, row))
    return out


async def write_behind(db: Database, kind: str, rows: list[dict[str, Any]]) -> None:
    """Deferred writes of the look-up path: into `db.outbox` when the process has one, else at once
    in their own transaction on the primary. Raises only without an outbox (what the database raises)."""
    if not rows:
        return
    if db.outbox is not None:
        db.outbox.put(kind, rows)
        return
    async with db.core_transaction() as conn:
        await write_rows(conn, ((kind, _stamp(kind, r)) for r in rows))


class Outbox:
    """One per process (`Database.outbox`): a spool file in `directory` and the task that empties it."""

    def __init__(self, db: Database, directory: Path | str, flush_seconds: float = 0.2,
                 flush_timeout: float = FLUSH_TIMEOUT_SECONDS) -> None:
        self.db = db
        self.directory = Path(directory)
        self.flush_seconds = flush_seconds
        self.flush_timeout = flush_timeout
        self._lock = threading.Lock()  # put() may be called from a worker thread as well
        self._queue: list[Entry] = []
        self._seq = 0
        self._fd = -1
        self.spool = ""
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._written = 0  # entries of this process written to the primary
        self.synced_seq = 0  # this spool's entries up to this number are on disk (forced while the primary is away)
        self._uncertain = False  # a flush failed: whether its last batch was committed is unknown
        self._chat_latest: dict[tuple[int, int], dict[str, Any]] = {}  # not yet written, newest first

    # -- the spool file --------------------------------------------------------------------------

    def _open_spool(self) -> None:
        """A new spool file, locked before it gets the name other processes look for (between
        creating and locking it, another process would take an unlocked spool for a dead one's)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        spool = f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        hidden = self.directory / f".{spool}.new"
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours while this process lives
        os.rename(hidden, self.directory / f"{spool}{SPOOL_SUFFIX}")
        _sync_directory(self.directory)  # the name, too, must survive a power cut: recover() looks for it
        self._fd, self.spool, self._seq, self.synced_seq = fd, spool, 0, 0

    @property
    def path(self) -> Path:
        return self.directory / f"{self.spool}{SPOOL_SUFFIX}"

    def put(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """Append `rows` of `kind` (AUDIT or CHAT_SUBJECT) to the spool and the queue. Once this
        returns, the rows survive the process. Raises OSError when the spool cannot be written
        (a full disk): the look-up then fails rather than go unaudited."""
        if self._fd < 0:
            self._open_spool()
        with self._lock:
            entries = []
            for row in rows:
                self._seq += 1
                entries.append(Entry(self._seq, kind, _stamp(kind, row)))
            data = b"".join(_encode(e) for e in entries)
            size = os.fstat(self._fd).st_size
            try:
                if os.write(self._fd, data) != len(data):  # a full disk takes part of a write
                    raise OSError("outbox spool write was cut short")
            except OSError:
                # Cut back to the last whole line: a later entry appended to torn bytes would be
                # unreadable to the process that recovers this spool.
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, size)
                self._seq -= len(entries)
                raise
            self._queue.extend(entries)
            for e in entries:
                if kind == CHAT_SUBJECT:
                    self._chat_latest[(e.row["chat_id"], e.row["user_id"])] = e.row
        if self._wake is not None:
            self._wake.set()

    def pending_chat_subject(self, chat_id: int, user_id: int) -> dict[str, Any] | None:
        """The chat's current subject put here and not yet written to the primary, else None: a
        follow-up right after a card must not miss it."""
        return self._chat_latest.get((chat_id, user_id))

    @property
    def pending(self) -> int:
        return len(self._queue)

    # -- writing to the primary ------------------------------------------------------------------

    async def _write_batch(self, spool: str, entries: list[Entry]) -> None:
        try:
            async with self.db.core_transaction() as conn:
                await write_rows(conn, ((e.kind, e.row) for e in entries))
                await conn.execute(_progress_upsert(conn, spool, entries[-1].seq))
        except IntegrityError:
            # A subject or account deleted between the look-up and this write: one such row must not
            # hold up every row behind it, so the batch is written with what still exists.
            async with self.db.core_transaction() as conn:
                await write_rows(conn, await _still_valid(conn, entries))
                await conn.execute(_progress_upsert(conn, spool, entries[-1].seq))

    async def flush(self) -> int:
        """Write everything queued, in order, in batches; returns how many entries were written.
        Raises what the database raises (the entries stay queued). After a failed or cut-off flush
        the primary's `last_seq` is read first: a batch committed just before the failure is not
        written twice."""
        if self._uncertain and self._queue:
            done_seq = await self._written_up_to(self.spool)
            with self._lock:
                while self._queue and self._queue[0].seq <= done_seq:
                    self._forget(self._queue.pop(0))
        self._uncertain = False
        done = 0
        while self._queue:
            batch = self._queue[:BATCH_ROWS]
            try:
                await self._write_batch(self.spool, batch)
            except BaseException:
                self._uncertain = True  # the commit may have reached the primary before the failure
                raise
            with self._lock:
                del self._queue[: len(batch)]
                for e in batch:
                    self._forget(e)
            done += len(batch)
            self._written += len(batch)
        self._empty_written_spool()
        return done

    def _forget(self, entry: Entry) -> None:
        """Drop a written entry from the pending chat subjects (under the lock)."""
        if entry.kind == CHAT_SUBJECT:
            key = (entry.row["chat_id"], entry.row["user_id"])
            if self._chat_latest.get(key) is entry.row:
                del self._chat_latest[key]

    def _empty_written_spool(self) -> None:
        """A spool wholly written is emptied: it does not grow without end, and a process that dies
        later leaves nothing that could be written twice once its progress row has been pruned."""
        with self._lock:
            if self._fd >= 0 and not self._queue:
                os.ftruncate(self._fd, 0)

    async def recover(self) -> int:
        """Write the spool files other processes left behind (not locked by a live process), then
        delete them; returns the number of entries written. Raises what the database raises."""
        if not self.directory.is_dir():
            return 0
        total = 0
        for path in sorted(self.directory.glob(f"*{SPOOL_SUFFIX}")):
            if path.name == self.path.name and self._fd >= 0:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # another process took it meanwhile
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live process's own spool
                if not path.exists():
                    continue
                total += await self._recover_file(path)
                path.unlink(missing_ok=True)
            finally:
                os.close(fd)
        return total

    async def _recover_file(self, path: Path) -> int:
        spool = path.name[: -len(SPOOL_SUFFIX)]
        done = await self._written_up_to(spool)
        entries = [e for e in read_spool(path) if e.seq > done]
        for start in range(0, len(entries), BATCH_ROWS):
            await self._write_batch(spool, entries[start:start + BATCH_ROWS])
        if entries:
            log.info("outbox: %d entries left by a stopped process written to the database", len(entries))
        return len(entries)

    async def _written_up_to(self, spool: str) -> int:
        """The last entry of `spool` the primary has noted as written (0 for none)."""
        async with self.db.core_transaction() as conn:
            done = await conn.scalar(select(OutboxProgress.last_seq).where(OutboxProgress.spool == spool))
        return done or 0

    async def _prune_progress(self) -> None:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=PROGRESS_KEEP_DAYS)
        async with self.db.core_transaction() as conn:
            await conn.execute(delete(OutboxProgress).where(OutboxProgress.updated_at < cutoff))

    # -- the background task ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open this process's spool and start the task; leftovers of stopped processes are written
        by the task first (so a primary that cannot be reached does not hold up start-up)."""
        if self._fd < 0:
            self._open_spool()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def _run(self) -> None:
        assert self._wake is not None
        last_scan: float | None = None
        pause = self.flush_seconds
        loop = asyncio.get_running_loop()
        while True:
            written = False
            try:
                self._wake.clear()
                # A round cut off by the timeout loses nothing: every batch notes its progress in
                # its own transaction, and the next round reads it back before writing again.
                async with asyncio.timeout(self.flush_timeout):
                    if last_scan is None or loop.time() - last_scan >= ORPHAN_SCAN_SECONDS:
                        await self.recover()
                        if last_scan is None:
                            await self._prune_progress()
                        last_scan = loop.time()
                    await self.flush()
                written, pause = True, self.flush_seconds
            except Exception as exc:  # the primary is away: keep the entries, try again later
                pause = min(max(pause * 2, 1.0), RETRY_MAX_SECONDS)
                log.warning("outbox: writing to the database failed (%s); %d entries wait, next try in %.0f s",
                            type(exc).__name__, self.pending, pause)
                await self._wait_syncing(pause)
                continue
            if written and not self._queue:
                # Idle until a put, or the next look for leftovers. Not `asyncio.wait_for`: on 3.11 it
                # returns normally when a put wakes it as stop() cancels, and the task never ended.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(ORPHAN_SCAN_SECONDS):
                        await self._wake.wait()
            await asyncio.sleep(pause)  # gather a batch (or wait out a failure)

    async def _wait_syncing(self, seconds: float) -> None:
        """Wait `seconds` while entries wait for the primary, forcing the spool to disk every
        `SYNC_SECONDS`: what is put during an outage reaches the disk within about a second."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            await self._sync()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            await asyncio.sleep(min(SYNC_SECONDS, left))

    async def _sync(self) -> None:
        """Force the spool to disk (in a thread: a flush may wait on the disk for a while)."""
        with self._lock:
            fd, seq = self._fd, self._seq
        if fd < 0 or seq <= self.synced_seq:
            return
        try:
            await asyncio.to_thread(os.fdatasync, fd)
        except OSError as exc:  # a closed or failing file: the entries are still in the cache and queued
            log.warning("outbox: forcing the spool to disk failed (%s)", type(exc).__name__)
            return
        self.synced_seq = seq

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop the task and write what is left (within `timeout` seconds). A spool wholly written is
        deleted; otherwise it stays for the next process."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # the caller of stop() is being cancelled, not only the outbox task
        try:
            await asyncio.wait_for(self.flush(), timeout)
        except Exception as exc:  # left in the spool for the next process
            log.warning("outbox: %d entries left in the spool for the next start (%s)", self.pending, type(exc).__name__)
        if self._fd >= 0:
            if not self._queue:
                self.path.unlink(missing_ok=True)
            else:
                await self._sync()  # left for the next process: on disk, not only in the cache
            os.close(self._fd)
            self._fd = -1


def _sync_directory(directory: Path) -> None:
    """Force a directory's entries (a new file's name) to disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["AUDIT", "CHAT_SUBJECT", "Outbox", "read_spool", "write_behind", "write_rows"]
