"""/declare (or “我要申报”): self-declaration with a credit commitment. /mydeclarations: its status.

The conversation has a single PTB state: where the user really is lives in the draft row
(services.declarations.drafts), written in the same transaction as each answer. So a restart loses nothing: the
first message after it finds the open draft (entry points below) and carries on; and an update
delivered twice is recognised by its key and ignored, both here (a cheap in-memory check in handler
group -1, filled from the database on a user's first update) and inside the step's transaction.
"""

from __future__ import annotations

import contextlib
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
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from db.session import Database
from handlers.common import reply, services
from handlers.declare_words import ELSEWHERE, ENDED, ENTERPRISE_HOWTO, prompt, said
from handlers.notify import tell
from render.buttons import (
    DECLARE_AUTHORISE,
    DECLARE_BACK,
    DECLARE_CATEGORY,
    DECLARE_COMMIT,
    DECLARE_CONFIRM,
    DECLARE_FILES_DONE,
    DECLARE_PATTERN,
    DECLARE_SKIP,
    DECLARE_SUBJECT,
    UNKNOWN_BUTTON,
)
from rules import declarations as rules
from services.declarations import drafts, steps, submit
from services.declarations.items import my_declarations
from services.errors import Refusal
from services.runtime import SERVICES_KEY, Services

log = logging.getLogger(__name__)

ACTIVE = 1
INTENT = r"^\s*(我要|我想)?(自主)?申报\s*$|^\s*我要(做)?信用承诺\s*$"
RECENT_KEY = "declare_recent"
FILES = filters.Document.ALL | filters.PHOTO
def limits(svc: Services) -> rules.DeclarationSettings:
    """The `declarations` section of the settings."""
    return svc.settings.declarations


def update_key(update: Update) -> str | None:
    """Telegram redelivers an update unchanged: a message keeps its id in its chat, a button press
    its callback id. Those keys, not the update id, survive a second delivery through another path."""
    if update.callback_query is not None:
        return f"c{update.callback_query.id}"
    message = update.effective_message
    if message is not None and message.chat is not None:
        return f"m{message.chat.id}:{message.message_id}"
    return None


def ctx_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> drafts.Ctx:
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return drafts.Ctx(
        telegram_user_id=user.id,
        chat_id=chat.id,
        key=update_key(update),
        now=dt.datetime.now(dt.UTC),
        today=svc.today(),
        limits=limits(svc),
        display_name=user.full_name,
        id_key=svc.settings.privacy.id_hash_key,
        division_code=svc.settings.region.division_code,
    )


# -- the in-memory mirror of recent keys and open drafts ----------------------------------------------


@dataclasses.dataclass
class Recent:
    open_draft: bool
    keys: deque[str]


def _recent(svc: Services) -> dict[int, Recent]:
    return svc.extras.setdefault(RECENT_KEY, {})


def _note(context: ContextTypes.DEFAULT_TYPE, update: Update, open_draft: bool) -> None:
    user = update.effective_user
    if user is None:
        return
    entry = _recent(services(context)).setdefault(user.id, Recent(False, deque(maxlen=drafts.SEEN_KEEP)))
    entry.open_draft = open_draft
    key = update_key(update)
    if key and key not in entry.keys:
        entry.keys.append(key)


async def probe(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Group -1, every update: drop a redelivered one this flow already handled, and learn (once per
    user and process, from the database) whether the user has a draft to resume."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    svc = services(context)
    recent = _recent(svc)
    uid = update.effective_user.id
    if uid not in recent:
        found = await drafts.recent(svc.db, uid, dt.datetime.now(dt.UTC), dt.timedelta(seconds=limits(svc).timeout_seconds * 2))
        recent[uid] = Recent(found.open_draft, deque(found.keys, maxlen=drafts.SEEN_KEEP))
    key = update_key(update)
    if key is not None and key in recent[uid].keys:
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        raise ApplicationHandlerStop


class _Resumable(filters.UpdateFilter):
    """True for a user whose open draft this process has not seen yet (after a restart)."""

    def __init__(self, app: Application) -> None:
        super().__init__(name="declare_resumable")
        self.app = app

    def filter(self, update: Update) -> bool:
        user = update.effective_user
        entry = _recent(self.app.bot_data[SERVICES_KEY]).get(user.id) if user else None
        return bool(entry and entry.open_draft)


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: drafts.Outcome, intro: str = "") -> int:
    """Answer a step: nothing for a duplicate, the end of the conversation, or the next question."""
    if outcome.duplicate:
        return ACTIVE
    svc = services(context)
    if outcome.draft is None:
        _note(context, update, False)
        await _ended(update, context, outcome)
        return ConversationHandler.END
    _note(context, update, True)
    text, buttons = prompt(outcome.draft, limits(svc))
    parts = [p for p in (intro, said(outcome), text) if p]
    await reply(update, "\n\n".join(parts), buttons)
    return ACTIVE


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


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    svc = services(context)
    try:
        outcome = await drafts.start(svc.db, ctx_of(update, context))
    except Refusal as exc:
        await reply(update, ELSEWHERE if exc.code == drafts.DRAFT_ELSEWHERE else exc.reason)
        return ConversationHandler.END
    if outcome.note == "resumed":
        return await show(update, context, outcome, "您有一份未完成的申报，已为您恢复到上次的步骤（发送 /cancel 可放弃）。")
    intro = (
        "自主申报：企业和个人可以申报档案中没有的资质证照、荣誉表彰、市场经营、合同履约、社会公益、诚信管理信息，"
        "须附证明材料并作出信用承诺，经负责部门核验后计入信用档案。随时发送 /cancel 取消。"
    )
    return await show(update, context, outcome, intro if outcome.draft is not None else "")


