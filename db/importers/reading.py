"""Readers for the files departments actually send: CSV in whatever encoding their system wrote
(streamed), and spreadsheets from Excel, WPS or LibreOffice (.xlsx, .xls, .ods: spreadsheet.py).

Files can be large (a year of a big bureau's penalties), so rows are yielded one at a time and
nothing holds the whole file. Encoding is decided once from the first block: a BOM is authoritative;
otherwise UTF-8 is tried strictly (GBK bytes almost never form valid UTF-8), then charset-normalizer
is asked, and any Chinese guess is widened to GB18030, the superset of GB2312 and GBK, so a rare
character later in the file does not break a file that was sniffed as GB2312.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.importers.limits import MAX_COLUMNS, MAX_ROWS

SAMPLE_BYTES = 64 * 1024
CHINESE_ENCODINGS = {"gb2312", "gbk", "gb18030", "hz", "cp936", "big5", "big5hkscs", "cp950"}
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .et

class ReadError(Exception):
    """The file cannot be read as a table at all; str() is the one Chinese line shown to the user."""


@dataclass(frozen=True)
class Unevaluated:
    """A spreadsheet cell holding a formula without a saved result (or an error value such as #N/A): its
    value is unknown, which is not the same as empty. The importer refuses such a cell in a used column."""

    formula: str


Cell = str | int | float | dt.date | dt.datetime | Unevaluated | None


@dataclass
class Table:
    """An opened table: its format facts and a one-shot iterator of (row number, cells)."""

    format: str  # csv | xlsx | xls | ods
    encoding: str | None
    sheet: str | None
    rows: Iterator[tuple[int, list[Cell]]]
    close: Any = None


def _decodes(sample: bytes, encoding: str, final: bool) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(sample, final=final)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def detect_encoding(sample: bytes, final: bool = False) -> str:
    """Encoding of a CSV from its first block; `final` says the sample is the whole file."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise ReadError("文件不是文本表格（含有二进制内容），请上传 CSV 或 XLSX 文件")
    if _decodes(sample, "utf-8", final):
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    guess = (best.encoding if best else "").lower().replace("-", "").replace("_", "")
    if not guess or guess in CHINESE_ENCODINGS or guess.startswith("gb"):
        if guess.startswith("big5") or guess == "cp950":
            return "big5"
        return "gb18030"
    # A Western guess for Chinese-template headers is almost always wrong; GB18030 decodes anything
    # a Chinese system exports, and the header check downstream rejects a wrong choice loudly.
    return "gb18030" if _decodes(sample, "gb18030", final) else guess


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[Cell]]]:
    with path.open(encoding=encoding, newline="", errors="strict") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        n = 0
        try:
            for n, row in enumerate(reader, start=1):
                if n > MAX_ROWS:
                    raise ReadError(f"文件超过 {MAX_ROWS} 行上限，请拆分为多个文件后分别导入")
                if len(row) > MAX_COLUMNS:
                    raise ReadError(f"第 {n} 行有 {len(row)} 列，超过 {MAX_COLUMNS} 列上限：请检查分隔符或删除多余的列后重试")
                yield n, row  # type: ignore[misc]
        except UnicodeDecodeError:
            raise ReadError(f"文件在第 {n + 1} 行附近含有无法按 {encoding} 解码的内容，请另存为 UTF-8 编码后重试") from None
        except csv.Error as exc:
            raise ReadError(csv_problem(str(exc), n + 1)) from None


def open_csv(path: Path) -> Table:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
        final = len(sample) < SAMPLE_BYTES
    if not sample.strip():
        raise ReadError("文件是空的")
    encoding = detect_encoding(sample, final)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=final)
    first_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return Table("csv", encoding, None, _csv_rows(path, encoding, _sniff_delimiter(first_line)))


def csv_problem(message: str, line: int) -> str:
    """The csv module's English errors as one Chinese sentence (it only ever raises these few)."""
    if "field larger than field limit" in message:
        return (
            f"第 {line} 行附近有一个单元格超过 {csv.field_size_limit()} 个字符（常见原因是引号不成对），"
            "请检查该行后重试"
        )
    if "NUL" in message or "null byte" in message:
        return f"第 {line} 行含有空字符（NUL），文件可能已损坏，请用 Excel 或 WPS 另存为 CSV 后重试"
    if "newline inside string" in message or "unexpected end of data" in message or "EOF" in message:
        return f"第 {line} 行附近的引号不成对，请检查该行后重试"
    return f"第 {line} 行附近的 CSV 格式有误，请用 Excel 或 WPS 另存为 CSV 后重试"


def open_spreadsheet(path: Path, fmt: str, sheet_names: tuple[str, ...] = ()) -> Table:
    """Type-aware and limit-checked (db/importers/spreadsheet.py, guards in db/importers/xlsx.py)."""
    from db.importers.spreadsheet import open_sheet

    chosen, rows = open_sheet(path, fmt, sheet_names)
    return Table(fmt, None, chosen, rows)


def open_table(path: Path, sheet_names: tuple[str, ...] = ()) -> Table:
    """Open by content, not by extension: chat uploads often arrive renamed or without a suffix."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise ReadError(f"找不到文件：{path.name}") from None
    except IsADirectoryError:
        raise ReadError(f"{path.name} 是一个目录，不是文件") from None
    except OSError as exc:
        raise ReadError(f"无法读取文件 {path.name}（没有读取权限或磁盘错误，错误码 {exc.errno}）") from None
    if not head:
        raise ReadError("文件是空的")
    if head.startswith(XLSX_MAGIC):
        from db.importers.xlsx import is_ods

        return open_spreadsheet(path, "ods" if is_ods(path) else "xlsx", sheet_names)
    if head.startswith(OLE_MAGIC):
        return open_spreadsheet(path, "xls", sheet_names)
    return open_csv(path)


def estimate_rows(path: Path) -> int | None:
    """Cheap row count for a progress bar: newline count for text, the sheet dimension for XLSX
    (none for .xls and .ods)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            if head.startswith(XLSX_MAGIC):
                from db.importers.xlsx import dimension_rows

                return dimension_rows(path)
            if head.startswith(OLE_MAGIC):
                return None
            fh.seek(0)
            count = 0
            for block in iter(lambda: fh.read(1 << 20), b""):
                count += block.count(b"\n")
            return max(count, 1)
    except Exception:  # only a progress hint: never let it fail an import
        return None


def cell_text(value: Cell) -> str:
    """Cell as stripped text (numbers without a spurious '.0', dates as ISO)."""
    if value is None or isinstance(value, Unevaluated):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


__all__ = ["Cell", "ReadError", "Table", "Unevaluated", "cell_text", "detect_encoding", "estimate_rows", "open_table"]
