"""Alembic on both databases: up to head, down to nothing, up again; the schema matches the models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from db import migrate
from db.models import Base
from db.session import Database
from tests.conftest import _create_pg_database, _drop_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    else:
        name, url = await _create_pg_database()
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()
        if name:
            await _drop_pg_database(name)


async def table_names(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade(fresh_db: Database) -> None:
    assert await migrate.current_revision(fresh_db) is None
    await migrate.upgrade(fresh_db)
    head = await migrate.current_revision(fresh_db)
    assert head is not None
    assert set(Base.metadata.tables) <= await table_names(fresh_db)
    await migrate.downgrade(fresh_db, "base")
    assert await table_names(fresh_db) <= {"alembic_version"}
    await migrate.upgrade(fresh_db)
    assert await migrate.current_revision(fresh_db) == head


async def test_migrated_schema_matches_the_models(fresh_db: Database) -> None:
    await migrate.upgrade(fresh_db)

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return compare_metadata(context, Base.metadata)

    async with fresh_db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_upgrade_twice_is_harmless(fresh_db: Database) -> None:
    await migrate.upgrade(fresh_db)
    await migrate.upgrade(fresh_db)
    assert await migrate.current_revision(fresh_db) is not None


async def test_0012_holds_back_the_commitments_of_pending_declarations(fresh_db: Database) -> None:
    """Before 0012 a pending declaration's commitment record was "active" (public, scored)."""
    import datetime as dt

    from sqlalchemy import column, insert, select, table

    from db.models import Account, CreditRecord, Declaration, Subject

    await migrate.upgrade(fresh_db, "0011")
    async with fresh_db.transaction() as s:
        subject = Subject(kind="法人", name="安康市恒达建材有限公司", uscc="91610902MA70HD001E")
        account = Account(role="enterprise")
        s.add_all([subject, account])
        await s.flush()
        records = {}
        # The table as it was at 0011 (the model has columns added later).
        old = table("credit_records", *(column(c) for c in (
            "subject_id", "category", "source_key", "source_name", "doc_number", "doc_key", "decision_date",
            "status", "fields", "reported_at", "late_working_days", "created_at", "updated_at")))  # fmt: skip
        for status in ("pending", "verified"):
            doc = f"安申〔2026〕00000{len(records) + 1}号"
            now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC).replace(tzinfo=None)
            rid = (await s.execute(insert(old).values(
                subject_id=subject.id, category="信用承诺", source_key="自主申报", source_name="自主申报",
                doc_number=doc, doc_key=doc, decision_date=dt.date(2026, 11, 1), status="active", fields="{}",
                reported_at=now, late_working_days=0, created_at=now, updated_at=now,
            ).returning(column("id")))).scalar_one()  # fmt: skip
            records[status] = rid
            s.add(Declaration(
                account_id=account.id, chat_id=1, subject_id=subject.id, status=status, receipt_no=doc,
                expires_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), commitment_record_id=rid,
            ))  # fmt: skip
    await migrate.upgrade(fresh_db)
    async with fresh_db.transaction() as s:
        status = dict((await s.execute(select(CreditRecord.id, CreditRecord.status))).all())
    assert status == {records["pending"]: "unverified", records["verified"]: "active"}
    await migrate.downgrade(fresh_db, "0011")
    async with fresh_db.transaction() as s:
        assert set((await s.scalars(select(CreditRecord.status))).all()) == {"active"}
