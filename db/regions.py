"""Region data: the city, its divisions and its reporting departments, read from a TOML data file.

Nothing about one city lives in code. Which divisions exist, what they used to be called (610928 旬阳县
became 610981 旬阳市 in 2021, and both codes still appear on real ID cards and USCCs), which departments
report which categories: all of it comes from `db/data/region_<code>.toml`, so another city is a new
data file, not a code change.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db.models import Department, Division
from db.session import Database
from rules.codes import validate_uscc

DATA_DIR = Path(__file__).resolve().parent / "data"


class RegionDataError(ValueError):
    """The region file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class FormerDivision:
    """An earlier code and name of the same place, used until `until` (exclusive)."""

    code: str
    name: str
    until: date | None = None


@dataclass(frozen=True)
class DivisionInfo:
    code: str
    name: str
    short_name: str
    level: str
    parent_code: str | None
    doc_abbr: str
    towns: tuple[str, ...] = ()
    former: tuple[FormerDivision, ...] = ()
    # Share of the demo archive's subjects located here (roughly the population); data, not code.
    weight: float = 1.0

    @property
    def former_codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.former)

    def code_on(self, day: date) -> str:
        """The code in use on `day`: a company registered in 旬阳 in 2015 carries 610928 for life."""
        for former in self.former:
            if former.until is not None and day < former.until:
                return former.code
        return self.code

    def name_on(self, day: date) -> str:
        for former in self.former:
            if former.until is not None and day < former.until:
                return former.name
        return self.name


@dataclass(frozen=True)
class DepartmentInfo:
    code: str
    name: str
    short_name: str
    division_code: str
    role: str
    uscc: str
    doc_prefix: str
    categories: tuple[str, ...]
    parent_code: str | None = None


@dataclass(frozen=True)
class RegionData:
    """The whole region: the city itself is `divisions[0]`, its districts and counties follow."""

    code: str
    name: str
    short_name: str
    province: str
    province_short: str
    province_abbr: str
    phone_area: str
    platform_name: str
    divisions: tuple[DivisionInfo, ...]
    departments: tuple[DepartmentInfo, ...]
    # Share of companies registered by the city rather than a county (USCC positions 3-8 = city code).
    city_registration_share: float = 0.25
    source: Path | None = field(default=None, compare=False)

    @property
    def city(self) -> DivisionInfo:
        return self.divisions[0]

    @property
    def counties(self) -> tuple[DivisionInfo, ...]:
        """Districts, counties and county-level cities (everything below the city)."""
        return self.divisions[1:]

    def division(self, code: str) -> DivisionInfo:
        for d in self.divisions:
            if d.code == code or code in d.former_codes:
                return d
        raise KeyError(code)

    def department(self, code: str) -> DepartmentInfo:
        for d in self.departments:
            if d.code == code:
                return d
        raise KeyError(code)

    def departments_in(self, division_code: str) -> tuple[DepartmentInfo, ...]:
        return tuple(d for d in self.departments if d.division_code == division_code)


def default_region_file(division_code: str = "610900") -> Path:
    """The packaged data file for a region; a missing file is an error, never a silent default."""
    path = DATA_DIR / f"region_{division_code}.toml"
    if not path.exists():
        raise FileNotFoundError(f"找不到行政区划 {division_code} 的区域数据文件：{path}")
    return path


