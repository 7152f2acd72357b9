"""The demo generator: deterministic, valid and unique codes, near-twins, every category."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from itertools import islice

import pytest

from db.demo import (
    SHOWCASE,
    SHOWCASE_BY_TAG,
    DemoRecord,
    DemoSubject,
    iter_records,
    iter_subjects,
    subject_at,
)
from db.demo.codes import permute
from db.demo.generate import DEMO_AS_OF, FORCED_COUNTY_TWIN, FORCED_FORM_TWIN, TWIN_BLOCK
from db.regions import default_region
from rules.categories import CATEGORIES
from rules.codes import validate_ric, validate_uscc
from rules.severity import infer_severity


@pytest.fixture(scope="module")
def subjects_20k() -> list[DemoSubject]:
    return list(iter_subjects(20_000))


@pytest.fixture(scope="module")
def records_20k(subjects_20k: list[DemoSubject]) -> list[DemoRecord]:
    return list(iter_records(subjects_20k))


def test_same_seed_same_subjects() -> None:
    assert list(iter_subjects(1000, seed=7)) == list(iter_subjects(1000, seed=7))


def test_other_seed_other_subjects() -> None:
    a = list(iter_subjects(1000, seed=7))
    b = list(iter_subjects(1000, seed=8))
    shown = len(SHOWCASE)
    assert a[:shown] == b[:shown]  # the showcase does not depend on the seed
    differing = sum(x != y for x, y in zip(a[shown:], b[shown:], strict=True))
    assert differing > 0.95 * (1000 - shown)


def test_random_access_matches_stream() -> None:
    stream = list(iter_subjects(700, seed=3))
    for key in (0, 5, 101, 102, 333, 699):
        assert subject_at(key, seed=3) == stream[key]


def test_records_are_deterministic() -> None:
    assert list(iter_records(iter_subjects(500, seed=11), seed=11)) == list(
        iter_records(iter_subjects(500, seed=11), seed=11)
    )


def test_permute_is_a_bijection() -> None:
    for domain in (1, 7, 100, 1000):
        assert sorted(permute(x, domain, 42) for x in range(domain)) == list(range(domain))


def test_codes_valid_and_unique(subjects_20k: list[DemoSubject]) -> None:
    region = default_region()
    area_codes = {c for d in region.counties for c in (d.code, *d.former_codes)}
    usccs = [s.uscc for s in subjects_20k if s.uscc]
    ids = [s.id_number for s in subjects_20k if s.id_number]
    assert len(set(usccs)) == len(usccs) > 15_000
    assert len(set(ids)) == len(ids) > 2_000
    for code in usccs:
        assert validate_uscc(code).ok, code
    for s in subjects_20k:
        assert (s.uscc is None) == (s.kind == "自然人")
        if s.id_number:
            check = validate_ric(s.id_number, today=DEMO_AS_OF)
            assert check.ok, (s.id_number, check.error)
            assert s.id_number[:6] in area_codes
            assert date(1950, 1, 1) <= s.established <= date(2005, 12, 31)
            assert s.id_number[6:14] == f"{s.established:%Y%m%d}"
            assert s.phone and re.fullmatch(r"1[3-9]\d{9}", s.phone)
    areas = Counter(i[:6] for i in ids)
    assert areas["610928"] > 0 and areas["610981"] > 0
    first = Counter(c[:2] for c in usccs)
    assert {"91", "92", "93", "N2", "51", "Y1"} <= set(first)


def test_names_mostly_distinct(subjects_20k: list[DemoSubject]) -> None:
    names = [s.name for s in subjects_20k]
    assert len(set(names)) > 0.9 * len(names)
    showcase_names = {s.name for s in SHOWCASE}
    assert sum(s.name in showcase_names for s in subjects_20k) == len(SHOWCASE)


def test_name_shapes(subjects_20k: list[DemoSubject]) -> None:
    by_kind = Counter(s.kind for s in subjects_20k)
    assert set(by_kind) == {"法人", "非法人组织", "个体工商户", "自然人"}
    names = [s.name for s in subjects_20k]
    assert any(re.search(r"（[\u4e00-\u9fff]{2}）有限", n) for n in names)  # 恒达建材（安康）有限公司
    assert any(n.endswith("专业合作社") for n in names)
    assert any(n.endswith("分公司") for n in names)
    assert any(n.endswith("合伙企业（有限合伙）") or n.endswith("合伙企业（普通合伙）") for n in names)
    assert any(re.search(r"[记氏](面馆|五金店|便利店|超市)", n) for n in names)
    coops = [s for s in subjects_20k if s.name.endswith("专业合作社")]
    assert all(s.uscc and s.uscc.startswith("93") for s in coops)
    assert any(s.uscc and s.uscc.startswith("N2") and s.name.endswith("股份经济合作社") for s in subjects_20k)


def test_aliases(subjects_20k: list[DemoSubject]) -> None:
    orgs = [s for s in subjects_20k if s.kind != "自然人"]
    former = sum(bool(s.former_names) for s in orgs) / len(orgs)
    short = sum(bool(s.short_names) for s in orgs) / len(orgs)
    assert 0.03 < former < 0.08 and 0.07 < short < 0.15
    for s in subjects_20k:
        assert s.name not in s.former_names and s.name not in s.short_names
        assert not set(s.former_names) & set(s.short_names)


_FORMS = ("有限责任公司", "有限公司")


def _place_and_rest(name: str, places: list[str]) -> tuple[str, str]:
    for p in places:
        if name.startswith(p):
            return p, name[len(p):]
    return "", name


@pytest.mark.parametrize("seed", [1, 2, 20261127])
def test_near_twins_exist_at_1000(seed: int) -> None:
    region = default_region()
    places = sorted({region.name, *(d.name for d in region.counties), *(f.name for d in region.counties for f in d.former)}, key=len, reverse=True)
    subjects = list(iter_subjects(1000, seed=seed))
    names = {s.name for s in subjects[: TWIN_BLOCK + FORCED_COUNTY_TWIN]}
    for block in (0, TWIN_BLOCK):
        county_twin = subjects[block + FORCED_COUNTY_TWIN]
        place, rest = _place_and_rest(county_twin.name, places)
        assert place, county_twin.name
        earlier = [s for s in subjects[: block + FORCED_COUNTY_TWIN] if s.name.endswith(rest) and s.name != county_twin.name]
        assert earlier, county_twin.name
        assert any(s.division_code != county_twin.division_code or not s.name.startswith(place) for s in earlier)

        form_twin = subjects[block + FORCED_FORM_TWIN]
        assert form_twin.name.endswith(_FORMS)
        other = (
            form_twin.name.removesuffix("有限责任公司") + "有限公司"
            if form_twin.name.endswith("有限责任公司")
            else form_twin.name.removesuffix("有限公司") + "有限责任公司"
        )
        assert other in {s.name for s in subjects[: block + FORCED_FORM_TWIN]}, form_twin.name
    assert names


def test_showcase() -> None:
    tags = SHOWCASE_BY_TAG
    assert [s.key for s in SHOWCASE] == list(range(len(SHOWCASE)))
    assert tags["twin_city"].name == "安康市恒达建材有限公司"
    assert tags["twin_county"].name == "汉阴县恒达建材有限公司"
    assert tags["twin_form"].name == "安康市恒达建材有限责任公司"
    assert tags["collective"].uscc.startswith("N2")
    assert tags["coop"].uscc.startswith("93")
    assert tags["shop"].kind == "个体工商户"
    assert tags["person_610928"].id_number.startswith("610928")
    assert tags["person_610981"].id_number.startswith("610981")
    assert tags["abnormal"].uscc[2:8] == "610928"  # registered in 旬阳县 before the rename
    for s in SHOWCASE:
        if s.uscc:
            assert validate_uscc(s.uscc).ok
        if s.id_number:
            assert validate_ric(s.id_number, today=DEMO_AS_OF).ok
    # none of the generated subjects reuses a showcase code
    codes = ({s.uscc for s in SHOWCASE} | {s.id_number for s in SHOWCASE}) - {None}
    assert not any(s.uscc in codes or s.id_number in codes for s in islice(iter_subjects(5000), len(SHOWCASE), None))


def test_showcase_records() -> None:
    records = list(iter_records(SHOWCASE))
    by_tag: dict[str, list[DemoRecord]] = {}
    tag_of = {s.key: s.tag for s in SHOWCASE}
    for r in records:
        by_tag.setdefault(tag_of[r.subject_key] or "", []).append(r)
    assert {r.category for r in by_tag["blacklisted"]} >= {"严重失信主体名单", "行政处罚"}
    assert [r.category for r in by_tag["abnormal"]] == ["经营异常名录"]
    assert any(r.status == "repaired" and r.category == "行政处罚" for r in by_tag["repaired"])
    assert any(r.category == "行政处罚" for r in by_tag["twin_city"])
    assert "twin_form" not in by_tag


def test_all_categories_and_shapes(records_20k: list[DemoRecord], subjects_20k: list[DemoSubject]) -> None:
    categories = Counter(r.category for r in records_20k)
    expected = set(CATEGORIES) - {"自主申报", "信用承诺"}  # those come from subjects, not departments
    assert set(categories) == expected
    statuses = Counter(r.status for r in records_20k)
    assert {"active", "repaired", "expired"} == set(statuses)
    per_subject = Counter(r.subject_key for r in records_20k)
    assert len(per_subject) < 0.5 * len(subjects_20k)  # most subjects are clean
    orgs = sum(s.kind != "自然人" for s in subjects_20k)
    listed = {r.subject_key for r in records_20k if r.category == "严重失信主体名单"}
    assert 0.002 * orgs < len(listed) < 0.012 * orgs


def test_records_are_plausible(records_20k: list[DemoRecord], subjects_20k: list[DemoSubject]) -> None:
    region = default_region()
    departments = {d.code: d for d in region.departments}
    seen: set[tuple[str, str, str]] = set()
    subjects = {s.key: s for s in subjects_20k}
    for r in records_20k:
        dept = departments[r.department_code]
        assert r.category in dept.categories
        assert date(2019, 1, 1) <= r.decision_date < DEMO_AS_OF
        assert r.decision_date >= subjects[r.subject_key].established or subjects[r.subject_key].kind == "自然人"
        key = (dept.uscc, r.category, r.doc_number)
        assert key not in seen, key
        seen.add(key)
        if not (r.category == "严重失信主体名单" and dept.role == "court"):  # listed under an older 执 case
            assert str(r.decision_date.year) in r.doc_number
        if r.category == "行政处罚":
            f = r.fields
            assert r.severity == infer_severity(f["处罚类别"], f["罚款金额（万元）"])
            assert {"处罚类别", "罚款金额（万元）", "违法行为类型", "处罚依据", "违法事实"} <= set(f)
        if r.category == "严重失信主体名单":
            assert r.severity == "严重"
        if r.status == "expired":
            assert r.valid_until is not None and r.valid_until <= DEMO_AS_OF
    severities = Counter(r.severity for r in records_20k if r.category == "行政处罚")
    assert set(severities) == {"轻微", "一般", "严重"}
    assert any(re.fullmatch(r"（20\d\d）陕09\d\d执\d+号", r.doc_number) for r in records_20k)
    assert any(re.fullmatch(r"安市监.*〔20\d\d〕\d+号", r.doc_number) for r in records_20k)


def test_no_clear_id_in_records(records_20k: list[DemoRecord], subjects_20k: list[DemoSubject]) -> None:
    ids = [s.id_number for s in subjects_20k if s.id_number]
    pattern = re.compile("|".join(ids))
    for r in records_20k:
        text = r.content + r.title + repr(r.fields)
        assert not pattern.search(text)
