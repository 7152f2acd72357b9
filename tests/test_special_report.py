"""专项信用报告: the rules (sections, 简易程序, the period, fields), and the report through the chat
(the subject's own; a department with the subject's one-time 授权码; a department without) and
through the port (a key with the standing scope `special`)."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from sqlalchemy import func, select

from bot.api.app import create_app
from db.models import AuditEntry
from db.regions import default_region, seed_region
from db.session import Database
from db.special_report_data import current_catalogue
from rules import special_report as sr
from services.apikeys import create_key
from services.issued_documents import check_document
from tests.conftest import BotHarness, settings_for
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id, pdf_text, texts
from tests.wecom_harness import WeComHarness, wecom

__all__ = ["wecom"]

PERIOD = (dt.date(2023, 12, 2), dt.date(2026, 12, 1))


def test_sections_fields_summary_procedure_and_the_period() -> None:
    cat = current_catalogue()
    assert [s.name for s in cat.sections] == ["行政处罚", "行政强制", "严重失信主体名单", "刑事裁判"]
    assert sr.section_of(cat, "处罚", "罚款", None, {}) == "行政处罚"
    assert sr.section_of(cat, "司法判决", "刑事判决书", None, {}) == "刑事裁判"
    assert sr.section_of(cat, "司法判决", "民事判决书", "买卖合同纠纷", {}) is None
    assert sr.section_of(cat, "行政许可", "食品经营许可", None, {}) is None
    assert sr.is_summary_procedure("警告", {"处罚程序": "简易程序"}) and sr.is_summary_procedure("当场处罚（简易程序）", {})
    assert not sr.is_summary_procedure("罚款", {"处罚程序": "普通程序", "备注": ""})
    assert cat.field_of("market") == "市场监管" and cat.field_of("unknown") == "其他领域"
    assert sr.counts("行政处罚", "expired", dt.date(2024, 1, 1), dt.date(2024, 6, 1), PERIOD)
    assert not sr.counts("行政处罚", "repaired", dt.date(2024, 1, 1), None, PERIOD)
    assert not sr.counts("行政处罚", "active", dt.date(2023, 12, 1), dt.date(2024, 12, 1), PERIOD)  # decided before
    assert sr.counts("严重失信主体名单", "active", dt.date(2022, 1, 1), None, PERIOD)  # listed before, still in force
    assert not sr.counts("严重失信主体名单", "active", dt.date(2020, 1, 1), dt.date(2023, 1, 1), PERIOD)
    assert sr.pick_fields(cat, ["市场", "税务"]) == ("市场监管", "税务")
    with pytest.raises(ValueError, match="没有“航天”这一领域"):
        sr.pick_fields(cat, ["航天"])


async def _archive(db: Database, today: dt.date) -> int:
    subject = await add_subject(db)
    market, court = await dept_id(db), await dept_id(db, "ZY")
    days = dt.timedelta
    await add_record(db, subject, market, "行政处罚", "安市监罚〔2026〕51号", today - days(40), severity="轻微",
                     title="警告", fields={"处罚程序": "简易程序"})
    await add_record(db, subject, market, "行政处罚", "安市监罚〔2025〕52号", today - days(300), status="repaired")
    await add_record(db, subject, market, "行政处罚", "安市监罚〔2021〕53号", today - days(1900))  # before the period
    await add_record(db, subject, court, "司法判决", "（2025）陕0902刑初12号", today - days(200), title="刑事判决书")
    await add_record(db, subject, court, "司法判决", "（2025）陕0902民初13号", today - days(200), title="民事判决书")
    return subject


async def test_the_subject_and_an_authorised_department_get_the_report_others_do_not(harness: BotHarness) -> None:
    svc = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    await _archive(harness.db, svc.today())
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="YJJ")

    own = await harness.say(owner, "/report 专项 近3年")
    [doc] = [o for o in own if o.method == "sendDocument"]
    assert "有违法违规记录" in (doc.text or "")
    text = pdf_text(doc.content)
    assert "市场监管有违法违规记录1" in text and "司法有违法违规记录1" in text and "税务无违法违规记录0" in text
    assert "安市监罚〔2026〕51号" in text and "简易程序，未公示" in text  # unpublished, yet in the report
    for absent in ("安市监罚〔2025〕52号", "安市监罚〔2021〕53号", "民初13号"):
        assert absent not in text, absent
    assert "刑初12号" in text and "信用主体本身" in text
    number = doc.file_name.removeprefix("专项信用报告-").removesuffix(".pdf")  # type: ignore[union-attr]
    code = re.search(r"报告核验码：([0-9A-Z-]{14})", text)
    assert code and (await check_document(harness.db, number, code.group(1))).status == "genuine"
    only_tax = await harness.say(owner, "/report 专项 近1年 税务")
    assert "无违法违规记录" in texts(only_tax)

    refused = await harness.say(official, f"/report 专项 {HENGDA}")
    assert "仅向信用主体本身" in texts(refused) and not [o for o in refused if o.method == "sendDocument"]
    granted = texts(await harness.say(owner, "/report 专项 授权"))
    authorisation = re.search(r"授权码：([0-9A-Z-]{14})", granted)
    assert authorisation, granted
    report = await harness.say(official, f"/report 专项 {HENGDA} {authorisation.group(1)} 近3年 市场监管")
    [second] = [o for o in report if o.method == "sendDocument"]
    assert "经授权的部门：安康市应急管理局" in pdf_text(second.content) and "税务" not in pdf_text(second.content)
    again = await harness.say(official, f"/report 专项 {HENGDA} {authorisation.group(1)}")
    assert "已使用或已过期" in texts(again)  # one use only
    assert "仅向信用主体本身" in texts(await harness.say(official, f"/report 专项 {HENGDA} AAAA-BBBB-CCCC"))
    async with harness.db.transaction() as s:
        issued = await s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "special_report_issued"))
        refusals = await s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "special_report_refused"))
    assert issued == 3 and refusals == 3


async def test_a_key_with_the_standing_scope_gets_it_through_the_port(db: Database) -> None:
    await seed_region(db, default_region())
    await _archive(db, dt.date.today())
    standing = {"X-API-Key": (await create_key(db, "YJJ", "招投标平台", "special")).key}
    plain = {"X-API-Key": (await create_key(db, "YJJ", "审批系统", "query")).key}
    app = create_app(settings_for(db), db=db)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as c:
        ok = await c.post("/v1/reports/special", json={"subject": HENGDA, "years": 2, "fields": ["市场监管"]}, headers=standing)
        no = await c.post("/v1/reports/special", json={"subject": HENGDA}, headers=plain)
        bad = await c.post("/v1/reports/special", json={"subject": HENGDA, "fields": ["航天"]}, headers=standing)
    assert ok.status_code == 200, ok.text
    assert ok.headers["content-type"] == "application/pdf" and ok.headers["x-has-records"] == "true"
    assert "安市监罚〔2026〕51号" in pdf_text(ok.content)
    assert no.status_code == 403 and bad.status_code == 422


async def test_the_subject_gets_it_over_wecom_too(wecom: WeComHarness) -> None:
    await _archive(wecom.db, dt.date.today())
    owner = await wecom.member("enterprise", subject=HENGDA)
    out = await wecom.say(owner, "/report 专项 近3年")
    [sent] = [d for d in out if d.msgtype == "file"]
    content, name = wecom.standin.media[sent.body["media_id"]]
    assert name.startswith("专项信用报告-安信专报〔") and "简易程序，未公示" in pdf_text(content)
    assert all(c.errcode == 0 for c in wecom.standin.calls)
