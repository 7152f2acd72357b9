"""Crash-safe confirmation (issue 12): a confirmation killed half-way leaves a stranded upload that
/mytasks lists and 确认导入 imports once; two confirmations that deadlock on PostgreSQL both end
correctly; the importer is idempotent per source department and document number."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from db.importers import samples
from db.leases import lease, upload_lease_name
from db.models import CreditRecord, Upload
from services.accounts import ensure_local_account
from services.collection.uploads import cancel_upload, check_upload, collector_for_upload, confirm_upload
from services.errors import Refusal
from services.imports import import_file
from tests.test_collect_upload import count_records, until

pytestmark = pytest.mark.asyncio


def penalty_csv(path: Path, numbers: list[int]) -> Path:
    rows = [samples.penalty_row(i, decision=dt.date.today(), person_every=0) for i in numbers]
    return samples.write_csv(path, samples.HEADERS[("penalty", "2021")], rows)


def svc(harness):  # type: ignore[no-untyped-def]
    return harness.app.bot_data["services"]


async def checked_upload(harness, user_id: int, path: Path) -> str:  # type: ignore[no-untyped-def]
    """An upload checked and waiting for 确认导入, as the chat leaves it."""
    s = svc(harness)
    collector = await collector_for_upload(harness.db, user_id, path.name, path.stat().st_size)
    check = await check_upload(
        harness.db, collector, path.name, path.read_bytes(), id_key=s.settings.privacy.id_hash_key, today=s.today(),
        calendar=s.calendar,
    )
    assert check.status == "pending", check.report.errors[:3]
    return check.upload_id


async def confirm(harness, upload_id: str, user_id: int, **kw):  # type: ignore[no-untyped-def]
    s = svc(harness)
    return await confirm_upload(
        harness.db, upload_id, user_id, id_key=s.settings.privacy.id_hash_key, today=s.today(), calendar=s.calendar,
        tz=s.settings.tz, **kw,
    )


async def upload_row(db, upload_id: str) -> Upload:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        upload = await s.get(Upload, upload_id)
        assert upload is not None
        return upload


async def test_a_killed_confirmation_is_listed_and_confirmed_again_once(harness, tmp_path: Path) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    await harness.say(chat, f"@{penalty_csv(tmp_path / '处罚.csv', list(range(1, 9)))}")
    await until(harness, lambda o: "确认导入" in str(o.buttons))
    async with harness.db.transaction() as s:
        upload_id = (await s.scalars(select(Upload.id))).one()
        # What a process killed during 确认导入 leaves behind: importing, nothing written, file kept.
        await s.execute(
            update(Upload).where(Upload.id == upload_id)
            .values(status="importing", attempts=1, claimed_at=dt.datetime.now(dt.UTC))
        )

    tasks = (await harness.say(chat, "/mytasks"))[-1]
    assert "导入意外中断" in (tasks.text or "") and "处罚.csv" in (tasks.text or "")
    assert tasks.buttons[0] == ["确认导入“处罚.csv”"]
    await harness.say(chat, "#1")
    done = await until(harness, lambda o: "已导入“处罚.csv”" in (o.text or ""))
    assert "新增 8 条" in (done[-1].text or "")
    assert await count_records(harness.db) == 8
    row = await upload_row(harness.db, upload_id)
    assert (row.status, row.attempts, row.content) == ("confirmed", 2, None)
    assert "导入意外中断" not in "".join(o.text or "" for o in await harness.say(chat, "/mytasks"))

    # The old /mytasks button pressed once more: told it is done, nothing written twice.
    assert (await confirm(harness, upload_id, chat.user.id)).outcome == "already"
    assert await count_records(harness.db) == 8


async def test_an_import_in_progress_is_neither_restarted_nor_cancelled(harness, tmp_path: Path) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    upload_id = await checked_upload(harness, chat.user.id, penalty_csv(tmp_path / "p.csv", [1, 2, 3]))
    async with harness.db.transaction() as s:
        await s.execute(update(Upload).where(Upload.id == upload_id).values(status="importing", attempts=1))
    async with lease(harness.db, upload_lease_name(upload_id)) as mine:  # a live importer holds it
        assert mine
        text = "".join(o.text or "" for o in await harness.say(chat, "/mytasks"))
        assert "正在导入中" in text and "导入意外中断" not in text
        assert (await confirm(harness, upload_id, chat.user.id)).outcome == "in_progress"
        assert (await cancel_upload(harness.db, upload_id, chat.user.id)).outcome == "in_progress"
    assert await count_records(harness.db) == 0
    # Its process gone (the lease with it), the collector may cancel the stranded upload.
    assert (await cancel_upload(harness.db, upload_id, chat.user.id)).outcome == "cancelled"
    row = await upload_row(harness.db, upload_id)
    assert row.status == "cancelled" and row.content is None


async def test_a_confirmation_cancelled_half_way_writes_nothing_and_can_be_confirmed_again(
    harness, tmp_path: Path
) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    upload_id = await checked_upload(harness, chat.user.id, penalty_csv(tmp_path / "big.csv", list(range(1, 2501))))
    started = asyncio.Event()
    task = asyncio.create_task(confirm(harness, upload_id, chat.user.id, progress=lambda rows: started.set(), batch_size=200))
    await asyncio.wait_for(started.wait(), 60)  # 1,000 rows read, several batches written, not committed
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await count_records(harness.db) == 0
    row = await upload_row(harness.db, upload_id)
    assert row.status == "importing" and row.content is not None  # stranded, its file kept
    again = await confirm(harness, upload_id, chat.user.id)
    assert (again.outcome, again.new) == ("written", 2500)
    assert await count_records(harness.db) == 2500


async def test_reimporting_written_records_never_duplicates_them(harness, tmp_path: Path) -> None:
    """The importer is idempotent per source department and document number: a stranded upload
    whose records reached the archive some other way is confirmed without writing them twice."""
    chat = await harness.chat("collector", dept="SCJGJ")
    path = penalty_csv(tmp_path / "p.csv", list(range(1, 6)))
    upload_id = await checked_upload(harness, chat.user.id, path)
    s = svc(harness)
    first = await import_file(harness.db, path, dept_code="SCJGJ", id_key=s.settings.privacy.id_hash_key, calendar=s.calendar)
    assert first.written and first.new == 5
    async with harness.db.transaction() as s:
        await s.execute(update(Upload).where(Upload.id == upload_id).values(status="importing", attempts=1))
    again = await confirm(harness, upload_id, chat.user.id)
    assert (again.outcome, again.new, again.updating) == ("written", 0, 0)
    assert await count_records(harness.db) == 5


async def test_two_confirmations_writing_the_same_records_in_opposite_order_both_end(
    harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """On PostgreSQL the two transactions deadlock (each waits for a record the other inserted); the
    server aborts one, which is retried and finds the records written. On SQLite one waits or retries."""
    first = await harness.chat("collector", dept="SCJGJ")
    second = await harness.chat("collector", dept="SCJGJ")
    numbers = list(range(1, 41))
    a = await checked_upload(harness, first.user.id, penalty_csv(tmp_path / "a.csv", numbers))
    b = await checked_upload(harness, second.user.id, penalty_csv(tmp_path / "b.csv", numbers[::-1]))
    results = await asyncio.gather(
        confirm(harness, a, first.user.id, batch_size=1), confirm(harness, b, second.user.id, batch_size=1)
    )
    assert [r.outcome for r in results] == ["written", "written"], [r.report and r.report.fatal for r in results]
    assert sorted(r.new for r in results) == [0, 40]  # the retried one found every record there
    assert await count_records(harness.db) == 40
    async with harness.db.transaction() as s:
        assert await s.scalar(select(func.count(func.distinct(CreditRecord.doc_number)))) == 40
    assert {(await upload_row(harness.db, u)).status for u in (a, b)} == {"confirmed"}
    if harness.db.dialect == "postgresql":
        assert max(r.report.attempts for r in results if r.report) > 1
        assert "（40P01）" in caplog.text  # a real deadlock (deadlock_detected), retried


async def test_an_upload_the_database_failed_waits_in_mytasks_with_its_reason(harness, tmp_path: Path) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    upload_id = await checked_upload(harness, chat.user.id, penalty_csv(tmp_path / "p.csv", [1, 2]))
    reason = "数据库正忙（其他写入尚未结束），未写入任何数据，请稍后重试"
    async with harness.db.transaction() as s:  # what confirm_upload leaves after its retries ran out
        await s.execute(update(Upload).where(Upload.id == upload_id).values(attempts=1, failure=reason))
    tasks = (await harness.say(chat, "/mytasks"))[-1]
    assert f"上次确认导入未完成（{reason}）" in (tasks.text or "")
    await harness.say(chat, "#1")
    await until(harness, lambda o: "已导入“p.csv”" in (o.text or ""))
    row = await upload_row(harness.db, upload_id)
    assert (row.status, row.failure, row.attempts) == ("confirmed", None, 2)


async def test_cancel_while_a_confirmation_holds_the_lease_cancels_nothing(harness, tmp_path: Path) -> None:
    """取消 pressed after 确认导入 took the lease but before it marked the upload `importing`: the
    cancellation must not go through (it used to, and the collector heard both 已取消 and 已导入)."""
    chat = await harness.chat("collector", dept="SCJGJ")
    upload_id = await checked_upload(harness, chat.user.id, penalty_csv(tmp_path / "p.csv", [1, 2, 3]))
    async with lease(harness.db, upload_lease_name(upload_id)) as mine:
        assert mine
        result = await cancel_upload(harness.db, upload_id, chat.user.id)
    assert result.outcome == "in_progress"
    assert (await upload_row(harness.db, upload_id)).status == "pending"
    assert (await confirm(harness, upload_id, chat.user.id)).outcome == "written"


async def test_a_collector_moved_to_another_department_cannot_confirm_the_old_ones_upload(
    harness, tmp_path: Path
) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    upload_id = await checked_upload(harness, chat.user.id, penalty_csv(tmp_path / "p.csv", [1, 2, 3]))
    await ensure_local_account(harness.db, chat.user.id, "collector", "SWJ")  # re-bound elsewhere
    tasks = "".join(o.text or "" for o in await harness.say(chat, "/mytasks"))
    assert "p.csv" not in tasks
    with pytest.raises(Refusal, match="原来所在的部门"):
        await confirm(harness, upload_id, chat.user.id)
    assert await count_records(harness.db) == 0


async def test_late_uploads_waiting_or_rejected_are_listed_and_counted(harness, tmp_path: Path) -> None:
    """Records decided a month ago are already past their reporting deadline: their upload is the
    more urgent, not hidden (it was: "待确认文件 0 个", no 确认导入 button, the rejected one uncounted)."""
    chat = await harness.chat("collector", dept="SCJGJ")
    month_ago = dt.date.today() - dt.timedelta(days=30)
    good = [samples.penalty_row(i, decision=month_ago, person_every=0) for i in (1, 2)]
    waiting = await checked_upload(
        harness, chat.user.id, samples.write_csv(tmp_path / "late.csv", samples.HEADERS[("penalty", "2021")], good)
    )
    bad = samples.penalty_row(3, decision=month_ago, person_every=0)
    bad["行政处罚决定书文号"] = ""
    path = samples.write_csv(tmp_path / "bad.csv", samples.HEADERS[("penalty", "2021")], [bad, *good])
    s = svc(harness)
    collector = await collector_for_upload(harness.db, chat.user.id, path.name, path.stat().st_size)
    rejected = await check_upload(harness.db, collector, path.name, path.read_bytes(),
                                  id_key=s.settings.privacy.id_hash_key, today=s.today(), calendar=s.calendar)
    assert rejected.status == "rejected"
    tasks = (await harness.say(chat, "/mytasks"))[-1]
    text = tasks.text or ""
    assert "待确认文件 1 个" in text and "校验未通过 1 个" in text, text
    assert "文件“late.csv”已检查通过，等待您确认导入" in text and "文件“bad.csv”校验未通过（1 处错误）" in text
    assert tasks.buttons[0] == ["确认导入“late.csv”"] and "确认导入“bad.csv”" not in str(tasks.buttons)
    await harness.say(chat, "#1")
    await until(harness, lambda o: "已导入“late.csv”" in (o.text or ""))
    assert (await upload_row(harness.db, waiting)).status == "confirmed"
