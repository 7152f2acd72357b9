"""Spreadsheets as departments send them (.xlsx, .xls, .ods), read by python-calamine, or for big
.xlsx sheets by openpyxl's streaming reader, behind one interface.

Why a library: the files come from Excel, WPS, LibreOffice and exporting systems (SAP, report
servers), and each writes the formats its own way: the 1904 date system, cells without their `r`
reference, part names in other letter case, inline strings, Excel 97-2003 .xls. calamine (Rust)
reads all of them and uses the cells' types: dates come back as dates, numbers as numbers.

What it does not do is guarded in front of it (db/importers/xlsx.py): archive sizes and ratios, the
declared and the real extent of the sheet, and the formula cells without a saved value and error
values, which calamine reads as empty: the scan hands them on here as `Unevaluated` so the importer
refuses them with a row error.

Memory: calamine loads the chosen sheet whole (it has no streaming reader in its Python binding), about
2 KB a row of the 28-column national template (643 MB peak RSS at 300,000 rows). So it reads an .xlsx
sheet only up to limits.STREAM_ABOVE_CELLS cells as the guard's scan measured them; a bigger one is
read row by row by openpyxl's read-only mode (xlsx_stream.py), in memory that does not grow with the
rows, at about a twentieth of calamine's speed. Both readers' values go through the same `_rows` and
`_cell`, so the importer cannot tell which one read the file (tests/test_spreadsheet_readers.py).

Shapes: rows are (row number as Excel shows it, list of cells), cells being str, int, float, bool,
date, datetime, Unevaluated or None; rows without any cell are not yielded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from db.importers import limits
from db.importers.reading import Cell, ReadError
from db.importers.xlsx import CORRUPT, SheetScan, choose, guard_ods, guard_xlsx

FORMATS = {"xlsx": "Excel（.xlsx）", "xls": "Excel 97-2003（.xls）", "ods": "OpenDocument（.ods）"}


def _workbook(path: Path, what: str) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # the binding raises its own classes and plain ValueErrors for bad files
        if type(exc).__name__ == "PasswordError":
            raise ReadError(f"{what}文件设置了打开密码，请取消密码后重试") from None
        raise ReadError(CORRUPT if what.startswith("Excel（") else f"{what}文件已损坏或不完整，请在 Excel 或 WPS 中打开并另存为 .xlsx 后重试") from None


def _cell(value: Any) -> Cell:
    """One value as the importer's cell. Numbers as Excel holds them, doubles: openpyxl reads an
    integer written without a decimal point as int, calamine as float, and a code of 18 digits in a
    number cell must look the same (its lost digits are reported) whichever library read it. A
    date-time at midnight is a date, as calamine gives it (openpyxl gives a datetime)."""
    if value == "" or value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value  # type: ignore[no-any-return]


def open_sheet(
    path: Path, fmt: str, sheet_names: tuple[str, ...] = (), stream: bool | None = None
) -> tuple[str, Iterator[tuple[int, list[Cell]]]]:
    """(chosen sheet name, rows): the first sheet, unless one is named after a template (departments
    often put notes on sheet 1). `fmt` is xlsx, xls or ods.

    `stream` picks the .xlsx reader: openpyxl's read-only mode row by row (True), calamine's whole
    sheet (False), or by the sheet's grid as the scan measured it (None: streamed above
    limits.STREAM_ABOVE_CELLS cells). Both give the same rows; .xls and .ods are always read by
    calamine (an .xls sheet holds at most 65,536 × 256 cells by its format). Raises ReadError."""
    what = FORMATS[fmt]
    scan = SheetScan()
    if fmt == "xlsx":
        chosen, scan = guard_xlsx(path, sheet_names)
        if stream is None:
            stream = scan.last_row * scan.last_column > limits.STREAM_ABOVE_CELLS
        if stream:
            from db.importers.xlsx_stream import stream_rows

            return chosen, _rows(stream_rows(path, chosen, scan), scan)
    elif fmt == "ods":
        guard_ods(path)
    workbook = _workbook(path, what)
    names = list(workbook.sheet_names)
    if not names:
        raise ReadError(f"{what}文件中没有工作表")
    if fmt != "xlsx":
        chosen = choose([(n, n) for n in names], sheet_names)[0]
    if chosen not in names:
        raise ReadError(f"{what}文件缺少工作表“{chosen}”的内容，请另存为 .xlsx 后重试")
    try:
        sheet = workbook.get_sheet_by_name(chosen)
    except Exception:
        raise ReadError(f"{what}文件已损坏：工作表“{chosen}”的内容不完整，请重新导出或另存为 .xlsx 后重试") from None
    first_row, first_col = sheet.start or (0, 0)
    rows, cols = first_row + sheet.height, first_col + sheet.width
    # .xls and .ods are bounded only here, after loading (.xls by its format: 65,536 × 256).
    if rows > limits.MAX_ROWS:
        raise ReadError(f"工作表“{chosen}”超过 {limits.MAX_ROWS} 行上限，请拆分为多个文件后分别导入")
    if cols > limits.MAX_COLUMNS:
        raise ReadError(f"工作表“{chosen}”有内容到第 {cols} 列，超过 {limits.MAX_COLUMNS} 列上限：请删除多余的列后重试")
    return chosen, _rows(_grid_rows(sheet, first_row, first_col), scan)


def _grid_rows(sheet: Any, first_row: int, first_col: int) -> Iterator[tuple[int, list[Any]]]:
    """calamine's rows of its loaded grid, numbered and placed from column A."""
    pad: list[Any] = [None] * first_col
    for i, values in enumerate(sheet.iter_rows()):
        yield first_row + i + 1, [*pad, *values] if pad else values


def _rows(raw: Iterator[tuple[int, list[Any]]], scan: SheetScan) -> Iterator[tuple[int, list[Cell]]]:
    """The library's rows as the importer's cells, whichever library read them: values normalised
    (`_cell`), trailing empty cells dropped, the scan's unknown cells put in their places. A row
    holding nothing but such cells lies outside the library's range (it reads them as empty) and is
    yielded too; rows without any cell are not."""
    unknown = scan.unevaluated
    only_unknown = sorted(unknown)
    for row_no, values in raw:
        while only_unknown and only_unknown[0] < row_no:
            yield _with_unknown(only_unknown.pop(0), [], unknown)
        if only_unknown and only_unknown[0] == row_no:
            only_unknown.pop(0)
        cells = [_cell(v) for v in values]
        if row_no in unknown:
            _with_unknown(row_no, cells, unknown)
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            yield row_no, cells
    for row_no in only_unknown:
        yield _with_unknown(row_no, [], unknown)


def _with_unknown(row_no: int, cells: list[Cell], unknown: dict[int, dict[int, Any]]) -> tuple[int, list[Cell]]:
    for col, cell in unknown[row_no].items():
        if col > len(cells):
            cells.extend([None] * (col - len(cells)))
        cells[col - 1] = cell
    return row_no, cells


__all__ = ["FORMATS", "open_sheet"]
