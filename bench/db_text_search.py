"""The databases' own text search as a user would set it up, on the resolver's names and queries.

Today's two anchors, kept as they were:

* PostgreSQL `pg_trgm`: a throw-away database created here with a UTF-8 collation (C.UTF-8; in a
  C-locale database pg_trgm drops every CJK character), a GIN trigram index on the names, and
  `WHERE name % $1 ORDER BY similarity(name, $1) DESC LIMIT 1` (the documented pattern).
* SQLite FTS5 with the trigram tokenizer: the query as one phrase, `ORDER BY rank LIMIT 1`.

Fairer anchors, what an engineer who knows each database would set up (`pg_trgm_anchors`,
`fts5_anchors`):

* pg_trgm word similarity: `WHERE $1 <% name ORDER BY word_similarity($1, name) DESC LIMIT 1` on
  the GIN index (gin_trgm_ops carries `%>`, the commutator of `<%`), because users type a part of a
  long company name and `similarity` punishes everything they left out.
* pg_trgm KNN on a GiST `gist_trgm_ops` index: `ORDER BY name <-> $1 LIMIT 1` (1 - similarity) and
  `ORDER BY $1 <<-> name LIMIT 1` (1 - word_similarity; the opclass carries its commutator `<->>`).
  No threshold: the nearest name is always the answer.
* FTS5 trigram with an OR fallback: the query as a phrase, and when that finds nothing an OR of the
  query's trigrams (each one quoted), `ORDER BY rank` (bm25). A query of fewer than 3 characters has
  no trigram: it is answered by `name LIKE '%q%'`, shortest name first (a scan).
* Codes looked up as codes: a query that is a USCC once cleaned (the only code kind the query mix
  has) is answered by an equality look-up on an indexed code column, in both databases; the rest
  go to each database's text search with the best recall here (KNN on word similarity, and the FTS5
  phrase/OR search). Nobody searches a USCC by trigram similarity.

pg_trgm pads each word with blanks, and a Chinese name has no blanks: it is one word, so the padded
trigrams of the first and last characters a user types (mid-name) are never in it. A part of n
characters from inside a name thus scores at most (n-2)/(n+1) in word_similarity (0.4 for 4), under
the 0.6 default threshold of `<%` until n = 7; the KNN `<<->` form has no threshold and shows what a
lower one would find.

Every method gets every current name and alias (as the index has them); the answer is the owning
subject. Timings are per query, in milliseconds, for the same queries the resolver answers.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bench.pgdb import create_database, drop_database
from rules.codes import USCC_ALPHABET, clean_code, repair_lookalikes

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

        def phrase(text: str) -> int | None:
            try:
                got = con.execute("SELECT owner FROM names WHERE names MATCH ? ORDER BY rank LIMIT 1",
                                  ('"' + text.replace('"', '""') + '"',)).fetchone()
            except sqlite3.OperationalError:
                return None
            return None if got is None else int(got[0])

        hits, lat = _timed(phrase, queries)
        con.close()
    return _report("SQLite FTS5 tokenize='trigram', query as a phrase, ORDER BY rank LIMIT 1", hits, lat, build)


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
            hits, lat = await _pg_timed(stmt.fetchval, queries)
        finally:
            await con.close()
    finally:
        await drop_database(PG_ADMIN_DSN, name)
    return _report("PostgreSQL pg_trgm, C.UTF-8 database, GIN gin_trgm_ops, name % q ORDER BY similarity DESC LIMIT 1",
                   hits, lat, build)


# ---------------------------------------------------------------------- fairer anchors

# 18 characters of the code's alphabet, a digit among them (a pinyin query is letters only). Not the
# fixed digits of the division code: a mistyped letter there still makes a code, not a name.
_USCC_SHAPE = re.compile(f"(?=.*[0-9])[{USCC_ALPHABET}]{{18}}")


def _codes(entries: Sequence[Any]) -> list[tuple[str, int]]:
    """(USCC, owner) of every subject that has one: the code column both databases index."""
    return [(e.uscc, e.subject_id) for e in entries if e.uscc]


def as_code(text: str) -> str | None:
    """The USCC a query is, or None: what any form with a code field does (NFKC, separators out,
    upper case, O→0 and I→1, two letters GB 32100 never uses), then the code's shape. The check
    character is not tested: a mistyped code is looked up like any other and simply not found
    (the resolver offers the one code a character away; an equality look-up cannot)."""
    code = repair_lookalikes(clean_code(text))
    return code if _USCC_SHAPE.fullmatch(code) else None


def _report(method: str, hits: int, lat: list[float], build: float, **extra: Any) -> dict[str, Any]:
    """One anchor's figures in the shape today's two report them."""
    return {
        "method": method,
        "recall_at_1": round(hits / max(1, len(lat)), 4),
        "p50_ms": _pct(lat, 50),
        "p95_ms": _pct(lat, 95),
        "build_s": round(build, 2),
    } | extra


def _trigram_or(text: str) -> str:
    """An FTS5 OR of the query's distinct trigrams, each quoted (a trigram may hold a quote, a
    space or an FTS5 keyword)."""
    grams = dict.fromkeys(text[i : i + 3] for i in range(len(text) - 2))
    return " OR ".join('"' + g.replace('"', '""') + '"' for g in grams)


def _fts5_lookup(con: sqlite3.Connection, text: str) -> int | None:
    """The phrase first, the trigram OR when the phrase finds nothing; under 3 characters (no
    trigram to match) a LIKE scan, shortest name first, since bm25 needs a MATCH."""
    if len(text) < 3:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = "SELECT owner FROM names WHERE name LIKE ? ESCAPE '\\' ORDER BY length(name) LIMIT 1"
        got = con.execute(sql, (pattern,)).fetchone()
        return None if got is None else int(got[0])
    sql = "SELECT owner FROM names WHERE names MATCH ? ORDER BY rank LIMIT 1"
    for expr in ('"' + text.replace('"', '""') + '"', _trigram_or(text)):
        got = con.execute(sql, (expr,)).fetchone()
        if got is not None:
            return int(got[0])
    return None


def _timed(lookup: Callable[[str], int | None], queries: Sequence[tuple[str, int]]) -> tuple[int, list[float]]:
    """(hits, per-query milliseconds) of a synchronous look-up over the queries."""
    hits = 0
    lat: list[float] = []
    for text, want in queries:
        t = time.perf_counter()
        got = lookup(text)
        lat.append((time.perf_counter() - t) * 1000)
        hits += got == want
    return hits, lat


def fts5_anchors(entries: Sequence[Any], queries: Sequence[tuple[str, int]]) -> dict[str, dict[str, Any]]:
    """SQLite's fairer anchors, in one temporary file: FTS5 phrase-then-trigram-OR, and the same
    behind an indexed USCC equality look-up for the queries that are codes."""
    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(os.path.join(tmp, "anchors.sqlite3"))
        try:
            t0 = time.perf_counter()
            con.execute("CREATE VIRTUAL TABLE names USING fts5(name, owner UNINDEXED, tokenize='trigram')")
            con.executemany("INSERT INTO names(name, owner) VALUES (?, ?)", ((n, sid) for sid, n in _names(entries)))
            con.commit()
            text_build = time.perf_counter() - t0
            t0 = time.perf_counter()
            con.execute("CREATE TABLE codes (uscc TEXT NOT NULL, owner INTEGER NOT NULL)")
            con.executemany("INSERT INTO codes(uscc, owner) VALUES (?, ?)", _codes(entries))
            con.execute("CREATE INDEX codes_uscc ON codes (uscc)")
            con.commit()
            code_build = time.perf_counter() - t0

            def text(q: str) -> int | None:
                return _fts5_lookup(con, q)

            def coded(q: str) -> int | None:
                code = as_code(q)
                if code is None:
                    return _fts5_lookup(con, q)
                got = con.execute("SELECT owner FROM codes WHERE uscc = ? LIMIT 1", (code,)).fetchone()
                return None if got is None else int(got[0])

            or_hits, or_lat = _timed(text, queries)
            code_hits, code_lat = _timed(coded, queries)
        finally:
            con.close()
    n_codes = sum(as_code(q) is not None for q, _ in queries)
    return {
        "sqlite_fts5_trigram_or": _report(
            "SQLite FTS5 tokenize='trigram': query as a phrase, if no row an OR of its quoted trigrams, "
            "ORDER BY rank LIMIT 1; under 3 characters name LIKE '%q%' ORDER BY length(name) LIMIT 1 (scan)",
            or_hits, or_lat, text_build,
        ),
        "sqlite_codes_then_fts5": _report(
            "USCC-shaped queries (cleaned, O→0 I→1) by equality on an indexed code column, the rest by "
            "sqlite_fts5_trigram_or",
            code_hits, code_lat, text_build + code_build, code_queries=n_codes,
        ),
    }


def pg_trgm_anchors(entries: Sequence[Any], queries: Sequence[tuple[str, int]]) -> dict[str, dict[str, Any]]:
    """PostgreSQL's fairer anchors (word similarity, the two KNN orders, codes then KNN), by name."""
    return asyncio.run(_pg_trgm_anchors(entries, queries))


