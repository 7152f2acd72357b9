""".xlsx sheets read row by row with openpyxl's read-only mode, for sheets too large to load whole.

Why two libraries: python-calamine (spreadsheet.py) is the faster reader but its Python binding has
no streaming reader: it loads a sheet as a dense grid, about 2 KB a row of the 28-column national
template, so a 300,000-row file peaked at 643 MB. openpyxl's read-only mode parses the sheet's XML
incrementally (iterparse) and holds one row at a time; what stays in memory is the shared strings
table, bounded by limits.MAX_SHARED_STRINGS_BYTES before anything is decompressed.

What the files need from it, and how openpyxl covers it:
- the 1904 date system: the workbook's `date1904` sets `wb.epoch`, which read-only mode applies;
- cells without their `r` reference: the parser counts them by position, as calamine does;
- part names in other letter case: openpyxl looks parts up by the exact names in the package's
  relationships and [Content_Types].xml; the format says part names are case-insensitive
  (ECMA-376 Part 2, §9.1.1.1), so the archive it is given resolves them that way (`_AnyCaseZip`);
- characters Excel writes escaped (`_x000D_` for a carriage return in a cell): calamine unescapes
  them, openpyxl's reader leaves them, so they are unescaped here with openpyxl's own function;
- a declared <dimension> that lies: read-only mode stops at the declared last row and column, so
  the sheet is read with the extent the guard's scan measured (xlsx.SheetScan) instead, and
  openpyxl's own look for the dimension (a whole extra pass when there is none) is skipped.

Formulas without a saved value and error values are not this module's business: the scan found them
and spreadsheet.py puts them in their places, for both libraries alike.
"""

from __future__ import annotations

import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.escape import unescape
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from db.importers.reading import ReadError
from db.importers.xlsx import CORRUPT, SheetScan


class _AnyCaseZip(zipfile.ZipFile):
    """A ZIP archive whose member lookup ignores letter case, as OOXML part names do."""

    _lower: dict[str, zipfile.ZipInfo] | None = None

    def getinfo(self, name: str) -> zipfile.ZipInfo:
        try:
            return super().getinfo(name)
        except KeyError:
            if self._lower is None:
                self._lower = {info.filename.lower(): info for info in self.infolist()}
            info = self._lower.get(name.lower())
            if info is None:
                raise
            return info


class _AnyCaseNames(list[str]):
    """The archive's member names, where `in` ignores letter case (openpyxl skips a sheet whose part
    name it does not find among them)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self._lower = {n.lower() for n in names}

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (list.__contains__(self, name) or name.lower() in self._lower)


class _MeasuredSheet(ReadOnlyWorksheet):  # type: ignore[misc]
    """openpyxl's read-only sheet without its size pre-pass: looking for <dimension>, it parses the
    sheet to the end of <sheetData> when the element is missing (exporters and openpyxl's own
    write-only mode leave it out), a third of the reading time of a 20,000-row file. The guard's scan
    has measured the sheet already."""

    def _get_size(self) -> None:
        return None


def _sheet(fh: Any, sheet: str) -> tuple[Any, Any]:
    """(openpyxl's workbook in read-only, saved-values mode over `fh`, the sheet named `sheet` or None).

    load_workbook's steps that reading cells needs: the package manifest, the shared strings, the
    workbook (its 1904 flag), the styles (which number formats are dates); with the case-insensitive
    archive put in before anything is read, and only the chosen sheet made."""
    reader = ExcelReader(fh, read_only=True, data_only=True, keep_links=False)
    reader.archive = _AnyCaseZip(fh)
    reader.valid_files = _AnyCaseNames(reader.archive.namelist())
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    for found, rel in reader.parser.find_sheets():
        if found.name == sheet and "chartsheet" not in rel.Type and rel.target in reader.valid_files:
            return reader.wb, _MeasuredSheet(reader.wb, sheet, rel.target, reader.shared_strings)
    return reader.wb, None


def stream_rows(path: Path, sheet: str, scan: SheetScan) -> Iterator[tuple[int, list[Any]]]:
    """(row number as Excel shows it, the library's values) for rows 1 to the last one the scan saw,
    each row as wide as the widest one (empty rows included; spreadsheet.py drops them).

    Opens the file when iteration starts and closes it when iteration ends or is abandoned.
    Raises ReadError (one Chinese sentence) if openpyxl cannot read the package or the sheet."""
    fh = path.open("rb")
    wb = None
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "no default style", unsupported extensions: not the user's concern
                wb, ws = _sheet(fh, sheet)
        except Exception:  # the guard passed the package, so what remains is a part openpyxl cannot read
            raise ReadError(CORRUPT) from None
        if ws is None:
            raise ReadError(f"Excel 文件缺少工作表“{sheet}”的内容，请另存为 .xlsx 后重试")
        if not scan.last_row or not scan.last_column:
            return
        rows = ws.iter_rows(min_row=1, max_row=scan.last_row, min_col=1, max_col=scan.last_column, values_only=True)
        try:
            for row_no, values in enumerate(rows, start=1):
                yield row_no, [unescape(v) if isinstance(v, str) and "_x" in v else v for v in values]
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, IndexError):
            raise ReadError(f"Excel 文件已损坏：工作表“{sheet}”的内容不完整，请重新导出或另存为 .xlsx 后重试") from None
    finally:
        if wb is not None:
            wb.close()
        fh.close()


__all__ = ["stream_rows"]
