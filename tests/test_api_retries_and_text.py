"""The port's doors against the real `creditbot api` server with 2 workers, on SQLite and PostgreSQL.

Requests that happen twice: copies of one request under one `Idempotency-Key`, sent at once, make one
check (one port row, one audit row) and all get the first answer; the batch and the push honour the
key alike; a copy of a request still in progress waits, then gets 409 with Retry-After; a key whose
holder died is taken over.

What a name and a free text may hold (rules/text_input.py): names with controls or bidi overrides are
refused with an error naming the field or cell, invisible characters removed, free text cleaned,
arrays and objects in push fields refused; the Excel export survives names stored before the rule;
rare characters outside the BMP stay intact."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from db.models import ApiCheck, ApiIdempotency, ApiKey, AuditEntry, CreditRecord
from services.api_idempotency import request_hash
from tests.api_server import Port, serving
from tests.test_api_server import BLACKLISTED, PROBLEM, TWIN, _count, penalty_row

COPIES = 8
REPLAYED = "Idempotent-Replayed"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def port(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Port]:
    async with serving(request.param, tmp_path_factory.mktemp(f"idem-{request.param}"), subjects=60, workers=2,
                       api={"idempotency_wait_seconds": 1}) as running:
        yield running


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"retry-{uuid.uuid4()}"}


async def _copies(port: Port, path: str, body: dict[str, object], headers: dict[str, str], n: int = COPIES,
                  params: dict[str, str] | None = None) -> list[httpx.Response]:
    """`n` copies at once, each on a connection of its own (so both workers take some)."""
    async def one() -> httpx.Response:
        async with port.client(port.keys.full) as c:
            return await c.post(path, json=body, headers=headers, params=params)

    return list(await asyncio.gather(*(one() for _ in range(n))))


def _one_first_answer(responses: list[httpx.Response]) -> None:
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len({r.content for r in responses}) == 1, "every copy answers the first answer"
    assert sorted(r.headers.get(REPLAYED, "-") for r in responses) == ["-"] + ["true"] * (len(responses) - 1)


async def test_concurrent_copies_of_a_check_make_one_check(port: Port) -> None:
    case = f"IDEM-{uuid.uuid4().hex[:8]}"
    body = {"subject": BLACKLISTED.uscc, "matter": "procurement", "case_number": case, "operator": "李四"}
    responses = await _copies(port, "/v1/checks", body, _key())
    _one_first_answer(responses)
    check_id = responses[0].json()["check_id"]
    assert await _count(port.db, select(func.count(ApiCheck.check_id)).where(ApiCheck.case_number == case)) == 1
    audits = select(func.count(AuditEntry.id)).where(AuditEntry.action == "api_check",
                                                     AuditEntry.detail["case_number"].as_string() == case)
    assert await _count(port.db, audits) == 1
    async with port.db.sessions() as s:
        stored = await s.scalar(select(ApiIdempotency.body).where(ApiIdempotency.idem_key == responses[0].request.headers["Idempotency-Key"]))
    assert stored is not None and stored["check_id"] == check_id


async def test_a_subject_not_found_keeps_no_answer_and_the_key_can_be_used_again(port: Port) -> None:
    headers = _key()
    body = {"subject": "完全不存在的某某某公司", "matter": "procurement", "case_number": "IDEM-N", "operator": "李四"}
    async with port.client(port.keys.full) as c:
        first = await c.post("/v1/checks", json=body, headers=headers)
        again = await c.post("/v1/checks", json=body, headers=headers)
    assert first.status_code == 404 and again.status_code == 404 and REPLAYED not in again.headers
    async with port.db.sessions() as s:
        assert await s.scalar(select(ApiIdempotency.id).where(ApiIdempotency.idem_key == headers["Idempotency-Key"])) is None


async def test_concurrent_copies_of_a_batch_make_one_set_of_checks_and_replay_as_excel(port: Port) -> None:
    case = f"IDEM-B-{uuid.uuid4().hex[:8]}"
    body = {"matter": "tender", "subjects": [BLACKLISTED.uscc, TWIN.name, "恒达建材"], "case_number": case,
            "operator": "李四"}
    headers = _key()
    responses = await _copies(port, "/v1/checks/batch", body, headers, n=4)
    _one_first_answer(responses)
    assert responses[0].json()["resolved"] == 2
    assert await _count(port.db, select(func.count(ApiCheck.check_id)).where(ApiCheck.case_number == case)) == 2
    async with port.client(port.keys.full) as c:
        as_excel = await c.post("/v1/checks/batch", json=body, headers=headers, params={"format": "xlsx"})
        excel_key = _key()
        first_xlsx = await c.post("/v1/checks/batch", json=body, headers=excel_key, params={"format": "xlsx"})
        retried_xlsx = await c.post("/v1/checks/batch", json=body, headers=excel_key, params={"format": "xlsx"})
    assert as_excel.status_code == 422, "another format under the same key is another request"
    assert first_xlsx.status_code == retried_xlsx.status_code == 200 and retried_xlsx.headers[REPLAYED] == "true"

    def rows(r: httpx.Response) -> list[tuple[object, ...]]:
        return list(load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0].iter_rows(values_only=True))

    assert rows(first_xlsx) == rows(retried_xlsx) and len(rows(first_xlsx)) == 4
    assert await _count(port.db, select(func.count(ApiCheck.check_id)).where(ApiCheck.case_number == case)) == 4


async def test_overlapping_identical_pushes_get_one_answer(port: Port) -> None:
    doc = f"安应急罚〔2026〕{uuid.uuid4().int % 10**6}号"
    audits = select(func.count(AuditEntry.id)).where(AuditEntry.action == "api_push")
    before = await _count(port.db, audits)
    responses = await _copies(port, "/v1/records/penalty", {"rows": [penalty_row(doc)]}, _key(), n=4)
    _one_first_answer(responses)
    assert responses[0].json()["new"] == 1
    assert await _count(port.db, select(func.count(CreditRecord.id)).where(CreditRecord.doc_number == doc)) == 1
    assert await _count(port.db, audits) == before + 1


async def _claim_row(port: Port, key: str, raw: bytes, lease: dt.timedelta) -> None:
    """Another copy holding `key` for the same request, its lease ending after `lease`."""
    async with port.db.transaction() as s:
        key_id = await s.scalar(select(ApiKey.id).where(ApiKey.prefix == port.keys.prefixes["full"]))
        s.add(ApiIdempotency(api_key_id=key_id, idem_key=key, request_hash=request_hash("POST", "/v1/checks", raw),
                             owner="f" * 32, lease_until=dt.datetime.now(dt.UTC) + lease))


async def test_a_copy_of_a_request_in_progress_waits_then_gets_409_and_a_dead_holder_is_taken_over(port: Port) -> None:
    case = f"IDEM-L-{uuid.uuid4().hex[:8]}"
    raw = json.dumps({"subject": BLACKLISTED.uscc, "matter": "award", "case_number": case, "operator": "李四"}).encode()
    headers = {**_key(), "content-type": "application/json"}
    await _claim_row(port, headers["Idempotency-Key"], raw, dt.timedelta(minutes=5))
    async with port.client(port.keys.full) as c:
        busy = await c.post("/v1/checks", content=raw, headers=headers)
        assert busy.status_code == 409 and busy.headers["content-type"] == PROBLEM
        assert 1 <= int(busy.headers["Retry-After"]) <= 2 and "仍在处理中" in busy.json()["detail"]
        other = await c.post("/v1/checks", content=raw.replace(b"award", b"land"), headers=headers)
        assert other.status_code == 422 and "内容不同" in other.json()["detail"]
        assert await _count(port.db, select(func.count(ApiCheck.check_id)).where(ApiCheck.case_number == case)) == 0

        dead = {**_key(), "content-type": "application/json"}
        await _claim_row(port, dead["Idempotency-Key"], raw, -dt.timedelta(seconds=1))
        taken = await c.post("/v1/checks", content=raw, headers=dead)
        replay = await c.post("/v1/checks", content=raw, headers=dead)
    assert taken.status_code == 200 and REPLAYED not in taken.headers
    assert replay.json() == taken.json() and replay.headers[REPLAYED] == "true"
    assert await _count(port.db, select(func.count(ApiCheck.check_id)).where(ApiCheck.case_number == case)) == 1


async def test_answers_older_than_the_retention_are_pruned(port: Port) -> None:
    from services.api_idempotency import prune

    old, recent = _key()["Idempotency-Key"], _key()["Idempotency-Key"]
    async with port.db.transaction() as s:
        key_id = await s.scalar(select(ApiKey.id).where(ApiKey.prefix == port.keys.prefixes["full"]))
        for key, age in ((old, dt.timedelta(days=8)), (recent, dt.timedelta(days=6))):
            s.add(ApiIdempotency(api_key_id=key_id, idem_key=key, request_hash="0" * 64, status_code=200, body={},
                                 created_at=dt.datetime.now(dt.UTC) - age))
    assert await prune(port.db, keep_days=7) >= 1
    async with port.db.sessions() as s:
        left = set((await s.scalars(select(ApiIdempotency.idem_key).where(ApiIdempotency.idem_key.in_([old, recent])))).all())
    assert left == {recent}


# -- what a name and a free text may hold ---------------------------------------------------------------


def _new_subject_row(i: int, name: str, doc: str, **extra: object) -> dict[str, object]:
    from db.importers.samples import uscc

    return {**penalty_row(doc), "行政相对人名称": name, "行政相对人代码_1": uscc(900_000 + i), **extra}


async def _records(port: Port, rows: list[dict[str, object]]) -> int:
    docs = [str(row["行政处罚决定书文号"]) for row in rows]
    return await _count(port.db, select(func.count(CreditRecord.id)).where(CreditRecord.doc_number.in_(docs)))


async def test_a_pushed_name_with_a_bidi_override_or_a_control_is_refused_naming_the_cell(port: Port) -> None:
    rows = [_new_subject_row(1, "安康市正常商贸有限公司", "安应急罚〔2026〕T1号"),
            _new_subject_row(2, "安康市\u202e司公限有贸商", "安应急罚〔2026〕T2号"),
            _new_subject_row(3, "安康市恒通\x07商贸有限公司", "安应急罚〔2026〕T3号")]
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/records/penalty", json={"rows": rows})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    errors = {(e["index"], e["field"]): e["reason"] for e in r.json()["errors"]}
    assert "U+202E" in errors[(1, "行政相对人名称")] and "U+0007" in errors[(2, "行政相对人名称")]
    assert (0, "行政相对人名称") not in errors
    assert await _records(port, rows) == 0


async def test_invisible_characters_are_removed_free_text_cleaned_and_rare_characters_kept(port: Port) -> None:
    from db.models import Subject

    rare = "安康市\U00020bb7䶮㙟商贸有限公司"  # 𠮷 outside the BMP, 䶮 and 㙟 in Extension A
    rows = [_new_subject_row(4, "安康市\u200b瑞\ufeff丰\n商贸有限公司", "安应急罚〔2026〕T4号",
                             违法事实="未按规定\u202e开展\x0b培训\u200b，\r\n已整改"),
            _new_subject_row(5, rare, "安应急罚〔2026〕T5号")]
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/records/penalty", json={"rows": rows})
    assert r.status_code == 200, r.text
    async with port.db.sessions() as s:
        names = set((await s.scalars(select(Subject.name).where(Subject.name.in_(["安康市瑞丰商贸有限公司", rare])))).all())
        record = await s.scalar(select(CreditRecord).where(CreditRecord.doc_number == "安应急罚〔2026〕T4号"))
    assert names == {"安康市瑞丰商贸有限公司", rare}
    assert record is not None and record.fields["违法事实"] == "未按规定开展培训，\n已整改"


async def test_arrays_and_objects_in_push_fields_are_refused(port: Port) -> None:
    rows = [_new_subject_row(6, "安康市数组商贸有限公司", "安应急罚〔2026〕T6号", 违法事实=["一", "二"]),
            _new_subject_row(7, "安康市对象商贸有限公司", "安应急罚〔2026〕T7号", 备注={"a": 1})]
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/records/penalty", json={"rows": rows})
    assert r.status_code == 422, r.text
    assert [(e["index"], e["field"]) for e in r.json()["errors"]] == [(0, "违法事实"), (1, "备注")]
    assert all("数组或对象" in e["reason"] for e in r.json()["errors"])
    assert await _records(port, rows) == 0


async def test_check_fields_follow_the_same_rule(port: Port) -> None:
    async with port.client(port.keys.full) as c:
        bidi = await c.post("/v1/checks", json={"subject": BLACKLISTED.uscc, "matter": "procurement",
                                                "case_number": "CG-1", "operator": "李\u202e四"})
        batch = await c.post("/v1/checks/batch", json={"matter": "procurement", "case_number": "CG-1", "operator": "李四",
                                                       "subjects": [BLACKLISTED.uscc, "恒达\u2066建材"]})
        lookup = await c.get("/v1/lookup", params={"q": "鑫源\x1b矿业"})
        invisible = await c.post("/v1/checks", json={"subject": BLACKLISTED.uscc + "\u200b", "matter": "procurement",
                                                     "case_number": "CG-\u200b2", "operator": "李四"})
    assert bidi.status_code == 422 and bidi.json()["errors"][0]["field"] == "operator"
    assert "U+202E" in bidi.json()["errors"][0]["reason"] and "U+202E" in bidi.json()["detail"]
    assert batch.status_code == 422 and batch.json()["errors"][0]["index"] == 1
    assert lookup.status_code == 422 and lookup.json()["errors"][0]["field"] == "q"
    assert invisible.status_code == 200, invisible.text
    async with port.db.sessions() as s:
        api = await s.get(ApiCheck, invisible.json()["check_id"])
    assert api is not None and api.case_number == "CG-2"


async def test_the_excel_export_survives_a_name_stored_before_the_rule(port: Port) -> None:
    from db.importers.samples import uscc
    from db.models import Subject

    code = uscc(900_099)
    async with port.db.transaction() as s:
        s.add(Subject(kind="法人", name="=安康市坏\x07名\u202e字\x1f有限公司", uscc=code, division_code=code[2:8]))
    body = {"matter": "procurement", "subjects": [code], "case_number": "CG-X", "operator": "李四"}
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/checks/batch", params={"format": "xlsx"}, json=body)
    assert r.status_code == 200, r.text
    rows = list(load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[1][3] == "'=安康市坏名字有限公司"
