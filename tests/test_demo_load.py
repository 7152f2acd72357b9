"""build_demo on both databases: what the summary says is what the tables hold, and no clear ID
number is ever written."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from db.demo import SHOWCASE_BY_TAG, DemoAlreadyPresent, build_demo, demo_present, iter_subjects
from db.models import CreditRecord, Department, Subject, SubjectAlias
from db.session import Database
from rules.masking import id_match_key, mask_id

N = 300
KEY = "test-key"


async def test_build_demo(db: Database) -> None:
    assert not await demo_present(db)
    calls: list[tuple[int, int]] = []
    summary = await build_demo(db, N, id_key=KEY, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (N, N)
    assert await demo_present(db)

    async with db.transaction() as s:
        subjects = (await s.scalars(select(Subject).order_by(Subject.id))).all()
        kinds = Counter(x.kind for x in subjects)
        aliases = (await s.execute(select(SubjectAlias.subject_id, SubjectAlias.alias, SubjectAlias.kind))).all()
        categories = dict((await s.execute(select(CreditRecord.category, func.count()).group_by(CreditRecord.category))).all())
        statuses = dict((await s.execute(select(CreditRecord.status, func.count()).group_by(CreditRecord.status))).all())
        records = (await s.scalars(select(CreditRecord))).all()
        departments = {d.id: d for d in (await s.scalars(select(Department))).all()}

    assert summary.subjects == len(subjects) == N
    assert summary.by_kind == dict(kinds)
    assert summary.aliases == len(aliases) == sum(summary.aliases_by_kind.values())
    assert summary.records == len(records) == sum(categories.values())
    assert summary.by_category == categories
    assert summary.by_status == statuses
    assert summary.departments == len(departments)

    expected = list(iter_subjects(N))
    assert [x.name for x in subjects] == [e.name for e in expected]
    for row, demo in zip(subjects, expected, strict=True):
        if demo.id_number:
            assert row.id_hash == id_match_key(demo.id_number, KEY)
            assert row.id_masked == mask_id(demo.id_number) != demo.id_number
            assert row.established is None
        else:
            assert row.id_hash is None and row.uscc == demo.uscc
    # No clear ID number anywhere in the subjects table, nor in any record.
    clear = [e.id_number for e in expected if e.id_number]
    assert clear
    for row in subjects:
        text = " ".join(str(v) for v in (row.name, row.uscc, row.id_hash, row.id_masked, row.legal_rep, row.address, row.status))
        assert not any(number in text for number in clear)
    for r in records:
        text = f"{r.content} {r.title} {r.fields}"
        assert not any(number in text for number in clear)

    for r in records:
        dept = departments[r.department_id]
        assert r.source_key == dept.uscc and r.source_name == dept.name
        if r.category in ("行政处罚", "严重失信主体名单"):
            assert r.rule_edition in ("2019", "2023", "2026") and r.publication_end is not None
            assert r.publication_end > r.decision_date

    ids = {x.name: x.id for x in subjects}
    former = SHOWCASE_BY_TAG["former_name"]
    assert (ids[former.name], former.former_names[0], "曾用名") in aliases
    assert (ids[former.name], former.short_names[0], "简称") in aliases
    food = [r for r in records if r.subject_id == ids[SHOWCASE_BY_TAG["special_food"].name]]
    assert [(r.rule_edition, str(r.publication_end)) for r in food] == [("2023", "2027-02-20")]  # special field: 3 years max


async def test_build_twice_is_refused_and_ids_continue(db: Database) -> None:
    await build_demo(db, 50)
    with pytest.raises(DemoAlreadyPresent):
        await build_demo(db, 50)
    async with db.transaction() as s:
        s.add(Subject(kind="法人", name="演示之后新增的主体"))
    async with db.transaction() as s:
        new_id = await s.scalar(select(Subject.id).where(Subject.name == "演示之后新增的主体"))
    assert new_id == 51


async def test_rebuild_replaces_the_archive(db: Database) -> None:
    await build_demo(db, 40)
    summary = await build_demo(db, 60, rebuild=True)
    async with db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Subject)) == 60
        assert await s.scalar(select(func.count()).select_from(CreditRecord)) == summary.records
        assert await s.scalar(select(func.count()).select_from(Department)) == summary.departments


def test_showcase_help_names_the_showcase() -> None:
    from db.demo.load import showcase_help

    text = showcase_help()
    assert SHOWCASE_BY_TAG["blacklisted"].name in text
    assert SHOWCASE_BY_TAG["person_610928"].id_number not in text
