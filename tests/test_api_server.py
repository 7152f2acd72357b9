"""The port end to end: the real `creditbot api` server (uvicorn, 127.0.0.1, a free port) on SQLite
and on PostgreSQL, called with httpx like a department system would."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from db.demo.generate import showcase
from db.models import ApiCheck, ApiKey, AuditEntry, Check, CreditRecord, Subject
from db.session import Database
from tests.api_server import Port, serving

SHOW = {s.tag: s for s in showcase() if s.tag}
BLACKLISTED = SHOW["blacklisted"]  # 安康市鑫源矿业有限公司, on the 严重失信主体名单 of 市应急管理局 since 2025-05-20
TWIN = SHOW["twin_city"]  # 安康市恒达建材有限公司, two near-twins: 恒达建材 is ambiguous
PERSON = SHOW["person_blacklisted"]
PROBLEM = "application/problem+json"
CASE = {"case_number": "CG-2026-001", "operator": "李四"}  # every check names its case and who asked


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def port(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Port]:
    async with serving(request.param, tmp_path_factory.mktemp(f"api-{request.param}")) as running:
        yield running
    assert PERSON.id_number not in running.server.log()


async def _count(db: Database, stmt: object) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(stmt) or 0)  # type: ignore[call-overload]


# -- health, documents, access -------------------------------------------------------------------------


async def test_health_ready_and_chinese_openapi(port: Port) -> None:
    async with port.client(None) as c:
        assert (await c.get("/healthz")).json() == {"status": "ok", "subjects_indexed": None}
        ready = (await c.get("/readyz")).json()
        assert ready["status"] == "ok" and ready["subjects_indexed"] >= 200
        docs = (await c.get("/docs")).text
        assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
        assert (await c.get("/docs-assets/swagger-ui-bundle.js")).status_code == 200
        spec = (await c.get("/openapi.json")).json()
    assert {"/v1/lookup", "/v1/checks", "/v1/checks/{check_id}/feedback", "/v1/checks/batch",
            "/v1/records/{template}", "/v1/subjects/{uscc}"} <= set(spec["paths"])
    undescribed = [
        f"{name}.{prop}"
        for name, schema in spec["components"]["schemas"].items()
        if not name.startswith(("HTTPValidationError", "ValidationError"))
        for prop, body in schema.get("properties", {}).items()
        if not any("\u4e00" <= ch <= "\u9fff" for ch in body.get("description", ""))
    ]
    assert undescribed == []


async def test_missing_wrong_revoked_key_is_401_and_missing_scope_403(port: Port) -> None:
    for key in (None, "ck_00000000_not-a-key", port.keys.revoked):
        async with port.client(key) as c:
            r = await c.get("/v1/lookup", params={"q": BLACKLISTED.name})
        assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
        assert r.json()["status"] == 401 and "密钥" in r.json()["detail"]
    async with port.client(port.keys.check_only) as c:
        r = await c.post("/v1/records/penalty", json={"rows": [{"行政相对人名称": "x"}]})
        assert r.status_code == 403 and "报送信用记录" in r.json()["detail"]
        r = await c.get(f"/v1/subjects/{BLACKLISTED.uscc}")
        assert r.status_code == 403
    async with port.client(port.keys.query_only) as c:
        r = await c.post("/v1/checks", json={"subject": BLACKLISTED.uscc, "matter": "tender", **CASE})
        assert r.status_code == 403 and r.headers["content-type"] == PROBLEM


async def test_rate_limit_answers_429_with_retry_after(port: Port) -> None:
    async with port.client(port.keys.limited) as c:
        codes = await asyncio.gather(*(c.get("/v1/lookup", params={"q": "鑫源矿业"}) for _ in range(100)))
    limited = [r for r in codes if r.status_code == 429]
    assert limited, "100 requests at once over a burst of 40 (10 a second) must be partly refused"
    assert sum(r.status_code == 200 for r in codes) >= 40
    assert int(limited[0].headers["Retry-After"]) >= 1 and limited[0].headers["content-type"] == PROBLEM


async def test_body_over_the_limit_is_413(port: Port) -> None:
    big = {"rows": [{"行政相对人名称": "某" * 1000, "备注": "x" * 1000} for _ in range(600)]}  # ~2.4 MB > 1 MB
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/records/penalty", json=big)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM and "MB" in r.json()["detail"]
    payload = json.dumps(big, ensure_ascii=False).encode()

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked transfer encoding
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start:start + 64 * 1024]

    async with port.client(port.keys.full) as c:
        chunked = await c.post("/v1/records/penalty", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413 and chunked.headers["content-type"] == PROBLEM


# -- look-up and credit file ---------------------------------------------------------------------------


async def test_lookup_clear_ambiguous_none(port: Port) -> None:
    async with port.client(port.keys.check_only) as c:
        clear = (await c.get("/v1/lookup", params={"q": BLACKLISTED.name, "operator": "张三"})).json()
        short = (await c.get("/v1/lookup", params={"q": "鑫源矿业"})).json()
        twins = (await c.get("/v1/lookup", params={"q": "恒达建材"})).json()
        wrong = (await c.get("/v1/lookup", params={"q": BLACKLISTED.uscc[:-1] + ("0" if BLACKLISTED.uscc[-1] != "0" else "1")})).json()
        none = (await c.get("/v1/lookup", params={"q": "完全不存在的某某某公司"})).json()
    assert clear["status"] == "clear" and clear["subject"]["uscc"] == BLACKLISTED.uscc
    assert short["status"] == "clear" and short["subject"]["name"] == BLACKLISTED.name
    assert twins["status"] == "ambiguous" and twins["subject"] is None
    assert {"安康市恒达建材有限公司", "汉阴县恒达建材有限公司"} <= {x["name"] for x in twins["candidates"]}
    assert wrong["status"] == "none" and "有误" in wrong["note"]
    assert [x["uscc"] for x in wrong["candidates"]] == [BLACKLISTED.uscc]
    assert none["status"] == "none" and none["subject"] is None
    async with port.client(port.keys.full) as c:
        in_url = await c.get("/v1/lookup", params={"q": PERSON.id_number})
    assert in_url.status_code == 422 and "by-id-number" in in_url.json()["detail"]
    async with port.db.sessions() as s:
        row = await s.scalar(
            select(AuditEntry).where(AuditEntry.action == "api_lookup", AuditEntry.reason == "接口查询")
            .where(AuditEntry.subject_id.is_not(None))
            .where(AuditEntry.detail["key"].as_string() == port.keys.prefixes["check_only"]).order_by(AuditEntry.id)
        )
    assert row is not None
    assert row.detail["department"] == "YJJ" and row.detail["operator"] == "张三"


async def test_credit_file_by_uscc_and_by_id_number(port: Port) -> None:
    async with port.client(port.keys.full) as c:
        r = await c.get(f"/v1/subjects/{BLACKLISTED.uscc}", params={"operator": "张三"})
        person = await c.post("/v1/subjects/by-id-number", json={"id_number": PERSON.id_number, "operator": "张三"})
        bad = await c.get("/v1/subjects/91610900MA6001617X")
    assert r.status_code == 200
    body = r.json()
    assert body["subject"]["name"] == BLACKLISTED.name and body["subject"]["code"] == BLACKLISTED.uscc
    assert body["flags"]["blacklist"] is True and body["flags"]["abnormal_list"] is False
    assert body["flags"]["listings"][0] == {"list": "严重失信主体名单", "department": "安康市应急管理局",
                                            "since": "2025-05-20", "basis": None, "list_type": "safety_serious",
                                            "list_name": "安全生产严重失信主体名单"}
    assert {"行政处罚", "严重失信主体名单", "强制执行"} <= set(body["records"])
    assert all("published" in rec for recs in body["records"].values() for rec in recs)
    assert person.status_code == 200
    assert person.json()["subject"]["code"] != PERSON.id_number
    assert person.json()["subject"]["code"] == PERSON.id_number[:6] + "********" + PERSON.id_number[-4:]
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    async with port.client(port.keys.query_only) as c:  # no idquery scope
        assert (await c.post("/v1/subjects/by-id-number", json={"id_number": PERSON.id_number})).status_code == 403
    async with port.db.sessions() as s:
        subject_id = await s.scalar(select(Subject.id).where(Subject.uscc == BLACKLISTED.uscc))
        actions = set((await s.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_id == subject_id, AuditEntry.detail["channel"].as_string() == "api")
        )).all())
    assert {"view_subject", "api_credit_file"} <= actions


# -- 逢办必查: check and feedback -------------------------------------------------------------------------


async def test_check_then_feedback_once(port: Port) -> None:
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/checks", json={"subject": BLACKLISTED.uscc, "matter": "project",
                                             "case_number": "XM-2026-001", "operator": "李四"})
        procurement = await c.post("/v1/checks", json={"subject": BLACKLISTED.uscc, "matter": "procurement", **CASE})
        assert r.status_code == 200, r.text
        answer = r.json()
        check_id = answer["check_id"]
        first = await c.post(f"/v1/checks/{check_id}/feedback", json={"outcome": "restricted", "note": "已拒绝投标"})
        again = await c.post(f"/v1/checks/{check_id}/feedback", json={"outcome": "restricted", "note": "已拒绝投标"})
        other = await c.post(f"/v1/checks/{check_id}/feedback", json={"outcome": "proceeded"})
    async with port.client(port.keys.check_only) as c:  # another system of the same department
        foreign = await c.post(f"/v1/checks/{check_id}/feedback", json={"outcome": "restricted"})
    assert answer["matter_label"] == "项目审批" and answer["subject"]["name"] == BLACKLISTED.name
    # The law's measure for this list and matter, with its basis as structured fields (安全生产法第七十八条).
    [measure] = answer["measures"]
    assert measure["text"] == "暂停项目审批" and measure["list_type"] == "safety_serious"
    assert "2025年5月20日" in measure["basis"] and "安康市应急管理局" in measure["basis"] and "第七十八条" in measure["basis"]
    assert measure["legal_basis"] == ["《中华人民共和国安全生产法（2021年修正）》第七十八条第一款"]
    assert measure["implementer"] and measure["measure_kind"] == "减损权益" and measure["reaches"] == ["本主体"]
    assert measure["confirmed"] is True and measure["qingdan_no"] is None
    assert answer["listings"][0]["list"] == "严重失信主体名单" and answer["catalogue"].startswith("2024.1")
    assert any("尚未全部核实" in note for note in answer["notes"])  # the list's own rule could not be read
    # Procurement: the list exists, but no measure of it concerns this matter — and the answer says why.
    unrestricted = procurement.json()
    assert unrestricted["measures"] == [] and unrestricted["not_restricted"][0]["list"] == "安全生产严重失信主体名单"
    assert "不涉及“政府采购”事项" in unrestricted["not_restricted"][0]["reason"]
    assert first.status_code == 200 and first.json()["repeated"] is False
    assert again.status_code == 200 and again.json()["repeated"] is True
    assert other.status_code == 409 and other.headers["content-type"] == PROBLEM
    assert foreign.status_code == 404
    async with port.db.sessions() as s:
        check = await s.get(Check, check_id)
        api = await s.get(ApiCheck, check_id)
        audit = await s.scalar(select(AuditEntry).where(AuditEntry.action == "api_check",
                                                        AuditEntry.detail["check_id"].as_integer() == check_id))
        fb_rows = await s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "api_feedback",
                                                                         AuditEntry.detail["check_id"].as_integer() == check_id))
    assert check is not None and check.feedback == "restricted" and check.feedback_note == "已拒绝投标"
    assert api is not None and api.case_number == "XM-2026-001" and api.operator == "李四"
    assert audit is not None and audit.detail["operator"] == "李四" and audit.detail["matter"] == "project"
    assert audit.detail["key"] == port.keys.prefixes["full"] and audit.detail["department"] == "YJJ"
    assert fb_rows == 1
    async with port.db.sessions() as s:
        used = await s.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == port.keys.prefixes["full"]))
    assert used is not None


async def test_feedback_with_a_phone_is_masked_and_its_retry_is_the_same(port: Port) -> None:
    note = "已拒绝，联系人13912345678"
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/checks", json={"subject": BLACKLISTED.uscc, "matter": "tender", **CASE})
        check_id = r.json()["check_id"]
        first = await c.post(f"/v1/checks/{check_id}/feedback", json={"outcome": "restricted", "note": note})
        again = await c.post(f"/v1/checks/{check_id}/feedback", json={"outcome": "restricted", "note": note})
        echo = await c.get("/v1/lookup", params={"q": "联系13800138000"})
    assert first.status_code == 200 and first.json()["note"] == "已拒绝，联系人139****5678"
    assert again.status_code == 200 and again.json()["repeated"] is True, again.text
    assert again.json()["note"] == "已拒绝，联系人139****5678"
    assert "13800138000" not in echo.text and "138****8000" in echo.json()["note"]


async def test_too_long_text_says_so_and_an_id_number_is_one_batch_lines_refusal(port: Port) -> None:
    async with port.client(port.keys.check_only) as c:  # no idquery scope
        long = await c.get("/v1/lookup", params={"q": "恒" * 400})
        batch = await c.post("/v1/checks/batch", json={"matter": "tender", "subjects": [BLACKLISTED.uscc, PERSON.id_number], **CASE})
    assert long.status_code == 422 and long.json()["errors"][0]["reason"] == "内容过长", long.text
    assert batch.status_code == 200, batch.text
    first, person = batch.json()["lines"]
    assert first["status"] == "clear" and first["check"] is not None
    assert person["status"] == "none" and person["check"] is None and "idquery" in person["note"]
    assert PERSON.id_number not in batch.text


async def test_ambiguous_name_raises_no_check(port: Port) -> None:
    before = await _count(port.db, select(func.count(Check.id)))
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/checks", json={"subject": "恒达建材", "matter": "tender", **CASE})
        unknown = await c.post("/v1/checks", json={"subject": BLACKLISTED.uscc, "matter": "shopping", **CASE})
    assert r.status_code == 409 and len(r.json()["candidates"]) >= 2
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "matter"
    assert await _count(port.db, select(func.count(Check.id))) == before


async def test_batch_check_json_and_xlsx(port: Port) -> None:
    subjects = [BLACKLISTED.uscc, "恒达建材", "完全不存在的某某某公司", TWIN.name]
    before = await _count(port.db, select(func.count(ApiCheck.check_id)).where(ApiCheck.batch.is_(True)))
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/checks/batch", json={"matter": "procurement", "subjects": subjects, "case_number": "ZB-9", "operator": "李四"})
        x = await c.post("/v1/checks/batch", params={"format": "xlsx"}, json={"matter": "procurement", "subjects": subjects, **CASE})
    body = r.json()
    assert [line["status"] for line in body["lines"]] == ["clear", "ambiguous", "none", "clear"]
    assert [line["resolved"] for line in body["lines"]] == [True, False, False, True]
    assert body["lines"][0]["blacklist"] is True and body["lines"][3]["blacklist"] is False
    assert body["resolved"] == 2 and body["with_measures"] == 0
    assert body["lines"][0]["check"]["not_restricted"][0]["list"] == "安全生产严重失信主体名单"
    assert body["lines"][1]["check"] is None and len(body["lines"][1]["candidates"]) >= 2
    after = await _count(port.db, select(func.count(ApiCheck.check_id)).where(ApiCheck.batch.is_(True)))
    assert after - before == 4  # two resolved lines, twice
    wb = load_workbook(io.BytesIO(x.content), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "提交内容", "是否确定主体") and len(rows) == 5
    assert rows[1][3] == BLACKLISTED.name and rows[1][5] == "是" and rows[1][7] == "无，本事项无需采取失信惩戒措施"
    assert "安全生产严重失信主体名单" in rows[1][10] and "不涉及“政府采购”事项" in rows[1][10]
    assert rows[2][2] == "否" and "安康市恒达建材有限公司" in rows[2][10]


async def test_a_subject_repeated_in_a_batch_is_one_check_with_one_answer(port: Port) -> None:
    subjects = [BLACKLISTED.uscc, BLACKLISTED.uscc.lower(), BLACKLISTED.name, TWIN.name]
    before = await _count(port.db, select(func.count(ApiCheck.check_id)).where(ApiCheck.batch.is_(True)))
    async with port.client(port.keys.full) as c:
        r = await c.post("/v1/checks/batch", json={"matter": "procurement", "subjects": subjects, **CASE})
    lines = r.json()["lines"]
    assert [line["status"] for line in lines] == ["clear", "clear", "clear", "clear"]
    repeated = [line["check"] for line in lines[:3]]
    assert repeated[0] is not None and repeated[1] == repeated[0] and repeated[2] == repeated[0]
    assert lines[3]["check"]["check_id"] != repeated[0]["check_id"]
    after = await _count(port.db, select(func.count(ApiCheck.check_id)).where(ApiCheck.batch.is_(True)))
    assert after - before == 2  # the blacklisted subject once, the other once


# -- record push ----------------------------------------------------------------------------------------


def penalty_row(doc: str, date: str = "2026-11-25", **extra: str) -> dict[str, str]:
    return {
        "行政相对人名称": BLACKLISTED.name, "行政相对人类别": "法人", "行政相对人代码_1": BLACKLISTED.uscc,
        "行政处罚决定书文号": doc, "违法行为类型": "安全生产违法", "违法事实": "未按规定开展安全生产教育培训",
        "处罚依据": "《中华人民共和国安全生产法》第九十七条", "处罚类别": "罚款", "处罚内容": "罚款人民币1万元",
        "罚款金额（万元）": "1", "处罚决定日期": date, "处罚机关": "安康市应急管理局",
        "数据来源单位": "安康市应急管理局", **extra,
    }


async def _records(db: Database, doc_prefix: str) -> int:
    return await _count(db, select(func.count(CreditRecord.id)).where(CreditRecord.doc_number.like(f"{doc_prefix}%")))


async def test_push_writes_then_is_idempotent_and_a_bad_row_writes_nothing(port: Port) -> None:
    rows = [penalty_row("安应急罚〔2026〕101号"), penalty_row("安应急罚〔2026〕102号")]
    async with port.client(port.keys.full) as c:
        first = await c.post("/v1/records/penalty", json={"rows": rows, "operator": "王五"})
        second = await c.post("/v1/records/penalty", json={"rows": rows})
        changed = await c.post("/v1/records/penalty", json={"rows": [penalty_row("安应急罚〔2026〕101号", 处罚内容="罚款人民币2万元")]})
        bad = await c.post("/v1/records/penalty", json={"rows": [
            penalty_row("安应急罚〔2026〕103号"), penalty_row("安应急罚〔2026〕104号", date="2026-13-45")]})
    assert first.status_code == 200, first.text
    assert first.json()["new"] == 2 and first.json()["written"] is True and "行政处罚" in first.json()["template"]
    assert second.json()["new"] == 0 and second.json()["unchanged"] == 2
    assert changed.json()["updated"] == 1
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    errors = bad.json()["errors"]
    assert errors and errors[0]["index"] == 1 and errors[0]["field"] == "处罚决定日期"
    assert await _records(port.db, "安应急罚〔2026〕10") == 2  # 103 was valid but the batch is all or nothing
    async with port.db.sessions() as s:
        rec = await s.scalar(select(CreditRecord).where(CreditRecord.doc_number == "安应急罚〔2026〕101号"))
    assert rec is not None and rec.reported_at is not None and rec.department_id is not None


async def test_a_key_cannot_rewrite_another_departments_record(port: Port) -> None:
    """汉滨区应急管理局's key pushes 安康市应急管理局's 文书号 under that unit's name: refused, nothing changes."""
    async with port.client(port.keys.full) as c:
        first = await c.post("/v1/records/penalty", json={"rows": [penalty_row("安应急罚〔2026〕301号")]})
    assert first.json()["new"] == 1
    async with port.db.sessions() as s:
        before = await s.scalar(select(CreditRecord).where(CreditRecord.doc_number == "安应急罚〔2026〕301号"))
    assert before is not None
    async with port.client(port.keys.pusher) as c:
        taken = await c.post("/v1/records/penalty", json={"rows": [
            penalty_row("安应急罚〔2026〕301号", 违法行为类型="已撤销", 处罚内容="不予处罚")]})
    assert taken.status_code == 422
    errors = taken.json()["errors"]
    assert errors[0]["index"] == 0 and errors[0]["field"] == "数据来源单位" and "不是本部门" in errors[0]["reason"]
    async with port.db.sessions() as s:
        after = await s.scalar(select(CreditRecord).where(CreditRecord.doc_number == "安应急罚〔2026〕301号"))
    assert after is not None
    assert (after.department_id, after.title, after.content) == (before.department_id, before.title, before.content)


