"""`creditbot repair`: applications from 信用中国 taken in from its export (all rows or none, each
refused row named, the same 受理编号 twice registered once), results sent back in the same form,
and the deadline scan by hand."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import cli_repair
from db.models import RepairRequest
from db.session import Database
from rules.roles import Viewer
from services.repair import decide_repair
from services.settings import DatabaseSettings, Settings
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id

HEADER = ["受理编号", "统一社会信用代码", "文书号", "申请日期", "经办人", "申请材料", "信用承诺"]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


async def _run(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli_repair.add_parser(parser.add_subparsers(dest="command"))
    return await cli_repair.run(parser.parse_args(["repair", *argv]), settings)


async def _cases(db: Database) -> int:
    async with db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(RepairRequest)) or 0)


async def test_receive_all_or_nothing_then_results_in_the_same_form(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subject = await add_subject(db)
    dept = await dept_id(db)
    for doc in ("安市监罚〔2025〕61号", "安市监罚〔2025〕62号"):
        await add_record(db, subject, dept, "行政处罚", doc, dt.date(2026, 4, 1))
    settings = Settings(database=DatabaseSettings(url=db.url))
    good = ["XY001", HENGDA, "安市监罚〔2025〕61号", "2026-12-01", "王五", "缴款凭证.pdf；信用承诺书.pdf", "是"]
    bad = ["XY002", HENGDA, "安市监罚〔2025〕99号", "2026-12-01", "王五", "", "是"]
    assert await _run(settings, "receive", str(_csv(tmp_path / "a.csv", [good, bad]))) == 2
    err = capsys.readouterr().err
    assert "第 3 行：找不到该主体文书号对应的失信记录" in err and "未导入任何申请" in err
    assert await _cases(db) == 0  # all or none
    late = ["XY003", HENGDA, "安市监罚〔2025〕62号", "2026-13-01", "", "", "是"]
    assert await _run(settings, "receive", str(_csv(tmp_path / "b.csv", [good, late]))) == 2
    assert "第 3 行：申请日期格式应为" in capsys.readouterr().err

    path = _csv(tmp_path / "c.csv", [good, ["XY003", HENGDA, "安市监罚[2025]62号", "2026-12-01", "", "", "是"]])
    assert await _run(settings, "receive", str(path)) == 0
    out = capsys.readouterr().out
    assert "受理期限 2026-12-04" in out and "新登记 2 件" in out
    assert await _run(settings, "receive", str(path)) == 0  # the platform sent the file again
    assert "新登记 0 件" in capsys.readouterr().out and await _cases(db) == 2

    async with db.transaction() as s:
        first = await s.scalar(select(RepairRequest.id).where(RepairRequest.external_ref == "XY001"))
    await decide_repair(db, Viewer(account_id=None, role="official", department_id=dept), first, False, "罚款未缴清", dt.date(2026, 12, 2))
    target = tmp_path / "results.csv"
    assert await _run(settings, "results", "--since", "2026-01-01", "--out", str(target)) == 0
    with target.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [{"受理编号": "XY001", "统一社会信用代码": HENGDA, "文书号": "安市监罚〔2025〕61号", "办理结果": "不予修复",
                     "理由": "罚款未缴清", "办结日期": dt.datetime.now(settings.tz).date().isoformat(), "决定书编号": "",
                     "逾期": ""}]

    assert await _run(settings, "deadlines", "--today", "2026-12-07") == 0
    assert "逾期上报：申请" in capsys.readouterr().out  # the second case was not accepted by 12-04
