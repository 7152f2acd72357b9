"""Whole conversations: ask, pick, read the card, run 逢办必查 — per role, masked, audited."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from bot.transport import Outgoing
from db.models import AuditEntry, Check, CreditRecord, Subject
from db.session import Database
from rules.codes import complete_ric, complete_uscc
from rules.masking import id_match_key
from tests.conftest import BotHarness

TODAY = dt.date.today()
ID_NUMBER = complete_ric("61092819850317123")
PHONE = "13912345678"
HENGDA = complete_uscc("91610902MA70HD001")
HENGDA_HY = complete_uscc("91610921MA70HD002")
HUATAI = complete_uscc("91610902MA70HT003")
FULL_ID = re.compile(r"\d{17}[\dX]")
FULL_PHONE = re.compile(r"1[3-9]\d{9}")


def record(subject: Subject, category: str, doc: str, days_ago: int, **kw: object) -> CreditRecord:
    decided = TODAY - dt.timedelta(days=days_ago)
    defaults: dict[str, object] = {
        "severity": "一般",
        "rule_edition": "2026" if decided >= dt.date(2026, 4, 1) else "2023",
        "publication_end": decided + dt.timedelta(days=365),
        "status": "active",
    }
    defaults.update(kw)
    return CreditRecord(
        subject=subject,
        category=category,
        source_key="11610900MB0000001X",
        source_name="安康市市场监督管理局",
        doc_number=doc,
        title=f"{category}事项",
        content=f"联系电话 {PHONE}",
        decision_date=decided,
        **defaults,
    )


async def seed(db: Database) -> dict[str, int]:
    async with db.transaction() as s:
        hengda = Subject(kind="法人", name="安康市恒达建材有限公司", uscc=HENGDA, division_code="610902", legal_rep="张伟")
        twin = Subject(kind="法人", name="汉阴县恒达建材有限公司", uscc=HENGDA_HY, division_code="610921", legal_rep="李强")
        huatai = Subject(kind="法人", name="安康市华泰商贸有限公司", uscc=HUATAI, division_code="610902", legal_rep="王芳")
        person = Subject(
            kind="自然人",
            name="陈建国",
            id_hash=id_match_key(ID_NUMBER, "creditbot-demo-key"),
            id_masked=ID_NUMBER[:6] + "********" + ID_NUMBER[-4:],
            division_code="610981",
            address="陕西省安康市旬阳市城关镇解放路8号",
        )
        s.add_all([hengda, twin, huatai, person])
        s.add_all(
            [
                record(hengda, "行政处罚", "安市监处罚〔2026〕11号", 40),
                record(hengda, "行政处罚", "安市监处罚〔2026〕12号", 30, severity="轻微"),  # 2026 轻微: not published
                record(hengda, "行政处罚", "安市监处罚〔2025〕13号", 300, status="repaired"),
                record(hengda, "行政处罚", "安市监处罚〔2024〕14号", 800, publication_end=TODAY - dt.timedelta(days=1)),
                record(huatai, "严重失信主体名单", "安市监列〔2026〕1号", 60, severity="严重", list_type="market_serious"),
                record(person, "行政处罚", "旬阳市监处罚〔2026〕5号", 20),
            ]
        )
        await s.flush()
        return {"hengda": hengda.id, "huatai": huatai.id, "person": person.id}


def texts(out: list[Outgoing]) -> str:
    return "\n".join(o.text or "" for o in out)


def no_personal_numbers(harness: BotHarness) -> None:
    everything = "\n".join(
        (o.text or "") + " ".join(label for row in o.buttons for label in row) for o in harness.transport.sent
    )
    assert not FULL_ID.search(everything.replace(HENGDA, "").replace(HENGDA_HY, "").replace(HUATAI, ""))
    assert not FULL_PHONE.search(everything)


async def test_public_sees_only_published_records(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("public")
    card = texts(await harness.say(chat, HENGDA))
    assert "安康市恒达建材有限公司" in card
    assert "〔2026〕11号" in card
    for hidden in ("〔2026〕12号", "〔2025〕13号", "〔2024〕14号"):
        assert hidden not in card
    no_personal_numbers(harness)


async def test_official_sees_shared_records_but_never_repaired(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    card = texts(await harness.say(chat, f"查一下{HENGDA}"))
    assert "〔2026〕11号" in card and "〔2026〕12号" in card and "〔2024〕14号" in card
    assert "未公示" in card and "已过公示期" in card
    assert "〔2025〕13号" not in card  # repaired: no longer shared or used


async def test_ambiguous_name_offers_both_twins_and_never_guesses(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    out = await harness.say(chat, "恒达建材")
    assert len(out) == 1 and "多个" in (out[0].text or "")
    labels = [row[0] for row in out[0].buttons]
    assert len(labels) == 2 and any("汉阴" in label for label in labels)
    # The district narrows it to one: a clear answer.
    card = texts(await harness.say(chat, "汉阴的恒达建材"))
    assert card.startswith("【汉阴县恒达建材有限公司】")


async def test_unknown_name_says_so(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("public")
    out = texts(await harness.say(chat, "查询 宇宙飞船制造集团"))
    assert "没有找到" in out


async def test_check_character_error_offers_the_one_near_code(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("public")
    wrong = HUATAI[:-1] + ("0" if HUATAI[-1] != "0" else "1")
    out = await harness.say(chat, wrong)
    assert "校验位不正确" in (out[0].text or "")
    assert [row[0] for row in out[0].buttons] and "华泰" in out[0].buttons[0][0]
    card = texts(await harness.say(chat, "#1"))
    assert card.startswith("【安康市华泰商贸有限公司】")


async def test_person_by_id_number_staff_only_and_masked(harness: BotHarness) -> None:
    ids = await seed(harness.db)
    await harness.refresh()
    public = await harness.chat("public")
    refused = texts(await harness.say(public, ID_NUMBER))
    assert "仅限办事人员" in refused
    official = await harness.chat("official", dept="SCJGJ")
    card = texts(await harness.say(official, f"查询 {ID_NUMBER}"))
    assert "陈建国" in card and f"{ID_NUMBER[:6]}********{ID_NUMBER[-4:]}" in card
    # By name the public does not find a person at all (tests/test_person_privacy_flow.py).
    public_card = texts(await harness.say(public, "陈建国"))
    assert "陈" not in public_card.replace("“陈建国”", "") and "没有找到" in public_card
    no_personal_numbers(harness)
    async with harness.db.transaction() as s:
        views = (await s.scalars(select(AuditEntry).where(AuditEntry.subject_id == ids["person"]))).all()
    assert {v.role for v in views} == {"official"}


async def test_every_card_view_is_audited(harness: BotHarness) -> None:
    ids = await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    await harness.say(chat, HENGDA)
    await harness.say(chat, HENGDA)
    async with harness.db.transaction() as s:
        entries = (await s.scalars(select(AuditEntry).where(AuditEntry.subject_id == ids["hengda"]))).all()
    assert len(entries) == 2
    assert all(e.role == "official" and e.action == "view_subject" and e.reason == "查询" for e in entries)


def check_button(card: list) -> int:  # type: ignore[type-arg]
    """The 1-based number of the card's 逢办必查 button (the card may carry others, e.g. 关注)."""
    labels = [b for row in card[0].buttons for b in row]
    return labels.index("逢办必查：选择办理事项") + 1