async def _load(con: Any, table: str, rows: list[tuple[Any, ...]], columns: list[str], *ddl: str) -> float:
    """Seconds to fill `table` and run its index statements and ANALYZE (a method's build time)."""
    t0 = time.perf_counter()
    await con.copy_records_to_table(table, records=rows, columns=columns)
    for statement in ddl:
        await con.execute(statement)
    await con.execute(f"ANALYZE {table}")
    return time.perf_counter() - t0


async def _pg_timed(lookup: Callable[[str], Awaitable[Any]], queries: Sequence[tuple[str, int]]) -> tuple[int, list[float]]:
    """(hits, per-query milliseconds) of an asynchronous look-up over the queries."""
    hits = 0
    lat: list[float] = []
    for text, want in queries:
        t = time.perf_counter()
        got = await lookup(text)
        lat.append((time.perf_counter() - t) * 1000)
        hits += got == want
    return hits, lat


async def _pg_trgm_anchors(entries: Sequence[Any], queries: Sequence[tuple[str, int]]) -> dict[str, dict[str, Any]]:
    """PostgreSQL's fairer anchors in one throw-away C.UTF-8 database: a table per index (GIN, GiST,
    code b-tree) so that the planner of one method cannot pick another method's index."""
    import asyncpg

    name, _url = await create_database(PG_ADMIN_DSN, collation="C.UTF-8")
    dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
    names = _names(entries)
    try:
        con = await asyncpg.connect(dsn, timeout=10)
        try:
            await con.execute("CREATE EXTENSION pg_trgm")
            for table in ("names_gin", "names_gist"):
                await con.execute(f"CREATE TABLE {table} (owner bigint NOT NULL, name text NOT NULL)")
            await con.execute("CREATE TABLE codes (uscc text NOT NULL, owner bigint NOT NULL)")
            cols = ["owner", "name"]
            gin_build = await _load(con, "names_gin", names, cols, "CREATE INDEX ON names_gin USING gin (name gin_trgm_ops)")
            gist_build = await _load(con, "names_gist", names, cols, "CREATE INDEX ON names_gist USING gist (name gist_trgm_ops)")
            code_build = await _load(con, "codes", _codes(entries), ["uscc", "owner"], "CREATE INDEX ON codes (uscc)")
            word = await con.prepare(
                "SELECT owner FROM names_gin WHERE $1 <% name ORDER BY word_similarity($1, name) DESC LIMIT 1"
            )
            knn = await con.prepare("SELECT owner FROM names_gist ORDER BY name <-> $1 LIMIT 1")
            knn_word = await con.prepare("SELECT owner FROM names_gist ORDER BY $1 <<-> name LIMIT 1")
            by_code = await con.prepare("SELECT owner FROM codes WHERE uscc = $1 LIMIT 1")

            async def coded(q: str) -> Any:
                code = as_code(q)
                return await (knn_word.fetchval(q) if code is None else by_code.fetchval(code))

            word_hits, word_lat = await _pg_timed(word.fetchval, queries)
            knn_hits, knn_lat = await _pg_timed(knn.fetchval, queries)
            kw_hits, kw_lat = await _pg_timed(knn_word.fetchval, queries)
            code_hits, code_lat = await _pg_timed(coded, queries)
        finally:
            await con.close()
    finally:
        await drop_database(PG_ADMIN_DSN, name)
    n_codes = sum(as_code(q) is not None for q, _ in queries)
    db = "PostgreSQL pg_trgm, C.UTF-8 database"
    return {
        "postgresql_pg_trgm_word_similarity": _report(
            f"{db}, GIN gin_trgm_ops, q <% name ORDER BY word_similarity(q, name) DESC LIMIT 1 (threshold 0.6)",
            word_hits, word_lat, gin_build,
        ),
        "postgresql_pg_trgm_knn": _report(
            f"{db}, GiST gist_trgm_ops (siglen 12), ORDER BY name <-> q LIMIT 1 (KNN, no threshold)",
            knn_hits, knn_lat, gist_build,
        ),
        "postgresql_pg_trgm_knn_word": _report(
            f"{db}, GiST gist_trgm_ops (siglen 12), ORDER BY q <<-> name LIMIT 1 (KNN on word similarity, no threshold)",
            kw_hits, kw_lat, gist_build,
        ),
        "postgresql_codes_then_knn_word": _report(
            "USCC-shaped queries (cleaned, O→0 I→1) by equality on a b-tree-indexed code column, the rest by "
            "postgresql_pg_trgm_knn_word",
            code_hits, code_lat, gist_build + code_build, code_queries=n_codes,
        ),
    }
