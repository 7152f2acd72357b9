"""Test helper: every text, JSON and binary value of every table, searched for resident ID numbers in
clear (valid GB 11643 check character and a real birth date). Used after each upload flow."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select

from db.models import Base
from db.session import Database

_CANDIDATE = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def is_resident_id(number: str) -> bool:
    check = "10X98765432"[sum(int(c) * w for c, w in zip(number[:17], _WEIGHTS, strict=True)) % 11]
    if number[17].upper() != check:
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= dt.date.today()


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")  # digits are ASCII in UTF-8, GBK and GB18030 alike
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


async def clear_id_numbers(db: Database) -> list[tuple[str, str]]:
    """(table, number) for every valid resident ID number found in clear anywhere in the database."""
    found = []
    async with db.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in await s.execute(select(table)):
                for value in row:
                    if value is None or isinstance(value, int | float | dt.date):
                        continue
                    found += [(table.name, m) for m in _CANDIDATE.findall(_text(value)) if is_resident_id(m)]
    return found
