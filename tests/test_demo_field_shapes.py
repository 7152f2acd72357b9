"""The demo generator writes the field's name shapes (issue 11), and the resolver finds them the
way officials ask: a branch by parent + place + outlet word, a shop by its 字号 and trade, a
cooperative by its village, an institution by its full name."""

from __future__ import annotations

import re

import pytest

from bench.resolve import build_index, region_divisions
from db.demo.subjects import iter_subjects
from nlp.index_parts import IndexEntry
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex

N = 5000


@pytest.fixture(scope="module")
def world() -> tuple[list[IndexEntry], NameIndex]:
    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    entries = [
        IndexEntry(i, s.name, s.kind, s.uscc, s.division_code, tuple((a, "曾用名") for a in s.former_names))
        for i, s in enumerate(iter_subjects(N), start=1)
    ]
    return entries, build_index(entries, lexicon)


def test_generator_writes_the_new_shapes(world: tuple[list[IndexEntry], NameIndex]) -> None:
    names = [e.name for e in world[0]]
    for word in ("营业部", "门市部", "分店"):
        assert any(re.search(rf"有限(责任)?公司..{word}$", n) for n in names), word
    assert any(re.search(r"(老街|新街|正街|河街|东关|西关|南门|北门).{1,2}记", n) for n in names)
    assert any(re.search(r"镇..村.*专业合作社$", n) for n in names)
    assert any(re.search(r"(中学|医院|中心)$", n) for n in names)
    codes = {e.uscc[:2] for e in world[0] if e.uscc}
    assert "12" in codes


def test_branches_are_found_by_parent_place_and_outlet_word(world: tuple[list[IndexEntry], NameIndex]) -> None:
    entries, index = world
    branches = [e for e in entries if re.search(r"有限(责任)?公司(..)(营业部|门市部|分店|分公司)$", e.name)][:30]
    assert branches
    for e in branches:
        m = re.search(r"^(.*?)有限(?:责任)?公司(..)(营业部|门市部|分店|分公司)$", e.name)
        assert m
        parent_core = index.keys_for(m.group(1) + "有限公司").core
        asked = f"{parent_core}{m.group(2)}{m.group(3)}"
        r = index.resolve(asked)
        assert r.candidates and e.subject_id in {c.subject_id for c in r.candidates}, (asked, e.name, r)
        assert r.status != "clear" or r.candidates[0].subject_id == e.subject_id, (asked, e.name)


def test_village_cooperatives_are_found_by_town_and_village(world: tuple[list[IndexEntry], NameIndex]) -> None:
    entries, index = world
    coops = [e for e in entries if re.search(r"(..)镇(..)村.*专业合作社$", e.name)][:30]
    assert coops
    for e in coops:
        m = re.search(r"(..)镇(..)村", e.name)
        assert m
        r = index.resolve(f"{m.group(1)}{m.group(2)}村")
        assert e.subject_id in {c.subject_id for c in r.candidates}, (e.name, r)
        assert r.status != "clear" or r.candidates[0].subject_id == e.subject_id


ABBREVIATED = {"人力资源和社会保障局": "人社局", "市场监督管理局": "市监局", "住房和城乡建设局": "住建局", "发展和改革局": "发改局"}


def test_bureaus_are_found_by_the_abbreviation_officials_use(world: tuple[list[IndexEntry], NameIndex]) -> None:
    entries, index = world
    short = {code: s for code, _name, s in index.lexicon.divisions}
    bureaus = [e for e in entries if any(e.name.endswith(unit) for unit in ABBREVIATED)][:30]
    assert bureaus and all(e.uscc and e.uscc.startswith("11") for e in bureaus)
    for e in bureaus:
        unit = next(u for u in ABBREVIATED if e.name.endswith(u))
        asked = f"{short[e.division_code]}{ABBREVIATED[unit]}"  # 汉滨人社局
        r = index.resolve(asked)
        assert e.subject_id in {c.subject_id for c in r.candidates}, (asked, e.name, r)
        assert r.status != "clear" or r.candidates[0].subject_id == e.subject_id, (asked, e.name)
