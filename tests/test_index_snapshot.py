"""The name index snapshot: written after a build, read back in another process without
re-tokenising, tied to the lexicon and its position in the subject change stream, topped up from it;
without one the index is rebuilt in the background while USCCs answer from the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import bot.app as bot_app
from bench.handwritten import entries, load
from bench.resolve import region_divisions
from bot.console import ConsoleChat
from bot.transport import InProcessBotAPI
from db.models import Subject
from db.session import Database
from nlp import index_snapshot
from nlp.index_parts import IndexEntry
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex
from rules.codes import complete_uscc
from services.accounts import ensure_local_account
from services.name_index import (
    INDEX_BUILDING,
    keep_snapshot_fresh,
    refresh_index,
    snapshot_path,
    snapshot_source,
    start_index,
    wait_for_index,
    wait_for_snapshot,
)
from services.settings import DatabaseSettings, IndexSettings, Settings
from tests.conftest import settings_for

QUERIES = ["瀛湖渔业", "恒达建材", "changhong", "双溪村合作社", "恒达建材石泉分公司", "宏圆商贸", "宇宙飞船"]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    lex = Lexicon.from_divisions(region_divisions())
    lex.warm_up()
    return lex


def _answers(index: NameIndex) -> list[tuple[str, list[int]]]:
    out = []
    for q in QUERIES:
        r = index.resolve(q)
        out.append((r.status, [c.subject_id for c in r.candidates]))
    return out


def test_a_loaded_snapshot_answers_like_the_built_index(lexicon: Lexicon, tmp_path: Path) -> None:
    subjects, _ = load()
    built = NameIndex(lexicon)
    built.add(entries(subjects))
    path = tmp_path / "ix.snapshot"
    index_snapshot.save(built, path, None)
    loaded, info = index_snapshot.load(path, lexicon)  # type: ignore[misc]
    assert info.subjects == len(subjects)
    assert _answers(loaded) == _answers(built)
    assert loaded.by_uscc(subjects[0].uscc or "").subject_id == 1  # type: ignore[union-attr]
    assert len(loaded) == len(built) and 1 in loaded
    # The incremental path still works on a loaded index: add, replace, remove.
    loaded.add([IndexEntry(9001, "安康市宇宙飞船制造有限公司", "法人", None, "610902")])
    assert loaded.resolve("宇宙飞船制造").candidates[0].subject_id == 9001
    loaded.add([IndexEntry(4, "安康瀛湖水产有限公司", "法人", None, "610902")])  # 4 = 瀛湖渔业, renamed
    assert loaded.resolve("瀛湖水产").candidates[0].subject_id == 4
    assert all(c.subject_id != 4 for c in loaded.resolve("瀛湖渔业").candidates if loaded.resolve("瀛湖渔业").status == "clear")
    assert loaded.remove(9001) and 9001 not in loaded


def test_a_writer_killed_mid_write_leaves_no_temporary_behind_the_next_write(lexicon: Lexicon, tmp_path: Path) -> None:
    """A process killed while writing leaves its half file; the next snapshot written removes it,
    and never a temporary whose writer still runs."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    path = tmp_path / "ix.snapshot"
    dead = tmp_path / f"ix.snapshot.{int(gone.stdout)}.140243818071744.tmp"
    dead.write_bytes(b"half a snapshot")
    running = tmp_path / f"ix.snapshot.{os.getpid()}.1.tmp"  # a writer of this process, still at work
    running.write_bytes(b"being written")
    other = tmp_path / "other.snapshot.1.1.tmp"
    other.write_bytes(b"not ours")
    built = NameIndex(lexicon)
    built.add([IndexEntry(1, "安康市宇宙飞船制造有限公司", "法人", None, "610902")])
    index_snapshot.save(built, path, None)
    assert not dead.exists() and running.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ix.snapshot", running.name, other.name])


