"""Spreadsheets in the shapes real tools write them, read through every part of the importer.

Each file is written the way its tool does (expected values written down before running): Excel for
Mac's 1904 date system (openpyxl with the Mac epoch, as Excel saves it), an SAP-style export whose
cells carry no `r` reference and leave an empty cell in the middle, a package whose shared strings
part is `xl/SharedStrings.xml`, inline strings, an error value (#N/A), an Excel 97-2003 .xls (xlwt,
the library such exporting systems use), and a LibreOffice .ods (its minimal package, by hand).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
from sqlalchemy import select

from db.importers import hostile
from db.importers import samples as S
from db.models import CreditRecord, Subject
from db.session import Database
from services.imports import import_file

TODAY = dt.date(2026, 6, 30)
HEADERS = S.HEADERS[("penalty", "2021")]
DECISION = dt.date(2026, 3, 5)


def rows(n: int = 3) -> list[dict[str, str]]:
    return [S.penalty_row(i, decision=DECISION, person_every=0) for i in range(1, n + 1)]


async def stored(db: Database) -> list[tuple[str, str, dt.date, str | None]]:
    async with db.transaction() as s:
        got = await s.execute(
            select(Subject.name, CreditRecord.doc_number, CreditRecord.decision_date, CreditRecord.title)
            .join(Subject).order_by(CreditRecord.doc_number)
        )
        return sorted(tuple(r) for r in got.all())  # type: ignore[misc]


def expected(data: list[dict[str, str]]) -> list[tuple[str, str, dt.date, str | None]]:
    return sorted(
        (r["行政相对人名称"], r["行政处罚决定书文号"], DECISION, r["违法行为类型"]) for r in data
    )


def sheet_xml(data: list[dict[str, str]], refs: bool = True) -> list[str]:
    """Inline-string rows; without `refs` no cell has an `r` and empty cells are written as <c/>."""
    out = []
    for n, values in enumerate([list(HEADERS), *([r.get(h, "") for h in HEADERS] for r in data)], start=1):
        cells = []
        for i, v in enumerate(values, start=1):
            ref = f' r="{hostile._col(i)}{n}"' if refs else ""
            if v:
                cells.append(f'<c{ref} t="inlineStr"><is><t>{escape(v)}</t></is></c>')
            elif not refs:
                cells.append("<c/>")
        row_ref = f' r="{n}"' if refs else ""
        out.append(f"<row{row_ref}>{''.join(cells)}</row>")
    return [hostile._SHEET_HEAD, "<sheetData>", *out, "</sheetData></worksheet>"]


async def test_excel_for_mac_1904_dates_are_not_four_years_early(db: Database, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "行政处罚"
    ws.append(HEADERS)
    data = rows()
    for r in data:
        ws.append([DECISION if h == "处罚决定日期" else r[h] for h in HEADERS])
    path = tmp_path / "mac.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        assert b'date1904="1"' in zf.read("xl/workbook.xml")
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert report.written and report.new == 3, report.errors[:3]
    assert await stored(db) == expected(data)


async def test_cells_without_references_keep_their_columns(db: Database, tmp_path: Path) -> None:
    data = rows()
    for r in data:
        r["违法行为类型"] = ""  # an empty cell in the middle, written as <c/>
    path = hostile.write_package(tmp_path / "sap.xlsx", sheet_xml(data, refs=False))
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert report.written and report.new == 3, report.errors[:3]
    got = await stored(db)
    assert [(n, d, day) for n, d, day, _ in got] == [(n, d, day) for n, d, day, _ in expected(data)]


async def test_shared_strings_part_in_other_letter_case(db: Database, tmp_path: Path) -> None:
    data = rows()
    strings: list[str] = []
    body = []
    for n, values in enumerate([list(HEADERS), *([r.get(h, "") for h in HEADERS] for r in data)], start=1):
        cells = []
        for i, v in enumerate(values, start=1):
            if v:
                strings.append(v)
                cells.append(f'<c r="{hostile._col(i)}{n}" t="s"><v>{len(strings) - 1}</v></c>')
        body.append(f'<row r="{n}">{"".join(cells)}</row>')
    path = tmp_path / "case.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", hostile._CONTENT_TYPES.replace("/xl/sharedStrings.xml", "/xl/SharedStrings.xml"))
        zf.writestr("_rels/.rels", hostile._ROOT_RELS)
        zf.writestr("xl/workbook.xml", hostile._WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", hostile._WORKBOOK_RELS.replace("sharedStrings.xml", "SharedStrings.xml"))
        zf.writestr("xl/SharedStrings.xml", hostile._SST_HEAD + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
        zf.writestr("xl/worksheets/sheet1.xml", hostile._SHEET_HEAD + "<sheetData>" + "".join(body) + "</sheetData></worksheet>")
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert report.written and report.new == 3, report.fatal or report.errors[:3]
    assert await stored(db) == expected(data)


async def test_error_values_and_formula_only_rows_are_row_errors(db: Database, tmp_path: Path) -> None:
    data = rows(2)
    pieces = sheet_xml(data)
    na = '<c r="A2" t="e"><f>VLOOKUP(X1,Y:Z,2,0)</f><v>#N/A</v></c>'
    pieces[3] = pieces[3].replace(pieces[3][pieces[3].index('<c r="A2"'):pieces[3].index('<c r="B2"')], na)
    pieces.insert(-1, '<row r="9"><c r="K9"><f>TODAY()</f></c></row>')  # a formula never calculated
    report = await import_file(db, hostile.write_package(tmp_path / "e.xlsx", pieces), id_key="k", today=TODAY)
    assert not report.written
    reasons = {(e.row, e.column): e.reason for e in report.errors}
    assert "错误值 #N/A" in reasons[(2, "行政相对人名称")]
    assert any(row == 9 and "没有保存计算结果" in reason for (row, _), reason in reasons.items()), reasons


async def test_excel_97_2003_xls(db: Database, tmp_path: Path) -> None:
    import xlwt

    data = rows()
    data[1]["行政相对人名称"] = "\U00020bb7祥㙟商贸有限公司"  # Ext B and Ext A: UTF-16 in BIFF8
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("行政处罚")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for i, h in enumerate(HEADERS):
        sheet.write(0, i, h)
    for n, r in enumerate(data, start=1):
        for i, h in enumerate(HEADERS):
            if h == "处罚决定日期":
                sheet.write(n, i, DECISION, date_style)
            elif r.get(h):
                sheet.write(n, i, r[h])
    path = tmp_path / "wps.xls"
    book.save(str(path))
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert report.written and report.new == 3, report.fatal or report.errors[:3]
    assert await stored(db) == expected(data)


def _ods(path: Path, data: list[dict[str, str]]) -> Path:
    def cell(v: str) -> str:
        if not v:
            return "<table:table-cell/>"
        return f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p></table:table-cell>'

    body = "".join(
        "<table:table-row>" + "".join(cell(v) for v in values)
        + '<table:table-cell table:number-columns-repeated="1000"/></table:table-row>'
        for values in [list(HEADERS), *([r.get(h, "") for h in HEADERS] for r in data)]
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="行政处罚">' + body
        + '<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/>'
        "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


async def test_libreoffice_ods_with_its_trailing_repeated_empty_rows(db: Database, tmp_path: Path) -> None:
    data = rows()
    report = await import_file(db, _ods(tmp_path / "lo.ods", data), id_key="k", today=TODAY)
    assert report.written and report.new == 3, report.fatal or report.errors[:3]
    got = await stored(db)
    assert [(n, d) for n, d, _, _ in got] == [(n, d) for n, d, _, _ in expected(data)]


async def test_a_damaged_xls_gets_one_chinese_sentence(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "cut.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8)  # an OLE header, then noise
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert report.fatal is not None and "已损坏" in report.fatal and "Error" not in report.fatal
