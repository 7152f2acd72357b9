"""An import run for a department files only that department's records (review finding: a collector
or API key could rewrite and take over another department's records, or publish under its name).

Two departments of the shipped region's shape; hand-written rows of the 2021 penalty template."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from db.importers import samples as S
from db.models import CreditRecord, Department
from db.session import Database
from services.imports import import_file

TODAY = dt.date(2025, 6, 30)
MARKET = ("SCJG", "安康市市场监督管理局", "11610900090000070G")
SAFETY = ("YJJ", "安康市应急管理局", S.uscc(7, "11610900"))
HEADERS = S.HEADERS[("penalty", "2021")]


async def departments(db: Database) -> dict[str, int]:
    async with db.transaction() as s:
        for code, name, uscc in (MARKET, SAFETY):
            s.add(Department(code=code, name=name, division_code="610900", uscc=uscc))
    async with db.sessions() as s:
        return {code: dept_id for code, dept_id in (await s.execute(select(Department.code, Department.id))).all()}


def row(i: int, doc: str, unit: tuple[str, str, str], title: str = "未按规定公示年度报告") -> dict[str, str]:
    r = S.penalty_row(i, decision=dt.date(2025, 3, 3), person_every=0)
    _, name, uscc = unit
    r.update({
        "行政处罚决定书文号": doc, "违法行为类型": title,
        "处罚机关": name, "处罚机关统一社会信用代码": uscc, "数据来源单位": name, "数据来源单位统一社会信用代码": uscc,
    })
    return r


async def load(db: Database, path: Path, rows: list[dict[str, str]], dept: str | None):  # type: ignore[no-untyped-def]
    return await import_file(db, S.write_csv(path, HEADERS, rows), id_key="k", today=TODAY, dept_code=dept)


async def records(db: Database) -> list[tuple[str, int | None, str | None]]:
    async with db.sessions() as s:
        q = select(CreditRecord.doc_number, CreditRecord.department_id, CreditRecord.title).order_by(CreditRecord.id)
        return [tuple(r) for r in (await s.execute(q)).all()]  # type: ignore[misc]


async def test_another_departments_code_cannot_update_or_take_over_its_record(db: Database, tmp_path: Path) -> None:
    ids = await departments(db)
    own = await load(db, tmp_path / "own.csv", [row(1, "安应急罚〔2025〕1号", SAFETY, "安全生产违法")], "YJJ")
    assert own.written
    before = await records(db)
    assert before == [("安应急罚〔2025〕1号", ids["YJJ"], "安全生产违法")]
    # 市场监管局 pushes the same 文书号 under 应急管理局's unit code, plus one good row of its own.
    attack = [row(1, "安市监罚〔2025〕9号", MARKET), row(2, "安应急罚〔2025〕1号", SAFETY, "已撤销")]
    report = await load(db, tmp_path / "attack.csv", attack, "SCJG")
    assert not report.written
    # Every problem of the row: both unit codes and both unit names are 应急管理局's.
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "数据来源单位统一社会信用代码"), (3, "处罚机关统一社会信用代码"), (3, "数据来源单位"), (3, "处罚机关"),
    ]
    assert all("不是本部门" in e.reason and "安康市市场监督管理局" in e.reason for e in report.errors)
    assert await records(db) == before  # all or nothing: the good row 安市监罚〔2025〕9号 is not written either


async def test_naming_another_department_by_name_is_refused(db: Database, tmp_path: Path) -> None:
    await departments(db)
    by_name = row(1, "安市监罚〔2025〕2号", ("", "安康市 应急管理局", ""))  # no codes, the other unit's name
    report = await load(db, tmp_path / "a.csv", [by_name], "SCJG")
    assert not report.written and [(e.row, e.column) for e in report.errors] == [(2, "数据来源单位"), (2, "处罚机关")]
    authority_only = row(1, "安市监罚〔2025〕3号", ("", "安康市应急管理局", ""))
    authority_only["数据来源单位"] = "安康市市场监督管理局"  # its own source unit, but another's decision
    report = await load(db, tmp_path / "b.csv", [authority_only], "SCJG")
    assert not report.written and [(e.row, e.column) for e in report.errors] == [(2, "处罚机关")]
    assert "安康市应急管理局" in report.errors[0].reason
    unknown_unit = row(1, "安市监罚〔2025〕4号", ("", "某某县某某局", ""))
    report = await load(db, tmp_path / "c.csv", [unknown_unit], "SCJG")
    assert not report.written and [e.column for e in report.errors] == ["数据来源单位"]  # an unregistered 处罚机关 may stand
    assert await records(db) == []


async def test_a_record_of_no_department_is_not_taken_over(db: Database, tmp_path: Path) -> None:
    """Rows of the right unit code, but the record was filed by the platform's bulk load (no
    department): the writer refuses it, in the dry run (the chat's check) and in the import."""
    ids = await departments(db)
    bulk = await load(db, tmp_path / "bulk.csv", [row(1, "安市监罚〔2025〕5号", MARKET)], None)
    assert bulk.written
    again = [row(1, "安市监罚〔2025〕5号", MARKET, "改写的标题"), row(2, "安市监罚〔2025〕6号", MARKET)]
    path = S.write_csv(tmp_path / "again.csv", HEADERS, again)
    checked = await import_file(db, path, id_key="k", today=TODAY, dept_code="SCJG", dry_run=True)
    report = await import_file(db, path, id_key="k", today=TODAY, dept_code="SCJG")
    for r in (checked, report):
        assert not r.ok and [(e.row, e.column) for e in r.errors] == [(2, "行政处罚决定书文号")]
        assert "不能修改或接管" in r.errors[0].reason
    assert await records(db) == [("安市监罚〔2025〕5号", None, "未按规定公示年度报告")]
    own = await load(db, tmp_path / "own.csv", [row(1, "安市监罚〔2025〕6号", MARKET)], "SCJG")
    assert own.written and (await records(db))[-1] == ("安市监罚〔2025〕6号", ids["SCJG"], "未按规定公示年度报告")


async def test_the_platform_bulk_load_keeps_its_behaviour(db: Database, tmp_path: Path) -> None:
    await departments(db)
    mixed = [row(1, "安市监罚〔2025〕7号", MARKET), row(2, "安应急罚〔2025〕7号", SAFETY)]
    report = await load(db, tmp_path / "bulk.csv", mixed, None)
    assert report.written and report.new == 2
    async with db.sessions() as s:
        keys = (await s.scalars(select(CreditRecord.source_key).order_by(CreditRecord.id))).all()
        assert await s.scalar(select(func.count()).select_from(CreditRecord).where(CreditRecord.department_id.is_(None))) == 2
    assert keys == [MARKET[2], SAFETY[2]]
