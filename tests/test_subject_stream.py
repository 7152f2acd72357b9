"""The name index's change stream (services.subject_feed, migration 0026a) on both backends: a change
written through another connection reaches a worker's index once; a transaction that commits after
a later one is not skipped (two real concurrent transactions on PostgreSQL); a restart resumes from
the snapshot's position; renames, new aliases and deletions reach the index; a change the index
does not hold (a status) is not recorded at all; behind a pruned stream a worker reloads and a
snapshot is rebuilt."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, update

from bench.resolve import region_divisions
from db.models import Subject, SubjectAlias, SubjectChange, utcnow
from db.session import Database
from nlp import index_snapshot
from nlp.lexicon import Lexicon
from rules.codes import complete_uscc
from services.name_index import ROWS_READ, refresh_index, start_index, wait_for_index, wait_for_snapshot
from services.runtime import Services
from services.settings import IndexSettings
from services.subject_feed import prune_stream, stamp_changes
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    lex = Lexicon.from_divisions(region_divisions())
    lex.warm_up()
    return lex


@pytest.fixture
async def other(db: Database) -> AsyncIterator[Database]:
    """Another engine on the same database: its own connections, as another process would have."""
    second = Database(db.url)
    try:
        yield second
    finally:
        await second.dispose()


async def _worker(db: Database, lexicon: Lexicon, snapshot: Path | None = None) -> Services:
    index = IndexSettings(snapshot=str(snapshot) if snapshot else "", min_subjects=0)
    services = Services(settings=replace(settings_for(db), index=index), db=db)
    services.lexicon = lexicon
    await start_index(services, lexicon)
    await wait_for_index(services)
    await wait_for_snapshot(services)
    return services


def _subject(name: str, code: str) -> dict[str, object]:
    return {"kind": "法人", "name": name, "uscc": complete_uscc(code), "division_code": "610902"}


async def _add(db: Database, *subjects: dict[str, object]) -> list[int]:
    async with db.transaction() as s:
        return list(await s.scalars(insert(Subject).returning(Subject.id), list(subjects)))


async def test_a_change_by_another_connection_is_seen_once(db: Database, other: Database, lexicon: Lexicon) -> None:
    await _add(db, _subject("安康瀛湖渔业发展有限公司", "91610902MA70TT001"))
    worker = await _worker(db, lexicon)
    assert worker.index is not None and worker.index.resolve("瀛湖渔业").status == "clear"
    assert await refresh_index(worker) == 0 and worker.extras[ROWS_READ] == 0

    await _add(other, _subject("汉滨区老街张记蒸面馆", "91610902MA70TT002"))
    assert await refresh_index(worker) == 1 and worker.extras[ROWS_READ] == 1
    assert worker.index.resolve("张记蒸面馆").status == "clear"
    assert await refresh_index(worker) == 0 and worker.extras[ROWS_READ] == 0, "read once, never again"

    async with other.transaction() as s:  # not held by the index: nothing recorded, nothing read
        await s.execute(update(Subject).values(status="注销", address="安康市汉滨区"))
    assert await refresh_index(worker) == 0 and worker.extras[ROWS_READ] == 0


async def test_a_change_committed_late_is_not_skipped(db: Database, lexicon: Lexicon) -> None:
    """On PostgreSQL the early transaction's change takes the lower id, the late one commits first
    and is read; the early one, committed after that read, is still read next. (SQLite has one
    writer: a transaction open during a refresh is read by the next.)"""
    worker = await _worker(db, lexicon)
    assert worker.index is not None
    early_row = _subject("安康市早开晚交科技有限公司", "91610902MA70TT003")
    late_row = _subject("安康市后开先交商贸有限公司", "91610902MA70TT004")
    async with db.engine.connect() as early:
        await early.begin()
        await early.execute(insert(Subject), [early_row])
        if db.dialect == "postgresql":
            async with db.engine.connect() as late:
                await late.begin()
                await late.execute(insert(Subject), [late_row])
                await late.commit()
            assert await refresh_index(worker) == 1
            assert worker.index.resolve("后开先交商贸").status == "clear"
        else:
            assert await refresh_index(worker) == 0
        assert worker.index.resolve("早开晚交科技").status != "clear"
        await early.commit()
    assert await refresh_index(worker) == 1
    assert worker.index.resolve("早开晚交科技").status == "clear"
    async with db.transaction() as s:
        order = list(await s.execute(select(SubjectChange.id, SubjectChange.seq).order_by(SubjectChange.seq)))
    if db.dialect == "postgresql":  # really out of order: the later seq went to the lower id
        assert order[0].id > order[1].id and order[0].seq < order[1].seq
    assert await refresh_index(worker) == 0


async def test_renames_aliases_and_deletions_reach_the_index(db: Database, other: Database, lexicon: Lexicon) -> None:
    kept, gone = await _add(
        db, _subject("安康市恒达建材有限公司", "91610902MA70TT005"), _subject("安康瀛湖渔业发展有限公司", "91610902MA70TT006")
    )
    worker = await _worker(db, lexicon)
    assert worker.index is not None and worker.index.resolve("瀛湖渔业").status == "clear"

    async with other.transaction() as s:
        await s.execute(update(Subject).where(Subject.id == kept).values(name="安康市金穗农业科技有限公司"))
        await s.execute(insert(SubjectAlias).values(subject_id=kept, alias="双溪金穗", kind="简称"))
        await s.execute(delete(Subject).where(Subject.id == gone))
    assert await refresh_index(worker) == 2
    assert worker.index.resolve("金穗农业").status == "clear"
    assert worker.index.resolve("双溪金穗").status == "clear"
    assert worker.index.resolve("恒达建材").status != "clear"
    assert gone not in worker.index and worker.index.resolve("瀛湖渔业").status != "clear"

    async with other.transaction() as s:
        await s.execute(delete(SubjectAlias).where(SubjectAlias.subject_id == kept))
    assert await refresh_index(worker) == 1 and worker.index.resolve("双溪金穗").status != "clear"


async def test_a_restart_resumes_from_the_snapshots_position(db: Database, other: Database, lexicon: Lexicon, tmp_path: Path) -> None:
    path = tmp_path / "ix.snapshot"
    first_id, *_ = await _add(db, *(_subject(f"安康市第{i}测试商贸有限公司", f"91610902MA70TR{i:03d}") for i in range(1, 21)))
    first = await _worker(db, lexicon, path)
    info = index_snapshot.read_info(path)
    assert info is not None and info.subjects == 20 and info.watermark == first.index_watermark

    await _add(other, _subject("汉滨区老街张记蒸面馆", "91610902MA70TT007"))
    async with other.transaction() as s:
        await s.execute(update(Subject).where(Subject.id == first_id).values(name="安康市瀛湖渔业发展有限公司"))
    second = await _worker(db, lexicon, path)
    assert second.extras.get("index_build_task") is None, "loaded from the snapshot, not rebuilt"
    assert second.extras[ROWS_READ] == 2, "only what changed after the snapshot's position is read"
    assert second.index is not None and len(second.index) == 21
    assert second.index.resolve("张记蒸面馆").status == "clear"
    assert second.index.resolve("瀛湖渔业").status == "clear"


async def test_behind_a_pruned_stream_a_worker_reloads_and_a_snapshot_is_rebuilt(
    db: Database, other: Database, lexicon: Lexicon, tmp_path: Path
) -> None:
    path = tmp_path / "ix.snapshot"
    _kept, gone = await _add(db, _subject("安康市恒达建材有限公司", "91610902MA70TT008"), _subject("安康瀛湖渔业发展有限公司", "91610902MA70TT009"))
    worker = await _worker(db, lexicon, path)
    assert worker.index is not None and gone in worker.index

    async with other.transaction() as s:
        await s.execute(delete(Subject).where(Subject.id == gone))
    await _add(other, _subject("汉滨区老街张记蒸面馆", "91610902MA70TT010"))
    await stamp_changes(other)  # numbered by another process, then pruned as if eight days later
    assert await prune_stream(other, now=utcnow() + dt.timedelta(days=8)) > 0
    async with other.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(SubjectChange)) == 1, "the newest row stays"

    assert await refresh_index(worker) > 0
    # (SQLite may give the new subject the deleted one's id: names tell them apart.)
    assert worker.index.resolve("瀛湖渔业").status != "clear", "the deletion it could no longer read is applied"
    assert worker.index.resolve("张记蒸面馆").status == "clear"
    assert await refresh_index(worker) == 0

    rebuilt = await _worker(db, lexicon, path)
    assert rebuilt.extras.get("index_build_task") is not None, "the snapshot's changes were pruned: rebuilt"
    assert rebuilt.index is not None and len(rebuilt.index) == 2
    assert rebuilt.index.resolve("瀛湖渔业").status != "clear"
