"""Cell types as Excel and WPS write them: date-times stored as numbers, codes typed into number
cells, formulas without saved results, formula-like names; and the error list sent back."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
from sqlalchemy import select

from db.importers import samples as S
from db.importers.rows import RowError
from db.models import CreditRecord
from db.session import Database
from handlers.collect import errors_caption, errors_csv
from services.imports import ImportReport, import_file

TODAY = dt.date(2026, 6, 30)
HEADERS = S.HEADERS[("penalty", "2021")]


def xlsx(path: Path, rows: list[dict[str, object]]) -> Path:
    """Like a department's sheet: text cells, except where a test puts a number, date or formula."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "行政处罚"
    ws.append(HEADERS)
    for row in rows:
        ws.append([row.get(h) for h in HEADERS])
    wb.save(path)
    return path


def row(i: int, **cells: object) -> dict[str, object]:
    out: dict[str, object] = dict(S.penalty_row(i, decision=dt.date(2026, 3, 2), person_every=0))
    out.update(cells)
    return out


async def test_date_times_as_numbers_and_as_dates_are_accepted(db: Database, tmp_path: Path) -> None:
    rows = [
        row(1, 处罚决定日期=46086.5),  # a General-format number cell: 2026-03-05 12:00
        row(2, 处罚决定日期=dt.datetime(2026, 3, 6, 9, 30)),  # a date-time cell
        row(3, 处罚决定日期=46087),  # a whole serial: 2026-03-06
    ]
    report = await import_file(db, xlsx(tmp_path / "dates.xlsx", rows), id_key="k", today=TODAY)
    assert report.ok and report.written, report.errors
    async with db.transaction() as s:
        got = dict((await s.execute(select(CreditRecord.doc_number, CreditRecord.decision_date))).all())
    assert got == {
        "安市监罚〔2026〕1号": dt.date(2026, 3, 5),
        "安市监罚〔2026〕2号": dt.date(2026, 3, 6),
        "安市监罚〔2026〕3号": dt.date(2026, 3, 6),
    }


async def test_codes_in_number_cells_are_said_to_have_lost_digits(db: Database, tmp_path: Path) -> None:
    digits_only = next(S.uscc(i) for i in range(1, 200) if S.uscc(i).isdigit())
    person = S.ric(7) if S.ric(7).isdigit() else S.ric(8)
    rows = [
        row(1, **{"行政相对人代码_1（统一社会信用代码）": int(digits_only)}),
        row(2, **{"行政相对人名称": "王某", "行政相对人类别": "自然人", "行政相对人代码_1（统一社会信用代码）": "",
                  "证件类型": "身份证", "证件号码": int(person)}),
        row(3),
    ]
    report = await import_file(db, xlsx(tmp_path / "numbers.xlsx", rows), id_key="k", today=TODAY)
    assert not report.written and report.error_count == 2
    first, second = report.errors
    assert (first.row, first.column) == (2, "行政相对人代码_1（统一社会信用代码）")
    assert "数字格式" in first.reason and "丢失末尾数字" in first.reason and "文本" in first.reason
    assert (second.row, second.column) == (3, "证件号码") and "丢失末尾数字" in second.reason
    assert "校验" not in first.reason + second.reason  # not blamed on the check character any more
    assert person not in second.reason  # nor echoed


async def test_scientific_notation_in_a_csv_code(db: Database, tmp_path: Path) -> None:
    rows = [row(1, **{"行政相对人代码_1（统一社会信用代码）": "9.16109E+17"})]
    path = S.write_csv(tmp_path / "sci.csv", HEADERS, rows)  # type: ignore[arg-type]
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert report.error_count == 1 and "科学计数法" in report.errors[0].reason


async def test_formula_without_result_and_formula_like_names_are_refused(db: Database, tmp_path: Path) -> None:
    rows = [row(1, 行政相对人名称='=B2&"有限公司"'), row(2)]
    report = await import_file(db, xlsx(tmp_path / "formula.xlsx", rows), id_key="k", today=TODAY)
    assert report.error_count == 1 and report.errors[0].row == 2
    assert report.errors[0].column == "行政相对人名称" and "没有保存计算结果" in report.errors[0].reason

    hostile_names = ['=HYPERLINK("http://example.invalid","点此")', "+86-123", "-1+2", "@SUM(A1:A2)", " =1+1"]
    csv_rows = [row(i, 行政相对人名称=name) for i, name in enumerate(hostile_names, start=1)]
    path = S.write_csv(tmp_path / "names.csv", HEADERS, csv_rows)  # type: ignore[arg-type]
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert report.error_count == len(hostile_names) and not report.written
    assert all(e.column == "行政相对人名称" and "像是表格公式" in e.reason for e in report.errors)
    async with db.transaction() as s:
        assert (await s.scalars(select(CreditRecord))).first() is None


def test_error_list_never_runs_and_its_caption_counts_true() -> None:
    report = ImportReport(file_label="x.csv")
    report.add_error(RowError(2, "=1+2", "-2+3"))
    report.add_error(RowError(3, "@SUM(A1)", "+1"))
    for i in range(4, 1504):
        report.add_error(RowError(i, "处罚决定日期", "日期格式无法识别"))
    lines = list(csv.reader(io.StringIO(errors_csv(report).decode("utf-8-sig"))))
    assert lines[1] == ["2", "'=1+2", "'-2+3"] and lines[2] == ["3", "'@SUM(A1)", "'+1"]
    assert len(lines) - 1 == len(report.errors) == 1000
    assert errors_caption(report) == "共 1502 处错误，清单列出前 1000 处（行号、列、原因），请修改后重新上传。"
    small = ImportReport(file_label="y.csv")
    small.add_error(RowError(2, "证件号码", "身份证号码有误"))
    assert errors_caption(small) == "全部 1 处错误（行号、列、原因），请修改后重新上传。"
