"""The name index at start-up and after: from a snapshot in a second or two, else rebuilt in the
background; the snapshot kept fresh as the archive changes.

The snapshot is on by default (`index.snapshot = "auto"`: next to the SQLite file, or
var/name_index-<database>.snapshot for PostgreSQL; `snapshot_path`). At start-up:

1. a snapshot written from the same database for the same lexicon, no older than the database (its
   watermark — its position in the stream of changed subjects, services.subject_feed — is not ahead
   of the stream, the stream still holds everything after it, and fewer than a fifth of the
   subjects changed since), is mapped read-only without re-tokenising (nlp.index_snapshot: the bot
   and the port workers of a host share that one copy) and topped up from the stream (the changes
   after its position) before the first message is served;
2. otherwise an archive below `index.min_subjects` is indexed before serving (seconds), and a larger
   one gets an empty index at once while the full index is built in a worker thread; USCC look-ups
   answer from the database meanwhile (handlers.query_context), names get a polite "loading" reply;
   when the build is done the index is swapped in and a snapshot written. One process of a host
   builds (`_build_lock`); another starting meanwhile waits and maps the builder's snapshot.

Afterwards each refresh (`refresh_index`, the bot's job and each port worker's loop) reads only the
stream after the index's position: nothing is read twice, a deleted subject leaves the index, a
renamed one is re-indexed. The bot's refresh job then calls `keep_snapshot_fresh`: once the index has taken in
`index.rewrite_after_changes` changed subjects (an import by another process arrives through the
feed), or any change and the snapshot is `index.rewrite_after_minutes` old, a new snapshot is
written in a worker thread, tied to the watermark the index has reached. While it is written the
index does not change (refreshes wait for the next tick), so the file is one consistent state.
The writer then answers from the written file, mapped; the port workers map it too when they see
it (`adopt_newer_snapshot`), so the changes each took in privately become one shared copy again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from db.models import Subject, SubjectChange
from nlp import index_snapshot
from nlp.index_parts import IndexEntry
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex
from services.runtime import Services
from services.settings import Settings
from services.subject_feed import PAGE, load_entries, prune_stream, read_changes, stamp_changes

log = logging.getLogger(__name__)

INDEX_BUILDING = "index_building"
_TASK = "index_build_task"
_SAVING = "index_snapshot_saving"
_SAVE_TASK = "index_snapshot_task"
_CHANGES = "index_changes_since_snapshot"
_WRITTEN_AT = "index_snapshot_written_at"
ROWS_READ = "index_rows_read"  # stream rows the last refresh read (services.subject_feed)
_PRUNED_AT = "index_stream_pruned_at"
PRUNE_EVERY_SECONDS = 3600
# How often a process waiting for another one's build looks whether the build lock is free.
BUILD_LOCK_POLL_SECONDS = 0.5


def index_ready(services: Services) -> bool:
    return services.index is not None and not services.extras.get(INDEX_BUILDING)


def snapshot_path(settings: Settings) -> Path | None:
    """Where this deployment keeps its index snapshot, or None when it keeps none."""
    configured = settings.index.snapshot
    if not configured:
        return None
    if configured != "auto":
        return Path(configured)
    url = make_url(settings.database.url)
    if url.get_backend_name() == "sqlite":
        db = url.database or ""
        if not db or db == ":memory:" or db.startswith("file:"):
            return None
        return Path(db).with_name(Path(db).name + ".name_index")
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{url.host or 'local'}-{url.port or ''}-{url.database or ''}")
    return Path("var") / f"name_index-{label}.snapshot"


def snapshot_source(settings: Settings) -> str:
    """The database a snapshot was read from, as stored in it (no password)."""
    return make_url(settings.database.url).render_as_string(hide_password=True)


async def start_index(services: Services, lexicon: Lexicon) -> str:
    """Make `services.index` answer; returns how: "built", "snapshot" or "building"."""

    started = time.perf_counter()
    services.extras[INDEX_BUILDING] = False
    services.extras[_CHANGES] = 0
    settings = services.settings
    path = snapshot_path(settings)
    if path is not None:
        loaded = await _load_valid(services, lexicon, path)
        if loaded is not None:
            _use(services, loaded, path)
            topped = await refresh_index(services)
            log.info(
                "name index: %d subjects from snapshot, %d changed since, in %.1f s",
                len(loaded[0]), topped, time.perf_counter() - started,
            )  # fmt: skip
            return "snapshot"
    if path is None or await _subject_count(services) < settings.index.min_subjects:
        services.index = NameIndex(lexicon)
        await refresh_index(services)
        log.info("name index: %d subjects built in %.1f s", len(services.index), time.perf_counter() - started)
        return "built"
    services.index = NameIndex(lexicon)
    services.extras[INDEX_BUILDING] = True
    services.extras[_TASK] = asyncio.create_task(_rebuild(services, lexicon, path))
    log.info("name index: no valid snapshot, building in the background")
    return "building"


async def wait_for_index(services: Services) -> None:
    """Until a background build has finished (tests, the benchmark, an orderly shutdown)."""
    task = services.extras.get(_TASK)
    if task is not None:
        await task


async def _load_valid(
    services: Services, lexicon: Lexicon, path: Path
) -> tuple[NameIndex, index_snapshot.SnapshotInfo] | None:
    """The snapshot at `path` mapped read-only (nlp.index_snapshot), when it is whole, of this
    database and lexicon, and still valid for the database (`_still_valid`); else None."""
    loaded = await asyncio.to_thread(index_snapshot.load, path, lexicon, snapshot_source(services.settings))
    if loaded is None or not await _still_valid(services, loaded[1]):
        return None
    return loaded


def _use(services: Services, loaded: tuple[NameIndex, index_snapshot.SnapshotInfo], path: Path) -> None:
    """Answer from a loaded snapshot from now on; the feed tops it up from its watermark."""
    services.index, info = loaded
    services.index_watermark = info.watermark
    services.extras[_WRITTEN_AT] = _mtime(path)


@contextlib.asynccontextmanager
async def _build_lock(path: Path) -> AsyncIterator[None]:
    """Held while this process builds the index and writes its snapshot, so the bot and the port
    workers of one host build it once: another process starting meanwhile waits here (polling,
    the event loop free) and then maps the snapshot the builder wrote. An flock on a file beside
    the snapshot: the kernel releases it when its holder exits, also by a crash."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_path, "a+b")  # noqa: SIM115 - held across the yield, closed below
    except OSError as exc:  # a read-only folder: build all the same (the snapshot will not be written either)
        log.warning("name index: no build lock at %s (%s); building without it", lock_path, type(exc).__name__)
        yield
        return
    with fh:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(BUILD_LOCK_POLL_SECONDS)
        yield  # closing the file releases the lock


