"""The change feed on both databases: cursor pages, who sees what, and completeness under
concurrent writers (a transaction that took a lower id but commits later is never skipped, a rolled
back one never appears, nothing comes twice)."""

from __future__ import annotations

import asyncio
import random

import pytest

from db.session import Database
from services import changes
from services.errors import Refusal
from tests.test_lifecycle_support import add_subject


async def _all(db: Database, since: str | None = None, limit: int = 3, **kw: bool) -> tuple[list[int], str]:
    seen: list[int] = []
    cursor = since
    while True:
        page = await changes.read(db, cursor, limit, **kw)
        seen += [e.seq for e in page.events]
        cursor = page.next_cursor
        if not page.more:
            return seen, cursor


async def test_pages_follow_a_cursor_and_keys_see_persons_only_with_idquery(db: Database) -> None:
    firm = await add_subject(db)
    person = await add_subject(db, name="张三", uscc=None, kind="自然人", id_masked="610902********1234")
    async with db.transaction() as s:
        await changes.emit(s, "listed", firm, detail={"note": "a"})
        await changes.emit(s, "repair_notice", person)
        await changes.emit(s, "masked", firm)
    organisations, cursor = await _all(db, limit=1)
    assert len(organisations) == 2  # the person's event is left out without idquery
    everyone, _ = await _all(db, persons=True)
    assert len(everyone) == 3
    public, _ = await _all(db, public_only=True, persons=True)
    assert len(public) == 2  # a 告知书 being issued changes nothing the public sees
    page = await changes.read(db, None, 10, persons=True)
    first = page.events[0]
    assert (first.kind, first.label, first.subject_name, first.detail) == ("listed", "列入严重失信主体名单", "安康市恒达建材有限公司", {"note": "a"})
    assert page.events[1].subject_code == "610902********1234" and page.events[1].person
    # Nothing new: the same cursor again, an empty page.
    again = await changes.read(db, cursor)
    assert again.events == [] and again.next_cursor == cursor and not again.more
    async with db.transaction() as s:
        await changes.emit(s, "unmasked", firm)
    after = await changes.read(db, cursor)
    assert [e.kind for e in after.events] == ["unmasked"]
    for bad in ("nonsense", "YzE6LTE", "Yzk6MQ"):
        with pytest.raises(Refusal, match="游标无效"):
            await changes.read(db, bad)
    with pytest.raises(Refusal, match="每页条数"):
        await changes.read(db, None, 0)


async def test_a_transaction_committing_after_a_later_one_is_not_skipped(db: Database) -> None:
    """T1 writes first (the lower id) and commits last: a reader that already read T2's event must
    still get T1's afterwards, and each once."""
    firm = await add_subject(db)
    t1_written, t1_commit = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        async with db.transaction() as s:
            await changes.emit(s, "listed", firm, detail={"t": 1})
            t1_written.set()
            await t1_commit.wait()

    task = asyncio.create_task(slow())
    await t1_written.wait()
    seen: list[int] = []
    cursor = None
    if db.dialect == "postgresql":  # SQLite has one writer at a time: T2 would wait for T1
        async with db.transaction() as s:
            await changes.emit(s, "masked", firm, detail={"t": 2})
        middle = await changes.read(db, None, 10)
        seen += [e.detail["t"] for e in middle.events]
        assert seen == [2]  # committed; T1's event is not stamped while T1 runs
        cursor = middle.next_cursor
    t1_commit.set()
    await task
    rest = await changes.read(db, cursor, 10)
    seen += [e.detail["t"] for e in rest.events]
    assert seen == ([2, 1] if db.dialect == "postgresql" else [1])
    seqs = [e.seq for e in (await changes.read(db, None, 10)).events]
    assert len(seqs) == len(seen) and seqs == sorted(set(seqs))


async def test_concurrent_writers_and_a_reader_see_every_committed_event_once(db: Database) -> None:
    firm = await add_subject(db)
    rng = random.Random(25)
    committed: list[int] = []
    done = asyncio.Event()

    async def writer(w: int) -> None:
        for n in range(12):
            tag = w * 100 + n
            try:
                async with db.transaction() as s:
                    await changes.emit(s, "record_changed", firm, detail={"tag": tag})
                    await asyncio.sleep(rng.random() * 0.01)
                    if n % 5 == 4:
                        raise RuntimeError("roll back")
                committed.append(tag)
            except RuntimeError:
                pass

    seen: list[int] = []

    async def reader() -> None:
        cursor = None
        while True:
            finished = done.is_set()
            page = await changes.read(db, cursor, 4)
            seen.extend(e.detail["tag"] for e in page.events)
            cursor = page.next_cursor
            if finished and not page.more:
                return
            await asyncio.sleep(0.002)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(w) for w in range(4)))
    done.set()
    await reading
    assert sorted(seen) == sorted(committed) and len(seen) == len(set(seen))
    assert len(committed) == 4 * 12 - 4 * 2
