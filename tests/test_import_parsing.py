"""Importer pieces that need no database: encodings, header matching, edition detection, dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from db.importers import samples as S
from db.importers.cells import parse_date
from db.importers.reading import ReadError, detect_encoding, open_table
from db.importers.templates import detect, header_keys


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("罚款金额(万元)", "fine"),
        (" 罚款金额（万元） ", "fine"),
        ("罚款金额", "fine"),
        ("*行政相对人代码_1（统一社会信用代码）", "uscc"),
        ("行政相对人代码1", "uscc"),
        ("处罚决定日期", "decision_date"),
        ("法定代表人姓名", "legal_rep"),
    ],
)
def test_headers_match_after_normalisation(header: str, expected: str) -> None:
    from db.importers.templates import PENALTY_2021

    hit = PENALTY_2021.lookup(header)
    assert hit is not None and hit[0] == expected


def test_header_keys_drop_brackets() -> None:
    assert header_keys("罚款金额（万元）") == ("罚款金额万元", "罚款金额")


@pytest.mark.parametrize(("kind", "edition"), list(S.HEADERS))
def test_detects_every_template(kind: str, edition: str | None) -> None:
    m = detect([(1, S.HEADERS[(kind, edition)])])
    assert m is not None and (m.template.kind, m.template.edition) == (kind, edition)
    assert not m.missing()


def test_legacy_code_columns_follow_the_edition() -> None:
    m16 = detect([(1, S.HEADERS[("penalty", "2016")])])
    m21 = detect([(1, S.HEADERS[("penalty", "2021")])])
    assert m16 and m21
    assert m16.positions["code_org"] == S.HEADERS[("penalty", "2016")].index("行政相对人代码_2")
    assert m16.positions["id_number"] == S.HEADERS[("penalty", "2016")].index("行政相对人代码_5")
    assert m21.positions["code_reg"] == S.HEADERS[("penalty", "2021")].index("行政相对人代码_2（工商注册号）")


def test_title_row_above_header_is_skipped() -> None:
    m = detect([(1, ["安康市行政处罚信息报送表", None]), (2, S.HEADERS[("license", "2021")])])
    assert m is not None and m.header_row == 2 and m.template.kind == "license"


def test_encoding_detection() -> None:
    text = "行政相对人名称,处罚决定日期\n安康市恒达建材有限公司,2025-01-02\n"
    assert detect_encoding(text.encode("gbk")) == "gb18030"
    assert detect_encoding(text.encode("gb18030")) == "gb18030"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding("\ufeff".encode() + text.encode()) == "utf-8-sig"
    with pytest.raises(ReadError):
        detect_encoding(b"\x00\x01\x02binary")


def test_gbk_rare_character_after_the_sample(tmp_path: Path) -> None:
    """Sniffed on the first block; a character outside GB2312 later on still decodes (GB18030)."""
    rows = [S.penalty_row(i) for i in range(1, 400)]
    rows[-1]["行政相对人名称"] = "安康市𠀀镕记商行"  # 𠀀 is GB18030-only
    path = S.write_csv(tmp_path / "big.csv", S.HEADERS[("penalty", "2021")], rows, "gb18030")
    table = open_table(path)
    last = list(table.rows)[-1]
    assert last[1][0] == "安康市𠀀镕记商行"


def test_xlsx_named_sheet_and_tab_separated(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表为填报说明"])
    ws = wb.create_sheet("行政许可")
    ws.append(S.HEADERS[("license", "2021")])
    wb.save(tmp_path / "upload")  # no suffix, as chat uploads arrive
    table = open_table(tmp_path / "upload", ("行政许可",))
    assert table.sheet == "行政许可"
    tsv = tmp_path / "x.txt"
    tsv.write_text("\t".join(S.HEADERS[("generic", None)]) + "\n", encoding="utf-8")
    assert next(open_table(tsv).rows)[1][:2] == ["信息类别", "主体名称"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-03", dt.date(2025, 3, 3)),
        ("2025/3/3", dt.date(2025, 3, 3)),
        ("2025.03.03", dt.date(2025, 3, 3)),
        ("2025年3月3日", dt.date(2025, 3, 3)),
        ("20250303", dt.date(2025, 3, 3)),
        ("2025-03-03 10:20:00", dt.date(2025, 3, 3)),
    ],
)
def test_dates(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(("text", "words"), [("2025-02-29", "不存在"), ("2025-13-01", "不存在"), ("三月三日", "无法识别"), ("1800-01-01", "不合理")])
def test_bad_dates(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_date(text)


def test_excel_serial_dates_only_from_xlsx() -> None:
    assert parse_date("45719", xlsx=True) == dt.date(2025, 3, 3)
    with pytest.raises(ValueError):
        parse_date("45719")