def test_another_process_reads_the_snapshot(lexicon: Lexicon, tmp_path: Path) -> None:
    """Keys are hashed the same way in every process (Python's own str hash is salted)."""
    subjects, _ = load()
    built = NameIndex(lexicon)
    built.add(entries(subjects))
    path = tmp_path / "ix.snapshot"
    index_snapshot.save(built, path, None)
    script = (
        "import json, sys\n"
        "from bench.resolve import region_divisions\n"
        "from nlp.lexicon import Lexicon\n"
        "from nlp import index_snapshot\n"
        "lex = Lexicon.from_divisions(region_divisions()); lex.warm_up()\n"
        "ix, _ = index_snapshot.load(__import__('pathlib').Path(sys.argv[1]), lex)\n"
        f"out = [[r.status, [c.subject_id for c in r.candidates]] for r in (ix.resolve(q) for q in {QUERIES!r})]\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}, cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert [tuple(x) for x in json.loads(done.stdout)] == [(s, ids) for s, ids in _answers(built)]


def test_a_snapshot_of_another_lexicon_is_stale(lexicon: Lexicon, tmp_path: Path) -> None:
    built = NameIndex(lexicon)
    built.add([IndexEntry(1, "安康市恒达建材有限公司", "法人", None, "610902")])
    path = tmp_path / "ix.snapshot"
    index_snapshot.save(built, path, None)
    other = Lexicon.from_divisions([("610900", "安康市", "安康")])
    assert index_snapshot.load(path, other) is None
    path.write_bytes(b"not a snapshot")
    assert index_snapshot.load(path, lexicon) is None
    assert index_snapshot.load(tmp_path / "missing", lexicon) is None


async def _add_subjects(db: Database, names: list[tuple[str, str]]) -> None:
    async with db.transaction() as s:
        s.add_all(Subject(kind="法人", name=name, uscc=uscc, division_code="610902") for name, uscc in names)


def _settings(db: Database, path: Path, **index: int) -> Settings:
    """Snapshot at `path`, kept for any archive size (the tests' archives are small)."""
    return replace(settings_for(db), index=IndexSettings(snapshot=str(path), **({"min_subjects": 0} | index)))


async def _app(db: Database, path: Path, **index: int):  # type: ignore[no-untyped-def]
    settings = _settings(db, path, **index)
    transport = InProcessBotAPI()
    return bot_app.build_application(settings, transport, db=db), transport


async def test_start_up_builds_then_loads_and_tops_up(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "ix.snapshot"
    u1, u2 = complete_uscc("91610902MA70TN001"), complete_uscc("91610902MA70TN002")
    await _add_subjects(db, [("安康瀛湖渔业发展有限公司", u1)])
    app, transport = await _app(db, path)
    async with app:
        await bot_app.start_services(app)
        services = app.bot_data["services"]
        await wait_for_index(services)
        assert path.exists()
        await ensure_local_account(db, 700001, "official", "SCJGJ", None, "测试用户")
        out = await ConsoleChat(app, transport, 700001).handle_line("瀛湖渔业")
        assert (out[0].text or "").startswith("【安康瀛湖渔业发展有限公司】")
    await _add_subjects(db, [("汉滨区老街张记蒸面馆", u2)])  # after the snapshot: the feed brings it
    app, transport = await _app(db, path)
    async with app:
        services = app.bot_data["services"]
        await bot_app.start_services(app)
        assert not services.extras.get(INDEX_BUILDING) and services.extras.get("index_build_task") is None
        chat = ConsoleChat(app, transport, 700001)
        assert (await chat.handle_line("张记蒸面馆"))[0].text.startswith("【汉滨区老街张记蒸面馆】")  # type: ignore[union-attr]
        assert (await chat.handle_line("瀛湖渔业"))[0].text.startswith("【安康瀛湖渔业发展有限公司】")  # type: ignore[union-attr]


async def test_an_api_worker_starts_from_the_bots_snapshot(db: Database, tmp_path: Path) -> None:
    """The HTTP port's workers read the same snapshot as the bot instead of each rebuilding."""
    from bot.api.app import load_index
    from services.runtime import Services

    path = tmp_path / "ix.snapshot"
    u1, u2 = complete_uscc("91610902MA70TN001"), complete_uscc("91610902MA70TN002")
    await _add_subjects(db, [("安康瀛湖渔业发展有限公司", u1)])
    app, _transport = await _app(db, path)
    async with app:
        await bot_app.start_services(app)
        await wait_for_index(app.bot_data["services"])
    assert path.exists()
    await _add_subjects(db, [("汉滨区老街张记蒸面馆", u2)])  # after the snapshot: the feed brings it
    worker = Services(settings=_settings(db, path), db=db)
    assert await load_index(worker) == "snapshot"
    assert worker.index is not None and len(worker.index) == 2


async def test_a_snapshot_without_a_stream_position_is_rebuilt(db: Database, tmp_path: Path, lexicon: Lexicon) -> None:
    path = tmp_path / "ix.snapshot"
    built = NameIndex(lexicon)
    built.add([IndexEntry(i, f"安康市测试{i}号商贸有限公司", "法人", None, "610902") for i in range(1, 4)])
    # No position (as written before the change stream): what changed since cannot be known.
    index_snapshot.save(built, path, None, snapshot_source(_settings(db, path)))
    await _add_subjects(db, [("安康瀛湖渔业发展有限公司", complete_uscc("91610902MA70TN003"))])
    app, _transport = await _app(db, path)
    async with app:
        await bot_app.start_services(app)
        services = app.bot_data["services"]
        how_task = services.extras.get("index_build_task")
        assert how_task is not None  # stale: rebuilt in the background
        await wait_for_index(services)
        assert services.index.resolve("瀛湖渔业").status == "clear"
        assert services.index.resolve("测试1号商贸").status != "clear"


async def test_while_the_index_builds_codes_answer_and_names_wait(db: Database, tmp_path: Path, lexicon: Lexicon) -> None:
    code = complete_uscc("91610902MA70TN004")
    await _add_subjects(db, [("安康瀛湖渔业发展有限公司", code)])
    app, transport = await _app(db, tmp_path / "ix.snapshot")
    async with app:
        await bot_app.start_services(app)
        services = app.bot_data["services"]
        await wait_for_index(services)
        # The state of a process whose background build is still under way.
        services.index = NameIndex(lexicon)
        services.extras[INDEX_BUILDING] = True
        await ensure_local_account(db, 700002, "public", None, None, "测试用户")
        chat = ConsoleChat(app, transport, 700002)
        assert (await chat.handle_line(code))[0].text.startswith("【安康瀛湖渔业发展有限公司】")  # type: ignore[union-attr]
        assert "正在加载" in ((await chat.handle_line("瀛湖渔业"))[0].text or "")
        how = await start_index(services, services.lexicon)  # a later start-up finds the build's snapshot
        assert how == "snapshot" and services.index.resolve("瀛湖渔业").status == "clear"


def test_a_damaged_cut_short_or_foreign_snapshot_is_never_used(lexicon: Lexicon, tmp_path: Path) -> None:
    subjects, _questions = load()
    built = NameIndex(lexicon)
    built.add(entries(subjects))
    path = tmp_path / "ix.snapshot"
    index_snapshot.save(built, path, None, "sqlite+aiosqlite:///a.sqlite3")
    whole = path.read_bytes()
    assert index_snapshot.load(path, lexicon, "sqlite+aiosqlite:///a.sqlite3") is not None
    assert index_snapshot.load(path, lexicon, "sqlite+aiosqlite:///b.sqlite3") is None  # another database
    path.write_bytes(whole[: len(whole) // 2])  # a copy interrupted, a full disk
    assert index_snapshot.load(path, lexicon, "sqlite+aiosqlite:///a.sqlite3") is None
    damaged = bytearray(whole)
    damaged[len(whole) // 2] ^= 0xFF  # one flipped byte in the middle of the key tables
    path.write_bytes(bytes(damaged))
    assert index_snapshot.load(path, lexicon, "sqlite+aiosqlite:///a.sqlite3") is None
    assert not list(tmp_path.glob("*.tmp")), "no temporary file is left behind"


@pytest.mark.parametrize(
    ("url", "configured", "expected"),
    [
        ("sqlite+aiosqlite:///var/creditbot.sqlite3", "auto", "var/creditbot.sqlite3.name_index"),
        ("sqlite+aiosqlite:////srv/credit/data.db", "auto", "/srv/credit/data.db.name_index"),
        ("sqlite+aiosqlite:///:memory:", "auto", None),
        ("postgresql+asyncpg://bot:secret@db.internal:5432/credit", "auto", "var/name_index-db.internal-5432-credit.snapshot"),
        ("sqlite+aiosqlite:///var/creditbot.sqlite3", "/data/ix.snapshot", "/data/ix.snapshot"),
        ("sqlite+aiosqlite:///var/creditbot.sqlite3", "", None),
    ],
)
def test_the_snapshot_is_on_by_default_next_to_the_data(url: str, configured: str, expected: str | None) -> None:
    assert IndexSettings().snapshot == "auto"
    settings = Settings(database=DatabaseSettings(url=url), index=IndexSettings(snapshot=configured))
    assert snapshot_path(settings) == (Path(expected) if expected else None)
    assert "secret" not in snapshot_source(settings)


async def test_a_small_archive_is_indexed_before_serving_without_a_snapshot(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "ix.snapshot"
    await _add_subjects(db, [("安康瀛湖渔业发展有限公司", complete_uscc("91610902MA70TN005"))])
    app, _transport = await _app(db, path, min_subjects=20_000)
    async with app:
        await bot_app.start_services(app)
        services = app.bot_data["services"]
        assert services.index.resolve("瀛湖渔业").status == "clear"
        assert await keep_snapshot_fresh(services) is False
    assert not path.exists()


async def test_the_snapshot_is_rewritten_after_enough_changes(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "ix.snapshot"
    await _add_subjects(db, [("安康瀛湖渔业发展有限公司", complete_uscc("91610902MA70TN006"))])
    app, _transport = await _app(db, path, rewrite_after_changes=2, rewrite_after_minutes=10_000)
    async with app:
        await bot_app.start_services(app)
        services = app.bot_data["services"]
        await wait_for_index(services)
        first = index_snapshot.read_info(path)
        assert first is not None and first.subjects == 1
        await _add_subjects(db, [("汉滨区老街张记蒸面馆", complete_uscc("91610902MA70TN007"))])
        assert await refresh_index(services) == 1
        assert await keep_snapshot_fresh(services) is False  # one change: not yet
        await _add_subjects(db, [("安康市恒达建材有限公司", complete_uscc("91610902MA70TN008"))])
        # A refresh is held back while a snapshot is being written, then catches up.
        services.extras["index_snapshot_saving"] = True
        assert await refresh_index(services) == 0
        services.extras["index_snapshot_saving"] = False
        assert await refresh_index(services) == 1
        assert await keep_snapshot_fresh(services) is True
        assert await keep_snapshot_fresh(services) is False  # one write at a time
        await wait_for_snapshot(services)
        second = index_snapshot.read_info(path)
        assert second is not None and second.subjects == 3
        assert first.watermark is not None and second.watermark is not None and second.watermark >= first.watermark
        assert await keep_snapshot_fresh(services) is False  # nothing new since
    app, _transport = await _app(db, path)
    async with app:
        await bot_app.start_services(app)
        services = app.bot_data["services"]
        assert services.extras.get("index_build_task") is None
        assert services.index.resolve("恒达建材").status == "clear"


@pytest.mark.parametrize("bits", [64, 4])
def test_rows_past_the_old_24_bit_limit_keep_their_numbers(bits: int) -> None:
    """Rows are uint32 beside their key's hash (the old packing, 40-bit hash << 24 | row, stopped at
    16,777,215 rows, about 14.7 million subjects). With 4 hash bits every key collides with others:
    each key's rows still come back whole, in ascending order."""
    from nlp.index_parts import ROW_LIMIT, _Table

    rows = [0, 1, (1 << 24) - 1, 1 << 24, 100_000_000, 185_000_000, ROW_LIMIT - 3]
    table = _Table(bits)
    for i, row in enumerate(rows):
        table.stage(f"甲{i % 3}", row)  # bulk: staged, then sorted by hash and row
    table.freeze()
    # Incremental rows are newer, so higher: the overlay, then merged after the equal hashes.
    table.add_small("乙", ROW_LIMIT - 2)
    table.add_small("甲0", ROW_LIMIT - 1)
    mine = {key: {r for i, r in enumerate(rows) if f"甲{i % 3}" == key} for key in ("甲0", "甲1", "甲2")}
    mine["甲0"].add(ROW_LIMIT - 1)
    mine["乙"] = {ROW_LIMIT - 2}
    for merged in (False, True):
        if merged:
            table.freeze()
        for key, want in mine.items():
            got = table.get(key)
            assert set(got) >= want and (bits < 64 or set(got) == want), (key, got)
            assert not merged or got == sorted(got)
    with pytest.raises(OverflowError):
        table.stage("丙", ROW_LIMIT)  # past uint32: refused, never wrapped into another row


def test_a_snapshot_keeps_row_numbers_past_a_hundred_million(lexicon: Lexicon, tmp_path: Path) -> None:
    built = NameIndex(lexicon)
    built.add([IndexEntry(1, "安康市恒达建材有限公司", "法人", None, "610902")])
    far = [(1 << 24), 100_000_000, (1 << 32) - 1]
    for row in far:
        built._t_bigram.stage("远行", row)
    built._t_bigram.freeze()
    path = tmp_path / "ix.snapshot"
    index_snapshot.save(built, path, None)
    loaded, _info = index_snapshot.load(path, lexicon)  # type: ignore[misc]
    assert loaded._t_bigram.get("远行") == far
    assert loaded.resolve("恒达建材").candidates[0].subject_id == 1


def test_the_name_index_refuses_a_row_past_its_limit(lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch) -> None:
    """Full is an error the operator sees, never a row number that wraps onto another subject."""
    import nlp.resolver

    monkeypatch.setattr(nlp.resolver, "ROW_LIMIT", 2)  # 4.29 billion rows cannot be built in a test
    index = NameIndex(lexicon)
    index.add([IndexEntry(1, "安康市恒达建材有限公司", "法人", None, "610902", (("恒达建材", "简称"),))])
    with pytest.raises(OverflowError, match="name index full"):
        index.add([IndexEntry(2, "安康市宏远商贸有限公司", "法人", None, "610902")])


def test_processes_map_one_copy_of_the_snapshot(lexicon: Lexicon, tmp_path: Path) -> None:
    """A loaded index reads the key tables, row columns and names from the mapped file (shared by
    every process of the host) until it changes; a change makes only the small per-row columns
    private, and the file replaced by a newer snapshot leaves the mapped one readable."""
    import mmap

    subjects, _ = load()
    built = NameIndex(lexicon)
    built.add(entries(subjects))
    path = tmp_path / "ix.snapshot"
    index_snapshot.save(built, path, None)
    loaded, _info = index_snapshot.load(path, lexicon)  # type: ignore[misc]
    mapped = [loaded._t_core._hashes, loaded._t_core._rows, loaded._row_sid, loaded._alive]
    assert all(isinstance(v, memoryview) and isinstance(v.obj, mmap.mmap) and v.readonly for v in mapped)
    assert isinstance(loaded._row_core._packed._buf, mmap.mmap)
    private, _ = index_snapshot.load(path, lexicon, shared=False)  # type: ignore[misc]
    assert isinstance(private._row_core._packed._buf, bytes) and _answers(private) == _answers(built)
    index_snapshot.save(NameIndex(lexicon), path, None)  # replaced (renamed over) under the reader
    assert _answers(loaded) == _answers(built)
    loaded.add([IndexEntry(9001, "安康市宇宙飞船制造有限公司", "法人", None, "610902")])
    assert not isinstance(loaded._row_sid, memoryview) and isinstance(loaded._t_core._hashes, memoryview)
    assert loaded.resolve("宇宙飞船制造").candidates[0].subject_id == 9001


def _mapped(index: NameIndex | None) -> bool:
    import mmap

    assert index is not None
    views = (index._t_core._hashes, index._row_sid)
    return all(isinstance(v, memoryview) and isinstance(v.obj, mmap.mmap) for v in views)


async def test_one_process_of_a_host_builds_and_the_others_map_its_snapshot(
    db: Database, tmp_path: Path, lexicon: Lexicon, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot and a port worker start together without a snapshot: one builds, the other waits for
    the build lock and maps what the builder wrote; both then answer from the same file."""
    from services.runtime import Services

    path = tmp_path / "ix.snapshot"
    await _add_subjects(db, [("安康瀛湖渔业发展有限公司", complete_uscc("91610902MA70TN001"))])
    bot, worker = Services(settings=_settings(db, path), db=db), Services(settings=_settings(db, path), db=db)
    with caplog.at_level("INFO", logger="services.name_index"):
        assert await start_index(bot, lexicon) == "building"
        assert await start_index(worker, lexicon) == "building"
        await wait_for_index(bot)
        await wait_for_index(worker)
    built = [r.getMessage() for r in caplog.records if "subjects built" in r.getMessage()]
    mapped = [r.getMessage() for r in caplog.records if "another process built" in r.getMessage()]
    assert len(built) == 1 and len(mapped) == 1, caplog.text
    assert _mapped(bot.index) and _mapped(worker.index)  # the builder, too, answers from the file now
    assert worker.index.resolve("瀛湖渔业").status == "clear"  # type: ignore[union-attr]


async def test_a_port_worker_maps_the_bots_newer_snapshot(db: Database, tmp_path: Path, lexicon: Lexicon) -> None:
    """A worker takes changes in privately from the feed; when the bot writes a newer snapshot the
    worker maps it, and its private per-row columns are gone again."""
    from services.name_index import adopt_newer_snapshot, write_snapshot
    from services.runtime import Services

    path = tmp_path / "ix.snapshot"
    await _add_subjects(db, [("安康瀛湖渔业发展有限公司", complete_uscc("91610902MA70TN001"))])
    bot = Services(settings=_settings(db, path), db=db)
    await start_index(bot, lexicon)
    await wait_for_index(bot)
    worker = Services(settings=_settings(db, path), db=db)
    assert await start_index(worker, lexicon) == "snapshot" and _mapped(worker.index)
    await _add_subjects(db, [("汉滨区老街张记蒸面馆", complete_uscc("91610902MA70TN002"))])
    assert await refresh_index(worker) == 1 and not _mapped(worker.index)  # the change, privately
    assert not await adopt_newer_snapshot(worker)  # nothing newer yet
    await refresh_index(bot)
    assert await write_snapshot(bot) and _mapped(bot.index)
    assert await adopt_newer_snapshot(worker) and _mapped(worker.index)
    assert worker.index.resolve("张记蒸面馆").status == "clear"  # type: ignore[union-attr]
    assert not await adopt_newer_snapshot(worker)


async def test_the_index_is_built_where_no_lock_or_snapshot_can_be_written(db: Database, tmp_path: Path, lexicon: Lexicon) -> None:
    """A snapshot folder that cannot be made (here a file stands where it should be) costs the
    sharing, never the index: it is built without the lock and answers."""
    from services.runtime import Services

    (tmp_path / "taken").write_text("not a folder")
    path = tmp_path / "taken" / "ix.snapshot"
    await _add_subjects(db, [("安康瀛湖渔业发展有限公司", complete_uscc("91610902MA70TN001"))])
    services = Services(settings=_settings(db, path), db=db)
    assert await start_index(services, lexicon) == "building"
    await wait_for_index(services)
    assert not services.extras.get(INDEX_BUILDING)
    assert services.index.resolve("瀛湖渔业").status == "clear"  # type: ignore[union-attr]