async def _still_valid(services: Services, info: index_snapshot.SnapshotInfo) -> bool:
    position = info.watermark
    async with services.db.transaction() as s:
        count = (await s.execute(select(func.count(Subject.id)))).scalar_one()
        if position is None:  # written before the stream existed: its changes since are unknown
            return count == 0
        first, last = (await s.execute(select(func.min(SubjectChange.seq), func.max(SubjectChange.seq)))).one()
        if position > (last or 0):
            return False  # another database, or one restored from an older backup
        if first is not None and first > position + 1:
            return False  # the stream was pruned past the snapshot: what changed is lost
        # Topping up re-indexes every changed subject before the first answer: past a fifth of the
        # archive a background rebuild answers codes sooner and names about as soon.
        pending = SubjectChange.seq.is_(None) | (SubjectChange.seq > position)
        changed = (await s.execute(select(func.count(SubjectChange.id)).where(pending))).scalar_one()
    return changed <= max(1000, count // 5)


async def _subject_count(services: Services) -> int:
    async with services.db.transaction() as s:
        return (await s.execute(select(func.count(Subject.id)))).scalar_one()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


async def _rebuild(services: Services, lexicon: Lexicon, path: Path) -> None:
    """Build the index in a worker thread and write its snapshot, unless another process of this
    host is doing it: then wait for its snapshot and map that (one build, one copy per host)."""
    started = time.perf_counter()
    try:
        async with _build_lock(path):
            loaded = await _load_valid(services, lexicon, path)
            if loaded is not None:  # built by another process while this one waited
                _use(services, loaded, path)
                services.extras[INDEX_BUILDING] = False
                await refresh_index(services)
                log.info("name index: %d subjects from the snapshot another process built, in %.1f s",
                         len(loaded[0]), time.perf_counter() - started)
                return
            async with services.db.transaction() as s:
                entries, watermark = await load_entries(s)
            index = await asyncio.to_thread(_build, lexicon, entries)
            del entries
            services.index, services.index_watermark = index, watermark
            services.extras[INDEX_BUILDING] = False
            freeze_long_lived()
            await refresh_index(services)  # what changed while building
            log.info("name index: %d subjects built in %.1f s", len(index), time.perf_counter() - started)
            await _save_logged(services, path)  # under the lock: the processes waiting map this file
    except Exception:
        services.extras[INDEX_BUILDING] = False
        log.exception("name index: background build failed")
        raise


def freeze_long_lived() -> None:
    """Move everything alive now (the name index, the lexicon, jieba's dictionary: millions of
    objects that live as long as the process) out of the garbage collector's sight. Otherwise every
    full collection walks them all, and at 20,000 subjects that already stopped the event loop, and
    every user with it, for 0.25-0.45 s several times a minute while files were checked."""
    gc.collect()
    gc.freeze()


def _build(lexicon: Lexicon, entries: list[IndexEntry]) -> NameIndex:
    index = NameIndex(lexicon)
    index.add(entries)
    return index


async def _save(services: Services, path: Path) -> None:
    """Write the current index as the snapshot in a worker thread, then answer from the written
    file mapped (its private arrays freed: the process shares the host's one copy again);
    refreshes wait meanwhile."""
    index = services.index
    assert index is not None
    services.extras[_SAVING] = True
    try:
        taken = services.extras.get(_CHANGES, 0)
        source = snapshot_source(services.settings)
        await asyncio.to_thread(index_snapshot.save, index, path, services.index_watermark, source)
        mapped = await asyncio.to_thread(index_snapshot.load, path, index.lexicon, source)
        if mapped is not None and services.index is index:
            services.index = mapped[0]
        services.extras[_CHANGES] = services.extras.get(_CHANGES, 0) - taken
        services.extras[_WRITTEN_AT] = _mtime(path) or time.time()
    finally:
        services.extras[_SAVING] = False


async def adopt_newer_snapshot(services: Services) -> bool:
    """Map the snapshot another process of this host wrote after the one this process answers from
    (a port worker, after the bot rewrote it), then top it up from the feed: the changes this
    process had taken in privately are given back for the shared copy. True when adopted."""
    path = snapshot_path(services.settings)
    if path is None or not index_ready(services) or services.extras.get(_SAVING):
        return False
    if _mtime(path) <= services.extras.get(_WRITTEN_AT, 0.0):
        return False
    assert services.index is not None
    services.extras[_SAVING] = True  # no refresh changes the index while the new one is loaded
    try:
        loaded = await _load_valid(services, services.index.lexicon, path)
        if loaded is None:
            services.extras[_WRITTEN_AT] = _mtime(path)  # not usable: do not try this file again
            return False
        _use(services, loaded, path)
    finally:
        services.extras[_SAVING] = False
    await refresh_index(services)
    return True


async def write_snapshot(services: Services) -> bool:
    """Write the current index as the snapshot now (the CLI, an orderly shutdown, tests)."""
    path = snapshot_path(services.settings)
    if path is None or not index_ready(services) or services.extras.get(_SAVING):
        return False
    await _save(services, path)
    return True


def snapshot_due(services: Services) -> bool:
    """Whether the index has taken in enough changes since its snapshot to write a new one."""
    settings = services.settings.index
    changes = services.extras.get(_CHANGES, 0)
    if not changes or services.index is None or len(services.index) < settings.min_subjects:
        return False
    age_minutes = (time.time() - services.extras.get(_WRITTEN_AT, 0.0)) / 60
    return changes >= settings.rewrite_after_changes or age_minutes >= settings.rewrite_after_minutes


async def keep_snapshot_fresh(services: Services) -> bool:
    """Start writing a new snapshot in the background when one is due (the refresh job calls this
    after each refresh); True when a write was started. The task is kept in `services.extras`."""
    if snapshot_path(services.settings) is None or not index_ready(services) or services.extras.get(_SAVING):
        return False
    if not snapshot_due(services):
        return False
    path = snapshot_path(services.settings)
    assert path is not None
    services.extras[_SAVING] = True  # claimed now: the next tick must not start a second write
    services.extras[_SAVE_TASK] = asyncio.create_task(_save_logged(services, path))
    return True


async def _save_logged(services: Services, path: Path) -> None:
    started = time.perf_counter()
    try:
        await _save(services, path)
        log.info("name index snapshot written in %.1f s", time.perf_counter() - started)
    except Exception:  # a full disk or a read-only folder: keep serving, try again later
        services.extras[_SAVING] = False
        log.exception("name index: writing the snapshot failed")


async def wait_for_snapshot(services: Services) -> None:
    """Until a background snapshot write has finished (tests, an orderly shutdown)."""
    task = services.extras.get(_SAVE_TASK)
    if task is not None:
        await task


async def refresh_index(services: Services) -> int:
    """Take in the subjects changed after the index's position (other processes' imports, edits,
    deletions arrive this way) and move the position on. Returns how many subjects changed in the
    index (re-indexed or removed). Stream rows are numbered here first (services.changes.stamp_log:
    a write, one short transaction, skipped while another process numbers them); the pages are
    read from `database.read_url` when it is set."""
    index = services.index
    assert index is not None
    if services.extras.get(INDEX_BUILDING) or services.extras.get(_SAVING):
        # The background build reads everything and tops itself up when done; a snapshot being
        # written must not change under the writer: the next refresh catches up from the position.
        return 0
    changed = rows = 0
    if services.index_watermark is None:  # nothing loaded yet: every subject, then the stream after it
        async with services.db.transaction() as s:
            entries, services.index_watermark = await load_entries(s)
        rows = len(entries)
        fresh = [e for e in entries if index.get(e.subject_id) != e]
        del entries
        if fresh:
            index.add(fresh)
        changed = len(fresh)
    position = services.index_watermark
    reloaded = False
    while True:
        numbered = await stamp_changes(services.db)
        # The read copy when there is one: every process reads this every few seconds, the primary
        # only numbers (a copy a moment behind shows the page on the next round). Full loads stay on
        # the primary: a long read on a hot standby may be cancelled by its replay.
        async with services.db.read_transaction() as s:
            page = await read_changes(s, position)
        if page.gap and not reloaded:
            # Behind the stream's retention (stopped for days): deletions since are unknown, so
            # a new index from everything, built off the event loop; the old one answers meanwhile.
            log.warning("name index: change stream pruned past position %d, reloading", position)
            async with services.db.transaction() as s:
                entries, position = await load_entries(s)
            services.index = index = await asyncio.to_thread(_build, index.lexicon, entries)
            services.index_watermark = position
            changed, rows, reloaded = changed + len(entries), rows + len(entries), True
            del entries
            continue
        rows += page.rows
        fresh = [e for e in page.entries if index.get(e.subject_id) != e]
        if fresh:
            index.add(fresh)
        gone = sum(1 for sid in page.removed if index.remove(sid))
        changed += len(fresh) + gone
        position = services.index_watermark = page.position
        if not page.more and numbered < PAGE:
            break  # everything numbered is read, and nothing was left to number
    services.extras[ROWS_READ] = rows
    if time.time() - services.extras.get(_PRUNED_AT, 0.0) >= PRUNE_EVERY_SECONDS:
        services.extras[_PRUNED_AT] = time.time()
        await prune_stream(services.db)
    if changed:
        services.extras[_CHANGES] = services.extras.get(_CHANGES, 0) + changed
    return changed