async def test_retried_push_with_idempotency_key_writes_once(port: Port) -> None:
    rows = [penalty_row("安应急罚〔2026〕201号")]
    headers = {"Idempotency-Key": "push-201"}
    async with port.client(port.keys.full) as c:
        first = await c.post("/v1/records/penalty", json={"rows": rows}, headers=headers)
        retry = await c.post("/v1/records/penalty", json={"rows": rows}, headers=headers)
        misuse = await c.post("/v1/records/penalty", json={"rows": [penalty_row("安应急罚〔2026〕202号")]}, headers=headers)
    assert first.json()["new"] == 1
    # A second run would have said "unchanged": the retry got the first answer back.
    assert retry.json() == first.json() and retry.headers.get("Idempotent-Replayed") == "true"
    assert misuse.status_code == 422
    assert await _records(port.db, "安应急罚〔2026〕20") == 1


async def _open_inspection_periods(db: Database) -> set[str]:
    """Open 检查抽查 periods of 汉滨区应急管理局 as the reminder scan sees them."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from db.models import Department
    from rules.workcal import WorkCalendar
    from services.collection.monthly import monthly_gaps

    tz = ZoneInfo("Asia/Shanghai")
    async with db.sessions() as s:
        dept_id = await s.scalar(select(Department.id).where(Department.code == "610902-YJJ"))
        gaps = await monthly_gaps(s, dt.datetime.now(tz).date(), WorkCalendar(), tz, [dept_id])
    return {g.period for g in gaps if g.category == "检查抽查"}


async def test_push_counts_for_the_monthly_duty(port: Port) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    this_month = dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    assert this_month in await _open_inspection_periods(port.db)
    row = {"信息类别": "检查抽查", "主体名称": BLACKLISTED.name, "主体类别": "法人", "统一社会信用代码": BLACKLISTED.uscc,
           "文书号": "汉滨应急检〔2026〕7号", "决定日期": "2026-11-20", "事项名称": "安全生产执法检查",
           "数据来源单位": "汉滨区应急管理局"}
    async with port.client(port.keys.pusher) as c:
        r = await c.post("/v1/records/generic", json={"rows": [row]})
    assert r.status_code == 200, r.text
    assert r.json()["new"] == 1
    # Reported like a chat upload: this month's 检查抽查 duty is no longer open.
    assert this_month not in await _open_inspection_periods(port.db)


# -- property-based: the OpenAPI document as the test plan -----------------------------------------------


def _fuzz(base_url: str, key: str, spec: dict[str, object]) -> list[str]:
    """Schemathesis generates requests from every operation of the schema; no answer may be a 5xx.
    Runs in a thread (hypothesis and requests are synchronous)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=10, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, headers={"X-API-Key": key})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            if response.status_code >= 400:
                content_type = (response.headers.get("content-type") or [""])[0]
                assert content_type.startswith("application/problem+json"), (case.method, case.formatted_path)
                assert "Traceback" not in response.text

        run()
    return failures


