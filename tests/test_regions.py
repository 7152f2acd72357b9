"""Region data: the packaged 安康 file is complete and valid, and seeding it twice changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Department, Division
from db.regions import RegionDataError, default_region_file, load_region_file, seed_region
from db.session import Database
from rules.codes import validate_uscc


def test_default_region_divisions() -> None:
    region = load_region_file(default_region_file())
    assert region.code == "610900" and region.name == "安康市"
    assert [d.code for d in region.counties] == [
        "610902", "610921", "610922", "610923", "610924", "610925", "610926", "610927", "610981", "610929",
    ]
    xunyang = region.division("610928")  # the old code finds the renamed place
    assert xunyang.code == "610981" and xunyang.short_name == "旬阳"
    assert xunyang.former_codes == ("610928",)
    from datetime import date

    assert xunyang.code_on(date(2015, 1, 1)) == "610928"
    assert xunyang.code_on(date(2024, 1, 1)) == "610981"
    assert all(d.towns for d in region.counties)


def test_default_region_departments() -> None:
    region = load_region_file(default_region_file())
    codes = {d.code for d in region.departments}
    assert len(codes) == len(region.departments) >= 30
    assert {"SCJGJ", "FGW", "SWJ", "ZY", "610921-SCJGJ"} <= codes
    for dept in region.departments:
        assert validate_uscc(dept.uscc).ok, dept
        assert dept.uscc[2:8] == dept.division_code
        assert dept.doc_prefix and dept.categories
        if dept.division_code != region.code:
            assert dept.parent_code in codes
            assert dept.code.startswith(dept.division_code + "-")
    # every county has its own market regulator and court
    for county in region.counties:
        roles = {d.role for d in region.departments_in(county.code)}
        assert {"market", "court", "tax"} <= roles


def test_missing_region_file() -> None:
    with pytest.raises(FileNotFoundError):
        default_region_file("999999")


def test_bad_uscc_is_rejected(tmp_path: Path) -> None:
    text = default_region_file().read_text(encoding="utf-8")
    bad = tmp_path / "region.toml"
    region = load_region_file(default_region_file())
    good = region.departments[0].uscc
    bad.write_text(text.replace(good, good[:-1] + ("0" if good[-1] != "0" else "1"), 1), encoding="utf-8")
    with pytest.raises(RegionDataError, match="统一社会信用代码无效"):
        load_region_file(bad)


async def _snapshot(db: Database) -> tuple[list[tuple], list[tuple]]:
    async with db.transaction() as s:
        divisions = [
            (d.code, d.name, d.short_name, d.parent_code, d.former_codes)
            for d in (await s.scalars(select(Division).order_by(Division.code))).all()
        ]
        departments = [
            (d.id, d.code, d.name, d.short_name, d.division_code, d.uscc, d.parent_id)
            for d in (await s.scalars(select(Department).order_by(Department.id))).all()
        ]
    return divisions, departments


async def test_seed_region_is_idempotent(db: Database) -> None:
    region = load_region_file(default_region_file())
    await seed_region(db, region)
    first = await _snapshot(db)
    await seed_region(db, region)
    assert await _snapshot(db) == first
    divisions, departments = first
    assert len(divisions) == 11 and len(departments) == len(region.departments)
    assert ("610981", "旬阳市", "旬阳", "610900", "610928") in divisions
    by_code = {d[1]: d for d in departments}
    assert by_code["610921-SCJGJ"][6] == by_code["SCJGJ"][0]
    assert by_code["SCJGJ"][6] is None


async def test_seed_region_updates_changed_rows(db: Database) -> None:
    region = load_region_file(default_region_file())
    await seed_region(db, region)
    async with db.transaction() as s:
        dept = await s.scalar(select(Department).where(Department.code == "SCJGJ"))
        assert dept is not None
        dept.short_name = "旧简称"
    await seed_region(db, region)
    async with db.transaction() as s:
        assert await s.scalar(select(Department.short_name).where(Department.code == "SCJGJ")) == "市市场监管局"
