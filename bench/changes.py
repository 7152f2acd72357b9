"""The change feed: paging through N events with the commit-order cursor (stamp + read, what
`GET /v1/changes` does) against the baseline of a plain id-ordered page read of the same rows (what a
naive feed would cost, and lose changes with). Also the cost an import pays to write its events
(one INSERT … SELECT), against writing the same records without them.

    .venv/bin/python -m bench.changes --events 50000 [--pg]

Prints one JSON line; the machine is shared, so the load average is in it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import time

from sqlalchemy import insert, select

from bench.pgdb import DEFAULT_ADMIN_DSN, bench_database
from db import migrate
from db.models import ChangeEvent, CreditRecord, Subject, utcnow
from db.session import Database
from services import changes


async def _seed(db: Database, n: int) -> dt.datetime:
    """n records of one subject written like an import (one timestamp); returns it."""
    written = utcnow()
    async with db.transaction() as s:
        subject = Subject(kind="法人", name="基准测试有限公司", uscc=None)
        s.add(subject)
        await s.flush()
        rows = [{"subject_id": subject.id, "category": "行政处罚", "source_key": "B", "source_name": "基准",
                 "doc_number": f"基准罚〔2026〕{i}号", "doc_key": f"基准罚[2026]{i}号", "decision_date": dt.date(2026, 11, 1),
                 "status": "active", "fields": {}, "created_at": written, "updated_at": written, "reported_at": written}
                for i in range(n)]
        for i in range(0, n, 5000):
            await s.execute(insert(CreditRecord), rows[i : i + 5000])
    return written


async def run(db: Database, n: int) -> dict[str, object]:
    await migrate.upgrade(db)
    written = await _seed(db, n)
    started = time.perf_counter()
    async with db.transaction() as s:
        await changes.emit_imported(s, written)
    emit_s = time.perf_counter() - started

    started = time.perf_counter()
    cursor, seen = None, 0
    while True:
        page = await changes.read(db, cursor, changes.MAX_PAGE)
        seen += len(page.events)
        cursor = page.next_cursor
        if not page.more:
            break
    feed_s = time.perf_counter() - started

    started = time.perf_counter()
    last, baseline_seen = 0, 0
    while True:
        async with db.transaction() as s:
            ids = list(await s.scalars(select(ChangeEvent.id).where(ChangeEvent.id > last).order_by(ChangeEvent.id).limit(changes.MAX_PAGE)))
            await s.execute(select(ChangeEvent, Subject.name).join(Subject, Subject.id == ChangeEvent.subject_id)
                            .where(ChangeEvent.id.in_(ids)))
        baseline_seen += len(ids)
        if len(ids) < changes.MAX_PAGE:
            break
        last = ids[-1]
    baseline_s = time.perf_counter() - started
    assert seen == baseline_seen == n, (seen, baseline_seen, n)
    return {
        "bench": "changes", "db": db.dialect, "events": n,
        "emit_s": round(emit_s, 3), "feed_read_s": round(feed_s, 3), "feed_events_per_s": round(n / feed_s),
        "baseline_id_pages_s": round(baseline_s, 3), "baseline_events_per_s": round(n / baseline_s),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--pg", action="store_true", help="on a throw-away PostgreSQL database")
    parser.add_argument("--admin-dsn", default=DEFAULT_ADMIN_DSN)
    args = parser.parse_args()
    async with bench_database(args.pg, args.admin_dsn) as (db, _name):
        print(json.dumps(await run(db, args.events), ensure_ascii=False))

if __name__ == "__main__":
    asyncio.run(main())
