"""/declare (or “我要申报”): self-declaration with a credit commitment. /mydeclarations: its status.

Where the user really is lives in the draft row (services.declarations.drafts), written in the same
transaction as each answer; the flow `declare` of handlers/flow.py routes the user's messages to
it (its conversation row only says "a declaration is open" and carries the timeout), so /cancel,
a command typed mid-way and the timeout behave as in every other flow, and a restart or another
replica continues from the draft. An update delivered twice is recognised by its key and ignored,
both here (a cheap in-memory check in handler group -2, filled from the database on a user's first
update) and inside the step's transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from db.session import Database
from handlers import flow
from handlers.common import reply, services
from handlers.declare_words import ELSEWHERE, ENDED, ENTERPRISE_HOWTO, prompt, said
from handlers.flow import update_key
from handlers.notify import tell
from render.buttons import (
    DECLARE_AUTHORISE,
    DECLARE_BACK,
    DECLARE_CATEGORY,
    DECLARE_COMMIT,
    DECLARE_CONFIRM,
    DECLARE_FILES_DONE,
    DECLARE_NO_CODE,
    DECLARE_PATTERN,
    DECLARE_SKIP,
    DECLARE_SUBJECT,
    UNKNOWN_BUTTON,
    answer_press,
)
from rules import declarations as rules
from services import conversations
from services.conversations import Convo
from services.declarations import drafts, steps, submit
from services.declarations.items import my_declarations
from services.declarations.link import NO_CODE_WORDS
from services.errors import Refusal
from services.runtime import Services

log = logging.getLogger(__name__)

INTENT = r"^\s*(我要|我想)?(自主)?申报\s*$|^\s*我要(做)?信用承诺\s*$"
RECENT_KEY = "declare_recent"
PROBE_GROUP = -2  # before handlers.flow's dispatcher: a redelivered update goes no further


def limits(svc: Services) -> rules.DeclarationSettings:
    """The `declarations` section of the settings."""
    return svc.settings.declarations


def ctx_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> drafts.Ctx:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return ctx_for(services(context), chat.id, user.id, update_key(update), user.full_name)


def ctx_for(svc: Services, chat_id: int, user_id: int, key: str | None = None, name: str | None = None) -> drafts.Ctx:
    return drafts.Ctx(
        telegram_user_id=user_id,
        chat_id=chat_id,
        key=key,
        now=dt.datetime.now(dt.UTC),
        today=svc.today(),
        limits=limits(svc),
        display_name=name,
        id_key=svc.settings.privacy.id_hash_key,
        division_code=svc.settings.region.division_code,
    )


# -- the in-memory mirror of recent keys and open drafts ----------------------------------------------


def _recent(svc: Services) -> dict[int, deque[str]]:
    return svc.extras.setdefault(RECENT_KEY, {})


def _note(context: ContextTypes.DEFAULT_TYPE, update: Update) -> None:
    user = update.effective_user
    if user is None:
        return
    keys = _recent(services(context)).setdefault(user.id, deque(maxlen=drafts.SEEN_KEEP))
    key = update_key(update)
    if key and key not in keys:
        keys.append(key)


async def probe(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update, before the flows' dispatcher: drop a redelivered one this flow already handled
    (the keys are read from the database once per user and process)."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    svc = services(context)
    recent = _recent(svc)
    uid = update.effective_user.id
    if uid not in recent:
        found = await drafts.recent(svc.db, uid, dt.datetime.now(dt.UTC), dt.timedelta(seconds=limits(svc).timeout_seconds * 2))
        recent[uid] = deque(found.keys, maxlen=drafts.SEEN_KEEP)
    key = update_key(update)
    if key is not None and key in recent[uid]:
        await answer_press(update)
        raise ApplicationHandlerStop


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: drafts.Outcome, intro: str = "") -> None:
    """Answer a step: nothing for a duplicate, the end of the declaration, or the next question; the
    flow's conversation row follows the draft (ended with it, its timeout pushed with each step)."""
    if outcome.duplicate:
        return
    svc = services(context)
    chat_id, user_id = update.effective_chat.id, update.effective_user.id  # type: ignore[union-attr]
    _note(context, update)
    if outcome.draft is None:
        await conversations.cancel(svc.db, chat_id, user_id, DECLARING.name)
        await _ended(update, context, outcome)
        return
    timeout = dt.timedelta(seconds=limits(svc).timeout_seconds)
    if not await conversations.touch(svc.db, chat_id, user_id, DECLARING.name, flow.now(), timeout):
        await flow.begin(update, context, DECLARING, "draft", {})
    text, buttons = prompt(outcome.draft, limits(svc))
    parts = [p for p in (intro, said(outcome), text) if p]
    await reply(update, "\n\n".join(parts), buttons)