async def test_check_loop_on_a_blacklisted_subject(harness: BotHarness) -> None:
    ids = await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    card = await harness.say(chat, "华泰商贸")
    assert "严重失信主体名单" in (card[0].text or "").splitlines()[1]
    matters = await harness.say(chat, f"#{check_button(card)}")
    labels = [label for row in matters[0].buttons for label in row]
    procurement = labels.index("政府采购") + 1
    answer = await harness.say(chat, f"#{procurement}")
    text = answer[-1].text or ""
    assert "政府采购" in text and "依据" in text and "严重失信主体名单" in text
    await harness.say(chat, "#3")  # 其他 → asks for a note
    done = texts(await harness.say(chat, "已告知申请人暂缓受理"))
    assert "已记录反馈" in done
    async with harness.db.transaction() as s:
        check = await s.scalar(select(Check).where(Check.subject_id == ids["huatai"]))
    assert check is not None and check.matter == "procurement"
    assert check.feedback == "other" and check.feedback_note == "已告知申请人暂缓受理"
    assert check.measures["items"]


async def test_name_and_matter_typed_by_an_official_is_one_check_and_one_audit_row(harness: BotHarness) -> None:
    """"华泰商贸 政府采购": the card and the measures in one action, so the look-up is logged once."""
    ids = await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    said = await harness.say(chat, "华泰商贸 政府采购")
    assert "严重失信主体名单" in (said[0].text or "")
    assert "逢办必查：" in (said[-1].text or "") and "政府采购" in (said[-1].text or "")
    async with harness.db.transaction() as s:
        entries = (await s.scalars(select(AuditEntry).where(AuditEntry.subject_id == ids["huatai"]))).all()
        checks = await s.scalar(select(func.count(Check.id)).where(Check.subject_id == ids["huatai"]))
    assert checks == 1
    assert [(e.action, e.reason) for e in entries] == [("view_subject", "逢办必查:政府采购")]


