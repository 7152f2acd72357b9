from sqlalchemy import select, text

from db.models import Subject
from db.session import Database


async def test_subject_round_trip(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Subject(kind="法人", name="安康市恒达建材有限公司", uscc="91610900MA70XXXXX0"))
    async with db.transaction() as s:
        names = (await s.scalars(select(Subject.name))).all()
    assert names == ["安康市恒达建材有限公司"]


async def test_sqlite_runs_with_wal_and_foreign_keys(db: Database) -> None:
    if db.dialect != "sqlite":
        return
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_a_failed_unit_of_work_leaves_nothing_behind(db: Database) -> None:
    try:
        async with db.transaction() as s:
            s.add(Subject(kind="法人", name="半途而废有限公司", uscc="91610900MA70XXXXX1"))
            await s.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with db.transaction() as s:
        assert (await s.scalars(select(Subject))).all() == []
