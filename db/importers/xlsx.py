"""The guards in front of the spreadsheet library for OOXML packages (.xlsx) and OpenDocument (.ods).

python-calamine (spreadsheet.py) or, for big sheets, openpyxl's read-only mode (xlsx_stream.py) reads
the cells. calamine loads a whole sheet into a dense grid (rows × last column, about 70 bytes a cell
with its text); both keep every shared string in memory, and neither tells a formula without a saved
result, or an error value (#N/A), from a value. So before either sees a file:

- the archive's declared sizes and compression ratios are checked from the central directory, before
  anything is decompressed (limits.py: the 410 KB file whose shared strings expand to 400 MB);
- the chosen sheet's XML is scanned once as bytes (regular expressions, no XML tree): its declared
  <dimension>, the real last row and last column (a declared dimension can lie), the grid's cell count
  (what calamine would allocate: it picks the reader), and the cells holding a formula without a saved value or an error
  value, which the reader then hands on as `Unevaluated` so the importer refuses them with a row
  error instead of importing an empty cell;
- a sheet whose XML stops in the middle (an interrupted export) is named with the row where it stops.

Part names are looked up case-insensitively (`xl/SharedStrings.xml` is the same part as
`xl/sharedStrings.xml` in the format, and Excel opens both). Every failure is a ReadError with one
Chinese sentence.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as SafeET

from db.importers import limits
from db.importers.reading import ReadError, Unevaluated

CORRUPT = "Excel 文件已损坏或不完整，请在 Excel 或 WPS 中打开并另存为 .xlsx 后重试"
_CELL_REF = re.compile(r"^\$?([A-Z]{1,7})\$?(\d+)$")
# A row element and its content (cells), with or without a namespace prefix; `<row .../>` is empty.
_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_ROW = re.compile(rb"<" + _PREFIX + rb"row\b([^>]*?)(?:/>|>(.*?)</" + _PREFIX + rb"row>)", re.S)
_CELL = re.compile(rb"<" + _PREFIX + rb"c\b([^>]*?)(?:/>|>(.*?)</" + _PREFIX + rb"c>)", re.S)
_CELL_START = re.compile(rb"<" + _PREFIX + rb"c[\s/>]")
_R_ATTR = re.compile(rb'\sr="([^"]*)"')
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
_T_ATTR = re.compile(rb'\st="([^"]*)"')
_VALUE = re.compile(rb"<" + _PREFIX + rb"v(?:\s[^>]*)?>(.*?)</" + _PREFIX + rb"v>", re.S)
_FORMULA = re.compile(rb"<" + _PREFIX + rb"f[\s/>]")
_DIMENSION = re.compile(rb"<" + _PREFIX + rb'dimension\b[^>]*\sref="([^"]*)"')
_SHEET_DATA = re.compile(rb"<" + _PREFIX + rb"sheetData\b")
_SHEET_END = re.compile(rb"</" + _PREFIX + rb"sheetData>|<" + _PREFIX + rb"sheetData\s*/>")
_CHUNK = 4 * 1024 * 1024
# A row longer than this is not a spreadsheet row (256 cells of 32,767 characters are ~25 MB).
_MAX_ROW_BYTES = 64 * 1024 * 1024


def column_index(letters: str) -> int:
    """A → 1, Z → 26, AA → 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def check_archive(zf: zipfile.ZipFile) -> None:
    """Refuse zip bombs by the central directory alone, before decompressing a byte."""
    infos = zf.infolist()
    if len(infos) > limits.MAX_PARTS:
        raise ReadError(f"Excel 文件内部含有 {len(infos)} 个部件，超过上限，不是正常的表格文件")
    total = sum(i.file_size for i in infos)
    if total > limits.MAX_UNCOMPRESSED_BYTES:
        raise ReadError(
            f"Excel 文件解压后有 {total // (1024 * 1024)} MB，超过 {limits.MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB 上限，"
            "请拆分为多个文件后分别导入"
        )
    for info in infos:
        if info.file_size > limits.RATIO_CHECKED_ABOVE and info.file_size > limits.MAX_RATIO * max(info.compress_size, 1):
            raise ReadError(
                f"Excel 文件的压缩比异常（{info.file_size // max(info.compress_size, 1)} 倍），疑似恶意构造的文件，已拒绝"
            )


class _Package:
    """Part lookup by name, case-insensitively, as the format says."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self._names = {info.filename.lower(): info for info in zf.infolist()}

    def info(self, part: str) -> zipfile.ZipInfo | None:
        return self._names.get(part.lstrip("/").lower())

    def read(self, part: str) -> bytes | None:
        info = self.info(part)
        return self.zf.read(info) if info is not None else None

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type suffix, absolute part path) for `part`."""
        folder, name = posixpath.split(part)
        data = self.read(posixpath.join(folder, "_rels", name + ".rels"))
        if data is None:
            return {}
        out = {}
        for rel in SafeET.fromstring(data):
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
        return out

    def sheets(self) -> list[tuple[str, str]]:
        """(sheet name, part path) in workbook order."""
        workbook = next((p for t, p in self.rels("").values() if t == "officeDocument"), "xl/workbook.xml")
        data = self.read(workbook)
        if data is None:
            raise ReadError("文件不是有效的 Excel 工作簿（缺少 workbook 部件），请另存为 .xlsx 后重试")
        rels = self.rels(workbook)
        out = []
        for el in SafeET.fromstring(data).iter():
            if el.tag.rsplit("}", 1)[-1] == "sheet":
                rid = next((v for k, v in el.attrib.items() if k.rsplit("}", 1)[-1] == "id"), "")
                if rid in rels:
                    out.append((el.get("name", ""), rels[rid][1]))
        return out

    def shared_strings_size(self) -> int:
        for info in self._names.values():
            if posixpath.basename(info.filename).lower() == "sharedstrings.xml":
                return info.file_size
        return 0


