"""The port's checks cost a fixed number of statements: a batch of many subjects reads and writes
set-based (issue 15), and every subject still gets its check, its port row and its audit rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, func, select

from bot.api.app import load_index
from db.demo.load import build_demo
from db.models import ApiCheck, AuditEntry, Check, Subject
from db.session import Database
from services.api_checks import batch_check, check_subject, viewer_for
from services.apikeys import authenticate, create_key
from services.runtime import Services
from tests.conftest import settings_for

TODAY = dt.date(2026, 11, 30)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)


async def _count(db: Database, stmt: object) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(stmt) or 0)  # type: ignore[call-overload]


async def test_a_batch_costs_the_statements_of_one_check_and_writes_every_row(db: Database) -> None:
    await build_demo(db, n_subjects=60)
    services = Services(settings=settings_for(db), db=db)
    await load_index(services)
    assert services.index is not None and services.lexicon is not None
    principal = await authenticate(db, (await create_key(db, "YJJ", "招投标系统", "check")).key)
    assert principal is not None
    viewer = viewer_for(principal)
    async with db.sessions() as s:
        codes = (await s.scalars(select(Subject.uscc).where(Subject.uscc.is_not(None)).order_by(Subject.id))).all()
        names = (await s.scalars(select(Subject.name).where(Subject.kind == "法人").order_by(Subject.id))).all()
    args = {"allow_id_number": False, "case_number": "ZB-1", "operator": "李四"}

    with statements(db) as one:
        line = await check_subject(services, principal, viewer, codes[0], "procurement", TODAY, **args)
    assert line.result is not None
    queries = list(codes[1:31]) + list(names[:10])
    with statements(db) as many:
        lines = await batch_check(services, principal, viewer, queries, "procurement", TODAY, **args)
    checked = {x.result.check_id for x in lines if x.result is not None}
    assert len(checked) >= 30
    # Reads: the codes, the names' subjects, records, declarations (only of subjects having any).
    reads = [x for x in many if x.lstrip().upper().startswith("SELECT")]
    assert len(reads) <= 4 and len([x for x in one if x.lstrip().upper().startswith("SELECT")]) <= 3
    if db.dialect == "postgresql":  # one statement per table written, whatever the number of rows
        # (SQLite, in-process, inserts a RETURNING row at a time: no round trips to save there)
        assert len(many) <= len(one) + 2 <= 9, (one, many)
    assert await _count(db, select(func.count(ApiCheck.check_id)).where(ApiCheck.batch.is_(True))) == len(checked)
    for action in ("api_check", "view_subject"):
        assert await _count(db, select(func.count(AuditEntry.id)).where(AuditEntry.action == action)) == len(checked) + 1
    async with db.sessions() as s:
        rows = (await s.execute(select(Check.id, Check.subject_id).where(Check.id.in_(checked)))).all()
        audited = (await s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "api_check"))).all()
    assert {r.subject_id for r in rows} == {x.result.subject_id for x in lines if x.result is not None}
    # each check's audit row names that check, the key, the operator and the batch
    assert {d["check_id"] for d in audited} == checked | {line.result.check_id}
    assert all(d["key"] == principal.prefix and d["operator"] == "李四" for d in audited)
