"""Whole conversations for names as the field writes them (issue 11), through the console transport:
contained queries, bracketed regions, branches, whole names before slots, pinyin by the word's
reading, old identifiers, and follow-ups that live in the database."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select, update

import bot.app as bot_app
from bot.transport import InProcessBotAPI, Outgoing
from db.models import AuditEntry, ChatSubject, Check, Subject
from db.session import Database
from rules.codes import complete_ric, complete_uscc
from rules.masking import id_match_key
from tests.conftest import BotHarness, settings_for

OLD_ID = "610902850317123"  # 15 digits, born 1985-03-17
NEW_ID = complete_ric("61090219850317123")
ORG_CODE = "710936276"  # 71093627-6
HENGXIN = complete_uscc("91610902" + ORG_CODE)
DIGITS = re.compile(r"\d{15,18}")


async def seed(db: Database) -> dict[str, int]:
    names = {
        "yinghu": ("安康瀛湖渔业发展有限公司", "610902", None),
        "noodles": ("汉滨区老街张记蒸面馆", "610902", None),
        "ruixiang": ("瑞祥商贸（安康）有限公司", "610902", None),
        "hengda": ("安康市恒达建材有限公司", "610902", None),
        "hengda_hy": ("汉阴县恒达建材有限公司", "610921", None),
        "branch": ("安康市恒达建材有限公司石泉分公司", "610922", None),
        "hengxin": ("安康市恒信招标代理有限公司", "610902", HENGXIN),
        "hengxin_jc": ("安康市恒信建材有限公司", "610902", None),
        "shiguang": ("安康市时光记录摄影有限公司", "610902", None),
        "changhong": ("安康市长虹电器有限公司", "610902", None),
    }
    async with db.transaction() as s:
        made = {key: Subject(kind="法人", name=name, division_code=div, uscc=uscc) for key, (name, div, uscc) in names.items()}
        made["person"] = Subject(
            kind="自然人",
            name="陈建国",
            id_hash=id_match_key(NEW_ID, "creditbot-demo-key"),
            id_masked=NEW_ID[:6] + "********" + NEW_ID[-4:],
            division_code="610902",
        )
        s.add_all(made.values())
        await s.flush()
        return {key: subject.id for key, subject in made.items()}


def texts(out: list[Outgoing]) -> str:
    return "\n".join(o.text or "" for o in out)


def title(out: list[Outgoing]) -> str:
    return (out[0].text or "").splitlines()[0]


async def test_contained_bracketed_and_branch_names_answer_with_the_card(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    assert title(await harness.say(chat, "瀛湖渔业")) == "【安康瀛湖渔业发展有限公司】"
    assert title(await harness.say(chat, "帮我查一下张记蒸面馆")) == "【汉滨区老街张记蒸面馆】"
    assert title(await harness.say(chat, "瑞祥商贸")) == "【瑞祥商贸（安康）有限公司】"
    assert title(await harness.say(chat, "瑞祥商贸(安康)有限公司")) == "【瑞祥商贸（安康）有限公司】"
    assert title(await harness.say(chat, "恒达建材石泉分公司")) == "【安康市恒达建材有限公司石泉分公司】"
    assert title(await harness.say(chat, "changhong")) == "【安康市长虹电器有限公司】"
    # The parent's short name still has three fits: a choice, never a guess.
    out = await harness.say(chat, "恒达建材")
    assert "多个" in (out[0].text or "") and len(out[0].buttons) == 3


async def test_full_name_with_a_matter_word_inside_records_no_check(harness: BotHarness) -> None:
    ids = await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    out = await harness.say(chat, "安康市恒信招标代理有限公司")
    assert title(out) == "【安康市恒信招标代理有限公司】"
    assert "联合惩戒" not in texts(out) and "多个" not in texts(out)
    assert title(await harness.say(chat, "安康市时光记录摄影有限公司")) == "【安康市时光记录摄影有限公司】"
    # Part of the name with the matter word inside it: still the name, still no matter.
    out = await harness.say(chat, "恒信招标")
    assert title(out) == "【安康市恒信招标代理有限公司】"
    async with harness.db.transaction() as s:
        assert await s.scalar(select(func.count(Check.id))) == 0
        reasons = (await s.scalars(select(AuditEntry.reason).where(AuditEntry.subject_id == ids["hengxin"]))).all()
    assert reasons and all(r == "查询" for r in reasons)


async def test_a_button_for_a_name_holding_the_matter_word_raises_no_check(harness: BotHarness) -> None:
    await seed(harness.db)
    async with harness.db.transaction() as s:
        s.add(Subject(kind="法人", name="汉阴县恒信招标代理有限公司", division_code="610921"))
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    out = await harness.say(chat, "恒信 招标")
    assert "多个" in (out[0].text or "")
    labels = [row[0] for row in out[0].buttons]
    pick = next(i for i, label in enumerate(labels) if label.startswith("安康市恒信招标代理")) + 1
    card = texts(await harness.say(chat, f"#{pick}"))
    assert card.startswith("【安康市恒信招标代理有限公司】") and "联合惩戒" not in card
    async with harness.db.transaction() as s:
        assert await s.scalar(select(func.count(Check.id))) == 0


def test_a_matter_key_whose_words_are_in_the_name_is_dropped() -> None:
    from nlp.message_names import matter_allowed_for

    assert matter_allowed_for("安康市恒信招标代理有限公司", "tender") is None
    assert matter_allowed_for("安康市恒信招标代理有限公司", "procurement") == "procurement"
    assert matter_allowed_for("安康市恒达建材有限公司", "tender") == "tender"


async def test_a_matter_typed_outside_the_name_is_still_a_check(harness: BotHarness) -> None:
    ids = await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    out = texts(await harness.say(chat, "安康市恒信招标代理有限公司 政府采购"))
    assert "政府采购" in out
    async with harness.db.transaction() as s:
        check = await s.scalar(select(Check).where(Check.subject_id == ids["hengxin"]))
    assert check is not None and check.matter == "procurement"


async def test_old_identifiers_find_the_subject_and_never_echo_an_id(harness: BotHarness) -> None:
    ids = await seed(harness.db)
    await harness.refresh()
    official = await harness.chat("official", dept="SCJGJ")
    card = await harness.say(official, f"查一下身份证 {OLD_ID}")
    assert title(card) == "【陈建国】"
    assert title(await harness.say(official, "组织机构代码 71093627-6")) == "【安康市恒信招标代理有限公司】"
    assert title(await harness.say(official, "710936276")) == "【安康市恒信招标代理有限公司】"
    unknown = texts(await harness.say(official, "610902850317999"))
    assert "没有" in unknown
    public = await harness.chat("public")
    refused = texts(await harness.say(public, OLD_ID))
    assert "仅限办事人员" in refused
    everything = "\n".join(o.text or "" for o in harness.transport.sent)
    assert not DIGITS.search(everything.replace(HENGXIN, ""))
    async with harness.db.transaction() as s:
        viewed = await s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.subject_id == ids["person"]))
    assert viewed == 1


async def test_follow_ups_refer_to_the_last_card_in_this_chat(harness: BotHarness) -> None:
    ids = await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    await harness.say(chat, "瀛湖渔业")
    assert title(await harness.say(chat, "有没有行政处罚")) == "【安康瀛湖渔业发展有限公司】"
    assert title(await harness.say(chat, "许可呢")) == "【安康瀛湖渔业发展有限公司】"
    assert title(await harness.say(chat, "更多")) == "【安康瀛湖渔业发展有限公司】"
    out = texts(await harness.say(chat, "政府采购"))
    assert out.startswith("【安康瀛湖渔业发展有限公司】") and "政府采购" in out
    async with harness.db.transaction() as s:
        check = await s.scalar(select(Check).where(Check.subject_id == ids["yinghu"]))
    assert check is not None and check.matter == "procurement"
    # Another user in another chat has no current subject.
    other = await harness.chat("official", dept="SCJGJ")
    assert "请告诉我要查询" in texts(await harness.say(other, "许可呢"))


async def test_follow_up_window_expires(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    await harness.say(chat, "瀛湖渔业")
    async with harness.db.transaction() as s:
        await s.execute(update(ChatSubject).values(shown_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)))
    assert "请告诉我要查询" in texts(await harness.say(chat, "有没有行政处罚"))


async def test_a_second_bot_process_sees_the_current_subject(harness: BotHarness) -> None:
    from bot.console import ConsoleChat

    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    await harness.say(chat, "张记蒸面馆")
    transport = InProcessBotAPI()
    second = bot_app.build_application(settings_for(harness.db), transport, db=harness.db)
    async with second:
        await bot_app.start_services(second)
        same_user = ConsoleChat(second, transport, chat.user.id)  # type: ignore[arg-type]
        out = await same_user.handle_line("有没有行政处罚")
    assert title(out) == "【汉滨区老街张记蒸面馆】"
