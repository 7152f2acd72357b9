"""A row's code names an archive subject: the row's name must be that subject's name or an alias of
it (review finding: a row with another company's name was silently filed on the code's holder)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from db.importers import samples as S
from db.models import CreditRecord, Subject, SubjectAlias
from db.session import Database
from services.imports import import_file

TODAY = dt.date(2025, 6, 30)
HEADERS = S.HEADERS[("penalty", "2021")]


def row(i: int, doc: str, name: str, person: bool = False) -> dict[str, str]:
    r = S.penalty_row(i, decision=dt.date(2025, 3, 3), person_every=i if person else 0)
    r["行政处罚决定书文号"], r["行政相对人名称"] = doc, name
    return r


async def load(db: Database, path: Path, rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    return await import_file(db, S.write_csv(path, HEADERS, rows), id_key="k", today=TODAY)


async def test_a_clearly_different_name_is_a_row_error(db: Database, tmp_path: Path) -> None:
    first = await load(db, tmp_path / "a.csv", [row(1, "安市监罚〔2025〕1号", "安康市恒达建材有限公司")])
    assert first.written
    async with db.transaction() as s:
        subject_id = await s.scalar(select(Subject.id))
        s.add(SubjectAlias(subject_id=subject_id, alias="安康恒达建材厂", kind="曾用名"))
    fitting = [
        row(1, "安市监罚〔2025〕2号", "安康市 恒达建材有限公司"),  # a stray space: the same name
        row(1, "安市监罚〔2025〕3号", "安康恒达建材厂"),  # its former name
    ]
    wrong = row(1, "安市监罚〔2025〕4号", "安康市宏远商贸有限公司")  # the same USCC, another company's name
    report = await load(db, tmp_path / "b.csv", [*fitting, wrong])
    assert not report.written and [(e.row, e.column) for e in report.errors] == [(4, "行政相对人名称")]
    assert report.errors[0].reason.startswith("名称与代码不符：档案中该代码属于“安康市恒达建材有限公司”")
    async with db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(CreditRecord)) == 1  # all or nothing
    assert (await load(db, tmp_path / "c.csv", fitting)).written


async def test_a_person_is_not_revealed_by_the_error(db: Database, tmp_path: Path) -> None:
    first = await load(db, tmp_path / "a.csv", [row(4, "安市监罚〔2025〕1号", "王建国", person=True)])
    assert first.written
    for mode in (True, False):  # the chat's check (dry run) and the import say the same
        r = await import_file(
            db, S.write_csv(tmp_path / "b.csv", HEADERS, [row(4, "安市监罚〔2025〕2号", "李四", person=True)]),
            id_key="k", today=TODAY, dry_run=mode,
        )
        assert not r.ok and len(r.errors) == 1 and r.errors[0].column == "行政相对人名称"
        assert "“王**”" in r.errors[0].reason and "王建国" not in r.errors[0].reason
