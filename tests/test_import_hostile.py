"""Big and hostile files: refused before they are parsed, with one Chinese sentence each, on the
command line and in chat; never a stall, an exception name or a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import cli_import
from db.importers import hostile, limits
from db.session import Database
from services.imports import check_file
from tests.test_collect_upload import until
from tests.test_import_cli import parse, settings_for

ENGLISH = re.compile(r"[A-Za-z]{4,}")  # an exception name or an English message; file names aside


def one_chinese_sentence(text: str | None) -> str:
    assert text, "expected a refusal"
    assert "\n" not in text and not ENGLISH.search(text.replace("Excel", "").replace("WPS", "").replace("CSV", "").replace("xlsx", "")), text
    return text


async def refusal(db: Database, path: Path) -> str:
    report = await check_file(db, path, id_key="k")
    assert report.rows_read <= 3 and not report.written
    return one_chinese_sentence(report.fatal)


async def test_shared_strings_bomb_is_refused_by_its_sizes(db: Database, tmp_path: Path) -> None:
    path = hostile.shared_strings_bomb(tmp_path / "bomb.xlsx", expanded_bytes=20 * 1024 * 1024)
    assert path.stat().st_size < 200 * 1024  # tiny on the wire
    assert "压缩比异常" in await refusal(db, path)


async def test_declared_million_rows_or_columns_are_refused(db: Database, tmp_path: Path) -> None:
    rows = await refusal(db, hostile.huge_dimension(tmp_path / "rows.xlsx", rows=1_048_575))
    assert "1048575 行" in rows and f"{limits.MAX_ROWS} 行上限" in rows
    cols = await refusal(db, hostile.huge_dimension(tmp_path / "cols.xlsx", rows=5, columns=1_000_000))
    assert "1000000 列" in cols and f"{limits.MAX_COLUMNS} 列上限" in cols


async def test_undeclared_wide_row_and_endless_empty_rows(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide = await refusal(db, hostile.wide_row(tmp_path / "wide.xlsx", column=1_000_000))
    assert "第 5 行在第 1000000 列有内容" in wide
    monkeypatch.setattr(limits, "MAX_ROWS", 2_000)  # the same stream check as at 500,000 rows, faster
    endless = await refusal(db, hostile.empty_rows(tmp_path / "empty.xlsx", rows=10_000))
    assert "超过 2000 行上限" in endless


async def test_truncated_sheet_and_long_csv_field(db: Database, tmp_path: Path) -> None:
    broken = await check_file(db, hostile.truncated_sheet(tmp_path / "cut.xlsx"), id_key="k")
    assert "内容在第" in one_chinese_sentence(broken.fatal) and "不完整" in (broken.fatal or "")
    long = await check_file(db, hostile.long_csv_field(tmp_path / "long.csv"), id_key="k")
    assert "超过 131072 个字符" in one_chinese_sentence(long.fatal)


async def test_truncated_sheet_on_the_command_line(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = hostile.truncated_sheet(tmp_path / "cut.xlsx")
    assert await cli_import.run(parse(["import", str(path)]), settings_for(db)) == 2
    out = capsys.readouterr()
    assert "无法导入 cut.xlsx：Excel 文件已损坏" in out.out
    assert "Traceback" not in out.out + out.err and "Error" not in out.out + out.err


async def test_truncated_sheet_in_chat(harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chat = await harness.chat("collector", dept="SCJGJ")
    await harness.say(chat, f"@{hostile.truncated_sheet(tmp_path / 'cut.xlsx')}")
    answer = (await until(harness, lambda o: "无法导入" in (o.text or "")))[-1]
    assert "Excel 文件已损坏" in (answer.text or "") and "未写入任何数据" in (answer.text or "")
    edited = [o for o in harness.transport.sent if o.method == "editMessageText"]
    assert any("检查完成" in (o.text or "") for o in edited)  # the status message is not left hanging


async def test_shared_strings_read_the_same_and_refused_over_their_budget(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library keeps every shared string in memory: read right below the budget, refused above it
    by the declared size, before anything is decompressed; a grid past its cell budget likewise."""
    from sqlalchemy import select

    from db.importers import samples as S
    from db.models import CreditRecord, Subject
    from services.imports import import_file

    rows = [S.penalty_row(i, person_every=4) for i in range(1, 41)]
    path = S.write_xlsx(tmp_path / "p.xlsx", S.HEADERS[("penalty", "2021")], rows, sheet="处罚")  # shared strings
    report = await import_file(db, path, id_key="k")
    assert report.written and report.new == 40, report.errors[:3]
    async with db.transaction() as s:
        got = sorted((await s.execute(select(CreditRecord.doc_number, Subject.name).join(Subject))).all())
    assert got == sorted((r["行政处罚决定书文号"], r["行政相对人名称"]) for r in rows)
    monkeypatch.setattr(limits, "MAX_SHARED_STRINGS_BYTES", 1024 * 1024)
    varied = (f"<si><t>{i * 7919 % 1000003:07d}{S.company(i)}</t></si>" for i in range(40_000))
    many = hostile.write_package(tmp_path / "many.xlsx", ["<worksheet><sheetData/></worksheet>"], varied)
    assert "文字内容解压后超过 1 MB" in await refusal(db, many)
    monkeypatch.setattr(limits, "MAX_CELLS", 28 * 30)
    assert "41 行 × 28 列，超过 840 个单元格的上限" in await refusal(db, path)