async def _ended(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: drafts.Outcome) -> None:
    svc = services(context)
    if outcome.ended == "submitted" and outcome.submitted is not None:
        sub = outcome.submitted
        await reply(
            update,
            f"申报已提交，受理编号：{sub.receipt_no}\n申报主体：{sub.subject_name}\n申报类别：{sub.category_label}\n"
            f"核验部门：{sub.department_name}\n信用承诺已记入该主体信用档案；申报内容经核验通过后方计入信用档案并公示，"
            "结果将通过本机器人通知您。发送 /mydeclarations 查看进度。",
        )
        await tell(
            context,
            sub.department_chats,
            f"【自主申报待核验】{sub.subject_name} 申报{sub.category_label}（{sub.receipt_no}）。发送 /verify 查看。",
            kind="declaration_filed",
        )
        return
    if outcome.ended == "locked" and outcome.until is not None:
        until = outcome.until.astimezone(svc.settings.tz)
        await reply(
            update,
            f"核验未通过的次数过多，请于 {until:%Y-%m-%d %H:%M} 后再试。\n{ENTERPRISE_HOWTO}",
        )
        return
    if outcome.ended == "refused":
        await reply(update, said(outcome) or ENDED["cancelled"])
        return
    if outcome.ended == "cancelled" and outcome.error is None:
        await reply(update, "您未作出信用承诺或未同意授权，" + ENDED["cancelled"])
        return
    await reply(update, ENDED.get(outcome.ended or "none", ENDED["none"]))


# -- the conversation ---------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/declare (or “我要申报”): a new draft, or the open one where the user left it."""
    svc = services(context)
    try:
        outcome = await drafts.start(svc.db, ctx_of(update, context))
    except Refusal as exc:
        await reply(update, ELSEWHERE if exc.code == drafts.DRAFT_ELSEWHERE else exc.reason)
        return
    if outcome.note == "resumed":
        await show(update, context, outcome, "您有一份未完成的申报，已为您恢复到上次的步骤（发送 /cancel 可放弃）。")
        return
    intro = (
        "自主申报：企业和个人可以申报档案中没有的资质证照、荣誉表彰、市场经营、合同履约、社会公益、诚信管理信息，"
        "须附证明材料并作出信用承诺，经负责部门核验后计入信用档案。随时发送 /cancel 取消。"
    )
    await show(update, context, outcome, intro if outcome.draft is not None else "")