@dataclass
class SheetScan:
    """What the scan of one sheet found: its last row and column, and the cells whose value is unknown."""

    last_row: int = 0
    last_column: int = 0
    unevaluated: dict[int, dict[int, Unevaluated]] = field(default_factory=dict)


def _limits(sheet: str, rows: int, cols: int, declared: bool) -> None:
    if rows > limits.MAX_ROWS:
        if declared:
            raise ReadError(
                f"工作表“{sheet}”的数据范围到第 {rows} 行，超过 {limits.MAX_ROWS} 行上限：请删除多余的空行，或拆分为多个文件"
            )
        raise ReadError(f"工作表“{sheet}”超过 {limits.MAX_ROWS} 行上限，请拆分为多个文件后分别导入")
    if cols > limits.MAX_COLUMNS and declared:
        raise ReadError(
            f"工作表“{sheet}”的数据范围到第 {cols} 列，超过 {limits.MAX_COLUMNS} 列上限：请删除多余的列后重试"
        )
    if rows * cols > limits.MAX_CELLS:
        raise ReadError(
            f"工作表“{sheet}”的数据范围有 {rows} 行 × {cols} 列，超过 {limits.MAX_CELLS} 个单元格的上限："
            "请删除多余的行和列，或拆分为多个文件"
        )


def _dimension(ref: bytes, sheet: str) -> int | None:
    """Refuse a declared range beyond the limits; returns its last row (None if not declared)."""
    m = _CELL_REF.match(ref.decode("ascii", "replace").split(":")[-1].upper())
    if not m:
        return None
    rows, cols = int(m.group(2)), column_index(m.group(1))
    _limits(sheet, rows, cols, declared=True)
    return rows


def _cell_count(body: bytes) -> int:
    """Cell elements in a row's content (bytes.count runs at memory speed; prefixed tags are rare)."""
    n = body.count(b"<c ") + body.count(b"<c>") + body.count(b"<c/>")
    return n if n or b":c" not in body else len(_CELL_START.findall(body))


def _row_cells(body: bytes, row_no: int, sheet: str, scan: SheetScan) -> None:
    """Last column of one row; cells with a formula but no saved value, and error values.

    Cells are in column order (the format requires it), so the last cell's reference is the row's
    last column; cells without a reference count by position, as the library places them."""
    count = _cell_count(body)
    if not count:
        return
    last = count
    start = body.rfind(b"<c ")
    if start >= 0:
        ref = _R_ATTR.search(body, start, body.find(b">", start) + 1 or len(body))
        m = _CELL_REF.match(ref.group(1).decode("ascii", "replace")) if ref else None
        if m:
            last = max(last, column_index(m.group(1)))
    if last > limits.MAX_COLUMNS:
        raise ReadError(
            f"工作表“{sheet}”第 {row_no} 行在第 {last} 列有内容，超过 {limits.MAX_COLUMNS} 列上限：请删除多余的列后重试"
        )
    scan.last_column = max(scan.last_column, last)
    scan.last_row = row_no
    if _FORMULA.search(body) is None and b'"e"' not in body:
        return
    col = 0
    for cell in _CELL.finditer(body):
        attrs, content = cell.group(1), cell.group(2) or b""
        ref = _R_ATTR.search(attrs)
        m = _CELL_REF.match(ref.group(1).decode("ascii", "replace")) if ref else None
        col = column_index(m.group(1)) if m else col + 1
        kind = _T_ATTR.search(attrs)
        t = kind.group(1) if kind else b"n"
        value = _VALUE.search(content)
        if t == b"e":
            text = value.group(1).decode("utf-8", "replace") if value else "#VALUE!"
            scan.unevaluated.setdefault(row_no, {})[col] = Unevaluated(text)
        elif t != b"inlineStr" and _FORMULA.search(content) and (value is None or (not value.group(1) and t != b"str")):
            scan.unevaluated.setdefault(row_no, {})[col] = Unevaluated("=")


