"""The importer's batch lookups probe the unique index per key, also in tables its own transaction
has just filled (db.importers.lookup): PostgreSQL used to scan every record of the source on every
batch there, so a 100,000-row import slowed down as it went (bench.importer --pg)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, insert, select

from db.importers.lookup import each_key
from db.models import CreditRecord, Subject, SubjectAlias
from db.session import Database

N = 2000
SOURCE = "11610900090000070G"


async def _fill(session: Any) -> list[int]:
    """N subjects with N records of one source, plus one record of another source with the same
    number as the first; uncommitted, as during an import."""
    now = dt.datetime.now(dt.UTC)
    await session.execute(insert(Subject), [
        {"kind": "法人", "name": f"主体{i}", "uscc": f"9161{i:014d}", "status": "存续", "created_at": now, "updated_at": now}
        for i in range(N)
    ])
    ids = list((await session.execute(select(Subject.id).order_by(Subject.id))).scalars())
    await session.execute(insert(CreditRecord), [
        {"subject_id": ids[i % N], "category": "行政处罚", "source_key": source, "source_name": "安康市市场监督管理局",
         "doc_number": f"安市监罚〔2025〕{i}号", "doc_key": f"安市监罚〔2025〕{i}号", "decision_date": dt.date(2025, 3, 3),
         "reported_at": now, "status": "active", "fields": {}, "created_at": now, "updated_at": now}
        for i, source in [*((i, SOURCE) for i in range(N)), (0, "OTHER")]
    ])
    return ids


async def _plan(session: Any, stmt: Any) -> tuple[list[Any], str]:
    """Run `stmt` and return its rows and the database's plan for it, as run (same parameters)."""
    seen: list[tuple[str, Any]] = []
    conn = await session.connection()

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(conn.sync_connection, "before_cursor_execute", capture)
    try:
        rows = list(await session.execute(stmt))
    finally:
        event.remove(conn.sync_connection, "before_cursor_execute", capture)
    statement, parameters = seen[-1]
    prefix = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    plan = "\n".join(str(r[-1]) for r in await conn.exec_driver_sql(prefix + statement, parameters))
    return rows, plan


async def test_records_are_found_by_an_index_probe_per_number(db: Database) -> None:
    async with db.transaction() as s:
        await _fill(s)
        wanted = [f"安市监罚〔2025〕{i}号" for i in range(0, N + 500, 5)]  # the last 100 are not there
        stmt = each_key(s, (CreditRecord.doc_key, CreditRecord.source_key), CreditRecord.doc_key, wanted,
                        CreditRecord.source_key == SOURCE, CreditRecord.category == "行政处罚")
        rows, plan = await _plan(s, stmt)
        await s.rollback()
    assert sorted(r.doc_key for r in rows) == sorted(wanted[: N // 5])
    assert {r.source_key for r in rows} == {SOURCE}  # the other source's 0号 is not this record
    if db.dialect == "postgresql":
        assert "Seq Scan" not in plan, plan
        assert "using record_source_doc_key" in plan, plan
        assert any("Index Cond" in line and "doc_key =" in line for line in plan.splitlines()), plan
    else:
        assert "record_source_doc_key (source_key=? AND category=? AND doc_key=?)" in plan, plan


async def test_subjects_and_aliases_are_found_by_an_index_probe_per_key(db: Database) -> None:
    async with db.transaction() as s:
        ids = await _fill(s)
        codes = [f"9161{i:014d}" for i in range(0, N + 300, 3)]
        by_code, code_plan = await _plan(s, each_key(s, (Subject.id, Subject.uscc), Subject.uscc, codes))
        by_id, id_plan = await _plan(s, each_key(s, (Subject.id, Subject.name), Subject.id, ids[::7]))
        await s.execute(insert(SubjectAlias), [
            {"subject_id": sid, "alias": f"{kind}{sid}", "kind": kind} for sid in ids for kind in ("简称", "曾用名")
        ])
        aliases, alias_plan = await _plan(
            s, each_key(s, (SubjectAlias.subject_id, SubjectAlias.alias), SubjectAlias.subject_id, ids[:10])
        )
        await s.rollback()
    assert sorted(r.uscc for r in by_code) == [c for c in codes if int(c[4:]) < N]
    assert sorted(r.id for r in by_id) == ids[::7]
    assert sorted(aliases) == sorted((sid, f"{kind}{sid}") for sid in ids[:10] for kind in ("简称", "曾用名"))
    for plan, table in ((code_plan, "subjects"), (id_plan, "subjects"), (alias_plan, "subject_aliases")):
        if db.dialect == "postgresql":
            assert "Seq Scan" not in plan and "Index" in plan, plan
        else:
            assert f"SEARCH {table} USING" in plan and f"SCAN {table}" not in plan, plan
