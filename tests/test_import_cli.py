"""`creditbot import`: exit codes 0 / 1 / 2, Chinese summary, never a traceback for a bad file."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot import cli_import
from db.importers import samples as S
from db.session import Database
from services.settings import DatabaseSettings, Settings


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="creditbot")
    cli_import.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def settings_for(db: Database) -> Settings:
    return Settings(database=DatabaseSettings(url=db.url))


async def test_import_ok_then_dry_run_then_errors(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [S.penalty_row(i, decision=S.dt.date(2025, 1, 6)) for i in range(1, 4)]
    good = S.write_csv(tmp_path / "good.csv", S.HEADERS[("penalty", "2021")], rows, "gbk")
    assert await cli_import.run(parse(["import", str(good), "--dry-run"]), settings_for(db)) == 0
    assert "检查通过" in capsys.readouterr().out
    assert await cli_import.run(parse(["import", str(good), "--kind", "penalty"]), settings_for(db)) == 0
    out = capsys.readouterr().out
    assert "导入完成" in out and "新增" in out

    rows[1]["证件号码"] = "123"
    rows[1]["行政相对人类别"] = "自然人"
    bad = S.write_csv(tmp_path / "bad.csv", S.HEADERS[("penalty", "2021")], rows)
    assert await cli_import.run(parse(["import", str(bad)]), settings_for(db)) == 1
    out = capsys.readouterr().out
    assert "未写入任何数据" in out and "证件号码" in out and "Traceback" not in out


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage", "名字,年龄\n张三,1\n".encode()])
async def test_unusable_file_is_one_chinese_line(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    assert await cli_import.run(parse(["import", str(path)]), settings_for(db)) == 2
    captured = capsys.readouterr()
    assert "无法导入" in captured.out and "Traceback" not in captured.out + captured.err


async def test_missing_file_and_bad_db_url(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli_import.run(parse(["import", str(tmp_path / "nope.csv")]), settings_for(db)) == 2
    assert "找不到文件" in capsys.readouterr().err
    f = S.write_csv(tmp_path / "g.csv", S.HEADERS[("generic", None)], [S.generic_row(1)])
    assert await cli_import.run(parse(["import", str(f), "--db", "mysql://x"]), settings_for(db)) == 2
    assert "database.url" in capsys.readouterr().err


async def test_unknown_department(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = S.write_csv(tmp_path / "g.csv", S.HEADERS[("generic", None)], [S.generic_row(1)])
    assert await cli_import.run(parse(["import", str(f), "--dept", "X99"]), settings_for(db)) == 2
    out = capsys.readouterr().out.replace("\n", "")  # rich wraps long lines
    assert "找不到部门代码 X99。可用的部门代码：SCJGJ、FGW" in out and "610902-SCJGJ" in out