def _req(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in ("", None):
        raise RegionDataError(f"{where} 缺少 {key}")
    return entry[key]


def _parse(raw: dict[str, Any], source: Path | None) -> RegionData:
    where = str(source or "区域数据")
    region = _req(raw, "region", where)
    city_code = str(_req(region, "code", f"{where} [region]"))
    city = DivisionInfo(
        code=city_code,
        name=_req(region, "name", f"{where} [region]"),
        short_name=_req(region, "short_name", f"{where} [region]"),
        level="地级市",
        parent_code=None,
        doc_abbr=region.get("doc_abbr", region["short_name"][:1]),
        towns=tuple(region.get("towns", ())),
    )
    divisions = [city]
    for i, d in enumerate(raw.get("divisions", ())):
        w = f"{where} divisions[{i}]"
        former = tuple(
            FormerDivision(code=str(_req(f, "code", w)), name=_req(f, "name", w), until=f.get("until"))
            for f in d.get("former", ())
        )
        divisions.append(
            DivisionInfo(
                code=str(_req(d, "code", w)),
                name=_req(d, "name", w),
                short_name=_req(d, "short_name", w),
                level=d.get("level", "县"),
                parent_code=str(d.get("parent", city_code)),
                doc_abbr=d.get("doc_abbr", d["short_name"]),
                towns=tuple(d.get("towns", ())),
                former=former,
                weight=float(d.get("weight", 1.0)),
            )
        )
    codes = [d.code for d in divisions]
    if len(set(codes)) != len(codes):
        raise RegionDataError(f"{where}：行政区划代码重复")

    departments = []
    for i, d in enumerate(raw.get("departments", ())):
        w = f"{where} departments[{i}]"
        uscc = str(_req(d, "uscc", w))
        check = validate_uscc(uscc)
        if not check.ok:
            raise RegionDataError(f"{w} 统一社会信用代码无效：{check.error}")
        division = str(_req(d, "division", w))
        if division not in codes:
            raise RegionDataError(f"{w} 的行政区划 {division} 不在本区域内")
        departments.append(
            DepartmentInfo(
                code=str(_req(d, "code", w)),
                name=_req(d, "name", w),
                short_name=d.get("short_name", d["name"]),
                division_code=division,
                role=_req(d, "role", w),
                uscc=uscc,
                doc_prefix=d.get("doc_prefix", ""),
                categories=tuple(d.get("categories", ())),
                parent_code=d.get("parent"),
            )
        )
    dept_codes = [d.code for d in departments]
    if len(set(dept_codes)) != len(dept_codes):
        raise RegionDataError(f"{where}：部门代码重复")
    if len({d.uscc for d in departments}) != len(departments):
        raise RegionDataError(f"{where}：部门统一社会信用代码重复")
    for d in departments:
        if d.parent_code is not None and d.parent_code not in dept_codes:
            raise RegionDataError(f"{where}：部门 {d.code} 的上级 {d.parent_code} 不存在")
    return RegionData(
        code=city_code,
        name=city.name,
        short_name=city.short_name,
        province=region.get("province", ""),
        province_short=region.get("province_short", ""),
        province_abbr=region.get("province_abbr", ""),
        phone_area=region.get("phone_area", ""),
        platform_name=region.get("platform_name", f"{city.name}公共信用信息平台"),
        divisions=tuple(divisions),
        departments=tuple(departments),
        city_registration_share=float(region.get("city_registration_share", 0.25)),
        source=source,
    )


def load_region_file(path: str | Path) -> RegionData:
    """Read and check a region file: every USCC valid, every code unique, every parent present."""
    path = Path(path)
    with path.open("rb") as fh:
        try:
            raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise RegionDataError(f"{path} 不是有效的 TOML：{exc}") from exc
    return _parse(raw, path)


_DEFAULT_CACHE: dict[str, RegionData] = {}


def default_region(division_code: str = "610900") -> RegionData:
    """The packaged region, parsed once per process (the demo generator asks for it often)."""
    if division_code not in _DEFAULT_CACHE:
        _DEFAULT_CACHE[division_code] = load_region_file(default_region_file(division_code))
    return _DEFAULT_CACHE[division_code]


async def seed_region(db: Database, region: RegionData) -> None:
    """Upsert divisions and departments by code, in one transaction.

    Rows are compared before they are written, so a second run issues no UPDATE at all; rows the
    file no longer names are left alone (accounts and records may still point at them)."""
    async with db.transaction() as session:
        existing_div = {d.code: d for d in (await session.scalars(select(Division))).all()}
        for info in region.divisions:
            values = {
                "name": info.name,
                "short_name": info.short_name,
                "parent_code": info.parent_code,
                "former_codes": ",".join(info.former_codes) or None,
            }
            row = existing_div.get(info.code)
            if row is None:
                session.add(Division(code=info.code, **values))
            else:
                for key, value in values.items():
                    if getattr(row, key) != value:
                        setattr(row, key, value)

        existing_dep = {d.code: d for d in (await session.scalars(select(Department))).all()}
        rows: dict[str, Department] = {}
        for info in region.departments:
            values = {
                "name": info.name,
                "short_name": info.short_name,
                "division_code": info.division_code,
                "uscc": info.uscc,
            }
            row = existing_dep.get(info.code)
            if row is None:
                row = Department(code=info.code, **values)
                session.add(row)
            else:
                for key, value in values.items():
                    if getattr(row, key) != value:
                        setattr(row, key, value)
            rows[info.code] = row
        await session.flush()  # parents need their ids
        for info in region.departments:
            row = rows[info.code]
            parent_id = rows[info.parent_code].id if info.parent_code else None
            if row.parent_id != parent_id:
                row.parent_id = parent_id
