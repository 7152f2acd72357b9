"""Every problem of a row is reported, not only the first: a collector fixes a file in one round."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from db.importers import samples as S
from db.session import Database
from services.imports import format_report, import_file


async def test_every_error_of_a_row_is_listed(db: Database, tmp_path: Path) -> None:
    bad = S.penalty_row(1, decision=dt.date(2025, 3, 3), person_every=0)
    bad.update({"行政处罚决定书文号": "", "处罚决定日期": "2025-13-45", "罚款金额（万元）": "一万"})
    good = S.penalty_row(2, decision=dt.date(2025, 3, 3), person_every=0)
    path = S.write_csv(tmp_path / "p.csv", S.HEADERS[("penalty", "2021")], [bad, good])
    report = await import_file(db, path, id_key="k", today=dt.date(2025, 6, 30))
    assert not report.written
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "行政处罚决定书文号"), (2, "处罚决定日期"), (2, "罚款金额（万元）"),
    ]
    text = format_report(report)
    assert "发现 3 处错误" in text and "第 2 行【处罚决定日期】" in text and "第 2 行【罚款金额（万元）】" in text