def _step_of(data: str | None) -> Callable[[Database, drafts.Ctx], Awaitable[drafts.Outcome]] | None:
    """The use-case step a declaration button stands for, or None for data this bot never sends."""
    if (v := DECLARE_SUBJECT.unpack(data)) is not None:
        return lambda db, ctx: steps.pick_subject(db, ctx, v[0])
    if (v := DECLARE_CATEGORY.unpack(data)) is not None:
        return lambda db, ctx: steps.pick_category(db, ctx, v[0])
    if (v := DECLARE_COMMIT.unpack(data)) is not None:
        return lambda db, ctx: steps.commit(db, ctx, v[0] == "yes")
    if (v := DECLARE_AUTHORISE.unpack(data)) is not None:
        return lambda db, ctx: submit.authorise(db, ctx, v[0] == "yes")
    if DECLARE_SKIP.unpack(data) is not None:
        return lambda db, ctx: steps.answer_field(db, ctx, rules.SKIP_WORD)
    if DECLARE_NO_CODE.unpack(data) is not None:
        return lambda db, ctx: steps.answer_text(db, ctx, NO_CODE_WORDS[0])
    plain = {DECLARE_BACK: steps.go_back, DECLARE_FILES_DONE: steps.attachments_done, DECLARE_CONFIRM: steps.confirm}
    return next((step for spec, step in plain.items() if spec.unpack(data) is not None), None)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of a declaration message, old or new: the draft row says whether it still applies."""
    cq = update.callback_query
    assert cq is not None
    await answer_press(update)
    step = _step_of(cq.data)
    if step is None:
        await reply(update, UNKNOWN_BUTTON)
        return
    outcome = await step(services(context).db, ctx_of(update, context))
    await show(update, context, outcome)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, _convo: Convo) -> None:
    message = update.effective_message
    assert message is not None
    outcome = await steps.answer_text(services(context).db, ctx_of(update, context), message.text or "")
    await show(update, context, outcome)


def file_in(update: Update) -> steps.FileIn | None:
    message = update.effective_message
    if message is None:
        return None
    if message.document is not None:
        d = message.document
        return steps.FileIn(d.file_id, d.file_unique_id, "document", d.file_name, d.mime_type, d.file_size)
    if message.photo:
        p = message.photo[-1]  # the largest size Telegram made
        return steps.FileIn(p.file_id, p.file_unique_id, "photo", None, "image/jpeg", p.file_size)
    return None


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE, _convo: Convo) -> None:
    """Check what can be checked before fetching (step, type, size, count), fetch through the Bot
    API to hash and sniff the content, then record it."""
    svc = services(context)
    ctx = ctx_of(update, context)
    found = file_in(update)
    assert found is not None
    refusal = await steps.attachment_allowed(svc.db, ctx, found)
    if refusal is not None:
        await reply(update, refusal)
        return
    try:
        content = bytes(await (await context.bot.get_file(found.file_id)).download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not fetch a declaration attachment: %s", type(exc).__name__)
        await reply(update, "文件未能接收，请重新发送。")
        return
    outcome = await steps.add_attachment(svc.db, ctx, found, content, hashlib.sha256(content).hexdigest())
    if outcome.draft is not None and outcome.error is None:
        outcome = dataclasses.replace(outcome, error=f"已收到第 {len(outcome.draft.attachments)} 个附件。")
    await show(update, context, outcome)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE, _convo: Convo) -> None:
    """Stickers, voice, video and the like: refused politely, the question asked again."""
    outcome = await drafts.current(services(context).db, ctx_of(update, context))
    await show(update, context, dataclasses.replace(outcome, error="无法识别该消息。证明材料" + rules.REFUSED_TYPE))


async def on_end(svc: Services, convo: Convo, why: str) -> None:
    """/cancel or the timeout ends the draft too; another command only parks it: a declaration takes
    a while to fill in, and an official's question in between must not throw the answers away
    (/declare resumes it while it is within its time)."""
    if why == "replaced":
        return
    ctx = ctx_for(svc, convo.chat_id, convo.user_id)
    await (drafts.expire(svc.db, ctx) if why == "expired" else drafts.cancel(svc.db, ctx))


DECLARING = flow.define(
    flow.Flow(
        name="declare",
        label="自主申报",
        command="declare",
        timeout=lambda settings: settings.declarations.timeout_seconds,
        on_text=on_text,
        on_file=on_file,
        on_other=on_other,
        own_commands=frozenset({"declare"}),
        cancelled="已取消申报，未提交任何内容。",
        expired=ENDED["expired"],
        replaced="已暂停「自主申报」，已填写的内容作为草稿保存；发送 /declare 可从上次的步骤继续。",
        on_end=on_end,
        discard_parked=lambda svc, chat_id, user_id: drafts.cancel(svc.db, ctx_for(svc, chat_id, user_id)),
    )
)


async def mine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_user is not None
    items = await my_declarations(services(context).db, update.effective_user.id)
    if not items:
        await reply(update, "您还没有提交过自主申报。发送 /declare 开始申报。")
        return
    lines = [f"您的自主申报 {len([i for i in items if i.receipt_no])} 件："]
    for i in items:
        if i.receipt_no is None:
            lines.append("· 草稿（填写中）：发送 /declare 继续")
            continue
        reason = f"；意见：{i.decision_reason}" if i.decision_reason and i.status != "pending" else ""
        lines.append(
            f"· {i.receipt_no} · {i.subject_name} · [{i.category_label}] {i.headline} · "
            f"{rules.STATUS_LABELS.get(i.status, i.status)}{reason}"
        )
    await reply(update, "\n".join(lines))


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, probe), group=PROBE_GROUP)
    app.add_handler(CommandHandler("declare", start))
    app.add_handler(MessageHandler(filters.Regex(INTENT) & ~filters.COMMAND, start))
    app.add_handler(CallbackQueryHandler(on_button, pattern=DECLARE_PATTERN))
    app.add_handler(CommandHandler("mydeclarations", mine))
