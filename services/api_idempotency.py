"""Idempotency keys of the port: a retried request (same key, same `Idempotency-Key`, same body)
gets the first answer back and writes nothing twice.

The answer is stored after the use case committed. Two copies of one request racing each other can
both run; the use cases behind the keyed endpoints are themselves idempotent (the importer by
source + document number), so the race doubles no record, and the unique constraint keeps one
stored answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from db.models import ApiIdempotency
from db.session import Database
from db.upsert import insert_ignore

MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    body: dict[str, Any]


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b"\n" + path.encode() + b"\n" + body).hexdigest()


async def stored_answer(db: Database, api_key_id: int, idem_key: str) -> StoredAnswer | None:
    async with db.sessions() as s:
        row = await s.scalar(
            select(ApiIdempotency).where(ApiIdempotency.api_key_id == api_key_id, ApiIdempotency.idem_key == idem_key)
        )
    return None if row is None else StoredAnswer(row.request_hash, row.status_code, row.body)


async def store_answer(
    db: Database, api_key_id: int, idem_key: str, req_hash: str, status_code: int, body: dict[str, Any]
) -> None:
    """Keep the first answer; a later one under the same key is dropped (ON CONFLICT DO NOTHING)."""
    body = json.loads(json.dumps(body, ensure_ascii=False, default=str))
    async with db.transaction() as s:
        await s.execute(
            insert_ignore(
                s, ApiIdempotency,
                {"api_key_id": api_key_id, "idem_key": idem_key, "request_hash": req_hash,
                 "status_code": status_code, "body": body},
                ["api_key_id", "idem_key"],
            )
        )