async def test_schema_driven_requests_never_get_a_5xx(port: Port) -> None:
    async with port.client(None) as c:
        spec = (await c.get("/openapi.json")).json()
    failures = await asyncio.to_thread(_fuzz, port.server.url, port.keys.fuzz, spec)
    assert failures == []


async def test_a_document_is_verified_at_its_qr_address_without_a_key(port: Port) -> None:
    import datetime as dt
    import hashlib
    from zoneinfo import ZoneInfo

    from render.pdf import render_report
    from rules.roles import Viewer
    from services.report import issue_report
    from tests.test_document_check import seal_of

    async with port.db.transaction() as s:
        subject_id = await s.scalar(select(Subject.id).where(Subject.uscc == BLACKLISTED.uscc))
    assert subject_id is not None
    now = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    issued = await issue_report(port.db, Viewer(None, "official"), subject_id, now, lambda d: render_report(d, "安康市公共信用信息平台"), prefix="安")
    number, code, _qr = seal_of(issued.pdf)
    async with port.client(None) as anyone:
        genuine = await anyone.get("/verify", params={"number": number, "code": code})
        assert genuine.status_code == 200, genuine.text
        body = genuine.json()
        assert body["status"] == "genuine" and body["subject_name"] == BLACKLISTED.name
        assert body["sha256"] == hashlib.sha256(issued.pdf).hexdigest() and "真实有效" in body["message"]
        altered = await anyone.get("/verify", params={"number": number, "code": code, "sha256": "0" * 64})
        assert altered.json()["status"] == "altered"
        wrong = (await anyone.get("/verify", params={"number": number, "code": "ABCD-EFGH-JKLM"})).json()
        assert wrong["status"] == "wrong_code" and wrong["subject_name"] is None and wrong["sha256"] is None
        unknown = (await anyone.get("/verify", params={"number": "安信报〔2099〕999999号", "code": code})).json()
        assert unknown["status"] == "unknown" and unknown["subject_name"] is None
    async with port.db.transaction() as s:
        audited = (await s.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.action == "document_check", AuditEntry.reason.in_([number, "安信报〔2099〕999999号"]))
            .order_by(AuditEntry.id)
        )).all()
    assert [d["result"] for d in audited] == ["genuine", "altered", "wrong_code", "unknown"]
    assert all(d["channel"] == "api" for d in audited)


