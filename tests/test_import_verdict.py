"""One verdict: the check a collector sees (`--dry-run`, the chat's check before 确认导入) names every
row the import would refuse, and refuses exactly those. Also amounts (finite decimals only) and header
columns that repeat each other."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from db.importers import samples as S
from db.models import CreditRecord, Subject
from db.session import Database
from services.imports import ImportReport, format_report, import_file

TODAY = dt.date(2026, 6, 30)
HEADERS = S.HEADERS[("penalty", "2021")]
USCC = "行政相对人代码_1（统一社会信用代码）"


def row(i: int, **cells: str) -> dict[str, str]:
    out = S.penalty_row(i, decision=dt.date(2026, 3, 2), person_every=0)
    out.update(cells)
    return out


def verdict(report: ImportReport) -> list[tuple[int, str | None, str]]:
    return [(e.row, e.column, e.reason) for e in report.errors]


async def count(db: Database) -> tuple[int, int]:
    async with db.transaction() as s:
        return (await s.scalar(select(func.count()).select_from(Subject)) or 0,
                await s.scalar(select(func.count()).select_from(CreditRecord)) or 0)


async def test_new_names_sharing_one_new_code_are_named_by_the_check(db: Database, tmp_path: Path) -> None:
    code = S.uscc(90001)
    rows = [row(1), row(2, **{USCC: code}), row(3, **{USCC: code}, 行政相对人名称="安康市另一家商贸有限公司"),
            row(4, **{USCC: code}, 行政相对人名称="安康市第三家建材有限公司"), row(5, **{USCC: code})]
    rows[4]["行政相对人名称"] = rows[1]["行政相对人名称"]  # the same name again: fits
    path = S.write_csv(tmp_path / "shared.csv", HEADERS, rows)
    for batch in (1000, 2):  # within one batch and across batches
        checked = await import_file(db, path, id_key="k", today=TODAY, dry_run=True, batch_size=batch)
        imported = await import_file(db, path, id_key="k", today=TODAY, batch_size=batch)
        assert [(r, c) for r, c, _ in verdict(checked)] == [(4, "行政相对人名称"), (5, "行政相对人名称")]
        assert "第 3 行对应另一名称" in checked.errors[0].reason
        assert verdict(imported) == verdict(checked) and not imported.written
        assert "检查通过" not in format_report(checked)
    assert await count(db) == (0, 0)


async def test_the_same_verdict_after_an_earlier_invalid_row(db: Database, tmp_path: Path) -> None:
    """The import stops writing at the first invalid row; its later rows are still held to the names."""
    code = S.uscc(90002)
    rows = [row(1, 处罚决定日期="2026-02-30"), row(2, **{USCC: code}),
            row(3, **{USCC: code}, 行政相对人名称="安康市另一家商贸有限公司")]
    path = S.write_csv(tmp_path / "late.csv", HEADERS, rows)
    checked = await import_file(db, path, id_key="k", today=TODAY, dry_run=True, batch_size=1)
    imported = await import_file(db, path, id_key="k", today=TODAY, batch_size=1)
    assert [r for r, _, _ in verdict(checked)] == [2, 4]
    assert verdict(imported) == verdict(checked)


async def test_a_checked_file_imports(db: Database, tmp_path: Path) -> None:
    rows = [row(i) for i in range(1, 6)]
    path = S.write_csv(tmp_path / "ok.csv", HEADERS, rows)
    checked = await import_file(db, path, id_key="k", today=TODAY, dry_run=True, batch_size=2)
    imported = await import_file(db, path, id_key="k", today=TODAY, batch_size=2)
    assert checked.ok and imported.written
    assert (checked.new, checked.subjects_created) == (imported.new, imported.subjects_created) == (5, 5)


async def test_amounts_are_finite_decimals(db: Database, tmp_path: Path) -> None:
    fine = "罚款金额（万元）"
    bad = ["inf", "Infinity", "1e400", "１e400", "NaN", "-1", "-inf", "0x10"]
    rows = [row(i, **{fine: text}) for i, text in enumerate(bad, start=1)]
    rows.append(row(len(bad) + 1, **{fine: "１２.５"}))  # full-width digits, as typed with a Chinese IME
    path = S.write_csv(tmp_path / "amounts.csv", HEADERS, rows)
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert report.fatal is None and not report.written
    assert [(e.row, e.column) for e in report.errors] == [(i + 1, fine) for i in range(1, len(bad) + 1)]
    for e, text in zip(report.errors, bad, strict=True):
        assert f"“{text}”" in e.reason, e.reason
    assert "超出可表示的范围" in report.errors[2].reason and "负数" in report.errors[5].reason
    assert "应为数字" in report.errors[4].reason  # NaN is not a number here, not a "negative amount"
    assert await count(db) == (0, 0)
    ok = await import_file(db, S.write_csv(tmp_path / "ok.csv", HEADERS, rows[-1:]), id_key="k", today=TODAY)
    assert ok.written
    async with db.transaction() as s:
        fields = await s.scalar(select(CreditRecord.fields))
    assert fields[fine] == 12.5


async def test_columns_repeating_another_are_called_duplicates(db: Database, tmp_path: Path) -> None:
    headers = [*HEADERS, "罚款金额(万元)", "行政相对人名称 "]
    rows = [row(1), row(2)]
    for r in rows:
        r["罚款金额(万元)"], r["行政相对人名称 "] = r["罚款金额（万元）"], r["行政相对人名称"]
    path = tmp_path / "dup.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerows([r.get(h, "") for h in headers] for r in rows)
    report = await import_file(db, path, id_key="k", today=TODAY, dry_run=True)
    assert report.ok and report.ignored_columns == []
    assert report.duplicate_columns == [("罚款金额(万元)", "罚款金额（万元）"), ("行政相对人名称", "行政相对人名称")]
    text = format_report(report)
    assert "重复的列" in text and "未识别" not in text

    rows[1]["罚款金额(万元)"] = "9"  # the repeated column says something else: which one is meant?
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerows([r.get(h, "") for h in headers] for r in rows)
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert [(e.row, e.column) for e in report.errors] == [(3, "罚款金额(万元)")]
    assert "重复的列" in report.errors[0].reason and not report.written
