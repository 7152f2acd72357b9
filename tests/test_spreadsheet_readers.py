"""The two .xlsx readers (calamine's whole sheet, openpyxl's row stream) give the importer the same
rows for the same file, in every shape real tools and hostile senders write; big sheets are streamed.

Each workbook is read through `open_sheet(..., stream=False)` and `stream=True` and the rows compared
cell by cell (types included); a few expected values are written down too, so two readers that
agreed on a wrong answer would still fail."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from db.importers import hostile, limits
from db.importers import samples as S
from db.importers.reading import ReadError, Unevaluated, open_table
from db.importers.spreadsheet import open_sheet

HEADERS = S.HEADERS[("penalty", "2021")]
DECISION = dt.date(2026, 3, 5)


def both(path: Path) -> list[tuple[int, list[object]]]:
    """The rows of both readers, asserted equal (with the cells' types), returned once."""
    whole = list(open_sheet(path, "xlsx", stream=False)[1])
    streamed = list(open_sheet(path, "xlsx", stream=True)[1])
    assert [(n, [(type(c), c) for c in cells]) for n, cells in streamed] == [
        (n, [(type(c), c) for c in cells]) for n, cells in whole
    ]
    return whole  # type: ignore[return-value]


def workbook(path: Path, rows: list[list[object]], epoch: dt.datetime | None = None) -> Path:
    wb = openpyxl.Workbook()
    if epoch is not None:
        wb.epoch = epoch
    ws = wb.active
    ws.title = "行政处罚"
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def package(path: Path, body: list[str], strings: list[str] = (), sst_name: str = "xl/sharedStrings.xml",  # type: ignore[assignment]
            declared: str = "") -> Path:
    """A minimal package; the shared strings part stored as `sst_name`, while [Content_Types].xml and
    the workbook's relationships name it in Excel's usual case."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", hostile._CONTENT_TYPES)
        zf.writestr("_rels/.rels", hostile._ROOT_RELS)
        zf.writestr("xl/workbook.xml", hostile._WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", hostile._WORKBOOK_RELS)
        zf.writestr(sst_name, hostile._SST_HEAD + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
        zf.writestr("xl/worksheets/sheet1.xml", hostile._SHEET_HEAD + declared + "<sheetData>" + "".join(body)
                    + "</sheetData></worksheet>")
    return path


def test_1904_dates_numbers_codes_and_long_cells_read_alike(tmp_path: Path) -> None:
    long_text = "违法事实" * 8000  # 32,000 characters, near Excel's cell limit
    rows: list[list[object]] = [
        ["名称", "日期", "时刻", "金额", "代码", "长文本", "真假"],
        ["安康市甲公司", DECISION, dt.datetime(2026, 3, 5, 9, 30), 1.5, 916109001234567890, long_text, True],
        ["安康市乙公司", dt.date(1904, 1, 2), dt.datetime(2026, 3, 6), 20000, 12345, "", False],
    ]
    for name, epoch in [("win.xlsx", None), ("mac.xlsx", openpyxl.utils.datetime.CALENDAR_MAC_1904)]:
        got = both(workbook(tmp_path / name, rows, epoch))
        assert got[1][1][1] in (DECISION, dt.datetime(2026, 3, 5))  # not 2022-03-04 on the Mac's calendar
        assert got[1][1][2] == dt.datetime(2026, 3, 5, 9, 30) and got[1][1][3] == 1.5
        assert got[1][1][4] == 916109001234567890.0 and isinstance(got[1][1][4], float)  # lost digits show
        assert got[1][1][5] == long_text and got[2][1][3] == 20000 and isinstance(got[2][1][3], int)


def test_cells_without_references_and_rows_without_numbers(tmp_path: Path) -> None:
    body = [
        '<row><c t="inlineStr"><is><t>名称</t></is></c><c/><c t="inlineStr"><is><t>文号</t></is></c></row>',
        '<row><c t="inlineStr"><is><t>甲</t></is></c><c/><c><v>7</v></c></row>',
        '<row r="5"><c r="B5" t="inlineStr"><is><t>乙</t></is></c></row>',
    ]
    got = both(package(tmp_path / "sap.xlsx", body))
    assert got == [(1, ["名称", None, "文号"]), (2, ["甲", None, 7]), (5, [None, "乙"])]


def test_shared_strings_part_stored_in_other_letter_case(tmp_path: Path) -> None:
    body = ['<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>']
    got = both(package(tmp_path / "case.xlsx", body, ["安康市甲公司", "第一行_x000D_第二行"], sst_name="xl/SharedStrings.xml"))
    assert got == [(1, ["安康市甲公司", None, "第一行\r第二行"])]


def test_formulas_without_values_and_error_values_are_unknown_in_both(tmp_path: Path) -> None:
    body = [
        '<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c><c r="B1"><f>1+1</f><v>2</v></c></row>',
        '<row r="2"><c r="A2" t="e"><f>VLOOKUP(X1,Y:Z,2,0)</f><v>#N/A</v></c><c r="B2"><f>TODAY()</f></c></row>',
        '<row r="9"><c r="K9"><f>NOW()</f></c></row>',
    ]
    got = both(package(tmp_path / "f.xlsx", body))
    assert got[0] == (1, ["名称", 2])
    assert got[1] == (2, [Unevaluated("#N/A"), Unevaluated("=")])
    assert got[2][0] == 9 and got[2][1][10] == Unevaluated("=")


def test_a_declared_dimension_smaller_than_the_data_loses_no_row(tmp_path: Path) -> None:
    body = [f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>行{r}</t></is></c><c r="D{r}"><v>{r}</v></c></row>'
            for r in range(1, 31)]
    got = both(package(tmp_path / "lies.xlsx", body, declared='<dimension ref="A1:B3"/>'))
    assert [n for n, _ in got] == list(range(1, 31)) and got[-1][1] == ["行30", None, None, 30]


def test_the_national_template_as_the_benchmark_writes_it(tmp_path: Path) -> None:
    data = [S.penalty_row(i, decision=DECISION) for i in range(1, 60)]
    got = both(S.write_xlsx(tmp_path / "p.xlsx", HEADERS, data, sheet="行政处罚"))
    assert len(got) == 60 and got[0][1] == list(HEADERS)


def test_hostile_files_get_the_same_refusal_from_both(tmp_path: Path) -> None:
    for path in [hostile.truncated_sheet(tmp_path / "cut.xlsx"), hostile.wide_row(tmp_path / "wide.xlsx", column=5000),
                 hostile.huge_dimension(tmp_path / "rows.xlsx")]:
        answers = []
        for stream in (False, True):
            with pytest.raises(ReadError) as err:
                list(open_sheet(path, "xlsx", stream=stream)[1])
            answers.append(str(err.value))
        assert answers[0] == answers[1]


def test_a_big_sheet_is_streamed_lazily(tmp_path: Path) -> None:
    """Above the cell budget the stream is chosen, and it has read only what was asked of it: after the
    first rows, the sheet's XML has been decompressed only a little way (calamine would have loaded it)."""
    rows = limits.STREAM_ABOVE_CELLS // len(HEADERS) + 500
    path = S.write_xlsx(tmp_path / "big.xlsx", HEADERS, (S.penalty_row(i) for i in range(1, rows + 1)))
    table = open_table(path)
    assert table.rows.gi_frame is not None  # type: ignore[attr-defined]
    first = [next(table.rows) for _ in range(3)]
    assert first[0][1] == list(HEADERS) and first[2][0] == 3
    source = table.rows.gi_frame.f_locals["raw"]  # type: ignore[attr-defined]
    assert source.__name__ == "stream_rows", "a sheet above the budget must be streamed"
    table.rows.close()  # an abandoned import closes the file


def test_reading_a_300000_row_sheet_stays_in_bounded_memory(tmp_path: Path) -> None:
    """Peak RSS of a child process reading every row of a generated sheet, against the same reading of a
    sheet one twentieth as long: what grows with the rows is what the stream must not hold."""
    script = (
        "import sys; from pathlib import Path; from db.importers.reading import open_table\n"
        "n = sum(1 for _ in open_table(Path(sys.argv[1])).rows)\n"
        "hwm = [l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM')][0]\n"
        "print(n, int(hwm.split()[1]) // 1024)\n"
    )

    def peak(rows: int) -> tuple[int, int]:
        path = hostile.write_package(tmp_path / f"r{rows}.xlsx", [hostile._SHEET_HEAD, "<sheetData>",
                                     *(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>{r}.5</v></c>'
                                       f'<c r="J{r}" t="inlineStr"><is><t>安康{r}</t></is></c></row>'
                                       for r in range(1, rows + 1)), "</sheetData></worksheet>"])
        out = subprocess.run([sys.executable, "-c", script, str(path)], check=True, capture_output=True, text=True)
        n, mb = out.stdout.split()
        return int(n), int(mb)

    small, big = peak(15_000), peak(300_000)
    assert small[0] == 15_000 and big[0] == 300_000
    # calamine's grid of 300,000 × 10 cells alone is ~200 MB; the stream holds one row.
    assert big[1] - small[1] < 40, (small, big)
