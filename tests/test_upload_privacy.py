"""Privacy at rest: after every upload flow (checked, confirmed, cancelled, rejected, expired) the
whole database holds no resident ID number in clear; the raw file is kept sealed only while
确认导入 can still use it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select, update

from db.importers import samples
from db.models import Upload
from db.upload_store import unseal
from services.settings import Settings
from tests.dbscan import clear_id_numbers, clear_mobile_numbers, is_resident_id
from tests.test_collect_upload import count_records, until

KEY = Settings().privacy.id_hash_key


def persons_file(path: Path, n: int = 8, bad: bool = False) -> Path:
    decision = dt.date.today() - dt.timedelta(days=3)
    rows = [samples.penalty_row(i, decision=decision, person_every=2) for i in range(1, n + 1)]
    if bad:
        rows[0]["处罚决定日期"] = "明天"
    return samples.write_csv(path, samples.HEADERS[("penalty", "2021")], rows)


def test_the_scanner_finds_what_it_must() -> None:
    good = samples.ric(4)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert is_resident_id(good) and not is_resident_id(wrong)


async def _upload(harness, chat, path: Path) -> Upload:  # type: ignore[no-untyped-def]
    await harness.say(chat, f"@{path}")
    await until(harness, lambda o: o.method in ("sendMessage", "sendDocument") and ("检查通过" in (o.text or "") or "未写入任何数据" in (o.text or "")))
    async with harness.db.transaction() as s:
        return (await s.scalars(select(Upload).order_by(Upload.created_at.desc()))).first()


async def test_pending_is_sealed_and_confirmed_is_deleted(harness, tmp_path: Path) -> None:
    path = persons_file(tmp_path / "人员处罚.csv")
    assert samples.ric(2).encode() in path.read_bytes()  # the file really carries clear ID numbers
    chat = await harness.chat("collector", dept="SCJGJ")
    upload = await _upload(harness, chat, path)
    assert upload.status == "pending" and upload.content is not None
    assert unseal(upload.content, KEY) == path.read_bytes()  # sealed, not dropped: 确认导入 needs it
    assert await clear_id_numbers(harness.db) == [] and await clear_mobile_numbers(harness.db) == []
    await chat.press(1)
    await until(harness, lambda o: "已导入“" in (o.text or ""))
    assert await count_records(harness.db) == 8
    async with harness.db.transaction() as s:
        assert (await s.get(Upload, upload.id)).content is None
    assert await clear_id_numbers(harness.db) == [] and await clear_mobile_numbers(harness.db) == []


async def test_cancelled_and_rejected_keep_nothing(harness, tmp_path: Path) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    upload = await _upload(harness, chat, persons_file(tmp_path / "a.csv"))
    await chat.press(2)  # 取消
    await until(harness, lambda o: "已取消" in (o.text or ""))
    rejected = await _upload(harness, chat, persons_file(tmp_path / "b.csv", bad=True))
    assert rejected.status == "rejected" and rejected.content is None
    async with harness.db.transaction() as s:
        cancelled = await s.get(Upload, upload.id)
        assert cancelled.status == "cancelled" and cancelled.content is None
    assert await clear_id_numbers(harness.db) == [] and await clear_mobile_numbers(harness.db) == []
    assert await count_records(harness.db) == 0


async def test_expired_upload_is_deleted_and_not_written(harness, tmp_path: Path) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    upload = await _upload(harness, chat, persons_file(tmp_path / "c.csv"))
    async with harness.db.transaction() as s:  # the collector left it for two days
        await s.execute(
            update(Upload).where(Upload.id == upload.id).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=48))
        )
    await chat.press(1)
    await until(harness, lambda o: "超过保留期限" in (o.text or ""))
    async with harness.db.transaction() as s:
        expired = await s.get(Upload, upload.id)
        assert expired.status == "expired" and expired.content is None
    assert await count_records(harness.db) == 0
    assert await clear_id_numbers(harness.db) == [] and await clear_mobile_numbers(harness.db) == []


async def test_hourly_job_deletes_bytes_nobody_came_back_for(harness, tmp_path: Path) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    upload = await _upload(harness, chat, persons_file(tmp_path / "d.csv"))
    fresh = await _upload(harness, chat, persons_file(tmp_path / "e.csv"))
    async with harness.db.transaction() as s:
        await s.execute(
            update(Upload).where(Upload.id == upload.id).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25))
        )
    (job,) = harness.app.job_queue.get_jobs_by_name("expire uploads")
    await job.run(harness.app)
    async with harness.db.transaction() as s:
        old, new = await s.get(Upload, upload.id), await s.get(Upload, fresh.id)
        assert (old.status, old.content) == ("expired", None)
        assert new.status == "pending" and new.content is not None  # inside the 24 hours: kept, sealed
    assert await clear_id_numbers(harness.db) == [] and await clear_mobile_numbers(harness.db) == []
