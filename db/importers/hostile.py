"""Files shaped like the broken and hostile ones that reach the importer, written part by part.

Used by the tests (small sizes) and by bench/importer.py (the issue's sizes). Every file is a valid
ZIP with a minimal, standard XLSX package around the sheet, so only the property under test is
unusual: a shared-strings part that expands 1,000-fold, a declared dimension of 1,048,575 rows or
1,000,000 columns, a truncated sheet.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

from db.importers import samples

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="行政处罚" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_SST_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
CHUNK = 1024 * 1024


def _col(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _inline_row(r: int, values: Iterable[str]) -> str:
    cells = "".join(
        f'<c r="{_col(i)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>' for i, v in enumerate(values, 1) if v
    )
    return f'<row r="{r}">{cells}</row>'


def _penalty_rows(n: int) -> Iterable[str]:
    headers = samples.HEADERS[("penalty", "2021")]
    yield _inline_row(1, headers)
    for i in range(1, n + 1):
        row = samples.penalty_row(i)
        yield _inline_row(i + 1, [row.get(h, "") for h in headers])


def write_package(
    path: Path, sheet: Iterable[str], shared_strings: Iterable[str] = ("<si><t>x</t></si>",),
    truncate_sheet_at: int | None = None,
) -> Path:
    """A minimal XLSX whose sheet and shared-strings XML are streamed from the given pieces."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            out.write(_SST_HEAD.encode())
            for piece in shared_strings:
                out.write(piece.encode())
            out.write(b"</sst>")
        data = "".join(sheet).encode()
        if truncate_sheet_at is not None:
            data = data[:truncate_sheet_at]
        zf.writestr("xl/worksheets/sheet1.xml", data)
    return path


def shared_strings_bomb(path: Path, expanded_bytes: int = 400 * CHUNK) -> Path:
    """A few hundred KB that expand to `expanded_bytes` of shared strings (the 410 KB / 400 MB file)."""
    block = "<si><t>" + "信" * 4000 + "</t></si>"
    count = expanded_bytes // len(block.encode())
    sheet = [_SHEET_HEAD, "<sheetData>", *_penalty_rows(3), "</sheetData></worksheet>"]
    return write_package(path, sheet, (block for _ in range(count)))


def huge_dimension(path: Path, rows: int = 1_048_575, columns: int = 1) -> Path:
    """A sheet that declares (and ends with a cell at) row `rows`, column `columns`."""
    last = f"{_col(columns)}{rows}"
    sheet = [
        _SHEET_HEAD, f'<dimension ref="A1:{last}"/>', "<sheetData>", *_penalty_rows(3),
        f'<row r="{rows}"><c r="{last}" t="inlineStr"><is><t>x</t></is></c></row>', "</sheetData></worksheet>",
    ]
    return write_package(path, sheet)


def empty_rows(path: Path, rows: int = 1_048_575) -> Path:
    """No dimension; `rows` row elements, all but the first few empty (a sheet 'formatted to the end')."""

    def sheet() -> Iterable[str]:
        yield _SHEET_HEAD + "<sheetData>"
        yield from _penalty_rows(3)
        for r in range(5, rows + 1):
            yield f'<row r="{r}"/>'
        yield "</sheetData></worksheet>"

    return write_package(path, sheet())


def wide_row(path: Path, column: int = 1_000_000) -> Path:
    """No dimension; one row has a cell at column `column`."""
    sheet = [
        _SHEET_HEAD, "<sheetData>", *_penalty_rows(3),
        f'<row r="5"><c r="{_col(column)}5" t="inlineStr"><is><t>x</t></is></c></row>', "</sheetData></worksheet>",
    ]
    return write_package(path, sheet)


def truncated_sheet(path: Path, rows: int = 50) -> Path:
    """A sheet whose XML stops in the middle (an interrupted export)."""
    sheet = [_SHEET_HEAD, "<sheetData>", *_penalty_rows(rows), "</sheetData></worksheet>"]
    full = len("".join(sheet).encode())
    return write_package(path, sheet, truncate_sheet_at=full * 2 // 3)


def long_csv_field(path: Path, chars: int = 200 * 1024) -> Path:
    """A CSV whose third row has one field of `chars` characters inside an unclosed quote."""
    headers = samples.HEADERS[("penalty", "2021")]
    rows = [samples.penalty_row(i) for i in range(1, 3)]
    samples.write_csv(path, headers, rows)
    with path.open("a", encoding="utf-8") as fh:
        fh.write('"' + "长" * chars + "\n")
    return path


__all__ = [
    "empty_rows", "huge_dimension", "long_csv_field", "shared_strings_bomb", "truncated_sheet", "wide_row",
    "write_package",
]
