"""The demo's subjects: companies (with twins, branches and outlets), organisations and persons,
each a pure function of (seed, key)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from db.demo import catalog as cat
from db.demo import field_shapes
from db.demo import names as pools
from db.demo.codes import _ORG_LETTER, MAX_SUBJECTS, _mix, _mobile, _org_code, _person_id, make_uscc
from db.demo.generate import (
    _FORM_CUM,
    _GROUP_CUM,
    _INDUSTRY_CUM,
    _SURNAME_CUM,
    BRANCH_RATE,
    DEFAULT_SEED,
    DEMO_AS_OF,
    FORCED_COUNTY_TWIN,
    FORCED_FORM_TWIN,
    FORMER_NAME_RATE,
    GROUP_WEIGHTS,
    RANDOM_TWIN_RATE,
    SHORT_NAME_RATE,
    TWIN_BLOCK,
    DemoSubject,
    _context,
    _Ctx,
    _weighted,
)
from db.regions import DivisionInfo, RegionData, default_region

# ------------------------------------------------------------------------------------------- people






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
    uscc = make_uscc("91", reg.code_on(established), _org_code(key, seed, "A", legacy, ctx.reserved_org_codes))
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
            name, type_code = f"{cname}{unit}", field_shapes.unit_type_code(unit)
    else:
        name = f"{cname}{town}{_trade_name(rng)}{rng.choice(('花园', '家园', '小区', '苑'))}业主委员会"
        type_code, kind = "Y1", "非法人组织"
    if name in ctx.reserved_names:
        name = name[:-2] + rng.choice(pools.TRADE_THIRD) + name[-2:]
    legacy = established < date(2015, 10, 1) and group in (cat.SHOP, cat.SOCIAL) and rng.random() < 0.5
    letter = _ORG_LETTER.get(type_code[0], "A")
    uscc = make_uscc(type_code, reg.code_on(established), _org_code(key, seed, letter, legacy, ctx.reserved_org_codes))
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
