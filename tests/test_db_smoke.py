from sqlalchemy import select

from db.models import Subject
from db.session import Database


async def test_subject_round_trip(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Subject(kind="法人", name="安康市恒达建材有限公司", uscc="91610900MA70XXXXX0"))
    async with db.transaction() as s:
        names = (await s.scalars(select(Subject.name))).all()
    assert names == ["安康市恒达建材有限公司"]
