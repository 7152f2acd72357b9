"""The look-up outbox (db/outbox.py): written behind the answer, in order, and never lost — also when
the process is killed with SIGKILL between the look-up and the write (a real subprocess)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import Account, AuditEntry, ChatSubject, OutboxProgress, Subject
from db.outbox import AUDIT, CHAT_SUBJECT, SPOOL_SUFFIX, Outbox, read_spool
from db.session import Database
from rules.roles import Viewer
from services.lookup import view_subject
from services.resolver_context import recent_subject, remember_subject

ROOT = Path(__file__).resolve().parents[1]

# The child: a process with an outbox that never got to write (its task is not started), except the
# first `flushed` entries, which it wrote and noted before it dies.
CHILD = textwrap.dedent("""
    import asyncio, sys, time
    from db.outbox import AUDIT, Outbox
    from db.session import Database

    async def main(url, directory, total, flushed):
        db = Database(url)
        outbox = Outbox(db, directory, flush_seconds=3600)
        for i in range(total):
            outbox.put(AUDIT, [{"account_id": None, "role": "official", "action": "view_subject",
                                "subject_id": None, "reason": f"#{i:04d}", "detail": {"n": i}}])
            if i + 1 == flushed:
                await outbox.flush()
        print("ready", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
""")


def audit(reason: str) -> dict[str, object]:
    return {"account_id": None, "role": "official", "action": "view_subject", "subject_id": None,
            "reason": reason, "detail": {}}


async def reasons(db: Database) -> list[str]:
    async with db.transaction() as s:
        return list(await s.scalars(select(AuditEntry.reason).order_by(AuditEntry.id)))


async def test_killed_process_loses_nothing_and_repeats_nothing(db: Database, tmp_path: Path) -> None:
    """30 look-ups audited, 12 of them written before SIGKILL: the next process writes the other 18,
    in order, once; the dead process's spool file is gone afterwards."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db.url, str(tmp_path), "30", "12"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = await asyncio.to_thread(child.stdout.readline)  # type: ignore[union-attr]
        assert line.strip() == "ready", child.stderr.read() if child.stderr else ""
        assert await reasons(db) == [f"#{i:04d}" for i in range(12)]
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    spools = list(tmp_path.glob(f"*{SPOOL_SUFFIX}"))  # the written 12 were emptied out of it
    assert len(spools) == 1 and [e.seq for e in read_spool(spools[0])] == list(range(13, 31))

    restarted = Outbox(db, tmp_path)
    assert await restarted.recover() == 18
    assert await reasons(db) == [f"#{i:04d}" for i in range(30)]
    assert not list(tmp_path.glob(f"*{SPOOL_SUFFIX}"))
    assert await restarted.recover() == 0  # nothing twice
    assert len(await reasons(db)) == 30


async def test_a_batch_committed_before_the_crash_is_not_written_again(db: Database, tmp_path: Path) -> None:
    """Killed after a batch's commit and before its spool was emptied: the next process skips what
    the primary noted (`outbox_progress`) and writes the rest once."""
    dead = Outbox(db, tmp_path)
    dead.put(AUDIT, [audit(f"r{i}") for i in range(5)])
    await dead._write_batch(dead.spool, dead._queue[:3])  # committed with its progress; then the kill
    assert len(read_spool(dead.path)) == 5
    os.close(dead._fd)  # the process is gone: its lock with it
    assert await Outbox(db, tmp_path).recover() == 2
    assert await reasons(db) == [f"r{i}" for i in range(5)]


FULL_DISK_CHILD = textwrap.dedent("""
    import os, resource, signal, sys
    from db.outbox import AUDIT, Outbox, read_spool
    from db.session import Database

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails instead of killing
    row = lambda reason: {"account_id": None, "role": "official", "action": "view_subject",
                          "subject_id": None, "reason": reason, "detail": {}}
    outbox = Outbox(Database(sys.argv[1]), sys.argv[2])
    outbox.put(AUDIT, [row("first")])
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.fstat(outbox._fd).st_size + 40, hard))  # the disk fills up
    try:
        outbox.put(AUDIT, [row("second, refused")])
        print("second accepted")
    except OSError:
        pass
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space is freed
    outbox.put(AUDIT, [row("third")])
    print([e.row["reason"] for e in read_spool(outbox.path)], [e.seq for e in read_spool(outbox.path)])
""")


def test_a_write_cut_short_by_a_full_disk_leaves_the_spool_readable(tmp_path: Path) -> None:
    """The refused entry's torn bytes are cut back, so the next acknowledged entry is readable by a
    process that recovers the spool (and numbers go on without a hole)."""
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}"
    done = subprocess.run([sys.executable, "-c", FULL_DISK_CHILD, db_url, str(tmp_path / "spool")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['first', 'third'] [1, 2]"


async def test_torn_last_line_is_skipped(db: Database, tmp_path: Path) -> None:
    """A crash in the middle of a write leaves half a line: the whole ones are written, the rest is
    dropped (its `put` never returned, so no answer went out on it)."""
    dead = Outbox(db, tmp_path)
    dead.put(AUDIT, [audit("a"), audit("b")])
    with dead.path.open("ab") as f:
        f.write(b'{"seq": 3, "kind": "audit", "row": {"rea')
    os.close(dead._fd)  # the process is gone: its lock with it
    assert await Outbox(db, tmp_path).recover() == 2
    assert await reasons(db) == ["a", "b"]


async def test_a_live_process_spool_is_left_alone(db: Database, tmp_path: Path) -> None:
    live = Outbox(db, tmp_path)
    live.put(AUDIT, [audit("live")])
    assert await Outbox(db, tmp_path).recover() == 0
    assert await reasons(db) == []
    assert await live.flush() == 1
    assert await reasons(db) == ["live"]
    async with db.transaction() as s:
        assert await s.scalar(select(OutboxProgress.last_seq).where(OutboxProgress.spool == live.spool)) == 1


async def test_background_task_writes_in_order_and_stop_empties_the_spool(db: Database, tmp_path: Path) -> None:
    outbox = Outbox(db, tmp_path, flush_seconds=0.01)
    await outbox.start()
    for i in range(5):
        outbox.put(AUDIT, [audit(f"r{i}"), audit(f"s{i}")])
    for _ in range(200):
        if len(await reasons(db)) == 10:
            break
        await asyncio.sleep(0.02)
    assert await reasons(db) == [x for i in range(5) for x in (f"r{i}", f"s{i}")]
    await outbox.stop()
    assert not list(tmp_path.glob(f"*{SPOOL_SUFFIX}"))


async def test_primary_away_entries_wait_in_the_spool(tmp_path: Path) -> None:
    """A primary that cannot be reached at stop: the entries stay in the spool for the next start."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'no-schema.sqlite3'}")
    outbox = Outbox(db, tmp_path / "spool")
    outbox.put(AUDIT, [audit("kept")])
    await outbox.stop(timeout=2)
    [spool] = (tmp_path / "spool").glob(f"*{SPOOL_SUFFIX}")
    assert [e.row["reason"] for e in read_spool(spool)] == ["kept"]
    await db.dispose()


async def test_entries_waiting_out_an_outage_are_forced_to_disk(tmp_path: Path) -> None:
    """The background task, failing to reach the primary, forces the spool to disk before it waits
    (a power cut during an outage would otherwise lose what only the page cache held)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'no-schema.sqlite3'}")
    outbox = Outbox(db, tmp_path / "spool", flush_seconds=0.01)
    await outbox.start()
    outbox.put(AUDIT, [audit("a"), audit("b")])
    for _ in range(200):
        if outbox.synced_seq == 2:
            break
        await asyncio.sleep(0.01)
    assert outbox.synced_seq == 2 and outbox.pending == 2
    outbox.put(AUDIT, [audit("c")])  # put during the retry pause: forced within about a second
    for _ in range(300):
        if outbox.synced_seq == 3:
            break
        await asyncio.sleep(0.01)
    assert outbox.synced_seq == 3
    await outbox.stop(timeout=1)
    [spool] = (tmp_path / "spool").glob(f"*{SPOOL_SUFFIX}")
    assert [e.row["reason"] for e in read_spool(spool)] == ["a", "b", "c"]
    await db.dispose()


async def test_a_primary_that_never_answers_still_gets_the_spool_forced_to_disk(tmp_path: Path) -> None:
    """A network cut with no reset: connections open and nothing comes back. The round is cut off
    and the waiting entries are forced to disk anyway; stop() leaves them in the spool."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    db = Database(f"postgresql://postgres@127.0.0.1:{port}/test")
    outbox = Outbox(db, tmp_path / "spool", flush_seconds=0.01, flush_timeout=0.5)
    try:
        await outbox.start()
        outbox.put(AUDIT, [audit("a")])
        for _ in range(300):
            if outbox.synced_seq == 1:
                break
            await asyncio.sleep(0.01)
        assert outbox.synced_seq == 1 and outbox.pending == 1
        await outbox.stop(timeout=0.5)
        [spool] = (tmp_path / "spool").glob(f"*{SPOOL_SUFFIX}")
        assert [e.row["reason"] for e in read_spool(spool)] == ["a"]
    finally:
        server.close()
        await db.dispose()


async def test_a_stop_right_after_a_put_ends_the_task(db: Database, tmp_path: Path) -> None:
    """A put wakes the idle task in the same turn of the loop as stop() cancels it (a card answered
    just before shutdown): the task must still end, and the entry be written."""
    outbox = Outbox(db, tmp_path, flush_seconds=0.01)
    await outbox.start()
    await asyncio.sleep(0.2)  # written everything, idle until a put
    outbox.put(AUDIT, [audit("last")])
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(20):  # a task that never ends would hold stop() forever
        await outbox.stop()
    assert loop.time() - started < 5, "stop() waited out the idle task's 30-second wait"
    assert await reasons(db) == ["last"]


async def test_stop_does_not_swallow_its_callers_cancellation(db: Database, tmp_path: Path) -> None:
    """Shutdown with a deadline (the port's lifespan, a test's timeout) cancels the caller of stop();
    that cancellation must reach the caller, not end in stop() as if the outbox task's own."""
    outbox = Outbox(db, tmp_path, flush_seconds=0.01)
    await outbox.start()
    await asyncio.sleep(0.1)
    stopping = asyncio.create_task(outbox.stop())
    await asyncio.sleep(0)  # stop() is now waiting for the task it cancelled
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping


async def _subject_and_account(db: Database) -> tuple[int, int]:
    async with db.transaction() as s:
        subject = Subject(name="安康市恒达建材有限公司", kind="法人",
                          uscc="91610900MA60011822", status="存续")
        account = Account(telegram_user_id=77001, role="official", display_name="测试")
        s.add_all([subject, account])
        await s.flush()
        return subject.id, account.id


async def test_look_up_answers_before_its_audit_and_chat_context_are_written(db: Database, tmp_path: Path) -> None:
    """The card comes back while its audit row and the chat's subject are still in the outbox; a
    follow-up in the same process sees the subject at once; one flush brings both to the primary."""
    subject_id, account_id = await _subject_and_account(db)
    deferred = Database(db.url)
    deferred.outbox = Outbox(deferred, tmp_path, flush_seconds=3600)
    try:
        viewer = Viewer(role="official", account_id=account_id)
        card = await view_subject(deferred, subject_id, viewer, dt.date(2026, 12, 7))
        assert card is not None and card.name == "安康市恒达建材有限公司"
        now = dt.datetime.now(dt.UTC)
        await remember_subject(deferred, 1, 77001, subject_id, now)
        assert await reasons(db) == []
        assert await recent_subject(deferred, 1, 77001, now, dt.timedelta(minutes=5)) == subject_id
        assert deferred.outbox.pending == 2
        assert await deferred.outbox.flush() == 2
        async with db.transaction() as s:
            rows = (await s.execute(select(AuditEntry.action, AuditEntry.subject_id, AuditEntry.account_id))).all()
            assert rows == [("view_subject", subject_id, account_id)]
            assert await s.scalar(select(func.count()).select_from(ChatSubject)) == 1
        assert deferred.outbox.pending_chat_subject(1, 77001) is None
        assert await recent_subject(deferred, 1, 77001, now, dt.timedelta(minutes=5)) == subject_id
    finally:
        await deferred.outbox.stop()
        await deferred.dispose()


async def test_chat_subject_newest_wins_within_a_batch(db: Database, tmp_path: Path) -> None:
    first, _ = await _subject_and_account(db)
    async with db.transaction() as s:
        other = Subject(name="汉阴县恒达建材有限公司", kind="法人", status="存续")
        s.add(other)
        await s.flush()
        second = other.id
    outbox = Outbox(db, tmp_path)
    now = dt.datetime.now(dt.UTC)
    outbox.put(CHAT_SUBJECT, [{"chat_id": 5, "user_id": 6, "subject_id": first, "shown_at": now}])
    outbox.put(CHAT_SUBJECT, [{"chat_id": 5, "user_id": 6, "subject_id": second, "shown_at": now}])
    await outbox.flush()
    async with db.transaction() as s:
        assert await s.scalar(select(ChatSubject.subject_id)) == second
    await outbox.stop()


async def test_a_subject_deleted_before_the_write_holds_up_nothing(db: Database, tmp_path: Path) -> None:
    """The look-up of a subject deleted a moment later is still audited (its id kept in the detail);
    its chat context is dropped; the rows behind it are written as usual."""
    gone, account_id = await _subject_and_account(db)
    async with db.transaction() as s:
        other = Subject(name="汉阴县恒达建材有限公司", kind="法人", status="存续")
        s.add(other)
        await s.flush()
        kept = other.id
    outbox = Outbox(db, tmp_path)
    now = dt.datetime.now(dt.UTC)
    outbox.put(AUDIT, [{**audit("gone"), "subject_id": gone, "account_id": account_id}])
    outbox.put(CHAT_SUBJECT, [{"chat_id": 5, "user_id": 6, "subject_id": gone, "shown_at": now}])
    outbox.put(AUDIT, [{**audit("kept"), "subject_id": kept}])
    async with db.transaction() as s:
        await s.delete(await s.get(Subject, gone))
    assert await outbox.flush() == 3
    async with db.transaction() as s:
        rows = (await s.execute(select(AuditEntry.reason, AuditEntry.subject_id, AuditEntry.detail)
                                .order_by(AuditEntry.id))).all()
        assert [(r.reason, r.subject_id) for r in rows] == [("gone", None), ("kept", kept)]
        assert rows[0].detail["deleted_subject_id"] == gone
        assert await s.scalar(select(func.count()).select_from(ChatSubject)) == 0
    await outbox.stop()
