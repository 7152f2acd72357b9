"""The databases' own text search as a user would set it up, on the resolver's names and queries.

* PostgreSQL `pg_trgm`: a throw-away database created here with a UTF-8 collation (C.UTF-8; in a
  C-locale database pg_trgm drops every CJK character), a GIN trigram index on the names, and
  `WHERE name % $1 ORDER BY similarity(name, $1) DESC LIMIT 1` (the documented pattern).
* SQLite FTS5 with the trigram tokenizer: the query as one phrase, `ORDER BY rank LIMIT 1`.

Both get every current name and alias (as the index has them); the answer is the owning subject.
Timings are per query, in milliseconds, for the same queries the resolver answers.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from bench.pgdb import create_database, drop_database

PG_ADMIN_DSN = os.environ.get("CREDITBOT_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _names(entries: Sequence[Any]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for e in entries:
        out.append((e.subject_id, e.name))
        out.extend((e.subject_id, alias) for alias, _kind in e.aliases)
    return out


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3) if ordered else 0.0


def fts5_trigram(entries: Sequence[Any], queries: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """SQLite FTS5 (trigram tokenizer) in a temporary file: build time, recall@1, latency."""
    rows = _names(entries)
    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(os.path.join(tmp, "fts.sqlite3"))
        t0 = time.perf_counter()
        con.execute("CREATE VIRTUAL TABLE names USING fts5(name, owner UNINDEXED, tokenize='trigram')")
        con.executemany("INSERT INTO names(name, owner) VALUES (?, ?)", ((n, sid) for sid, n in rows))
        con.commit()
        build = time.perf_counter() - t0
        hits = 0
        lat: list[float] = []
        for text, want in queries:
            phrase = '"' + text.replace('"', '""') + '"'
            t = time.perf_counter()
            try:
                got = con.execute("SELECT owner FROM names WHERE names MATCH ? ORDER BY rank LIMIT 1", (phrase,)).fetchone()
            except sqlite3.OperationalError:
                got = None
            lat.append((time.perf_counter() - t) * 1000)
            hits += got is not None and got[0] == want
        con.close()
    return {
        "method": "SQLite FTS5 tokenize='trigram', query as a phrase, ORDER BY rank LIMIT 1",
        "recall_at_1": round(hits / max(1, len(queries)), 4),
        "p50_ms": _pct(lat, 50),
        "p95_ms": _pct(lat, 95),
        "build_s": round(build, 2),
    }


def pg_trgm(entries: Sequence[Any], queries: Sequence[tuple[str, int]]) -> dict[str, Any]:
    return asyncio.run(_pg_trgm(entries, queries))


async def _pg_trgm(entries: Sequence[Any], queries: Sequence[tuple[str, int]]) -> dict[str, Any]:
    import asyncpg

    name, _url = await create_database(PG_ADMIN_DSN, collation="C.UTF-8")
    dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
    try:
        con = await asyncpg.connect(dsn, timeout=10)
        try:
            t0 = time.perf_counter()
            await con.execute("CREATE EXTENSION pg_trgm")
            await con.execute("CREATE TABLE names (owner bigint NOT NULL, name text NOT NULL)")
            await con.copy_records_to_table("names", records=[(sid, n) for sid, n in _names(entries)], columns=["owner", "name"])
            await con.execute("CREATE INDEX names_trgm ON names USING gin (name gin_trgm_ops)")
            await con.execute("ANALYZE names")
            build = time.perf_counter() - t0
            stmt = await con.prepare(
                "SELECT owner FROM names WHERE name % $1 ORDER BY similarity(name, $1) DESC LIMIT 1"
            )
            hits = 0
            lat: list[float] = []
            for text, want in queries:
                t = time.perf_counter()
                got = await stmt.fetchval(text)
                lat.append((time.perf_counter() - t) * 1000)
                hits += got == want
        finally:
            await con.close()
    finally:
        await drop_database(PG_ADMIN_DSN, name)
    return {
        "method": "PostgreSQL pg_trgm, C.UTF-8 database, GIN gin_trgm_ops, name % q ORDER BY similarity DESC LIMIT 1",
        "recall_at_1": round(hits / max(1, len(queries)), 4),
        "p50_ms": _pct(lat, 50),
        "p95_ms": _pct(lat, 95),
        "build_s": round(build, 2),
    }