async def again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/declare while declaring: say where the user is."""
    outcome = await drafts.current(services(context).db, ctx_of(update, context))
    return await show(update, context, outcome, "您正在申报中：")


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
    plain = {DECLARE_BACK: steps.go_back, DECLARE_FILES_DONE: steps.attachments_done, DECLARE_CONFIRM: steps.confirm}
    return next((step for spec, step in plain.items() if spec.unpack(data) is not None), None)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    cq = update.callback_query
    assert cq is not None
    await cq.answer()
    step = _step_of(cq.data)
    if step is None:
        await reply(update, UNKNOWN_BUTTON)
        return None
    outcome = await step(services(context).db, ctx_of(update, context))
    return await show(update, context, outcome)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    message = update.effective_message
    assert message is not None
    outcome = await steps.answer_text(services(context).db, ctx_of(update, context), message.text or "")
    return await show(update, context, outcome)


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


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Check what can be checked before fetching (step, type, size, count), fetch through the Bot
    API to hash and sniff the content, then record it."""
    svc = services(context)
    ctx = ctx_of(update, context)
    found = file_in(update)
    assert found is not None
    refusal = await steps.attachment_allowed(svc.db, ctx, found)
    if refusal is not None:
        await reply(update, refusal)
        return ACTIVE
    try:
        content = bytes(await (await context.bot.get_file(found.file_id)).download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not fetch a declaration attachment: %s", type(exc).__name__)
        await reply(update, "文件未能接收，请重新发送。")
        return ACTIVE
    outcome = await steps.add_attachment(svc.db, ctx, found, content, hashlib.sha256(content).hexdigest())
    if outcome.draft is not None and outcome.error is None:
        outcome = dataclasses.replace(outcome, error=f"已收到第 {len(outcome.draft.attachments)} 个附件。")
    return await show(update, context, outcome)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Stickers, voice, video and the like: refused politely, the question asked again."""
    outcome = await drafts.current(services(context).db, ctx_of(update, context))
    return await show(update, context, dataclasses.replace(outcome, error="无法识别该消息。证明材料" + rules.REFUSED_TYPE))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    had = await drafts.cancel(services(context).db, ctx_of(update, context))
    _note(context, update, False)
    await reply(update, "已取消申报，未提交任何内容。" if had else "已取消。")
    return ConversationHandler.END


async def on_timeout(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """PTB's timer (in memory; the draft's own expiry covers restarts): end the draft and say so."""
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if await drafts.expire(services(context).db, ctx_of(update, context)):
        _note(context, update, False)
        await context.bot.send_message(update.effective_chat.id, ENDED["expired"])


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
    svc: Services = app.bot_data[SERVICES_KEY]
    resumable = _Resumable(app)
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.COMMAND & ~filters.TEXT & ~FILES & filters.ChatType.PRIVATE
    step_handlers = [
        CallbackQueryHandler(on_button, pattern=DECLARE_PATTERN),
        MessageHandler(text, on_text),
        MessageHandler(FILES, on_file),
        MessageHandler(other, on_other),
    ]
    app.add_handler(TypeHandler(Update, probe), group=-1)
    app.add_handler(
        ConversationHandler(
            entry_points=[
                CommandHandler("declare", start),
                MessageHandler(filters.Regex(INTENT) & ~filters.COMMAND, start),
                CommandHandler("cancel", cancel, filters=resumable),
                # After a restart: a button of the old conversation, or any answer of a user whose
                # draft is open, continues it.
                CallbackQueryHandler(on_button, pattern=DECLARE_PATTERN),
                MessageHandler(resumable & text, on_text),
                MessageHandler(resumable & FILES, on_file),
            ],
            states={
                ACTIVE: [CommandHandler("declare", again), *step_handlers],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            conversation_timeout=limits(svc).timeout_seconds,
            per_message=False,
            name="declare",
        )
    )
    app.add_handler(CommandHandler("mydeclarations", mine))
