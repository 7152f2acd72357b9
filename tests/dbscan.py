"""Test helper: every text, JSON and binary value of every table, searched for resident ID numbers in
clear (valid GB 11643 check character and a real birth date) and for mobile numbers in clear (11 digits
from 13x-19x, with or without 3-4-4 separators or a +86 prefix). Used after each upload flow, import
with free text and objection."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select

from db.models import Base
from db.session import Database

_CANDIDATE = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
# Not inside a longer run of letters or digits (hashes, USCCs, ID numbers); 138 1234 5678 counts too.
_MOBILE = re.compile(r"(?:(?<=86)|(?<![0-9A-Za-z]))1[3-9][0-9][-\s]?[0-9]{4}[-\s]?[0-9]{4}(?![0-9A-Za-z])")
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


async def _texts(db: Database) -> list[tuple[str, str]]:
    """(table, text) for every non-numeric, non-date value of every table."""
    out = []
    async with db.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in await s.execute(select(table)):
                out += [(table.name, _text(v)) for v in row if v is not None and not isinstance(v, int | float | dt.date)]
    return out


async def clear_id_numbers(db: Database) -> list[tuple[str, str]]:
    """(table, number) for every valid resident ID number found in clear anywhere in the database."""
    return [(t, m) for t, text in await _texts(db) for m in _CANDIDATE.findall(text) if is_resident_id(m)]


async def clear_mobile_numbers(db: Database) -> list[tuple[str, str]]:
    """(table, number) for every mobile phone number found in clear anywhere in the database."""
    return [(t, m) for t, text in await _texts(db) for m in _MOBILE.findall(text)]
