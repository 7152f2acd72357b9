"""Deterministic synthetic credit archive: subjects and their records, with no database involved.

Why it is built this way:
- Every subject is a pure function of (seed, key, region): each key gets its own `random.Random`, so
  subject 999,999 is computed without the 999,999 before it, near-twins can look back at an earlier
  key, and the stream needs no memory however long it is.
- Codes are unique by construction, not by remembering what was issued: the organisation-code part of
  a USCC and the date+sequence part of an ID number are keyed permutations (a small Feistel network) of
  the subject key. Showcase subjects use a code range the permutation never reaches.
- The region (divisions, towns, departments, showcase subjects) comes from data files; this module only
  knows how Chinese names, codes and records are shaped.
- The archive is "as of" a fixed day (DEMO_AS_OF), never the clock, so the same seed gives the same
  archive tomorrow.
"""
from __future__ import annotations

import bisect
import itertools
import random
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from db.demo import catalog as cat
from db.demo import names as pools
from db.demo.codes import _ORG_LETTER, _mobile, _showcase_org_code, legacy_org_code, make_uscc
from db.regions import DATA_DIR, DepartmentInfo, DivisionInfo, RegionData, default_region
from rules.codes import complete_ric

DEFAULT_SEED = 20261127
DEMO_AS_OF = date(2026, 11, 27)
RECORDS_FROM = date(2019, 1, 1)

# Shares of subject groups among generated (non-showcase) subjects.
GROUP_WEIGHTS: tuple[tuple[str, float], ...] = (
    (cat.COMPANY, 0.47),
    (cat.SHOP, 0.25),
    (cat.PERSON, 0.17),
    (cat.COOP, 0.05),
    (cat.COLLECTIVE, 0.025),
    (cat.SOCIAL, 0.02),
    (cat.OTHER, 0.015),
)
RANDOM_TWIN_RATE = 0.012
BRANCH_RATE = 0.05
# In every block of this many keys, two keys are forced near-twins, so they exist at any n >= 1000.
TWIN_BLOCK = 500
FORCED_COUNTY_TWIN = 101
FORCED_FORM_TWIN = 102
# Of organisations overall: about 5% carry a former name and 10% a short name (companies most often).
FORMER_NAME_RATE = 0.07
SHORT_NAME_RATE = 0.17



@dataclass(frozen=True)
class DemoSubject:
    """One subject of the demo archive. For a natural person `established` is the birth date and
    `id_number` the clear ID number: the loader stores only its keyed hash and masked form."""

    key: int
    kind: str
    name: str
    uscc: str | None
    id_number: str | None
    legal_rep: str | None
    division_code: str
    address: str
    established: date
    status: str
    former_names: tuple[str, ...]
    short_names: tuple[str, ...]
    phone: str | None
    group: str = ""  # company / shop / coop / collective / social / other / person
    sector: str = ""  # industry sector of a business (see db.demo.names.INDUSTRIES)
    tag: str | None = None  # showcase handle, e.g. "blacklisted"


@dataclass(frozen=True)
class DemoRecord:
    subject_key: int
    category: str
    department_code: str
    doc_number: str
    decision_date: date
    title: str
    content: str
    severity: str | None
    status: str  # active / repaired / expired
    fields: dict[str, Any]
    valid_until: date | None = None
    reported_on: date | None = None


# -------------------------------------------------------------------------------------- region context


@dataclass(frozen=True)
class _Ctx:
    region: RegionData
    counties: tuple[DivisionInfo, ...]
    county_cum: tuple[float, ...]
    showcase: tuple[DemoSubject, ...]
    showcase_records: dict[int, tuple[dict[str, Any], ...]]
    reserved_cores: frozenset[tuple[str, str]]
    reserved_names: frozenset[str]
    reserved_org_codes: frozenset[str] = frozenset()  # showcase subjects' old organisation codes
    depts_by_role: dict[tuple[str, str], DepartmentInfo] = field(default_factory=dict)
    city_depts_by_role: dict[str, DepartmentInfo] = field(default_factory=dict)


def _weighted(rng: random.Random, cum: tuple[float, ...]) -> int:
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def _cum(weights: Iterable[float]) -> tuple[float, ...]:
    return tuple(itertools.accumulate(weights))


