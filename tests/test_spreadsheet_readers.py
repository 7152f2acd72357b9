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
from db.importers.reading import ReadError, Unevaluated
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


def test_a_big_sheet_is_streamed_in_memory_that_does_not_hold_it(tmp_path: Path) -> None:
    """A sheet whose grid is past the budget (16,000 rows to column IV: 4 million cells, ~95 MB in
    calamine's grid) read to the end in a child process through the importer's entry point, and
    again forced through the whole-sheet load: the first must not hold the grid. Peak RSS, not time."""
    rows = 16_000
    assert rows * 256 > limits.STREAM_ABOVE_CELLS
    body = ['<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c><c r="IV1" t="inlineStr"><is><t>备注</t></is></c></row>',
            *(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>安康{r}有限公司</t></is></c><c r="B{r}"><v>{r}.5</v></c></row>'
              for r in range(2, rows + 1))]
    path = package(tmp_path / "wide.xlsx", body)
    script = (
        "import sys; from pathlib import Path\n"
        "from db.importers.reading import open_table; from db.importers.spreadsheet import open_sheet\n"
        "p = Path(sys.argv[1])\n"
        "rows = open_table(p).rows if sys.argv[2] == 'auto' else open_sheet(p, 'xlsx', stream=False)[1]\n"
        "n = sum(1 for _ in rows)\n"
        "hwm = [l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM')][0]\n"
        "print(n, int(hwm.split()[1]) // 1024)\n"
    )

    def peak(how: str) -> tuple[int, int]:
        out = subprocess.run([sys.executable, "-c", script, str(path), how], check=True, capture_output=True, text=True)
        n, mb = out.stdout.split()
        return int(n), int(mb)

    auto, whole = peak("auto"), peak("whole")
    assert auto[0] == whole[0] == rows
    assert auto[1] < whole[1] - 50, (auto, whole)  # MB
