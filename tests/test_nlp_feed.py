"""services.subject_feed on both backends: full load, aliases, and reading the stream after it."""

from __future__ import annotations

from sqlalchemy import update

from db.models import Division, Subject, SubjectAlias
from db.session import Database
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex
from services.subject_feed import load_divisions, load_entries, read_changes, stamp_changes


async def test_load_and_refresh(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Division(code="610921", name="汉阴县", short_name="汉阴", former_codes=None))
        s.add(Division(code="610981", name="旬阳市", short_name="旬阳", former_codes="610928"))
        subject = Subject(kind="法人", name="汉阴县恒达建材有限公司", uscc=None, division_code="610921")
        subject.aliases.append(SubjectAlias(alias="恒达建材", kind="简称"))
        s.add(subject)
    assert await stamp_changes(db) == 2  # the subject and its alias, each recorded by a trigger
    async with db.transaction() as s:
        divisions = await load_divisions(s)
        entries, mark = await load_entries(s)
    assert ("610928", "旬阳市", "旬阳") in divisions
    assert [(e.name, e.aliases) for e in entries] == [("汉阴县恒达建材有限公司", (("恒达建材", "简称"),))]
    assert mark == 2

    index = NameIndex(Lexicon.from_divisions(divisions))
    index.add(entries)
    async with db.transaction() as s:
        s.add(Subject(kind="法人", name="旬阳县金穗农业科技有限公司", division_code="610928"))
        await s.execute(update(Subject).where(Subject.id == entries[0].subject_id).values(status="注销"))
    assert await stamp_changes(db) == 1  # the new subject; a status is not in the index
    async with db.transaction() as s:
        page = await read_changes(s, mark)
    assert [e.name for e in page.entries] == ["旬阳县金穗农业科技有限公司"] and page.position > mark
    index.add(page.entries)
    r = index.resolve("金穗农业", "610981")
    assert r.status == "clear" and r.candidates[0].name == "旬阳县金穗农业科技有限公司"
    assert len(index) == 2
