"""Helpers for the conversation tests (no tests here): several bot processes on one database behind
one Telegram, people whose lines go to whichever process the test says, and every flow as a script."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
import time
from pathlib import Path

from sqlalchemy import select
from telegram import CallbackQuery, Document, Message, MessageEntity, Update
from telegram.ext import Application

import bot.app as bot_app
from bot.console import ConsoleChat, _settle
from db.models import Check, Conversation, Declaration, Listing, Objection, RepairRequest
from db.session import Database
from render.pdf import render_notice
from services.accounts import ensure_local_account
from services.listings import propose_listing
from services.name_index import refresh_index
from tests.conftest import BotHarness, settings_for
from tests.test_declare_flow import LICENCE
from tests.test_declare_support import PDF, company, write
from tests.test_lifecycle_support import (
    HENGDA,
    add_record,
    add_subject,
    dept_id,
    pdf_text,
    proof_file,
    texts,
    today,
)

SORRY = "抱歉，系统处理您的请求时出现问题"
CODE_ON_PAGE = re.compile(r"核验码：([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")


class Replicas:
    """Bot processes on one database (each with its own engine) behind one Telegram: they share the
    in-process Bot API, so chats, message ids and files are one, as Telegram's are."""

    def __init__(self, harness: BotHarness, tmp_path: Path) -> None:
        self.harness = harness
        self.tmp_path = tmp_path
        self.transport = harness.transport
        self.apps: list[Application] = [harness.app]  # type: ignore[list-item]
        self.own: list[Application] = []
        self.restarts = 0
        self.restart_between = False
        self._users = itertools.count(700_000)

    async def _process(self) -> Application:
        database = Database(self.harness.db.url)
        app = bot_app.build_application(settings_for(self.harness.db), self.transport, db=database)
        await app.initialize()
        await bot_app.start_services(app)
        self.own.append(app)
        return app

    async def two(self) -> None:
        """Serve with two processes: every user's consecutive lines alternate between them."""
        self.apps = [self.harness.app, await self._process()]  # type: ignore[list-item]

    async def restart(self) -> None:
        """Every process stops; a new one, knowing nothing, serves from now on."""
        for app in self.own:
            await app.shutdown()
        self.own = []
        self.apps = [await self._process()]
        self.restarts += 1

    async def between(self) -> None:
        """A point mid-flow: with `restart_between`, the bot restarts there."""
        if self.restart_between:
            await self.restart()

    async def close(self) -> None:
        for app in self.own:
            await app.shutdown()

    async def refresh(self) -> None:
        """Every process's name index picks up the subjects written after its start."""
        for app in self.apps:
            await refresh_index(app.bot_data["services"])

    async def person(self, role: str, dept: str | None = None, subject: str | None = None) -> Person:
        uid = next(self._users)
        await ensure_local_account(self.harness.db, uid, role, dept, subject, "测试用户")
        return Person(self, uid)

    def no_apology(self) -> None:
        assert not [o.text for o in self.transport.sent if SORRY in (o.text or "")]


