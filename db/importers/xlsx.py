"""A streaming XLSX reader that uses the cells' types and refuses hostile files before parsing them.

Why not openpyxl's read-only mode: with `data_only=True` a formula cell without a cached value reads
as empty (indistinguishable from a blank cell), it loads every shared string into memory before the
first row (the 400 MB zip bomb), and it pads every row to the declared dimension (1,000,000 columns).
Here:

- the archive's declared sizes and compression ratios are checked before anything is decompressed
  (limits.py), and the sheet's <dimension> before its first row;
- shared strings stay in memory up to a budget, the rest spills to a temporary file;
- a formula without a cached value is an `Unevaluated` cell (the importer refuses it with a row
  error), an error value (#N/A) likewise; a number cell in a date format becomes a datetime;
- every failure is a ReadError with one Chinese sentence, never an exception name.

Shapes: rows are (row number as Excel shows it, list of cells), cells being str, int, float,
datetime, Unevaluated or None; rows without any cell are not yielded.
"""

from __future__ import annotations

import array
import datetime as dt
import posixpath
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from db.importers import limits
from db.importers.reading import ReadError, Unevaluated

_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Built-in number formats that are dates: the international ones (14-22, 45-47) and those Excel
# and WPS use in Chinese locales (27-36, 50-58).
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])
CORRUPT = "Excel 文件已损坏或不完整，请在 Excel 或 WPS 中打开并另存为 .xlsx 后重试"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


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


@dataclass
class _Parts:
    sheets: list[tuple[str, str]]  # (name, part path)
    shared_strings: str | None
    styles: str | None


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type suffix, absolute part path) for `part`."""
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    if rels_path not in zf.NameToInfo:
        return {}
    out = {}
    for rel in ET.fromstring(zf.read(rels_path)):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
    return out


def _parts(zf: zipfile.ZipFile) -> _Parts:
    workbook = next((p for t, p in _rels(zf, ".rels").values() if t == "officeDocument"), "xl/workbook.xml")
    if workbook not in zf.NameToInfo:
        raise ReadError("文件不是有效的 Excel 工作簿（缺少 workbook 部件），请另存为 .xlsx 后重试")
    rels = _rels(zf, workbook)
    sheets = []
    for el in ET.fromstring(zf.read(workbook)).iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
            if rid in rels:
                sheets.append((el.get("name", ""), rels[rid][1]))
    by_type = {t: p for t, p in rels.values()}
    return _Parts(sheets, by_type.get("sharedStrings"), by_type.get("styles"))


class SharedStrings:
    """Index → text. Up to a budget in memory, the rest in a temporary file (offsets in an array)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._memory: list[str] = []
        self._chars = 0
        self._spill: IO[bytes] | None = None
        self._offsets = array.array("Q")
        self._lookup = lru_cache(maxsize=65_536)(self._from_disk)
        context = ET.iterparse(stream, events=("start", "end"))
        root = None
        for event, el in context:
            if root is None:
                root = el
                continue
            if event == "end" and _local(el.tag) == "si":
                self._add(_unescape("".join(_si_text(el))))
                root.clear()

    def _add(self, text: str) -> None:
        if (
            self._spill is None
            and self._chars + len(text) <= limits.SHARED_STRINGS_IN_MEMORY
            and len(self._memory) < limits.SHARED_STRINGS_IN_MEMORY_COUNT
        ):
            self._memory.append(text)
            self._chars += len(text)
            return
        if self._spill is None:
            self._spill = tempfile.TemporaryFile(prefix="creditbot-sst-")  # noqa: SIM115 - closed by close()
            self._offsets.append(0)
        data = text.encode("utf-8")
        self._spill.write(data)
        self._offsets.append(self._offsets[-1] + len(data))

    def _from_disk(self, i: int) -> str:
        assert self._spill is not None
        start, end = self._offsets[i], self._offsets[i + 1]
        self._spill.seek(start)
        return self._spill.read(end - start).decode("utf-8")

    def __getitem__(self, i: int) -> str:
        if i < len(self._memory):
            return self._memory[i]
        j = i - len(self._memory)
        if self._spill is None or j >= len(self._offsets) - 1:
            raise IndexError(i)
        return self._lookup(j)

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()


