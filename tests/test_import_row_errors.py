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


ID = "610928195001019219"  # the tester's number: an ID number's shape (born 1950-01-01), check character off
VALID_ID = "610928195001019216"


async def test_an_id_number_in_the_code_column_is_named_as_such_and_never_quoted(db: Database, tmp_path: Path) -> None:
    person = S.penalty_row(5, person_every=5)  # a 自然人 row
    person.update({"行政相对人代码_1（统一社会信用代码）": ID, "证件号码": ""})
    legacy = S.penalty_row(10, person_every=5)
    legacy["行政相对人代码_4（税务登记号）"] = VALID_ID  # stored as written: a person's number must not land there
    phone = S.penalty_row(3, person_every=0)
    phone["行政相对人代码_1（统一社会信用代码）"] = "13912345678"
    path = S.write_csv(tmp_path / "p.csv", S.HEADERS[("penalty", "2021")], [person, legacy, phone])
    report = await import_file(db, path, id_key="k", dry_run=True, today=dt.date(2025, 6, 30))
    text = format_report(report)
    assert ID not in text and VALID_ID not in text and "13912345678" not in text and not report.written
    by_row = {e.row: e for e in report.errors}
    assert by_row[2].column == "行政相对人代码_1（统一社会信用代码）"
    assert "居民身份证号码" in by_row[2].reason and "“证件号码”列" in by_row[2].reason and "应为“A”" not in text
    assert "校验位也不正确" in by_row[2].reason
    assert by_row[3].column == "行政相对人代码_4（税务登记号）" and "“证件号码”列" in by_row[3].reason
    assert "校验位" not in by_row[3].reason
    assert "“139****5678”" in by_row[4].reason  # quoted back masked as stored


def test_row_errors_mask_personal_numbers_but_keep_codes() -> None:
    from db.importers.rows import RowError

    assert RowError(2, "x", f"代码“{ID}”有误").reason == "代码“610928********9219”有误"
    assert RowError(2, "x", "代码“91610900MA0000000X”有误").reason == "代码“91610900MA0000000X”有误"
    assert RowError(2, "x", "代码“916109000000000001”有误").reason == "代码“916109000000000001”有误"


async def test_a_file_with_only_its_header_is_refused(db: Database, tmp_path: Path) -> None:
    path = S.write_csv(tmp_path / "empty.csv", S.HEADERS[("penalty", "2021")], [])
    for dry_run in (True, False):
        report = await import_file(db, path, id_key="k", dry_run=dry_run, today=dt.date(2025, 6, 30))
        assert not report.ok and not report.written and report.rows_read == 0
        text = format_report(report)
        assert "没有数据行" in text and "检查通过" not in text, text