async def test_a_check_without_case_number_or_operator_is_refused(port: Port) -> None:
    async with port.client(port.keys.full) as c:
        for body in ({"subject": BLACKLISTED.uscc, "matter": "procurement"},
                     {"subject": BLACKLISTED.uscc, "matter": "procurement", "case_number": " ", "operator": "李四"}):
            r = await c.post("/v1/checks", json=body)
            assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text


async def test_nul_characters_are_refused_before_any_use_case(port: Port) -> None:
    async with port.client(port.keys.full) as c:
        for response in (
            await c.post("/v1/checks", content=b'{"subject": "91610900MA60011822", "matter": "procurement", '
                         b'"case_number": "a\\u0000b", "operator": "x"}', headers={"content-type": "application/json"}),
            await c.get("/v1/lookup", params={"q": "恒达\x00"}),
        ):
            assert response.status_code == 422, response.text
            assert response.headers["content-type"].startswith(PROBLEM) and "NUL" in response.json()["detail"]
    assert "Traceback" not in port.server.log() and "[SQL:" not in port.server.log()


async def test_publication_end_is_the_last_public_day_the_card_and_report_show(port: Port) -> None:
    """One "last day of publication" (rules.publication.last_public_day) in the API, the card and the PDF:
    the day before the first day off publication."""
    import datetime as dt

    from handlers.render import card_text
    from rules.roles import Viewer
    from rules.visibility import effective_publication_end
    from services.lookup import view_subject

    async with port.client(port.keys.full) as c:
        body = (await c.get(f"/v1/subjects/{BLACKLISTED.uscc}")).json()
    async with port.db.sessions() as s:
        subject_id = await s.scalar(select(Subject.id).where(Subject.uscc == BLACKLISTED.uscc))
        rows = (await s.scalars(select(CreditRecord).where(CreditRecord.subject_id == subject_id))).all()
    first_day_off = {r.doc_number: effective_publication_end(r) for r in rows}
    api = {rec["doc_number"]: rec["publication_end"] for recs in body["records"].values() for rec in recs}
    ends = {doc: end for doc, end in api.items() if end}
    assert ends, "the showcase subject has records with a publication end"
    for doc, end in ends.items():
        assert dt.date.fromisoformat(end) == first_day_off[doc] - dt.timedelta(days=1)
    assert "最后一个公示日" in (await _openapi_record_field(port))
    card = await view_subject(port.db, subject_id, Viewer(None, "official"), dt.date.today())
    assert card is not None
    text, _more = card_text(card, True)
    shown = [line for line in text.splitlines() if "公示至" in line]
    assert shown
    for line in shown:
        doc = next(d for d in ends if d in line)
        assert f"公示至 {ends[doc]}" in line


async def _openapi_record_field(port: Port) -> str:
    async with port.client(None) as c:
        spec = (await c.get("/openapi.json")).json()
    return json.dumps(spec["components"]["schemas"]["RecordOut"]["properties"]["publication_end"], ensure_ascii=False)
