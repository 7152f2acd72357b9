"""Reporting through the chat: upload → check → 确认导入 / 取消, over the real Application."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.transport import Outgoing
from db.importers import samples
from db.models import CreditRecord, Upload

pytestmark = pytest.mark.asyncio


async def until(harness, predicate, timeout: float = 30.0) -> list[Outgoing]:  # type: ignore[no-untyped-def]
    """Wait for block=False handlers: until some sent action satisfies `predicate`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        hits = [o for o in harness.transport.sent if predicate(o)]
        if hits:
            return hits
        await asyncio.sleep(0.02)
    raise AssertionError("timed out; sent: " + repr([o.text for o in harness.transport.sent[-5:]]))


def penalty_file(path: Path, n: int, decision: dt.date, bad_rows: tuple[int, ...] = ()) -> Path:
    rows = []
    for i in range(1, n + 1):
        row = samples.penalty_row(i, decision=decision, person_every=0)
        if i in bad_rows:
            row["行政相对人代码_1（统一社会信用代码）"] = "91610902MA0000000X"  # bad check character
        rows.append(row)
    return samples.write_csv(path, samples.HEADERS[("penalty", "2021")], rows)


async def count_records(db) -> int:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(CreditRecord)) or 0)


async def test_good_file_is_written_only_after_confirmation_and_once(harness, tmp_path: Path) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    decision = dt.date.today() - dt.timedelta(days=30)  # surely more than 7 working days ago: late
    path = penalty_file(tmp_path / "处罚.csv", 12, decision)
    await harness.say(chat, f"@{path}")
    summary = (await until(harness, lambda o: o.method == "sendMessage" and "确认导入" in str(o.buttons)))[-1]
    assert "共读取 12 行：新增 12 条记录" in (summary.text or "")
    assert summary.buttons == [["确认导入", "取消"]]
    assert await count_records(harness.db) == 0  # nothing before confirmation

    # Two presses of 确认导入 arriving together (or one update delivered twice): written once.
    await asyncio.gather(chat.press(1), chat.press(1))

    def final(o: Outgoing) -> bool:
        # The second press: told it is done or being done, or (one heavy job per user) still running.
        return any(k in (o.text or "") for k in ("已导入“", "已经导入过", "正在导入中", "还在处理中"))

    await until(harness, lambda o: sum(map(final, harness.transport.sent)) >= 2)
    texts = [o.text or "" for o in harness.transport.sent if final(o)]
    assert sum("已导入“" in t for t in texts) == 1, texts
    assert await count_records(harness.db) == 12
    async with harness.db.transaction() as s:
        late = (await s.scalars(select(CreditRecord.late_working_days))).all()
        reported = (await s.scalars(select(CreditRecord.reported_at))).all()
        upload = (await s.scalars(select(Upload))).one()
    assert all(n > 0 for n in late)  # decided a month ago: past the 7-working-day deadline
    assert all(r is not None for r in reported)
    assert upload.status == "confirmed" and upload.content is None  # the raw file is deleted once written


async def test_bad_rows_write_nothing_and_list_every_error(harness, tmp_path: Path) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    path = penalty_file(tmp_path / "bad.csv", 30, dt.date.today(), bad_rows=tuple(range(2, 27)))  # 25 bad rows
    await harness.say(chat, f"@{path}")
    doc = (await until(harness, lambda o: o.method == "sendDocument"))[-1]
    summary = next(o for o in harness.transport.sent if o.text and "处错误" in o.text)
    assert "发现 25 处错误，未写入任何数据" in summary.text
    assert "第 3 行【" in summary.text  # row, column, Chinese reason
    assert summary.buttons == []  # no 确认导入 for a file with errors
    body = (doc.content or b"").decode("utf-8-sig")
    assert body.count("\n") == 26 and "行号,列,原因" in body
    assert await count_records(harness.db) == 0


async def test_cancel_writes_nothing(harness, tmp_path: Path) -> None:
    chat = await harness.chat("collector", dept="SCJGJ")
    await harness.say(chat, f"@{penalty_file(tmp_path / 'p.csv', 3, dt.date.today())}")
    await until(harness, lambda o: "确认导入" in str(o.buttons))
    await harness.say(chat, "#2")
    await until(harness, lambda o: "已取消" in (o.text or ""))
    assert await count_records(harness.db) == 0


async def test_refusals(harness, tmp_path: Path) -> None:
    public = await harness.chat("public")
    path = penalty_file(tmp_path / "p.csv", 2, dt.date.today())
    await harness.say(public, f"@{path}")
    await until(harness, lambda o: o.chat_id == public.chat.id and "仅限已绑定部门的信息采集员" in (o.text or ""))

    collector = await harness.chat("collector", dept="SCJGJ")
    pdf = tmp_path / "报表.pdf"
    pdf.write_bytes(b"%PDF-1.4 not a table")
    await harness.say(collector, f"@{pdf}")
    await until(harness, lambda o: o.chat_id == collector.chat.id and "PDF 文件无法导入" in (o.text or ""))
    junk = tmp_path / "notes.txt"
    junk.write_text("随便写的一些文字\n没有表头\n", encoding="utf-8")
    await harness.say(collector, f"@{junk}")
    reply = (await until(harness, lambda o: o.chat_id == collector.chat.id and "无法导入" in (o.text or "") and "notes" in (o.text or "")))[-1]
    assert "未写入任何数据" in (reply.text or "")
    assert await count_records(harness.db) == 0


async def test_large_file_shows_progress_and_others_are_answered(harness, tmp_path: Path) -> None:
    collector = await harness.chat("collector", dept="SCJGJ")
    other = await harness.chat("official")
    path = penalty_file(tmp_path / "big.csv", 2500, dt.date.today())
    upload = asyncio.create_task(harness.say(collector, f"@{path}"))
    await until(harness, lambda o: "正在按" in (o.text or "") and o.chat_id == collector.chat.id)
    answer = await harness.say(other, "/due 2026-09-28 行政处罚")
    assert any("2026-10-13" in (o.text or "") for o in answer)
    await until(harness, lambda o: "确认导入" in str(o.buttons))
    sent = harness.transport.sent
    edits = [o for o in sent if o.method == "editMessageText" and o.chat_id == collector.chat.id]
    assert any("已处理 1000 行" in (o.text or "") for o in edits)
    due_at = next(i for i, o in enumerate(sent) if "2026-10-13" in (o.text or ""))
    summary_at = next(i for i, o in enumerate(sent) if "确认导入" in str(o.buttons))
    assert due_at < summary_at  # the other user was answered while the file was being checked
    await upload