def _si_text(si: ET.Element) -> Iterator[str]:
    for child in si:
        name = _local(child.tag)
        if name == "t":
            yield child.text or ""
        elif name == "r":  # rich text runs; phonetic guides (rPh) are not part of the value
            for t in child:
                if _local(t.tag) == "t":
                    yield t.text or ""


def _date_styles(zf: zipfile.ZipFile, part: str | None) -> frozenset[int]:
    """Indexes of cellXfs whose number format is a date."""
    if not part or part not in zf.NameToInfo:
        return frozenset()
    from openpyxl.styles.numbers import is_date_format

    root = ET.fromstring(zf.read(part))
    custom: dict[int, str] = {}
    xfs: list[int] = []
    for el in root:
        name = _local(el.tag)
        if name == "numFmts":
            for fmt in el:
                custom[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
        elif name == "cellXfs":
            xfs = [int(xf.get("numFmtId", "0")) for xf in el]
    dates = set()
    for i, fmt_id in enumerate(xfs):
        code = custom.get(fmt_id)
        if (code is not None and is_date_format(code)) or (code is None and fmt_id in _DATE_FORMAT_IDS):
            dates.add(i)
    return frozenset(dates)


def _dimension_limits(ref: str, sheet: str) -> int | None:
    """Refuse a declared range beyond the limits; returns its last row (None if not declared)."""
    last = ref.split(":")[-1].upper().replace("$", "")
    m = _CELL_REF.match(last)
    if not m:
        return None
    cols, rows = column_index(m.group(1)), int(m.group(2))
    if rows > limits.MAX_ROWS:
        raise ReadError(
            f"工作表“{sheet}”的数据范围到第 {rows} 行，超过 {limits.MAX_ROWS} 行上限：请删除多余的空行，或拆分为多个文件"
        )
    if cols > limits.MAX_COLUMNS:
        raise ReadError(
            f"工作表“{sheet}”的数据范围到第 {cols} 列，超过 {limits.MAX_COLUMNS} 列上限：请删除多余的列后重试"
        )
    return rows


def _number(text: str, date_style: bool) -> Any:
    value = float(text)
    if date_style:
        from openpyxl.utils.datetime import from_excel

        try:
            return from_excel(value)
        except (ValueError, OverflowError):
            return value
    if value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _cell_value(c: ET.Element, strings: SharedStrings | None, dates: frozenset[int]) -> Any:
    t = c.get("t", "n")
    formula = v = None
    inline: list[str] = []
    for child in c:
        name = _local(child.tag)
        if name == "v":
            v = child.text
        elif name == "f":
            formula = child.text or ""
        elif name == "is":
            inline.extend(_si_text(child))
    if t == "inlineStr":
        return _unescape("".join(inline))
    if v is None or (v == "" and t != "str"):
        return Unevaluated("=" + formula if formula else "=") if formula is not None else None
    if t == "s":
        if strings is None:
            raise ReadError(CORRUPT)
        return strings[int(v)]
    if t == "str":
        return _unescape(v)
    if t == "b":
        return str(v.strip() in ("1", "true"))
    if t == "e":
        return Unevaluated(v)
    if t == "d":
        return dt.datetime.fromisoformat(v)
    return _number(v, int(c.get("s", "0")) in dates)


def _sheet_rows(
    zf: zipfile.ZipFile, part: str, sheet: str, strings: SharedStrings | None, dates: frozenset[int]
) -> Iterator[tuple[int, list[Any]]]:
    row_no = 0
    parent: ET.Element | None = None
    with zf.open(part) as stream:
        for event, el in ET.iterparse(stream, events=("start", "end")):
            name = _local(el.tag)
            if event == "start":
                if name == "dimension":
                    _dimension_limits(el.get("ref", ""), sheet)
                elif name == "sheetData":
                    parent = el
                continue
            if name != "row":
                continue
            row_no = int(el.get("r") or row_no + 1)
            if row_no > limits.MAX_ROWS:
                raise ReadError(f"工作表“{sheet}”超过 {limits.MAX_ROWS} 行上限，请拆分为多个文件后分别导入")
            cells: list[Any] = []
            for c in el:
                if _local(c.tag) != "c":
                    continue
                ref = c.get("r")
                col = len(cells) + 1
                if ref:
                    m = _CELL_REF.match(ref)
                    if m:
                        col = column_index(m.group(1))
                if col > limits.MAX_COLUMNS:
                    raise ReadError(
                        f"工作表“{sheet}”第 {row_no} 行在第 {col} 列有内容，超过 {limits.MAX_COLUMNS} 列上限：请删除多余的列后重试"
                    )
                value = _cell_value(c, strings, dates)
                if value is None:
                    continue
                if col > len(cells):
                    cells.extend([None] * (col - len(cells)))
                cells[col - 1] = value
            if parent is not None:
                parent.clear()
            if cells:
                yield row_no, cells


def dimension_rows(path: Path) -> int | None:
    """The first sheet's declared last row, read without parsing any row (a progress hint)."""
    with zipfile.ZipFile(path) as zf:
        check_archive(zf)
        parts = _parts(zf)
        if not parts.sheets:
            return None
        with zf.open(parts.sheets[0][1]) as stream:
            for _event, el in ET.iterparse(stream, events=("start",)):
                name = _local(el.tag)
                if name == "dimension":
                    return _dimension_limits(el.get("ref", ""), parts.sheets[0][0])
                if name == "sheetData":
                    return None
    return None


def open_sheet(path: Path, sheet_names: tuple[str, ...] = ()) -> tuple[str, Iterator[tuple[int, list[Any]]]]:
    """(chosen sheet name, rows). The first sheet, unless one is named after a template (departments
    often put notes on sheet 1). Raises ReadError; the rows iterator raises ReadError too."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ReadError(CORRUPT) from None
    try:
        check_archive(zf)
        parts = _parts(zf)
        if not parts.sheets:
            raise ReadError("Excel 文件中没有工作表")
        chosen = parts.sheets[0]
        for wanted in sheet_names:
            match = next((s for s in parts.sheets if wanted and wanted in s[0].strip()), None)
            if match:
                chosen = match
                break
        if chosen[1] not in zf.NameToInfo:
            raise ReadError(f"Excel 文件缺少工作表“{chosen[0]}”的内容，请另存为 .xlsx 后重试")
        dates = _date_styles(zf, parts.styles)
        strings = None
        if parts.shared_strings and parts.shared_strings in zf.NameToInfo:
            with zf.open(parts.shared_strings) as stream:
                strings = SharedStrings(stream)
    except ReadError:
        zf.close()
        raise
    except (zipfile.BadZipFile, ET.ParseError, KeyError, ValueError, EOFError, OSError, zlib.error):
        zf.close()
        raise ReadError(CORRUPT) from None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        last = 0
        try:
            for item in _sheet_rows(zf, chosen[1], chosen[0], strings, dates):
                last = item[0]
                yield item
        except ReadError:
            raise
        except (zipfile.BadZipFile, ET.ParseError, KeyError, IndexError, ValueError, EOFError, OSError, zlib.error):
            raise ReadError(
                f"Excel 文件已损坏：工作表“{chosen[0]}”的内容在第 {last + 1} 行附近不完整，请重新导出或另存为 .xlsx 后重试"
            ) from None
        finally:
            if strings is not None:
                strings.close()
            zf.close()

    return chosen[0], rows()


__all__ = ["SharedStrings", "check_archive", "column_index", "dimension_rows", "open_sheet"]