_GROUP_CUM = _cum(w for _, w in GROUP_WEIGHTS)
_INDUSTRY_CUM = _cum(i.weight for i in pools.INDUSTRIES)
_FORM_CUM = _cum(w for _, _, w in pools.CORPORATE_FORMS)
_SURNAME_CUM = _cum(w for _, w in pools.SURNAMES)
_INDUSTRY_BY_WORD = {i.word: i for i in pools.INDUSTRIES}


def showcase_file(region: RegionData) -> Path:
    return DATA_DIR / f"demo_showcase_{region.code}.toml"


def _load_showcase(region: RegionData) -> tuple[tuple[DemoSubject, ...], dict[int, tuple[dict[str, Any], ...]], set[tuple[str, str]]]:
    path = showcase_file(region)
    if not path.exists():
        return (), {}, set()
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    subjects: list[DemoSubject] = []
    records: dict[int, tuple[dict[str, Any], ...]] = {}
    cores: set[tuple[str, str]] = set()
    for index, entry in enumerate(raw.get("subjects", ())):
        division = region.division(entry["division"])
        town = entry.get("town") or (division.towns[0] if division.towns else "")
        rng = random.Random(f"showcase:{index}")
        street = rng.choice(pools.STREETS)
        address = f"{region.province}{region.name}{division.name}{town}{street}{rng.randint(1, 199)}号"
        group = entry["group"]
        uscc = id_number = None
        if group == cat.PERSON:
            birth = entry["birth"]
            seq = 900 + 2 * index + (1 if entry["sex"] == "男" else 0)
            id_number = complete_ric(f"{entry['id_area']}{birth:%Y%m%d}{seq:03d}")
            established = birth
            phone: str | None = _mobile(rng)
            status = "正常"
        else:
            established = entry["established"]
            reg = region.division(entry["registered"]) if entry["registered"] != region.code else region.city
            reg_code = reg.code_on(established)
            type_code = entry["uscc_type"]
            org = legacy_org_code(entry["org_code"]) if "org_code" in entry else None
            uscc = make_uscc(type_code, reg_code, org or _showcase_org_code(index, _ORG_LETTER.get(type_code[0], "A")))
            phone = f"{region.phone_area}-{rng.randint(3000000, 3999999)}" if region.phone_area else _mobile(rng)
            status = entry.get("status", "存续")
        if entry.get("trade_name") and entry.get("industry"):
            cores.add((entry["trade_name"], entry["industry"]))
        industry = _INDUSTRY_BY_WORD.get(entry.get("industry", ""))
        subjects.append(
            DemoSubject(
                key=index,
                kind=entry["kind"],
                name=entry["name"],
                uscc=uscc,
                id_number=id_number,
                legal_rep=entry.get("legal_rep"),
                division_code=division.code,
                address=address,
                established=established,
                status=status,
                former_names=tuple(entry.get("former_names", ())),
                short_names=tuple(entry.get("short_names", ())),
                phone=phone,
                group=group,
                sector=industry.sector if industry else ("agriculture" if group in (cat.COOP, cat.COLLECTIVE) else ""),
                tag=entry.get("tag"),
            )
        )
        records[index] = tuple(entry.get("records", ()))
    return tuple(subjects), records, cores


@lru_cache(maxsize=8)
def _context(region: RegionData) -> _Ctx:
    counties = region.counties or (region.city,)
    show, show_records, cores = _load_showcase(region)
    depts: dict[tuple[str, str], DepartmentInfo] = {}
    city: dict[str, DepartmentInfo] = {}
    for d in region.departments:
        depts.setdefault((d.role, d.division_code), d)
        if d.division_code == region.code:
            city.setdefault(d.role, d)
    return _Ctx(
        region=region,
        counties=counties,
        county_cum=_cum(d.weight for d in counties),
        showcase=show,
        showcase_records=show_records,
        reserved_cores=frozenset(cores),
        reserved_names=frozenset(s.name for s in show) | frozenset(n for s in show for n in s.former_names),
        reserved_org_codes=frozenset(s.uscc[8:17] for s in show if s.uscc and s.uscc[8:16].isdigit()),
        depts_by_role=depts,
        city_depts_by_role=city,
    )


def showcase(region: RegionData | None = None) -> tuple[DemoSubject, ...]:
    """The fixed showcase subjects of a region (keys 0..len-1 of every demo archive)."""
    return _context(region or default_region()).showcase
