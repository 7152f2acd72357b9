"""The port (the real FastAPI app, in process) for issue 25: applications from 信用中国 with their
受理编号, decided and sent back in the same form; the change feed by key scope; the 告知书 of a
pushed penalty; stored documents; the public feed a website follows (published, then removed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import select

from bot.api.app import create_app
from db.models import CreditRecord
from db.regions import default_region, seed_region
from db.session import Database
from rules.publication import add_months
from rules.roles import Viewer
from services.apikeys import create_key
from services.repair import ExternalApplication, decide_repair, receive_external
from services.repair_documents import after_listing
from tests.conftest import settings_for
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id, pdf_text

TODAY = dt.date(2026, 12, 1)


@asynccontextmanager
async def port(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(db), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://port") as client:
            yield client


async def _key(db: Database, dept: str, scopes: str) -> dict[str, str]:
    return {"X-API-Key": (await create_key(db, dept, f"{dept} 系统", scopes)).key}


async def test_an_application_from_creditchina_is_queued_decided_and_sent_back(db: Database) -> None:
    await seed_region(db, default_region())
    subject = await add_subject(db)
    dept = await dept_id(db)
    person = await add_subject(db, name="李四", uscc=None, kind="自然人", id_masked="610902********5678")
    await add_record(db, subject, dept, "行政处罚", "安市监罚〔2025〕31号", TODAY - dt.timedelta(days=200))
    await add_record(db, person, dept, "行政处罚", "安市监罚〔2025〕32号", TODAY - dt.timedelta(days=200))
    market = await _key(db, "SCJGJ", "repair,changes,query")
    other = await _key(db, "YJJ", "repair")
    body = {"origin": "creditchina", "external_ref": "XY2026120100017", "subject_code": HENGDA.lower(),
            "doc_number": "安市监罚[2025]31号", "received_on": "2026-12-01", "applicant": "王五",
            "materials": ["缴款凭证.pdf", "信用承诺书.pdf"]}
    async with port(db) as c:
        refused = await c.post("/v1/repairs", json=body, headers=other)
        first = await c.post("/v1/repairs", json=body, headers=market)
        again = await c.post("/v1/repairs", json=body, headers=market)
        missing = await c.post("/v1/repairs", json={**body, "external_ref": "X2", "doc_number": "不存在"}, headers=market)
        unscoped = await c.get("/v1/changes", headers=other)
    assert refused.status_code == 403 and "谁认定、谁修复" in refused.json()["detail"]
    assert first.status_code == 200, first.text
    assert first.json()["created"] is True and first.json()["accept_due"] == "2026-12-04" and first.json()["status"] == "received"
    assert again.json() == {**first.json(), "created": False}  # the same 受理编号 again: the first case
    assert missing.status_code == 404 and unscoped.status_code == 403

    official = Viewer(account_id=None, role="official", department_id=dept)
    decided = await decide_repair(db, official, first.json()["request_id"], True, "已缴清罚款", TODAY)
    assert decided.external_ref == "XY2026120100017"
    async with port(db) as c:
        results = await c.get("/v1/repairs/results", params={"since": "2026-12-01"}, headers=market)
        feed = await c.get("/v1/changes", params={"limit": 1}, headers=market)
        rest = await c.get("/v1/changes", params={"since": feed.json()["next_cursor"]}, headers=market)
        bad = await c.get("/v1/changes", params={"since": "###"}, headers=market)
    assert results.status_code == 200
    [result] = results.json()
    assert result["external_ref"] == "XY2026120100017" and result["result"] == "准予修复" and result["subject_code"] == HENGDA
    events = feed.json()["events"] + rest.json()["events"]
    assert feed.json()["more"] is True and [e["kind"] for e in events] == ["repaired", "repair_decided"]
    assert events[1]["detail"]["external_ref"] == "XY2026120100017" and events[0]["doc_number"] == "安市监罚〔2025〕31号"
    assert bad.status_code == 422 and "游标无效" in bad.json()["detail"]


async def test_persons_in_the_feed_need_idquery_and_documents_need_the_department(db: Database) -> None:
    await seed_region(db, default_region())
    dept = await dept_id(db)
    firm = await add_subject(db)
    person = await add_subject(db, name="李四", uscc=None, kind="自然人", id_masked="610902********5678")
    firm_record = await add_record(db, firm, dept, "严重失信主体名单", "安市监列〔2026〕5号", TODAY, severity="严重")
    person_record = await add_record(db, person, dept, "严重失信主体名单", "安市监列〔2026〕6号", TODAY, severity="严重")
    async with db.transaction() as s:
        for rid in (firm_record, person_record):
            record = await s.get(CreditRecord, rid)
            assert record is not None
            await after_listing(s, record)
    plain = await _key(db, "SCJGJ", "changes")
    persons = await _key(db, "SCJGJ", "changes,idquery")
    stranger = await _key(db, "YJJ", "query")
    async with port(db) as c:
        seen_plain = (await c.get("/v1/changes", headers=plain)).json()["events"]
        seen_all = (await c.get("/v1/changes", headers=persons)).json()["events"]
        notice = await c.get(f"/v1/repair-notices/{firm_record}", headers=plain)
        foreign = await c.get(f"/v1/repair-notices/{firm_record}", headers=stranger)
        number = notice.json()["number"]
        pdf = await c.get(f"/v1/documents/{number}", headers=plain)
        hidden = await c.get(f"/v1/documents/{number}", headers=stranger)
    assert [e["subject_name"] for e in seen_plain] == ["安康市恒达建材有限公司"]
    assert {e["subject_code"] for e in seen_all} == {HENGDA, "610902********5678"}
    assert notice.status_code == 200 and number.startswith("安信修告〔")
    assert foreign.status_code == 404
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    assert hidden.status_code == 404  # the same answer as an unknown number


async def test_the_public_feed_publishes_then_removes_what_the_bot_no_longer_shows(db: Database) -> None:
    await seed_region(db, default_region())
    dept = await dept_id(db)
    firm = await add_subject(db)
    person = await add_subject(db, name="李四", uscc=None, kind="自然人", id_masked="610902********5678")
    decided = dt.date.today() - dt.timedelta(days=100)
    shown = await add_record(db, firm, dept, "行政处罚", "安市监罚〔2026〕41号", decided, content="罚款，联系电话13912345678")
    await add_record(db, firm, dept, "行政处罚", "安市监罚〔2026〕42号", decided, severity="轻微")  # 2026: not published
    await add_record(db, person, dept, "行政处罚", "安市监罚〔2026〕43号", decided)  # persons: not a public directory
    async with port(db) as c:
        first = (await c.get("/public/records", params={"limit": 1})).json()
        second = (await c.get("/public/records", params={"after": first["next_after"]})).json()
        cursor = first["cursor"]
        # The record is repaired (an application from 信用中国, approved by its department).
        app = ExternalApplication("creditchina", "XY-41", HENGDA, "安市监罚〔2026〕41号", dt.date.today())
        case = await receive_external(db, app)
        await decide_repair(db, Viewer(account_id=None, role="official", department_id=dept), case.request_id, True,
                            "已履行", dt.date.today())
        followed = (await c.get("/public/changes", params={"since": cursor})).json()
        nothing_new = (await c.get("/public/changes", params={"since": followed["next_cursor"]})).json()
    published = first["records"] + second["records"]
    assert [r["doc_number"] for r in published] == ["安市监罚〔2026〕41号"] and first["more"] is True
    assert "13912345678" not in str(published) and "139****5678" in published[0]["content"]
    assert published[0]["last_public_day"] == str(add_months(decided, 12) - dt.timedelta(days=1))
    assert [(ch["kind"], ch["record_id"], ch["record"]) for ch in followed["changes"]] == [("repaired", shown, None)]
    assert nothing_new["changes"] == [] and nothing_new["next_cursor"] == followed["next_cursor"]


async def test_a_pushed_penalty_owes_its_notice_which_the_department_fetches_at_once(db: Database) -> None:
    await seed_region(db, default_region())
    await add_subject(db)
    key = await _key(db, "SCJGJ", "push")
    decided = dt.date.today() - dt.timedelta(days=2)
    row = {
        "行政相对人名称": "安康市恒达建材有限公司", "行政相对人类别": "法人", "行政相对人代码_1": HENGDA,
        "行政处罚决定书文号": "安市监罚〔2026〕81号", "违法行为类型": "未按规定公示年度报告", "违法事实": "未按期公示年度报告",
        "处罚依据": "《企业信息公示暂行条例》第十八条", "处罚类别": "罚款", "处罚内容": "罚款人民币1万元", "罚款金额（万元）": "1",
        "处罚决定日期": decided.isoformat(), "处罚机关": "安康市市场监督管理局", "数据来源单位": "安康市市场监督管理局",
    }
    async with port(db) as c:
        pushed = await c.post("/v1/records/penalty", json={"rows": [row]}, headers=key)
        assert pushed.status_code == 200, pushed.text
        async with db.transaction() as s:
            record_id = await s.scalar(select(CreditRecord.id).where(CreditRecord.doc_number == "安市监罚〔2026〕81号"))
        notice = await c.get(f"/v1/repair-notices/{record_id}", headers=key)
        again = await c.get(f"/v1/repair-notices/{record_id}", headers=key)
        pdf = await c.get(f"/v1/documents/{notice.json()['number']}", headers=key)
    assert notice.status_code == 200 and again.json() == notice.json()  # issued once
    assert "安市监罚〔2026〕81号" in pdf_text(pdf.content) and "信用修复告知书" in pdf_text(pdf.content)
