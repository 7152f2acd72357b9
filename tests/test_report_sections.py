"""The credit report's sections (基本信息, 行政许可, 行政处罚, 严重失信主体名单, 经营异常名录, 信用承诺,
自主申报 verified, 其他) and the time span a subject chooses for its own report."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.models import Account, Declaration, IssuedDocument
from rules.report_sections import (
    SpanError,
    in_period,
    parse_span,
    record_in_period,
    record_last_day,
    report_period,
)
from tests.conftest import BotHarness
from tests.test_document_check import CODE_ON_PAGE
from tests.test_lifecycle_support import (
    HENGDA,
    add_record,
    add_subject,
    compact,
    dept_id,
    pdf_text,
    texts,
    today,
)
from tests.test_report_pdf import documents

SECTIONS = ("一、基本信息", "二、行政许可信息", "三、行政处罚信息", "四、严重失信主体名单信息", "五、经营异常名录信息",
            "六、信用承诺信息", "七、自主申报信息（经核验）", "八、其他信用信息")


def test_spans_as_people_type_them() -> None:
    assert [parse_span(t) for t in ("近3年", "3年", "三年", "3", "最近两年", "近５年", "1年内")] == [3, 3, 3, 3, 2, 5, 1]
    assert parse_span("恒达建材") is None and parse_span("91610902MA70HD001E") is None
    for out_of_range in ("近10年", "6年", "0"):
        with pytest.raises(SpanError, match="近 1 至 5 年"):
            parse_span(out_of_range)


def test_period_counts_back_whole_years_inclusive() -> None:
    assert report_period(dt.date(2026, 11, 30), 3) == (dt.date(2023, 12, 1), dt.date(2026, 11, 30))
    assert report_period(dt.date(2028, 2, 29), 1) == (dt.date(2027, 3, 1), dt.date(2028, 2, 29))
    period = report_period(dt.date(2026, 11, 30), 1)
    assert in_period(dt.date(2025, 12, 1), period) and not in_period(dt.date(2025, 11, 30), period)
    assert not in_period(None, period) and in_period(None, None)


def test_a_record_still_in_force_or_published_belongs_in_any_span() -> None:
    period = report_period(dt.date(2026, 11, 30), 1)  # 2025-12-01 … 2026-11-30
    # Listed 2025-05-20 (before the span), public until 2028-05-19: in the span.
    listed = record_last_day("严重失信主体名单", dt.date(2025, 5, 20), dt.date(2028, 5, 20), None)
    assert listed == dt.date(2028, 5, 19) and record_in_period(dt.date(2025, 5, 20), listed, period)
    # A 强制执行 record from 2023 with no end: it still stands.
    standing = record_last_day("强制执行", dt.date(2023, 3, 1), None, None)
    assert standing is None and record_in_period(dt.date(2023, 3, 1), standing, period)
    # A penalty whose publication ended 2025-11-30 (last public day 2025-11-29): before the span.
    ended = record_last_day("行政处罚", dt.date(2024, 11, 30), dt.date(2025, 11, 30), None)
    assert not record_in_period(dt.date(2024, 11, 30), ended, period)
    # Its last public day on the span's first day is still in it.
    assert record_in_period(dt.date(2024, 12, 1), record_last_day("行政处罚", dt.date(2024, 12, 1), dt.date(2025, 12, 2), None), period)
    # A licence valid until 2027 is in force; one without an expiry is a fact of its decision date.
    assert record_in_period(dt.date(2022, 1, 5), record_last_day("行政许可", dt.date(2022, 1, 5), None, dt.date(2027, 1, 4)), period)
    assert not record_in_period(dt.date(2024, 7, 1), record_last_day("行政许可", dt.date(2024, 7, 1), None, None), period)
    # Nothing decided after the span, and no span keeps everything.
    assert not record_in_period(dt.date(2026, 12, 1), None, period)
    assert record_in_period(dt.date(2001, 1, 1), dt.date(2001, 1, 1), None)


async def test_own_one_year_report_keeps_an_old_listing_still_public_and_a_standing_enforcement(harness: BotHarness) -> None:
    subject, t = await seed(harness)
    dept = await dept_id(harness.db)
    await add_record(
        harness.db, subject, dept, "严重失信主体名单", "安市监列〔B1〕号", t - dt.timedelta(days=600),
        severity="严重", publication_end=t + dt.timedelta(days=500),
    )  # fmt: skip
    await add_record(harness.db, subject, dept, "强制执行", "（2023）陕0902执100号", t - dt.timedelta(days=900), severity=None)
    await add_record(
        harness.db, subject, dept, "行政处罚", "安市监罚〔P0〕号", t - dt.timedelta(days=800),
        publication_end=t - dt.timedelta(days=400),
    )  # fmt: skip
    owner = await harness.chat("enterprise", subject=HENGDA)
    text = pdf_text(documents(await harness.say(owner, "/report 近1年"), owner.chat.id)[0].content)
    blacklist = text[text.index("四、严重失信主体名单信息"):text.index("五、")]
    assert "安市监列〔B1〕号" in blacklist and "报告时段内暂无记录" not in blacklist
    assert "（2023）陕0902执100号" in text
    assert "安市监罚〔P0〕号" not in text  # its publication ended before the span (and it is no longer public)
    assert "安市监许〔L2〕号" not in text  # a licence decided 500 days ago without an expiry date


async def seed(harness: BotHarness) -> tuple[int, dt.date]:
    t = today(harness)
    subject = await add_subject(harness.db)
    dept = await dept_id(harness.db)
    for days, doc in ((100, "安市监许〔L1〕号"), (500, "安市监许〔L2〕号"), (1200, "安市监许〔L3〕号"), (2000, "安市监许〔L4〕号")):
        await add_record(harness.db, subject, dept, "行政许可", doc, t - dt.timedelta(days=days), severity=None)
    await add_record(harness.db, subject, dept, "行政处罚", "安市监罚〔P1〕号", t - dt.timedelta(days=40), publication_end=t + dt.timedelta(days=300))
    await add_record(harness.db, subject, dept, "登记备案", "安市监备〔R1〕号", t - dt.timedelta(days=20), severity=None)
    await harness.refresh()
    return subject, t


async def add_declaration(harness: BotHarness, subject: int, user_id: int, status: str, receipt: str, name: str, on: dt.date) -> None:
    async with harness.db.transaction() as s:
        account = await s.scalar(select(Account.id).where(Account.telegram_user_id == user_id))
        assert account is not None
        s.add(Declaration(
            receipt_no=receipt, account_id=account, chat_id=user_id, subject_id=subject, category="license",
            status=status, step="done", data={"values": {"name": name, "issuer": "安康市住房和城乡建设局"}},
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1), submitted_on=on,
        ))


async def test_own_report_has_every_section_in_order_and_the_default_five_years(harness: BotHarness) -> None:
    subject, t = await seed(harness)
    owner = await harness.chat("enterprise", subject=HENGDA)
    await add_declaration(harness, subject, owner.chat.id, "verified", "安申〔2026〕0001号", "建筑业企业资质证书", t - dt.timedelta(days=10))
    await add_declaration(harness, subject, owner.chat.id, "pending", "安申〔2026〕0002号", "安全生产许可证", t - dt.timedelta(days=5))

    out = await harness.say(owner, "/report")
    docs = documents(out, owner.chat.id)
    assert len(docs) == 1 and "近 5 年" in (docs[0].text or "")
    text = pdf_text(docs[0].content)
    positions = [text.index(compact(title)) for title in SECTIONS]
    assert positions == sorted(positions), "sections in the standard's order"
    start, end = report_period(t, 5)
    assert compact(f"信息时段：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}（近 5 年）") in text
    for inside in ("安市监许〔L1〕号", "安市监许〔L2〕号", "安市监许〔L3〕号", "安市监罚〔P1〕号"):
        assert inside in text, inside
    assert "安市监许〔L4〕号" not in text  # decided five and a half years ago
    # Sections without records say so; verified declarations only; other categories under 其他.
    blacklist = text[text.index("四、严重失信主体名单信息"):text.index("五、")]
    assert "暂无记录" in blacklist
    declared = text[text.index(compact(SECTIONS[6])):text.index(compact(SECTIONS[7]))]
    assert "安申〔2026〕0001号" in declared and "建筑业企业资质证书" in declared
    assert "安申〔2026〕0002号" not in text and "安全生产许可证" not in text
    assert "安市监备〔R1〕号" in text[text.index(compact(SECTIONS[7])):]
    assert [label for o in out for row in o.buttons for label in row] == ["近1年", "近2年", "近3年"]


async def test_the_subject_chooses_a_shorter_span_and_the_check_tells_it(harness: BotHarness) -> None:
    _subject, t = await seed(harness)
    owner = await harness.chat("enterprise", subject=HENGDA)
    one = documents(await harness.say(owner, "/report 近1年"), owner.chat.id)
    assert len(one) == 1
    text = pdf_text(one[0].content)
    assert "安市监许〔L1〕号" in text and "安市监许〔L2〕号" not in text and "（近1年）" in text
    assert "报告时段内暂无记录" in text  # empty sections name the span

    await harness.say(owner, "/report")
    three = documents(await harness.say(owner, "#3"), owner.chat.id)  # 近3年 under the 5-year report
    text = pdf_text(three[0].content)
    assert "安市监许〔L2〕号" in text and "安市监许〔L3〕号" not in text

    async with harness.db.transaction() as s:
        periods = [(d.period_start, d.period_end) for d in await s.scalars(select(IssuedDocument).order_by(IssuedDocument.id))]
    assert periods == [report_period(t, 1), report_period(t, 5), report_period(t, 3)]
    code = CODE_ON_PAGE.findall(text)[0]
    start, end = report_period(t, 3)
    checked = texts(await harness.say(await harness.chat("public"), f"/checkreport 安信报〔{t.year}〕000003号 {code}"))
    assert f"信息时段：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}" in checked and "出具对象：企业（主体本人）" in checked
    assert "时间范围可选近 1 至 5 年" in texts(await harness.say(owner, "/report 近8年"))
    assert "只能获取本人" in texts(await harness.say(owner, "/report 某某公司"))


async def test_officials_get_the_full_history_without_a_span(harness: BotHarness) -> None:
    await seed(harness)
    official = await harness.chat("official", dept="SCJGJ")
    docs = documents(await harness.say(official, f"/report {HENGDA}"), official.chat.id)
    text = pdf_text(docs[0].content)
    assert "安市监许〔L4〕号" in text and "信息时段" not in text
