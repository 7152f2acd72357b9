"""Identity: one 文书号 written with other brackets, full-width characters or spaces is one record, in
a re-export, inside one file, and for records already in a database (migration 0005)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from db import migrate
from db.importers import samples as S
from db.models import CreditRecord, RecordChange, Upload
from db.session import Database
from rules.canonical import canonical_key
from services.imports import import_file
from tests.dbscan import clear_id_numbers
from tests.test_migrations import fresh_db  # noqa: F401 - fixture

TODAY = dt.date(2025, 6, 30)
# How the same numbers come back from other systems and hands (written out, not computed).
VARIANTS = {
    "安市监罚〔2025〕1号": "安市监罚[2025]1号",
    "安市监罚〔2025〕2号": "安市监罚（2025）2号",
    "安市监罚〔2025〕3号": "安市监罚【2025】3号",
    "安市监罚〔2025〕4号": "安市监罚［２０２５］４号",
    "安市监罚〔2025〕5号": " 安市监罚 (2025) 5 号",
}


def test_canonical_form() -> None:
    for original, variant in VARIANTS.items():
        assert canonical_key(variant) == canonical_key(original) == original
    assert canonical_key("安康市　市场监督管理局") == "安康市市场监督管理局"
    assert canonical_key("安市监罚〔2025〕1号") != canonical_key("安市监罚〔2025〕11号")


def rows(docs: list[str]) -> list[dict[str, str]]:
    out = []
    for i, doc in enumerate(docs, start=1):
        row = S.penalty_row(i, decision=dt.date(2025, 3, 3))
        row["行政处罚决定书文号"] = doc
        out.append(row)
    return out


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_reexport_with_other_brackets_changes_nothing(db: Database, tmp_path: Path, fmt: str) -> None:
    headers = S.HEADERS[("penalty", "2021")]
    writer = S.write_xlsx if fmt == "xlsx" else S.write_csv
    first = writer(tmp_path / f"a.{fmt}", headers, rows(list(VARIANTS)))
    again = writer(tmp_path / f"b.{fmt}", headers, rows(list(VARIANTS.values())))
    one = await import_file(db, first, id_key="k", today=TODAY)
    two = await import_file(db, again, id_key="k", today=TODAY)
    assert one.written and one.new == 5
    assert two.ok and (two.new, two.updating, two.unchanged) == (0, 0, 5)
    async with db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(CreditRecord)) == 5
        shown = set((await s.scalars(select(CreditRecord.doc_number))).all())
    assert shown == set(VARIANTS)  # the number as first written is what cards show


async def test_one_file_with_both_forms_is_refused(db: Database, tmp_path: Path) -> None:
    docs = ["安市监罚〔2025〕7号", "安市监罚〔2025〕8号", "安市监罚(2025)7号"]
    path = S.write_csv(tmp_path / "dup.csv", S.HEADERS[("penalty", "2021")], rows(docs))
    report = await import_file(db, path, id_key="k", today=TODAY)
    assert not report.written and report.error_count == 1
    error = report.errors[0]
    assert error.row == 4 and "与第 2 行重复" in error.reason and "视为同一文书号" in error.reason


async def test_migration_merges_existing_duplicates_and_scrubs_uploads(fresh_db: Database, tmp_path: Path) -> None:  # noqa: F811
    db = fresh_db
    await migrate.upgrade(db)
    path = S.write_csv(tmp_path / "a.csv", S.HEADERS[("penalty", "2021")], rows(list(VARIANTS)))
    assert (await import_file(db, path, id_key="k", today=TODAY)).written
    await migrate.downgrade(db, "0004")

    # Before 0005 a re-export with other brackets was stored again: make those duplicates by hand,
    # with a correction-history row on one of them, and leave a raw upload with a clear ID number.
    raw_id = S.ric(3)
    async with db.engine.begin() as conn:
        cols = [c["name"] for c in await conn.run_sync(lambda c: inspect(c).get_columns("credit_records"))]
        rest = [c for c in cols if c not in ("id", "doc_number")]
        for original, variant in VARIANTS.items():
            await conn.execute(
                text(
                    f"INSERT INTO credit_records (doc_number, {', '.join(rest)}) "
                    f"SELECT :variant, {', '.join(rest)} FROM credit_records WHERE doc_number = :original"
                ),
                {"variant": variant, "original": original},
            )
        dup_id = (await conn.execute(text("SELECT id FROM credit_records WHERE doc_number = :d"), {"d": "安市监罚[2025]1号"})).scalar()
        await conn.execute(
            text("INSERT INTO record_changes (record_id, changed_at, source_file, changes) VALUES (:r, :t, 'b.csv', :c)"),
            {"r": dup_id, "t": dt.datetime(2025, 5, 1), "c": json.dumps({"title": ["旧", "新"]})},
        )
        account = (await conn.execute(text(
            "INSERT INTO accounts (role, active, created_at, display_name) VALUES ('collector', true, :t, 'x') RETURNING id"
        ), {"t": dt.datetime(2025, 5, 1)})).scalar()
        dept = (await conn.execute(text("SELECT id FROM departments LIMIT 1"))).scalar()
        if dept is None:
            dept = (await conn.execute(text(
                "INSERT INTO departments (code, name, division_code) VALUES ('T', '测试局', '610900') RETURNING id"
            ))).scalar()
        for status in ("pending", "confirmed"):
            await conn.execute(
                text(
                    "INSERT INTO uploads (id, account_id, department_id, file_name, content, status, rows_read, new, "
                    "updating, error_count, categories, created_at) VALUES (:id, :a, :d, 'f.csv', :c, :s, 1, 1, 0, 0, "
                    "'{}', :t)"
                ),
                {"id": status.ljust(32, "0"), "a": account, "d": dept, "c": f"张三,{raw_id}\n".encode(), "s": status,
                 "t": dt.datetime(2025, 5, 1)},
            )
        assert (await conn.execute(text("SELECT COUNT(*) FROM credit_records"))).scalar() == 10

    await migrate.upgrade(db)
    async with db.transaction() as s:
        records = (await s.scalars(select(CreditRecord).order_by(CreditRecord.id))).all()
        assert [r.doc_number for r in records] == list(VARIANTS)  # the first-reported form survives
        assert all(r.doc_key == r.doc_number for r in records)
        history = (await s.scalars(select(RecordChange).order_by(RecordChange.id))).all()
        uploads = {u.id[:7]: u for u in (await s.scalars(select(Upload))).all()}
    moved = [h for h in history if h.changes == {"title": ["旧", "新"]}]
    assert len(moved) == 1 and moved[0].record_id == records[0].id  # history follows the survivor
    merged = [h for h in history if "merged_duplicate" in h.changes]
    assert len(merged) == 5 and all(h.changed_at.year >= 2026 for h in merged)
    assert {h.changes["merged_duplicate"][1]["doc_number"] for h in merged} == set(VARIANTS.values())
    assert uploads["pending"].status == "expired" and uploads["confirm"].status == "confirmed"
    assert all(u.content is None for u in uploads.values())
    assert await clear_id_numbers(db) == []


async def test_department_code_and_source_name_compare_canonically(db: Database, tmp_path: Path) -> None:
    from db.models import Department

    async with db.transaction() as s:
        s.add(Department(code="SCJG", name="安康市市场监督管理局", division_code="610900", uscc=None))
    typed = rows(["安市监罚〔2025〕21号"])
    for r in typed:  # a file without the unit's USCC: the unit's *name* is the source key
        r["数据来源单位统一社会信用代码"] = r["处罚机关统一社会信用代码"] = ""
    first = S.write_csv(tmp_path / "a.csv", S.HEADERS[("penalty", "2021")], typed)
    for r in typed:
        r["数据来源单位"] = r["处罚机关"] = "安康市 市场监督管理局"
    second = S.write_csv(tmp_path / "b.csv", S.HEADERS[("penalty", "2021")], typed)
    one = await import_file(db, first, id_key="k", today=TODAY, dept_code="ｓｃｊｇ")
    two = await import_file(db, second, id_key="k", today=TODAY, dept_code=" SCJG ")
    assert one.written and one.new == 1, one.fatal
    # The same record (no second one); the unit's name as written changed, which is a correction.
    assert two.ok and (two.new, two.updating) == (0, 1)
    async with db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(CreditRecord)) == 1