def scan_sheet(stream: zipfile.ZipExtFile, sheet: str) -> SheetScan:
    """One pass over a sheet's XML as bytes, in blocks: limits, real extent, unknown values (module
    docstring). Only complete rows are looked at; the rest of a block waits for the next one."""
    scan = SheetScan()
    buffer = b""
    started = False
    row_no = 0
    while True:
        chunk = stream.read(_CHUNK)
        buffer += chunk
        if not started:
            start = _SHEET_DATA.search(buffer)
            if start is None and chunk and len(buffer) < _MAX_ROW_BYTES:
                continue
            started = True
            dim = _DIMENSION.search(buffer, 0, start.start() if start else len(buffer))
            if dim:
                _dimension(dim.group(1), sheet)
            buffer = buffer[start.start():] if start else buffer
        end = _SHEET_END.search(buffer)
        if end is not None:
            cut = end.start()
        elif chunk:  # up to the last complete row: a </row>, or an empty <row .../>
            cut = max(buffer.rfind(b"row>") + 4, buffer.rfind(b"/>") + 2)
        else:
            cut = len(buffer)
        done = 0
        for m in _ROW.finditer(buffer, 0, cut):
            ref = _ROW_NUMBER.search(m.group(1))
            row_no = int(ref.group(1)) if ref else row_no + 1
            if row_no > limits.MAX_ROWS:
                raise ReadError(f"工作表“{sheet}”超过 {limits.MAX_ROWS} 行上限，请拆分为多个文件后分别导入")
            if m.group(2):
                _row_cells(m.group(2), row_no, sheet, scan)
            done = m.end()
        buffer = buffer[done:]
        if end is not None:
            break
        if not chunk:
            raise ReadError(
                f"Excel 文件已损坏：工作表“{sheet}”的内容在第 {row_no + 1} 行附近不完整，请重新导出或另存为 .xlsx 后重试"
            )
        if len(buffer) > _MAX_ROW_BYTES:
            raise ReadError(f"工作表“{sheet}”第 {row_no + 1} 行的内容过长，不是正常的表格，请检查文件后重试")
    _limits(sheet, max(scan.last_row, 1), max(scan.last_column, 1), declared=False)
    return scan


def guard_xlsx(path: Path, sheet_names: tuple[str, ...]) -> tuple[str, SheetScan]:
    """Checks an .xlsx before the library opens it; returns the chosen sheet's name and its scan.

    The first sheet, unless one is named after a template (departments often put notes on sheet 1)."""
    try:
        with zipfile.ZipFile(path) as zf:
            check_archive(zf)
            package = _Package(zf)
            if package.shared_strings_size() > limits.MAX_SHARED_STRINGS_BYTES:
                raise ReadError(
                    f"Excel 文件的文字内容解压后超过 {limits.MAX_SHARED_STRINGS_BYTES // (1024 * 1024)} MB，"
                    "请拆分为多个文件后分别导入"
                )
            sheets = package.sheets()
            if not sheets:
                raise ReadError("Excel 文件中没有工作表")
            name, part = choose(sheets, sheet_names)
            info = package.info(part)
            if info is None:
                raise ReadError(f"Excel 文件缺少工作表“{name}”的内容，请另存为 .xlsx 后重试")
            with zf.open(info) as stream:
                try:
                    return name, scan_sheet(stream, name)
                except (zipfile.BadZipFile, zlib.error, EOFError):
                    raise ReadError(
                        f"Excel 文件已损坏：工作表“{name}”的内容不完整，请重新导出或另存为 .xlsx 后重试"
                    ) from None
    except ReadError:
        raise
    except (zipfile.BadZipFile, SafeET.ParseError, KeyError, ValueError, EOFError, OSError, zlib.error):
        raise ReadError(CORRUPT) from None


def guard_ods(path: Path) -> None:
    """OpenDocument: the archive checks (its cells are bounded after loading, spreadsheet.py)."""
    try:
        with zipfile.ZipFile(path) as zf:
            check_archive(zf)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ReadError("表格文件已损坏或不完整，请另存为 .xlsx 后重试") from None


def is_ods(path: Path) -> bool:
    """An OpenDocument spreadsheet names its type in its first, stored part `mimetype`."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.NameToInfo.get("mimetype")
            return info is not None and info.file_size < 100 and b"opendocument.spreadsheet" in zf.read(info)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, zlib.error):
        return False


def choose(sheets: list[tuple[str, str]], wanted: tuple[str, ...]) -> tuple[str, str]:
    """The first sheet, unless one is named after a template."""
    for name in wanted:
        match = next((s for s in sheets if name and name in s[0].strip()), None)
        if match:
            return match
    return sheets[0]


def dimension_rows(path: Path) -> int | None:
    """The first sheet's declared last row, read without parsing any row (a progress hint)."""
    with zipfile.ZipFile(path) as zf:
        check_archive(zf)
        package = _Package(zf)
        sheets = package.sheets()
        info = package.info(sheets[0][1]) if sheets else None
        if info is None:
            return None
        with zf.open(info) as stream:
            head = stream.read(64 * 1024)
        end = _SHEET_DATA.search(head)
        dim = _DIMENSION.search(head, 0, end.start() if end else len(head))
        return _dimension(dim.group(1), sheets[0][0]) if dim else None


__all__ = ["CORRUPT", "SheetScan", "check_archive", "choose", "column_index", "dimension_rows", "guard_ods",
           "guard_xlsx", "is_ods", "scan_sheet"]
