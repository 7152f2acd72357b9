"""The name index at start-up: from a snapshot in a second or two, else rebuilt in the background.

Without `index.snapshot` configured the index is built before the first message (the old way, fine
for a demo archive). With it:

1. a snapshot written for the same lexicon, no older than the database (its watermark is not ahead
   of the newest `Subject.updated_at`, and the database has at least as many subjects), is loaded
   without re-tokenising and topped up from the change feed (subjects changed since the watermark);
2. otherwise an empty index serves at once and the full index is built in a worker thread; USCC
   look-ups answer from the database meanwhile (handlers.query_context), names get a polite
   "loading" reply; when the build is done the index is swapped in and a fresh snapshot written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import time
from pathlib import Path

from sqlalchemy import func, select

from db.models import Subject
from nlp import index_snapshot
from nlp.index_parts import IndexEntry
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex
from services.runtime import Services
from services.subject_feed import load_entries

log = logging.getLogger(__name__)

# An import stamps its rows when it starts but commits minutes later, after other writers have moved
# the watermark on; looking back this far catches such rows. Rows already indexed unchanged are skipped.
REFRESH_OVERLAP = dt.timedelta(minutes=15)

INDEX_BUILDING = "index_building"
_TASK = "index_build_task"


def index_ready(services: Services) -> bool:
    return services.index is not None and not services.extras.get(INDEX_BUILDING)


async def start_index(services: Services, lexicon: Lexicon) -> str:
    """Make `services.index` answer; returns how: "built", "snapshot" or "building"."""

    started = time.perf_counter()
    services.extras[INDEX_BUILDING] = False
    path = services.settings.index.snapshot
    if not path:
        services.index = NameIndex(lexicon)
        await refresh_index(services)
        log.info("name index: %d subjects built in %.1f s", len(services.index), time.perf_counter() - started)
        return "built"
    loaded = await asyncio.to_thread(index_snapshot.load, Path(path), lexicon)
    if loaded is not None and await _still_valid(services, loaded[1]):
        services.index, info = loaded
        services.index_watermark = info.watermark
        topped = await refresh_index(services)
        log.info(
            "name index: %d subjects from snapshot, %d changed since, in %.1f s",
            len(services.index), topped, time.perf_counter() - started,
        )  # fmt: skip
        return "snapshot"
    services.index = NameIndex(lexicon)
    services.extras[INDEX_BUILDING] = True
    services.extras[_TASK] = asyncio.create_task(_rebuild(services, lexicon, Path(path)))
    log.info("name index: no valid snapshot, building in the background")
    return "building"


async def wait_for_index(services: Services) -> None:
    """Until a background build has finished (tests, the benchmark, an orderly shutdown)."""
    task = services.extras.get(_TASK)
    if task is not None:
        await task


async def _still_valid(services: Services, info: index_snapshot.SnapshotInfo) -> bool:
    async with services.db.transaction() as s:
        count, newest = (await s.execute(select(func.count(Subject.id), func.max(Subject.updated_at)))).one()
    if count < info.subjects:
        return False  # subjects were deleted (or another database): the feed cannot say which
    if info.watermark is None:
        return count == 0 or info.subjects == 0
    return newest is not None and _aware(newest) >= _aware(info.watermark)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def _rebuild(services: Services, lexicon: Lexicon, path: Path) -> None:

    started = time.perf_counter()
    try:
        async with services.db.transaction() as s:
            entries, watermark = await load_entries(s)
        index = await asyncio.to_thread(_build, lexicon, entries)
        services.index, services.index_watermark = index, watermark
        services.extras[INDEX_BUILDING] = False
        freeze_long_lived()
        await refresh_index(services)  # what changed while building
        await asyncio.to_thread(index_snapshot.save, index, path, watermark)
        log.info("name index: %d subjects built in %.1f s, snapshot written", len(index), time.perf_counter() - started)
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


async def write_snapshot(services: Services) -> bool:
    """Write the current index as the snapshot (after a big import, or by the CLI)."""
    path = services.settings.index.snapshot
    if not path or not index_ready(services):
        return False
    assert services.index is not None
    await asyncio.to_thread(index_snapshot.save, services.index, Path(path), services.index_watermark)
    return True


async def refresh_index(services: Services) -> int:
    """Pull subjects changed since the watermark; other processes' imports arrive this way."""
    index = services.index
    assert index is not None
    if services.extras.get(INDEX_BUILDING):
        return 0  # the background build reads everything and tops itself up when done
    since = services.index_watermark - REFRESH_OVERLAP if services.index_watermark else None
    async with services.db.transaction() as s:
        entries, watermark = await load_entries(s, since)
    entries = [e for e in entries if index.get(e.subject_id) != e]
    if entries:
        index.add(entries)
    if watermark is not None:
        services.index_watermark = watermark
    return len(entries)
