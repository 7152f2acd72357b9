"""Declarations in the database: the migration matches the models, receipt numbers under concurrency,
one open draft per account, and who may decide."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.models import Base
from db.session import Database
from rules.roles import Viewer
from services.declarations import drafts, submit
from services.declarations.verification import decide, pending_for
from services.errors import Refusal
from services.numbering import next_number
from tests.test_declare_support import company
from tests.test_lifecycle_support import dept_id

TABLES = {"declarations", "declaration_link_attempts"}


async def test_migration_matches_the_declaration_models(db: Database) -> None:
    def diff(connection) -> list:  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []  # the whole schema, 0001-0004, matches every model module


async def test_receipt_numbers_never_repeat_under_concurrency(db: Database) -> None:
    async def take() -> int:
        for _ in range(20):
            try:
                async with db.transaction() as s:
                    return await next_number(s, submit.SEQUENCE_KIND, 2026)
            except Exception:  # SQLite: a writer that lost the race retries, as the bot would
                await asyncio.sleep(0.01)
        raise AssertionError("no number")

    numbers = await asyncio.gather(*(take() for _ in range(10)))
    assert sorted(numbers) == list(range(1, 11))


def ctx(uid: int) -> drafts.Ctx:
    now = dt.datetime.now(dt.UTC)
    return drafts.Ctx(telegram_user_id=uid, chat_id=uid, key=None, now=now, today=now.date())


async def test_one_open_draft_per_account_and_only_the_department_decides(db: Database) -> None:
    await company(db)
    first = await drafts.start(db, ctx(42))
    again = await drafts.start(db, ctx(42))
    assert first.draft is not None and again.draft is not None and again.note == "resumed"
    assert first.draft.id == again.draft.id and first.draft.step == "link_code"
    assert await drafts.cancel(db, ctx(42)) and not await drafts.cancel(db, ctx(42))
    dept = await dept_id(db, "ZJJ")
    with pytest.raises(Refusal, match="仅限负责部门"):
        await pending_for(db, Viewer(account_id=None, role="public"))
    with pytest.raises(Refusal, match="不属于本部门"):
        await decide(db, Viewer(account_id=None, role="official", department_id=dept), first.draft.id, "approve", "好", dt.date.today())
