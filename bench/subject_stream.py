"""The name index's change feed after a large import: CPU per refresh with the subject change stream
(services.subject_feed: each process reads what is new after its own position) against the feed it
replaced (every refresh re-read all subjects stamped in the last 15 minutes, `_main_refresh` below,
copied from services/subject_feed.py and services/name_index.py before the stream), both on the
same archive in the same run. Also what the stream's triggers add to the import itself.

    .venv/bin/python -m bench.subject_stream --subjects 300000 [--pg]

Steps: an import of N subjects (demo generator names and aliases, one transaction) into an archive
an index worker already follows; the worker's first refresh (one pass over what changed: read,
compare, index) and its next refreshes; then the old feed's refresh on the same, now complete,
index (it re-reads everything changed, compares, adds nothing), as each process repeated it at
every refresh for 15 minutes after an import (90 refreshes at the API worker's 10 s). CPU is this
process's (user + system, `time.process_time`, which includes SQLite's thread) plus, on
PostgreSQL, the bench database's server backends (from /proc). Prints one JSON line; the machine is
shared, so the load average is in it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, select, text

from bench.api import CpuMeter
from bench.pgdb import DEFAULT_ADMIN_DSN, bench_database
from bench.resolve import demo_entries, region_divisions
from db import migrate
from db.models import Subject, SubjectAlias
from db.session import Database
from nlp.index_parts import IndexEntry
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex
from services.name_index import ROWS_READ, refresh_index, start_index
from services.runtime import Services
from services.settings import DatabaseSettings, IndexSettings, Settings

REFRESHES_IN_WINDOW = 90  # 15 minutes of the API worker's 10-second refresh
_CHUNK = 5_000


class Meter:
    """CPU seconds of this process and of the bench database's PostgreSQL backends."""

    def __init__(self, dbname: str | None) -> None:
        self.pg = CpuMeter(-1, dbname) if dbname else None

    def sample(self) -> tuple[float, float]:
        backends = sum(self.pg.sample()[1].values()) if self.pg else 0.0
        return time.process_time(), backends

    @staticmethod
    def spent(before: tuple[float, float], after: tuple[float, float]) -> dict[str, float]:
        return {"process_cpu_s": round(after[0] - before[0], 3), "postgres_cpu_s": round(after[1] - before[1], 3)}


async def _import(db: Database, entries: list[IndexEntry], written: dt.datetime) -> None:
    """The subjects and their aliases in one transaction, as an import writes them."""
    subjects = [{"id": e.subject_id, "kind": e.kind, "name": e.name, "uscc": e.uscc, "division_code": e.division_code,
                 "created_at": written, "updated_at": written} for e in entries]
    aliases = [{"subject_id": e.subject_id, "alias": a, "kind": k} for e in entries for a, k in dict(e.aliases).items()]
    async with db.transaction() as s:
        for i in range(0, len(subjects), _CHUNK):
            await s.execute(insert(Subject.__table__), subjects[i : i + _CHUNK])
        for i in range(0, len(aliases), _CHUNK):
            await s.execute(insert(SubjectAlias.__table__), aliases[i : i + _CHUNK])