async def test_clean_subject_has_no_measures_and_stats_count_checks(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    official = await harness.chat("official", dept="SCJGJ")
    card = await harness.say(official, HENGDA)
    matters = await harness.say(official, f"#{check_button(card)}")
    labels = [label for row in matters[0].buttons for label in row]
    answer = texts(await harness.say(official, f"#{labels.index('评优评先') + 1}"))
    assert "该主体不在任何失信名单中，本事项无需采取失信惩戒措施" in answer
    admin = await harness.chat("admin", dept="SCJGJ")
    stats = texts(await harness.say(admin, "/stats"))
    assert "共 1 次" in stats and "未反馈 1 次" in stats and "评优评先" in stats
    assert "最近未反馈的核查" in stats and "安康市恒达建材有限公司 · 评优评先" in stats
    denied = texts(await harness.say(official, "/stats"))
    assert "只有系统管理员" in denied


async def test_public_cannot_start_a_check(harness: BotHarness) -> None:
    ids = await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("public")
    card = await harness.say(chat, HENGDA)
    assert all("逢办必查" not in label for row in card[0].buttons for label in row)
    async with harness.db.transaction() as s:
        assert await s.scalar(select(func.count(Check.id)).where(Check.subject_id == ids["hengda"])) == 0


async def test_a_crash_in_a_handler_gets_a_polite_answer(harness: BotHarness) -> None:
    """A subject id far beyond any integer column makes the database itself fail."""
    from telegram import CallbackQuery, Message, Update

    chat = await harness.chat("official", dept="SCJGJ")
    bot_message = Message.de_json(
        {"message_id": 1, "date": 0, "chat": {"id": chat.chat.id, "type": "private"}, "text": "x"}, harness.app.bot
    )
    query = CallbackQuery("1", chat.user, "ci", data="s:99999999999999999999999:-:-", message=bot_message)
    before = len(harness.transport.sent)
    await chat._deliver(Update(99, callback_query=query))
    said = texts(harness.transport.sent[before:])
    assert "抱歉" in said and "Traceback" not in said


async def test_a_subject_written_after_start_up_is_found_after_one_refresh(harness: BotHarness) -> None:
    """Another process's import reaches this bot's index through the change stream, read once
    (tests/test_subject_stream.py covers late commits, deletions and restarts)."""
    from services.name_index import ROWS_READ, refresh_index

    await seed(harness.db)
    services = harness.app.bot_data["services"]
    await refresh_index(services)
    async with harness.db.transaction() as s:
        s.add(Subject(kind="法人", name="安康市迟到科技有限公司", uscc=complete_uscc("91610902MA70LATE1"),
                      division_code="610902"))
    assert await refresh_index(services) == 1
    assert await refresh_index(services) == 0 and services.extras[ROWS_READ] == 0, "read once, not again"
    chat = await harness.chat("public")
    card = texts(await harness.say(chat, "迟到科技"))
    assert card.startswith("【安康市迟到科技有限公司】")


async def test_masking_options_from_settings(harness: BotHarness) -> None:
    """privacy.mask_person_names = false shows the public a 个体工商户's operator; a person is still
    not found by name, and the ID stays masked for everyone."""
    from dataclasses import replace

    await seed(harness.db)
    shop_code = complete_uscc("92610902MA70XY009")
    async with harness.db.transaction() as s:
        s.add(Subject(kind="个体工商户", name="汉滨区秀英日用品店", uscc=shop_code, division_code="610902", legal_rep="张秀英"))
    await harness.refresh()
    services = harness.app.bot_data["services"]
    chat = await harness.chat("public")
    assert "经营者：张**" in texts(await harness.say(chat, shop_code))
    services.settings = replace(services.settings, privacy=replace(services.settings.privacy, mask_person_names=False))
    assert "经营者：张秀英" in texts(await harness.say(chat, shop_code))
    assert "没有找到" in texts(await harness.say(chat, "陈建国"))
    official = await harness.chat("official", dept="SCJGJ")
    card = texts(await harness.say(official, "陈建国"))
    assert card.startswith("【陈建国】")
    assert f"{ID_NUMBER[:6]}********{ID_NUMBER[-4:]}" in card
    no_personal_numbers(harness)


async def test_card_summarises_per_category_and_pages_through_the_rest(harness: BotHarness) -> None:
    await seed(harness.db)
    async with harness.db.transaction() as s:
        huatai = await s.scalar(select(Subject).where(Subject.uscc == HUATAI))
        assert huatai is not None
        s.add_all(record(huatai, "行政处罚", f"安市监处罚〔2026〕{100 + i}号", 10 + i) for i in range(8))
        s.add(record(huatai, "行政许可", "安市许〔2026〕1号", 5))
    await harness.refresh()
    chat = await harness.chat("public")
    first = await harness.say(chat, HUATAI)
    card = first[0].text or ""
    assert "▸ 行政处罚 8 条" in card and "▸ 行政许可 1 条" in card and "▸ 严重失信主体名单 1 条" in card
    shown = [n for n in range(100, 108) if f"〔2026〕{n}号" in card]
    assert shown == [100, 101, 102], "the three most recent penalties"
    assert first[0].buttons == [["更多记录"]]
    page1 = (await harness.say(chat, "#1"))[0]
    assert "全部信用记录：10 条（第 1/2 页）" in (page1.text or "")
    page2 = (await harness.say(chat, "#1"))[0]
    assert "（第 2/2 页）" in (page2.text or "") and not page2.buttons
    filtered = texts(await harness.say(chat, "华泰商贸有没有行政许可"))
    assert "行政许可：1 条" in filtered and "〔2026〕100号" not in filtered