class Person:
    """One user's private chat; each line goes to the next process in turn."""

    def __init__(self, replicas: Replicas, uid: int) -> None:
        self.replicas = replicas
        self.uid = uid
        self.turn = 0
        self.update_ids = itertools.count(time.time_ns() // 1_000_000)
        self.handled_by: list[int] = []

    def chat(self, app: Application | None = None) -> ConsoleChat:
        apps = self.replicas.apps
        app = app or apps[self.turn % len(apps)]
        chat = ConsoleChat(app, self.replicas.transport, self.uid)
        chat._update_ids = self.update_ids  # one Telegram: update ids keep counting up
        return chat

    async def say(self, line: str) -> str:
        chat = self.chat()
        self.handled_by.append(id(chat.app))
        self.turn += 1
        return texts(await chat.handle_line(line))


# -- one update built by the test, so it can be delivered again as Telegram redelivers it ----------------


def text_update(chat: ConsoleChat, text: str) -> Update:
    entities = None
    if text.startswith("/"):
        length = len(text.split(maxsplit=1)[0].encode("utf-16-le")) // 2
        entities = [MessageEntity(MessageEntity.BOT_COMMAND, 0, length)]
    message = Message(
        chat.transport.next_message_id(), dt.datetime.now(dt.UTC), chat.chat, from_user=chat.user, text=text, entities=entities
    )
    return Update(next(chat._update_ids), message=message)


def file_update(chat: ConsoleChat, content: bytes, name: str) -> Update:
    info = chat.transport.register_file(content, name)
    document = Document(info["file_id"], info["file_unique_id"], file_name=info["file_name"], file_size=info["file_size"])
    message = Message(chat.transport.next_message_id(), dt.datetime.now(dt.UTC), chat.chat, from_user=chat.user, document=document)
    return Update(next(chat._update_ids), message=message)


def press_update(chat: ConsoleChat, n: int) -> Update:
    """A press of button `n` of the latest message with buttons, as `ConsoleChat.press` makes it."""
    message = chat.transport.latest_with_buttons(chat.chat.id)
    assert message is not None
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    query = CallbackQuery(
        f"{chat.chat.id}:{next(chat._update_ids)}", chat.user, f"console-{chat.chat.id}",
        message=Message.de_json(message, chat.app.bot), data=buttons[n - 1]["callback_data"],
    )
    return Update(next(chat._update_ids), callback_query=query)


async def deliver(chat: ConsoleChat, update: Update) -> str:
    """Deliver `update` (again, when it was delivered before: same ids, same content) and return what
    the bot said in this chat."""
    start = len(chat.transport.sent)
    before = asyncio.all_tasks()
    await chat._deliver(update)
    await _settle(before)
    return "\n".join(o.text or "" for o in chat.transport.sent[start:] if o.chat_id == chat.chat.id)


async def open_flow(db: Database, uid: int) -> Conversation | None:
    async with db.transaction() as s:
        return await s.scalar(select(Conversation).where(Conversation.user_id == uid))


# -- every flow, start to end; `between` runs where a restart or a replica switch is most telling ----


async def objection_and_decision(r: Replicas) -> None:
    db = r.harness.db
    subject = await add_subject(db)
    await add_record(db, subject, await dept_id(db), "行政处罚", "安市监罚〔2026〕7号", today(r.harness) - dt.timedelta(days=5))
    await r.refresh()
    owner = await r.person("enterprise", subject=HENGDA)
    official = await r.person("official", dept="SCJGJ")
    assert "请选择要提出异议的记录" in await owner.say("/objection")
    assert "异议理由" in await owner.say("#1")
    await r.between()
    assert "提交异议" in await owner.say("处罚所依据的事实有误")
    assert "已收到第 1 个附件" in await owner.say(f"@{proof_file(r.tmp_path, '情况说明.pdf')}")
    await r.between()
    assert "异议已提交" in await owner.say("#1")
    assert "待处理异议 1 件" in await official.say("/objections")
    await official.say("#1")
    assert "请输入更正内容" in await official.say("#2")  # 更正
    await r.between()
    assert "请输入处理理由" in await official.say("严重程度：轻微")
    await r.between()
    assert "已处理：更正" in await official.say("经复核，情节轻微")
    async with db.transaction() as s:
        objection = await s.scalar(select(Objection))
    assert objection is not None and objection.status == "corrected" and objection.reason == "处罚所依据的事实有误"
    assert len(objection.attachments["items"]) == 1


async def repair_and_decision(r: Replicas) -> None:
    db = r.harness.db
    subject = await add_subject(db)
    await add_record(
        db, subject, await dept_id(db), "严重失信主体名单", "安市监列〔2025〕3号", today(r.harness) - dt.timedelta(days=400),
        severity="严重",
    )
    await r.refresh()
    owner = await r.person("enterprise", subject=HENGDA)
    official = await r.person("official", dept="SCJGJ")
    assert "请选择要申请信用修复的记录" in await owner.say("/repair")
    assert "是否已履行相关义务" in await owner.say("#1")
    await r.between()
    assert "证明材料" in await owner.say("#1")
    assert "我承诺" in await owner.say(f"@{proof_file(r.tmp_path)}")
    await r.between()
    assert "信用修复申请已提交" in await owner.say("我承诺")
    assert "待审核信用修复申请 1 件" in await official.say("/repairs")
    assert "请输入审核意见" in await official.say("#1")  # 批准
    await r.between()
    assert "准予修复" in await official.say("已履行全部义务，准予修复")
    async with db.transaction() as s:
        request = await s.scalar(select(RepairRequest))
    assert request is not None and request.status == "approved" and len(request.proof["items"]) == 1


async def propose(r: Replicas) -> None:
    db = r.harness.db
    await add_subject(db)
    await r.refresh()
    official = await r.person("official", dept="RSJ")
    assert "请输入主体" in await official.say("/propose")
    assert "请选择拟列入的名单" in await official.say(HENGDA)
    await r.between()
    assert "列入事由" in await official.say("#1")
    assert "异议期" in await official.say("拖欠农民工工资，经责令限期支付逾期未支付")
    await r.between()
    assert "请确认事前告知内容" in await official.say("#1")
    await r.between()
    assert "已发出事前告知书" in await official.say("#1")
    async with db.transaction() as s:
        listing = await s.scalar(select(Listing))
    assert listing is not None and listing.list_type == "wage_arrears" and "第四十八条" in listing.basis


async def feedback_note(r: Replicas) -> None:
    db = r.harness.db
    await add_subject(db)
    await r.refresh()
    official = await r.person("official", dept="SCJGJ")
    await official.say(HENGDA)
    await official.say("#1")  # 逢办必查
    assert "办理后请反馈结果" in await official.say("#1")  # the first matter
    assert "请简要说明办理情况" in await official.say("#3")  # 其他
    await r.between()
    assert "已记录反馈：其他（负责人未到场，改期办理）" in await official.say("负责人未到场，改期办理")
    async with db.transaction() as s:
        check = await s.scalar(select(Check))
    assert check is not None and check.feedback == "other" and check.feedback_note == "负责人未到场，改期办理"


async def checkreport(r: Replicas) -> None:
    db = r.harness.db
    subject = await add_subject(db)
    services = r.harness.app.bot_data["services"]  # type: ignore[attr-defined]
    proposed = await propose_listing(
        db, subject_id=subject, list_type="wage_arrears", reasons="拖欠农民工工资逾期未支付", today=today(r.harness),
        calendar=services.calendar, render=lambda n: render_notice(n, "安康市公共信用信息平台"), dept_code="RSJ", prefix="安",
    )
    found = CODE_ON_PAGE.search(pdf_text(proposed.pdf))
    assert found is not None
    stranger = await r.person("public")
    assert "核验通过" in await stranger.say(f"/checkreport {proposed.notice.number} {found.group(1)}")
    await r.between()
    assert "完全一致" in await stranger.say(f"@{write(r.tmp_path, '告知书.pdf', proposed.pdf)}")


async def declaration_and_verification(r: Replicas) -> None:
    db = r.harness.db
    await company(db)
    await r.refresh()
    owner = await r.person("enterprise", subject=HENGDA)
    official = await r.person("official", dept="ZJJ")
    assert "请选择申报类别" in await owner.say("/declare")
    await owner.say("#1")
    for value in LICENCE[:3]:
        await owner.say(value)
    await r.between()
    assert "有效期至" in await owner.say(LICENCE[3])
    await owner.say("跳过")
    assert "已收到第 1 个附件" in await owner.say(f"@{write(r.tmp_path, '证书.pdf', PDF)}")
    await r.between()
    assert "证照编号：D261000001" in await owner.say("#1")
    assert "信用承诺书" in await owner.say("#1")
    await r.between()
    assert "授权书" in await owner.say("#1")
    assert "受理编号" in await owner.say("#1")
    await official.say("/verify")
    await official.say("#1")
    assert "请输入核验意见" in await official.say("#2")  # 核验通过
    await r.between()
    assert "已处理：核验通过" in await official.say("证书原件核对无误")
    async with db.transaction() as s:
        declaration = await s.scalar(select(Declaration))
    assert declaration is not None and declaration.status == "verified" and declaration.decision_reason == "证书原件核对无误"


FLOWS = {
    "objection": objection_and_decision,
    "repair": repair_and_decision,
    "propose": propose,
    "feedback": feedback_note,
    "checkreport": checkreport,
    "declare": declaration_and_verification,
}


async def seed_for_cancel(harness: BotHarness) -> None:
    """What every flow of CANCEL_SCRIPTS needs: a company with a young penalty and an old listing."""
    db = harness.db
    subject = await company(db)
    dept = await dept_id(db)
    await add_record(db, subject, dept, "行政处罚", "安市监罚〔2026〕7号", today(harness) - dt.timedelta(days=5))
    await add_record(db, subject, dept, "严重失信主体名单", "安市监列〔2025〕3号", today(harness) - dt.timedelta(days=400), severity="严重")
    await harness.refresh()


# (role, department, lines that walk through every step, what /cancel answers): /cancel is sent
# after each prefix of the lines, the flow started afresh each time.
CANCEL_SCRIPTS: dict[str, tuple[str, str | None, list[str], str]] = {
    "objection": ("enterprise", None, ["/objection", "#1", "事实有误", "@proof"], "已取消「提出异议」"),
    "repair": ("enterprise", None, ["/repair", "#2", "#1", "@proof"], "已取消「信用修复申请」"),
    "propose": ("official", "RSJ", ["/propose", HENGDA, "#1", "拖欠工资逾期未支付", "#1"], "已取消，未发出事前告知书"),
    "feedback": ("official", "SCJGJ", [HENGDA, "#1", "#1", "#3"], "已取消反馈说明"),
    "declare": ("enterprise", None, ["/declare", "#1", LICENCE[0], LICENCE[1]], "已取消申报"),
}
# The first line of CANCEL_SCRIPTS[flow] that opens the flow (before it, /cancel finds nothing);
# the repair's #2 is the old listing (#1, the young penalty, is too early and ends the flow).
OPENS_AT = {"objection": 0, "repair": 0, "propose": 0, "feedback": 3, "declare": 0}