async def _without_triggers(db: Database, entries: list[IndexEntry], written: dt.datetime, meter: Meter) -> dict[str, float]:
    """The same import with the stream's triggers switched off (then undone): the write baseline."""
    async with db.transaction() as s:
        if db.dialect == "postgresql":
            await s.execute(text("ALTER TABLE subjects DISABLE TRIGGER USER"))
            await s.execute(text("ALTER TABLE subject_aliases DISABLE TRIGGER USER"))
            saved: list[str] = []
        else:
            saved = list(await s.scalars(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_feed_%'")))
            for name in await s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_feed_%'")):
                await s.execute(text(f"DROP TRIGGER {name}"))
    before, started = meter.sample(), time.perf_counter()
    await _import(db, entries, written)
    took = {"wall_s": round(time.perf_counter() - started, 2)} | Meter.spent(before, meter.sample())
    async with db.transaction() as s:
        if db.dialect == "postgresql":  # a fresh heap and indexes, as the measured import finds them
            await s.execute(text("TRUNCATE subject_aliases, subjects, subject_changes CASCADE"))
        else:
            await s.execute(delete(SubjectAlias))
            await s.execute(delete(Subject))
        if db.dialect == "postgresql":
            await s.execute(text("ALTER TABLE subjects ENABLE TRIGGER USER"))
            await s.execute(text("ALTER TABLE subject_aliases ENABLE TRIGGER USER"))
        for sql in saved:
            await s.execute(text(sql))
    return took


# -- the feed before the change stream, verbatim in what it read and compared ----------------------

async def _main_load_entries(db: Database, since: dt.datetime) -> list[IndexEntry]:
    async with db.transaction() as s:
        stmt = select(Subject.id, Subject.name, Subject.kind, Subject.uscc, Subject.division_code, Subject.updated_at)
        stmt = stmt.where(Subject.updated_at >= since).order_by(Subject.id)
        rows = []
        result = await s.stream(stmt.execution_options(yield_per=20_000))
        async for part in result.partitions(20_000):
            for sid, name, kind, uscc, division, _updated in part:
                rows.append((sid, name, kind, uscc, division))
        aliases: dict[int, list[tuple[str, str]]] = defaultdict(list)
        ids = [r[0] for r in rows]
        alias_stmt = select(SubjectAlias.subject_id, SubjectAlias.alias, SubjectAlias.kind).order_by(
            SubjectAlias.subject_id, SubjectAlias.id)
        for start in range(0, len(ids), 5_000):
            chunk = ids[start : start + 5_000]
            for sid, alias, kind in await s.execute(alias_stmt.where(SubjectAlias.subject_id.in_(chunk))):
                aliases[sid].append((alias, kind))
    return [IndexEntry(sid, name, kind, uscc, division, tuple(aliases.get(sid, ()))) for sid, name, kind, uscc, division in rows]


async def _main_refresh(db: Database, index: NameIndex, since: dt.datetime) -> tuple[int, int]:
    """One refresh of the old feed: (rows read, subjects changed in the index)."""
    entries = await _main_load_entries(db, since)
    fresh = [e for e in entries if index.get(e.subject_id) != e]
    if fresh:
        index.add(fresh)
    return len(entries), len(fresh)


async def run(db: Database, n: int, dbname: str | None) -> dict[str, Any]:
    await migrate.upgrade(db)
    meter = Meter(dbname)
    entries, source = demo_entries(n)
    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    settings = Settings(database=DatabaseSettings(url=db.url), index=IndexSettings(snapshot="", min_subjects=0))
    worker = Services(settings=settings, db=db)
    worker.lexicon = lexicon
    await start_index(worker, lexicon)  # the worker follows the (empty) archive before the import
    written = dt.datetime.now(dt.UTC)
    out: dict[str, Any] = {"bench": "subject_stream", "db": db.dialect, "subjects": n, "aliases": sum(len(e.aliases) for e in entries),
                           "names": source}

    out["import_without_triggers"] = await _without_triggers(db, entries, written, meter)
    before, t0 = meter.sample(), time.perf_counter()
    await _import(db, entries, written)
    out["import_with_triggers"] = {"wall_s": round(time.perf_counter() - t0, 2)} | Meter.spent(before, meter.sample())

    before, t0 = meter.sample(), time.perf_counter()
    changed = await refresh_index(worker)
    first = Meter.spent(before, meter.sample()) | {"wall_s": round(time.perf_counter() - t0, 2),
                                                    "rows_read": worker.extras[ROWS_READ], "indexed": changed}
    assert worker.index is not None and len(worker.index) == n, (len(worker.index or ()), n)
    later = []
    for _ in range(5):
        before = meter.sample()
        await refresh_index(worker)
        later.append(Meter.spent(before, meter.sample()) | {"rows_read": worker.extras[ROWS_READ]})
    out["stream"] = {"first_refresh": first, "next_refreshes": later}

    since = written - dt.timedelta(minutes=15)
    old = []
    for _ in range(3):
        before, t0 = meter.sample(), time.perf_counter()
        read, added = await _main_refresh(db, worker.index, since)
        old.append(Meter.spent(before, meter.sample()) | {"wall_s": round(time.perf_counter() - t0, 2), "rows_read": read,
                                                           "indexed": added})
    out["old_feed_each_refresh"] = old

    def total(runs: list[dict[str, Any]]) -> float:
        return statistics.median(r["process_cpu_s"] + r["postgres_cpu_s"] for r in runs)

    first_cpu = first["process_cpu_s"] + first["postgres_cpu_s"]
    # 15 minutes after the import, per process: the first refresh (the same in both: the old one read
    # and indexed the same rows) and 89 more, which the old feed spent re-reading.
    out["window_cpu_s"] = {
        "old_feed": round(first_cpu + (REFRESHES_IN_WINDOW - 1) * total(old), 1),
        "stream": round(first_cpu + (REFRESHES_IN_WINDOW - 1) * total(later), 1),
    }
    out["old_refresh_cpu_s_per_100k"] = round(total(old) * 100_000 / n, 2)
    out["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=300_000)
    parser.add_argument("--pg", action="store_true", help="on a throw-away PostgreSQL database")
    parser.add_argument("--admin-dsn", default=DEFAULT_ADMIN_DSN)
    args = parser.parse_args()
    async with bench_database(args.pg, args.admin_dsn) as (db, name):
        print(json.dumps(await run(db, args.subjects, name), ensure_ascii=False))

if __name__ == "__main__":
    asyncio.run(main())
