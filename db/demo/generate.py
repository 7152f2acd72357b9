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
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from db.demo import catalog as cat
from db.demo import field_shapes
from db.demo import names as pools
from db.regions import DATA_DIR, DepartmentInfo, DivisionInfo, RegionData, default_region
from rules.codes import USCC_ALPHABET, complete_ric, complete_uscc

DEFAULT_SEED = 20261127
DEMO_AS_OF = date(2026, 11, 27)
RECORDS_FROM = date(2019, 1, 1)
BIRTH_FROM = date(1950, 1, 1)
BIRTH_TO = date(2005, 12, 31)

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

_M64 = (1 << 64) - 1
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_NEW_CODE_DOMAIN = 31**5  # "M" + letter + "7" + five characters: 28.6 million subjects
_LEGACY_DOMAIN = 9 * 10**7  # eight digits, first one 1-9
_PERSON_DAYS = (BIRTH_TO - BIRTH_FROM).days + 1
_PERSON_DOMAIN = _PERSON_DAYS * 900  # sequence 000-899; 900-999 is kept for showcase persons
MAX_SUBJECTS = _NEW_CODE_DOMAIN


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


# --------------------------------------------------------------------------------------------- codes


def _mix(z: int) -> int:
    """splitmix64 finaliser: a fast, well-spread integer hash (stable across Python versions)."""
    z = (z + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def permute(x: int, domain: int, key: int) -> int:
    """A keyed bijection of range(domain): four Feistel rounds on the next even bit width, with
    cycle-walking back into the domain. Distinct inputs give distinct outputs, always."""
    if not 0 <= x < domain:
        raise ValueError(f"{x} 超出置换范围 {domain}")
    bits = max(2, (domain - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = (1 << half) - 1
    while True:
        left, right = x >> half, x & mask
        for rnd in range(4):
            left, right = right, left ^ (_mix(right ^ _mix(key * 4 + rnd)) & mask)
        x = (left << half) | right
        if x < domain:
            return x


def org_check_char(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def _base31(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, r = divmod(value, 31)
        chars.append(USCC_ALPHABET[r])
    return "".join(reversed(chars))


def _org_code(key: int, seed: int, letter: str, legacy: bool) -> str:
    """Positions 9-17 of a generated USCC; unique per key (and never in the showcase range)."""
    if legacy:
        body = str(10**7 + permute(key, _LEGACY_DOMAIN, seed ^ 0x1E6AC1))
    else:
        body = "M" + letter + "7" + _base31(permute(key, _NEW_CODE_DOMAIN, seed ^ 0x5EC7), 5)
    return body + org_check_char(body)


def _showcase_org_code(index: int, letter: str) -> str:
    body = "M" + letter + "6" + _base31(37 * index + 1000, 5)
    return body + org_check_char(body)


_ORG_LETTER = {"9": "A", "N": "F", "5": "J", "Y": "G", "1": "B"}


def make_uscc(type_code: str, division_code: str, org_code: str) -> str:
    return complete_uscc(type_code + division_code + org_code)


def _person_id(key: int, seed: int, area: str) -> tuple[str, date, str]:
    """(ID number, birth date, sex) for a generated person: date and sequence from the permutation."""
    x = permute(key, _PERSON_DOMAIN, seed ^ 0x1D0C)
    days, seq = divmod(x, 900)
    birth = BIRTH_FROM + timedelta(days=days)
    number = complete_ric(f"{area}{birth:%Y%m%d}{seq:03d}")
    return number, birth, "男" if seq % 2 else "女"


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
            uscc = make_uscc(type_code, reg_code, _showcase_org_code(index, _ORG_LETTER.get(type_code[0], "A")))
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
        depts_by_role=depts,
        city_depts_by_role=city,
    )


def showcase(region: RegionData | None = None) -> tuple[DemoSubject, ...]:
    """The fixed showcase subjects of a region (keys 0..len-1 of every demo archive)."""
    return _context(region or default_region()).showcase


# ------------------------------------------------------------------------------------------- people


_MOBILE_PREFIXES = pools._split("130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 158 159 173 177 180 182 185 186 187 188 189 199")


def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _surname(rng: random.Random) -> str:
    return pools.SURNAMES[_weighted(rng, _SURNAME_CUM)][0]


def _person_name(rng: random.Random, sex: str | None = None, surname: str | None = None) -> str:
    sex = sex or rng.choice("男女")
    given = rng.choice(pools.GIVEN_MALE if sex == "男" else pools.GIVEN_FEMALE)
    if len(given) == 1 and rng.random() < 0.35:
        given += rng.choice(pools.GIVEN_MALE if sex == "男" else pools.GIVEN_FEMALE)[:1]
    return (surname or _surname(rng)) + given


def _trade_name(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.22:
        return rng.choice(pools.COMMON_TRADE_NAMES)
    name = rng.choice(pools.TRADE_FIRST) + rng.choice(pools.TRADE_SECOND)
    if r > 0.80:
        name += rng.choice(pools.TRADE_THIRD)
    return name if name[0] != name[1] else name[0] + rng.choice(pools.TRADE_SECOND)


# ------------------------------------------------------------------------------------------ subjects


@dataclass
class _CompanyParts:
    """The pieces a company name is built from; near-twins copy them with one piece changed."""

    county: DivisionInfo
    city_registered: bool
    prefix_mode: str  # plain / short / bracket / province
    trade: str
    industry: pools.Industry
    form: str  # 有限公司 ... or a non-corporate shape: 合伙 / 经营部 / 分公司
    established: date


def _rng(seed: int, key: int, salt: int = 0) -> random.Random:
    return random.Random((_mix(seed ^ (salt << 56)) << 40) | key)


def _group_of(seed: int, key: int) -> tuple[bool, str]:
    """(random twin?, group) from the first two draws of the key's generator: cheap to ask about."""
    rng = _rng(seed, key)
    twin = rng.random() < RANDOM_TWIN_RATE
    return twin, GROUP_WEIGHTS[_weighted(rng, _GROUP_CUM)][0]


def _established(rng: random.Random, floor: date = date(1996, 1, 1)) -> date:
    back = min(int(rng.expovariate(1 / 6.5) * 365) + rng.randrange(30), (DEMO_AS_OF - floor).days)
    return DEMO_AS_OF - timedelta(days=max(back, 3))


def _place_name(ctx: _Ctx, parts: _CompanyParts) -> tuple[str, str]:
    """(full, short) place word for a name: the city or the county as named when registered."""
    if parts.city_registered:
        return ctx.region.name, ctx.region.short_name
    county = parts.county
    full = county.name_on(parts.established) if parts.established.toordinal() % 5 else county.name
    return full, county.short_name


def _company_name(ctx: _Ctx, parts: _CompanyParts) -> str:
    full, short = _place_name(ctx, parts)
    core = parts.trade + parts.industry.word
    form = parts.form
    if form == "合伙":
        return f"{full}{core}合伙企业（{'有限合伙' if len(core) % 2 else '普通合伙'}）"
    if form == "经营部":
        return f"{full}{core}{'经营部' if len(parts.trade) == 2 else '厂'}"
    if parts.prefix_mode == "bracket":
        return f"{core}（{short}）{form}"
    if parts.prefix_mode == "province" and ctx.region.province_short:
        return f"{ctx.region.province_short}{core}{form}"
    if parts.prefix_mode == "short":
        return f"{short}{core}{form}"
    return f"{full}{core}{form}"


def _draw_company_parts(ctx: _Ctx, rng: random.Random) -> _CompanyParts:
    county = ctx.counties[_weighted(rng, ctx.county_cum)]
    city_registered = rng.random() < ctx.region.city_registration_share
    r = rng.random()
    if city_registered:
        mode = "plain" if r < 0.68 else "short" if r < 0.76 else "bracket" if r < 0.90 else "province"
    else:
        mode = "plain" if r < 0.88 else "bracket"
    industry = pools.INDUSTRIES[_weighted(rng, _INDUSTRY_CUM)]
    trade = _trade_name(rng)
    while (trade, industry.word) in ctx.reserved_cores:
        trade = _trade_name(rng)
    f = rng.random()
    if f < 0.04:
        form = "合伙"
    elif f < 0.08:
        form = "经营部"
    else:
        form = pools.CORPORATE_FORMS[_weighted(rng, _FORM_CUM)][0]
    return _CompanyParts(county, city_registered, mode, trade, industry, form, _established(rng))


def _twin_source(ctx: _Ctx, seed: int, key: int, rng: random.Random) -> int | None:
    """An earlier plain (non-twin) company key to copy, or None near the start of the stream."""
    first = len(ctx.showcase)
    if key - first < 2:
        return None
    j = key - 1 - rng.randrange(min(key - first, 400))
    while j >= first:
        twin, group = _group_of(seed, j)
        if group == cat.COMPANY and not twin and j % TWIN_BLOCK not in (FORCED_COUNTY_TWIN, FORCED_FORM_TWIN):
            parts, branch = _company_parts_of(ctx, seed, j)
            # Only a plainly named limited company makes a recognisable twin.
            if not branch and parts.prefix_mode == "plain" and parts.form in ("有限公司", "有限责任公司"):
                return j
        j -= 1
    return None


def _company_parts_of(ctx: _Ctx, seed: int, key: int) -> tuple[_CompanyParts, bool]:
    """Replays the draws `_generate` makes for a plain (non-twin) company: (parts, is a branch)."""
    rng = _rng(seed, key)
    rng.random(), rng.random()  # the twin and group draws of _group_of
    parts = _draw_company_parts(ctx, rng)
    return parts, rng.random() < BRANCH_RATE


def _corporate(parts: _CompanyParts) -> bool:
    return parts.form not in ("合伙", "经营部")


def _generate(ctx: _Ctx, seed: int, key: int) -> DemoSubject:
    rng = _rng(seed, key)
    random_twin = rng.random() < RANDOM_TWIN_RATE
    group = GROUP_WEIGHTS[_weighted(rng, _GROUP_CUM)][0]
    slot = key % TWIN_BLOCK
    if slot in (FORCED_COUNTY_TWIN, FORCED_FORM_TWIN):
        group = cat.COMPANY
    if group == cat.COMPANY:
        return _company(ctx, seed, key, rng, random_twin, slot)
    if group == cat.PERSON:
        return _person(ctx, seed, key, rng)
    return _organisation(ctx, seed, key, rng, group)


def _aliases(rng: random.Random, name: str, former: list[str], short: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    f = tuple(dict.fromkeys(n for n in former if n and n != name))
    s = tuple(dict.fromkeys(n for n in short if n and n != name and n not in f))
    return f, s


def _org_status(rng: random.Random) -> str:
    r = rng.random()
    return "存续" if r < 0.88 else "在业" if r < 0.92 else "注销" if r < 0.97 else "吊销" if r < 0.99 else "迁出"


def _org_phone(ctx: _Ctx, rng: random.Random) -> str:
    if ctx.region.phone_area and rng.random() < 0.5:
        return f"{ctx.region.phone_area}-{rng.randint(2000000, 8999999)}"
    return _mobile(rng)


def _street_address(ctx: _Ctx, rng: random.Random, county: DivisionInfo) -> str:
    town = rng.choice(county.towns) if county.towns else ""
    return f"{ctx.region.province}{ctx.region.name}{county.name}{town}{rng.choice(pools.STREETS)}{rng.randint(1, 299)}号"


def _village_address(ctx: _Ctx, rng: random.Random, county: DivisionInfo, town: str | None = None) -> str:
    town = town or (rng.choice(county.towns) if county.towns else "")
    return f"{ctx.region.province}{ctx.region.name}{county.name}{town}{rng.choice(pools.VILLAGES)}村{rng.randint(1, 12)}组"


def _company(ctx: _Ctx, seed: int, key: int, rng: random.Random, random_twin: bool, slot: int) -> DemoSubject:
    parts = _draw_company_parts(ctx, rng)
    established = parts.established
    forced = slot in (FORCED_COUNTY_TWIN, FORCED_FORM_TWIN)
    if forced or random_twin:
        source = _twin_source(ctx, seed, key, rng)
        if source is not None:
            base, _ = _company_parts_of(ctx, seed, source)
            county_twin = slot == FORCED_COUNTY_TWIN or (not forced and rng.random() < 0.5)
            if county_twin:
                others = [c for c in ctx.counties if c.code != base.county.code]
                county = rng.choice(others) if others else base.county
                form = base.form if _corporate(base) else "有限公司"
                parts = _CompanyParts(county, False, "plain", base.trade, base.industry, form, established)
            else:
                # Same place word as the original (named by its date), only the form differs.
                swap = {"有限公司": "有限责任公司", "有限责任公司": "有限公司"}
                form = swap.get(base.form, "有限责任公司")
                parts = _CompanyParts(
                    base.county, base.city_registered, base.prefix_mode, base.trade, base.industry, form, base.established
                )
    # Must stay the first draw after the parts for a plain company: _company_parts_of replays it.
    branch = not forced and not random_twin and rng.random() < BRANCH_RATE
    if branch:
        source = _twin_source(ctx, seed, key, rng)
        if source is not None:
            base, _ = _company_parts_of(ctx, seed, source)
            if _corporate(base):
                others = [c for c in ctx.counties if c.code != base.county.code] or list(ctx.counties)
                county = rng.choice(others)
                parent = _company_name(ctx, base)
                name = f"{parent}{county.short_name}{field_shapes.branch_word(key)}"
                parts = _CompanyParts(county, False, "plain", base.trade, base.industry, "分公司", established)
            else:
                branch = False
        else:
            branch = False
    if not branch:
        name = _company_name(ctx, parts)
    if name in ctx.reserved_names:  # never a second subject with a showcase name
        name = name.replace(parts.trade, parts.trade + rng.choice(pools.TRADE_THIRD), 1)
    kind = "法人" if parts.form in {f for f, _, _ in pools.CORPORATE_FORMS} else "非法人组织"
    reg = ctx.region.city if parts.city_registered else parts.county
    legacy = established < date(2015, 10, 1) and rng.random() < 0.85
    uscc = make_uscc("91", reg.code_on(established), _org_code(key, seed, "A", legacy))
    former: list[str] = []
    short: list[str] = []
    if rng.random() < FORMER_NAME_RATE:
        r = rng.random()
        full, _ = _place_name(ctx, parts)
        if r < 0.4:
            former.append(f"{full}{parts.trade}{rng.choice(pools.INDUSTRIES).word}有限公司")
        elif r < 0.7:
            former.append(f"{full}{_trade_name(rng)}{parts.industry.word}有限公司")
        else:
            former.append(f"{full}{parts.trade}{parts.industry.word}经营部")
    if rng.random() < SHORT_NAME_RATE:
        short.append(parts.trade if rng.random() < 0.4 else parts.trade + parts.industry.word)
    former_t, short_t = _aliases(rng, name, former, short)
    return DemoSubject(
        key=key,
        kind=kind,
        name=name,
        uscc=uscc,
        id_number=None,
        legal_rep=_person_name(rng),
        division_code=parts.county.code,
        address=_street_address(ctx, rng, parts.county),
        established=established,
        status=_org_status(rng),
        former_names=former_t,
        short_names=short_t,
        phone=_org_phone(ctx, rng),
        group=cat.COMPANY,
        sector=parts.industry.sector,
    )


def _person(ctx: _Ctx, seed: int, key: int, rng: random.Random) -> DemoSubject:
    county = ctx.counties[_weighted(rng, ctx.county_cum)]
    codes = (county.code, *county.former_codes)
    # People born before a rename mostly keep the old area code; some re-issued cards carry the new.
    area = codes[0] if len(codes) == 1 or rng.random() < 0.3 else rng.choice(codes[1:])
    number, birth, sex = _person_id(key, seed, area)
    name = _person_name(rng, sex)
    while name in ctx.reserved_names:  # the showcase persons stay unambiguous
        name = _person_name(rng, sex)
    town = rng.choice(county.towns) if county.towns else ""
    if rng.random() < 0.5:
        address = _village_address(ctx, rng, county, town) + f"{rng.randint(1, 60)}号"
    else:
        address = _street_address(ctx, rng, county)
    return DemoSubject(
        key=key,
        kind="自然人",
        name=name,
        uscc=None,
        id_number=number,
        legal_rep=None,
        division_code=county.code,
        address=address,
        established=birth,
        status="正常",
        former_names=(),
        short_names=(),
        phone=_mobile(rng),
        group=cat.PERSON,
    )


def _organisation(ctx: _Ctx, seed: int, key: int, rng: random.Random, group: str) -> DemoSubject:
    county = ctx.counties[_weighted(rng, ctx.county_cum)]
    town = rng.choice(county.towns) if county.towns else ""
    established = _established(rng)
    legal_rep = _person_name(rng)
    cname = county.name_on(established) if established.toordinal() % 5 else county.name
    former: list[str] = []
    short: list[str] = []
    sector = ""
    reg = county
    address = _street_address(ctx, rng, county)
    if group == cat.SHOP:
        trade, sector = rng.choice(pools.SHOP_TRADES)
        r = rng.random()
        surname = legal_rep[:2] if legal_rep[:2] in {s for s, _ in pools.SURNAMES} else legal_rep[0]
        if r < 0.25:
            name = f"{cname}{field_shapes.street_for_shop(key) or ''}{surname}记{trade}"
        elif r < 0.42:
            name = f"{cname}{surname}氏{trade}"
        elif r < 0.62:
            name = f"{cname}{town}{_trade_name(rng)}{trade}"
        elif r < 0.88:
            name = f"{cname}{_trade_name(rng)}{trade}"
        else:
            name = f"{cname}{legal_rep}{trade}"
        type_code, kind = "92", "个体工商户"
        if rng.random() < FORMER_NAME_RATE:
            former.append(f"{cname}{_trade_name(rng)}{rng.choice(pools.SHOP_TRADES)[0]}")
    elif group == cat.COOP:
        product = rng.choice(pools.COOP_PRODUCTS)
        form = rng.choice(pools.COOP_FORMS)
        if product.endswith(("养殖", "种植")) and form in ("种植专业合作社", "养殖专业合作社"):
            form = "专业合作社"
        trade = _trade_name(rng)
        place = f"{cname}{town}" if rng.random() < 0.4 else cname
        village = field_shapes.coop_village(key) if place != cname else None
        name = f"{place}{village}{product}{form}" if village else f"{place}{trade}{product}{form}"
        type_code, kind, sector = "93", "法人", "agriculture"
        address = _village_address(ctx, rng, county, town)
        if rng.random() < SHORT_NAME_RATE:
            short.append(trade + product)
    elif group == cat.COLLECTIVE:
        village = rng.choice(pools.VILLAGES)
        if rng.random() < 0.6:
            name = f"{cname}{town}{village}村股份经济合作社"
            type_code = "N2"
        else:
            name = f"{cname}{town}{village}村{rng.randint(1, 12)}组经济合作社"
            type_code = "N1"
        kind, sector = "法人", "agriculture"
        address = _village_address(ctx, rng, county, town)
    elif group == cat.SOCIAL:
        if rng.random() < 0.5:
            city_level = rng.random() < 0.4
            place = ctx.region.name if city_level else cname
            reg = ctx.region.city if city_level else county
            name = f"{place}{rng.choice(pools.SOCIAL_GROUPS)}"
            type_code = "51"
        else:
            name = f"{cname}{_trade_name(rng)}{rng.choice(pools.SOCIAL_SERVICES)}"
            type_code = "52"
        kind = "法人"
        if (unit := field_shapes.institution(key)) is not None:
            name, type_code = f"{cname}{unit}", "12"
    else:
        name = f"{cname}{town}{_trade_name(rng)}{rng.choice(('花园', '家园', '小区', '苑'))}业主委员会"
        type_code, kind = "Y1", "非法人组织"
    if name in ctx.reserved_names:
        name = name[:-2] + rng.choice(pools.TRADE_THIRD) + name[-2:]
    legacy = established < date(2015, 10, 1) and group in (cat.SHOP, cat.SOCIAL) and rng.random() < 0.5
    letter = _ORG_LETTER.get(type_code[0], "A")
    uscc = make_uscc(type_code, reg.code_on(established), _org_code(key, seed, letter, legacy))
    former_t, short_t = _aliases(rng, name, former, short)
    return DemoSubject(
        key=key,
        kind=kind,
        name=name,
        uscc=uscc,
        id_number=None,
        legal_rep=legal_rep,
        division_code=county.code,
        address=address,
        established=established,
        status=_org_status(rng),
        former_names=former_t,
        short_names=short_t,
        phone=_org_phone(ctx, rng) if group != cat.SHOP else _mobile(rng),
        group=group,
        sector=sector,
    )


def subject_at(key: int, seed: int = DEFAULT_SEED, region: RegionData | None = None) -> DemoSubject:
    """Subject `key` of the archive for `seed`, without generating the ones before it."""
    ctx = _context(region or default_region())
    if key < len(ctx.showcase):
        return ctx.showcase[key]
    if key >= MAX_SUBJECTS:
        raise ValueError(f"演示档案最多 {MAX_SUBJECTS} 个主体")
    return _generate(ctx, seed, key)


def iter_subjects(n: int, seed: int = 20261127, region: RegionData | None = None) -> Iterator[DemoSubject]:
    """The first `n` subjects: the region's showcase subjects first, then generated ones."""
    if n > MAX_SUBJECTS:
        raise ValueError(f"演示档案最多 {MAX_SUBJECTS} 个主体")
    ctx = _context(region or default_region())
    shown = len(ctx.showcase)
    for key in range(n):
        yield ctx.showcase[key] if key < shown else _generate(ctx, seed, key)


# ------------------------------------------------------------------------------------------- records

# Chance that a subject of a group has a record of a category (independently per category).
RECORD_RATES: dict[str, dict[str, float]] = {
    cat.COMPANY: {
        "登记备案": 0.10, "资质资格": 0.05, "行政许可": 0.18, "行政处罚": 0.08, "行政强制": 0.01,
        "行政确认": 0.03, "行政奖励": 0.02, "行政给付": 0.03, "检查抽查": 0.10, "经营异常名录": 0.03,
        "司法判决": 0.02, "强制执行": 0.012,
    },
    cat.SHOP: {
        "登记备案": 0.06, "行政许可": 0.12, "行政处罚": 0.05, "行政强制": 0.005, "行政确认": 0.01,
        "行政给付": 0.01, "检查抽查": 0.06, "经营异常名录": 0.03, "司法判决": 0.01, "强制执行": 0.005,
    },
    cat.COOP: {
        "行政许可": 0.08, "行政处罚": 0.03, "行政确认": 0.05, "行政奖励": 0.04, "行政给付": 0.08,
        "检查抽查": 0.08, "经营异常名录": 0.05,
    },
    cat.COLLECTIVE: {"行政许可": 0.05, "行政处罚": 0.02, "行政给付": 0.10},
    cat.SOCIAL: {"登记备案": 0.10, "行政处罚": 0.03, "检查抽查": 0.02},
    cat.OTHER: {"行政处罚": 0.01},
    cat.PERSON: {
        "资质资格": 0.04, "行政许可": 0.01, "行政处罚": 0.025, "行政给付": 0.04, "司法判决": 0.015,
        "强制执行": 0.01,
    },
}
BLACKLIST_RATE: dict[str, float] = {cat.COMPANY: 0.006, cat.SHOP: 0.003, cat.COOP: 0.003, cat.PERSON: 0.004}
MAX_RECORDS = 4
SEVERITY_WEIGHTS = (("轻微", 0.10), ("一般", 0.75), ("严重", 0.15))
_SEVERITY_CUM = _cum(w for _, w in SEVERITY_WEIGHTS)

_DOC_SUFFIX = {
    "登记备案": ("登〔{y}〕{n}号",),
    "资质资格": ("资〔{y}〕{n}号", "资字〔{y}〕第{n}号"),
    "行政许可": ("许〔{y}〕{n}号", "许可〔{y}〕{n:04d}号", "许字〔{y}〕第{n}号"),
    "行政处罚": ("罚〔{y}〕{n}号", "罚字〔{y}〕第{n}号", "处罚〔{y}〕{n}号", "罚决字〔{y}〕{n:04d}号"),
    "行政强制": ("强〔{y}〕{n}号", "封〔{y}〕{n}号"),
    "行政确认": ("确〔{y}〕{n}号",),
    "行政奖励": ("发〔{y}〕{n}号", "奖〔{y}〕{n}号"),
    "行政给付": ("给〔{y}〕{n}号", "补〔{y}〕{n}号"),
    "检查抽查": ("检〔{y}〕{n}号", "抽查〔{y}〕{n}号"),
    "经营异常名录": ("异〔{y}〕{n}号", "企异字〔{y}〕第{n}号"),
    "严重失信主体名单": ("失信〔{y}〕{n}号", "严信〔{y}〕{n}号"),
}
_LICENCE_CLASS = {"许可证": "普通", "核准": "核准", "批复": "核准", "检查": "其他", "合格证": "认可"}


class DocNumbers:
    """Per (department, category, year) serial numbers, so document numbers never repeat.

    The state is a few hundred counters, whatever the archive size. Numbers depend on the order
    records are drawn, so one archive is drawn in one pass (as `iter_records` does)."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, str, int], int] = {}

    def take(self, dept: str, series: str, year: int) -> int:
        k = (dept, series, year)
        n = self._next.get(k)
        if n is None:
            n = zlib.crc32(f"{dept}|{series}|{year}".encode()) % 40 + 1
        self._next[k] = n + 1
        return n

    def admin(self, dept: DepartmentInfo, category: str, day: date) -> str:
        templates = _DOC_SUFFIX[category]
        template = templates[zlib.crc32(dept.code.encode()) % len(templates)]
        return dept.doc_prefix + template.format(y=day.year, n=self.take(dept.code, category, day.year))

    def court(self, dept: DepartmentInfo, kind: str, day: date) -> str:
        return f"（{day.year}）{dept.doc_prefix}{kind}{self.take(dept.code, kind, day.year)}号"


def _groups_match(groups: frozenset[str], sectors: frozenset[str] | None, subject: DemoSubject) -> bool:
    if subject.group not in groups:
        return False
    return sectors is None or subject.group not in (cat.COMPANY, cat.SHOP) or subject.sector in sectors


def _department(ctx: _Ctx, role: str, category: str, subject: DemoSubject, rng: random.Random) -> DepartmentInfo | None:
    local = ctx.depts_by_role.get((role, subject.division_code))
    city = ctx.city_depts_by_role.get(role)
    choices = [d for d in (local, city) if d is not None and category in d.categories]
    if not choices:
        return None
    if len(choices) == 2 and rng.random() < 0.3:
        return choices[1]
    return choices[0]


def _pick_option(ctx: _Ctx, category: str, subject: DemoSubject, rng: random.Random) -> tuple[Any, DepartmentInfo] | None:
    """A catalog entry that fits the subject, and a department of the region that reports it."""
    if category == "行政处罚":
        options: list[Any] = [v for v in cat.VIOLATIONS if _groups_match(v.groups, v.sectors, subject)]
    else:
        options = [i for i in cat.ITEMS if i.category == category and _groups_match(i.groups, i.sectors, subject)]
    rng.shuffle(options)
    for option in options:
        dept = _department(ctx, option.role, category, subject, rng)
        if dept is not None:
            return option, dept
    return None


def _date_between(rng: random.Random, lo: date, hi: date) -> date | None:
    if hi < lo:
        return None
    return lo + timedelta(days=rng.randrange((hi - lo).days + 1))


def _earliest(subject: DemoSubject) -> date:
    if subject.group == cat.PERSON:
        adult = date(subject.established.year + 18, subject.established.month, min(subject.established.day, 28))
        return max(RECORDS_FROM, adult)
    return max(RECORDS_FROM, subject.established + timedelta(days=30))


def _party_fields(subject: DemoSubject) -> dict[str, Any]:
    """The 行政相对人 columns of the national templates; never a person's ID number."""
    fields: dict[str, Any] = {"行政相对人名称": subject.name, "行政相对人类别": subject.kind}
    if subject.uscc:
        fields["行政相对人代码_1"] = subject.uscc
    if subject.legal_rep:
        fields["法定代表人"] = subject.legal_rep
    if subject.group == cat.PERSON:
        fields["证件类型"] = "身份证"
    return fields


def _who(subject: DemoSubject) -> str:
    return "当事人" if subject.group == cat.PERSON else subject.name


def _fine(rng: random.Random, severity: str, kinds: str) -> float:
    if "罚款" not in kinds:
        return 0.0
    if severity == "严重":
        return round(rng.uniform(5, 80), 2)
    return round(min(50.0, rng.lognormvariate(0, 1.1)), 2)


def _penalty(
    docs: DocNumbers, subject: DemoSubject, violation: cat.Violation, dept: DepartmentInfo, day: date,
    severity: str, status: str, rng: random.Random,
) -> DemoRecord:
    kinds = rng.choice(cat.PENALTY_KINDS[severity])
    fine = _fine(rng, severity, kinds)
    confiscated = round(rng.uniform(0.05, 3), 2) if "没收" in kinds else 0.0
    measure = kinds
    if fine:
        measure = measure.replace("罚款", f"罚款人民币{fine:g}万元")
    if confiscated:
        measure = measure.replace("没收违法所得", f"没收违法所得{confiscated:g}万元")
    doc = docs.admin(dept, "行政处罚", day)
    content = (
        f"{_who(subject)}{violation.fact}，违反了相关法律法规规定，依据{violation.basis}，"
        f"{dept.name}决定给予{measure}的行政处罚。"
    )
    fields = _party_fields(subject) | {
        "行政处罚决定书文号": doc,
        "违法行为类型": violation.kind,
        "违法事实": violation.fact,
        "处罚依据": violation.basis,
        "处罚类别": kinds,
        "处罚内容": measure,
        "罚款金额（万元）": fine,
        "没收违法所得、没收非法财物的金额（万元）": confiscated,
        "处罚决定日期": day.isoformat(),
        "处罚机关": dept.name,
        "处罚机关统一社会信用代码": dept.uscc,
        "数据来源单位": dept.name,
        "数据来源单位统一社会信用代码": dept.uscc,
    }
    return DemoRecord(
        subject.key, "行政处罚", dept.code, doc, day, violation.fact, content, severity, status, fields,
        reported_on=day + timedelta(days=rng.randint(1, 5)),
    )


def _item_record(
    docs: DocNumbers, subject: DemoSubject, item: cat.Item, dept: DepartmentInfo, day: date, status: str | None,
    rng: random.Random, court_doc: str | None = None,
) -> DemoRecord:
    category = item.category
    valid_until = None
    if item.valid_years:
        valid_until = date(day.year + item.valid_years, day.month, min(day.day, 28))
    if dept.role == "court":
        if category == "司法判决":
            # The city court (no parent) hears appeals; county courts hear first instance.
            doc = docs.court(dept, "民终" if dept.parent_code is None else "民初", day)
        elif category == "强制执行":
            doc = docs.court(dept, "执", day)
        else:
            doc = court_doc or docs.court(dept, "执", day)
    else:
        doc = docs.admin(dept, category, day)
    fields = _party_fields(subject) | {"决定机关": dept.name, "决定机关统一社会信用代码": dept.uscc, "决定日期": day.isoformat()}
    content = f"{_who(subject)}：{item.content}。"
    if status is None:
        status = "expired" if valid_until is not None and valid_until <= DEMO_AS_OF else "active"
    if category == "行政许可":
        licence_class = next((v for k, v in _LICENCE_CLASS.items() if k in item.title), "其他")
        fields |= {
            "行政许可决定文书名称": f"{item.title}准予许可决定书",
            "行政许可决定文书号": doc,
            "许可类别": licence_class,
            "许可证书名称": item.title,
            "许可编号": f"{dept.division_code}{day:%Y}{rng.randrange(10**6):06d}",
            "许可内容": item.content,
            "有效期自": day.isoformat(),
            "有效期至": valid_until.isoformat() if valid_until else "长期",
            "许可机关": dept.name,
            "许可机关统一社会信用代码": dept.uscc,
            "当前状态": "有效" if status == "active" else "已失效",
        }
    elif category == "资质资格":
        fields |= {"证书名称": item.title, "证书编号": f"{dept.division_code}{day:%y}{rng.randrange(10**6):06d}",
                   "有效期至": valid_until.isoformat() if valid_until else "长期"}
    elif category in ("司法判决", "强制执行"):
        amount = round(rng.lognormvariate(1.5, 1.0), 2)
        cause = item.title if category == "司法判决" else rng.choice(cat.CASE_CAUSES_FOR_ENFORCEMENT)
        fields |= {"案号": doc, "案由": cause, "标的金额（万元）": amount}
        content = f"{_who(subject)}：{item.content}，案由{cause}，标的金额{amount:g}万元。"
    elif category == "经营异常名录":
        fields |= {"列入经营异常名录原因": item.title, "列入日期": day.isoformat(), "作出决定机关": dept.name}
        if status == "repaired":
            out = min(DEMO_AS_OF - timedelta(days=1), day + timedelta(days=rng.randint(30, 400)))
            fields |= {"移出日期": out.isoformat(), "移出原因": "依法补报年度报告并申请移出"}
    elif category == "严重失信主体名单":
        fields |= {"名单名称": item.title, "列入原因": item.content, "列入日期": day.isoformat(), "认定机关": dept.name}
    return DemoRecord(
        subject.key, category, dept.code, doc, day, item.title, content, item.severity, status, fields,
        valid_until=valid_until, reported_on=day + timedelta(days=rng.randint(1, 25)),
    )


def _penalty_status(rng: random.Random, severity: str, day: date) -> str:
    old = (DEMO_AS_OF - day).days > 200
    if old and severity == "一般" and rng.random() < 0.18:
        return "repaired"
    if old and severity == "严重" and rng.random() < 0.05:
        return "repaired"
    return "active"


def _blacklist_package(ctx: _Ctx, docs: DocNumbers, subject: DemoSubject, rng: random.Random) -> list[DemoRecord]:
    """A listing and what led to it: enforcement before 失信被执行人, an abnormal-list entry years
    before 严重违法失信名单, a serious penalty before the other lists."""
    picked = _pick_option(ctx, "严重失信主体名单", subject, rng)
    lo = _earliest(subject)
    if picked is None:
        return []
    item, dept = picked
    first = _date_between(rng, lo, DEMO_AS_OF - timedelta(days=120))
    if first is None:
        return []
    out: list[DemoRecord] = []
    listed = first + timedelta(days=rng.randint(60, 110))
    status = "repaired" if (DEMO_AS_OF - listed).days > 400 and rng.random() < 0.1 else "active"
    court_doc = None
    if dept.role == "court":
        enforcement = next(i for i in cat.ITEMS if i.category == "强制执行")
        rec = _item_record(docs, subject, enforcement, dept, first, "active", rng)
        court_doc = rec.doc_number
        out.append(rec)
    elif dept.role == "market":
        abnormal = next(i for i in cat.ITEMS if i.category == "经营异常名录")
        start = _date_between(rng, max(lo, RECORDS_FROM), DEMO_AS_OF - timedelta(days=3 * 366 + 30))
        if start is None:
            return []
        out.append(_item_record(docs, subject, abnormal, dept, start, "active", rng))
        listed = date(start.year + 3, start.month, min(start.day, 28)) + timedelta(days=rng.randint(5, 25))
    else:
        violations = [v for v in cat.VIOLATIONS if v.role == dept.role and subject.group in v.groups] or [
            v for v in cat.VIOLATIONS if v.role == dept.role
        ]
        penalty_dept = dept if "行政处罚" in dept.categories else None
        if violations and penalty_dept is not None:
            out.append(_penalty(docs, subject, rng.choice(violations), penalty_dept, first, "严重", "active", rng))
    if listed >= DEMO_AS_OF:
        listed = DEMO_AS_OF - timedelta(days=1)
    out.append(_item_record(docs, subject, item, dept, listed, status, rng, court_doc=court_doc))
    return out


def _showcase_records(ctx: _Ctx, docs: DocNumbers, subject: DemoSubject) -> list[DemoRecord]:
    rng = random.Random(f"showcase-records:{subject.key}")
    out: list[DemoRecord] = []
    court_doc: str | None = None
    for spec in ctx.showcase_records.get(subject.key, ()):
        dept = ctx.region.department(spec["department"])
        category, day, pick = spec["category"], spec["date"], spec.get("pick")
        if category == "行政处罚":
            violation = next(v for v in cat.VIOLATIONS if v.fact == pick and v.role == dept.role)
            out.append(_penalty(docs, subject, violation, dept, day, spec.get("severity", "一般"), spec.get("status", "active"), rng))
        else:
            item = next(i for i in cat.ITEMS if i.category == category and i.title == pick and i.role == dept.role)
            rec = _item_record(docs, subject, item, dept, day, spec.get("status"), rng, court_doc=court_doc)
            if category == "强制执行":
                court_doc = rec.doc_number
            out.append(rec)
    return out


def records_for(
    subject: DemoSubject, seed: int, docs: DocNumbers, region: RegionData | None = None
) -> list[DemoRecord]:
    """The records of one subject. Which records, when and how grave depend only on (seed, subject);
    document numbers come from `docs`, shared by the whole archive."""
    ctx = _context(region or default_region())
    if subject.key < len(ctx.showcase) and ctx.showcase[subject.key] == subject:
        return _showcase_records(ctx, docs, subject)
    rng = _rng(seed, subject.key, salt=1)
    lo = _earliest(subject)
    out: list[DemoRecord] = []
    if rng.random() < BLACKLIST_RATE.get(subject.group, 0.0):
        out.extend(_blacklist_package(ctx, docs, subject, rng))
    for category, rate in RECORD_RATES.get(subject.group, {}).items():
        if len(out) >= MAX_RECORDS:
            break
        if rng.random() >= rate:
            continue
        picked = _pick_option(ctx, category, subject, rng)
        day = _date_between(rng, lo, DEMO_AS_OF - timedelta(days=1))
        if picked is None or day is None:
            continue
        option, dept = picked
        if category == "行政处罚":
            severity = SEVERITY_WEIGHTS[_weighted(rng, _SEVERITY_CUM)][0]
            out.append(_penalty(docs, subject, option, dept, day, severity, _penalty_status(rng, severity, day), rng))
        elif category == "经营异常名录":
            status = "repaired" if (DEMO_AS_OF - day).days > 60 and rng.random() < 0.4 else "active"
            out.append(_item_record(docs, subject, option, dept, day, status, rng))
        else:
            out.append(_item_record(docs, subject, option, dept, day, None, rng))
    return out


def iter_records(
    subjects: Iterable[DemoSubject], seed: int = DEFAULT_SEED, region: RegionData | None = None
) -> Iterator[DemoRecord]:
    """Records of a stream of subjects, in order. Draw one archive in one pass: document numbers are
    numbered across the pass."""
    docs = DocNumbers()
    for subject in subjects:
        yield from records_for(subject, seed, docs, region)
