"""Free-text questions: understand, find the subject, answer with its card (逢办必查 starts here).

The rule that matters most: a card is shown straight away only when the resolver says the subject
is clearly the one meant; otherwise the user picks from buttons. A confident wrong answer is the
worst thing this bot can do.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from handlers import query_context as context_of
from handlers.check import check_answer
from handlers.common import reply, services, viewer_of
from handlers.evaluation import card_extras
from handlers.render import card_text
from nlp import message_names
from nlp.intent import Query
from render.buttons import CHOOSE_MATTER, MORE_RECORDS, PICK_SUBJECT, Buttons, pressed
from rules.categories import normalize_category
from rules.masking import mask_person_name
from rules.roles import Viewer, sees_name_masked
from services.chat_card import chat_card
from services.findable import findable_briefs
from services.resolver_port import resolver_of
from services.subject_query import Asked, read_text

ROUTED = {
    "repair": "申请信用修复请发送 /repair，按提示选择记录并提交材料。",
    "objection": "对信用记录或拟列入名单有异议，请发送 /objection，按提示选择记录并说明理由。",
    "remind": "查看报送待办请发送 /mytasks；本期没有新增信息请发送 /zero。",
    "declare": "自主申报请发送 /declare（或直接发送“我要申报”），按提示填写并上传证明材料。",
}
MAX_QUESTION_CHARS = 300
TOO_LONG = f"消息太长（超过 {MAX_QUESTION_CHARS} 字）。请只发送要查询的名称、简称或统一社会信用代码，或一个简短的问题。"
NOT_FOUND_ANY = "没有找到相符的主体。请核对名称，或输入统一社会信用代码查询。"


async def show_card(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    viewer: Viewer,
    subject_id: int,
    category: str | None = None,
    page: int = 0,
    note: str | None = None,
    matter: str | None = None,
) -> None:
    """The subject's card; with a `matter` an official also gets the 逢办必查 answer. One use case,
    one transaction (services.chat_card): the card, its grade and watch flag, the check, the audit
    entry and the chat's current subject for follow-ups."""
    svc = services(context)
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    shown = await chat_card(
        svc.db, subject_id, viewer, svc.today(), shown_in=(chat.id, user.id), now=dt.datetime.now(dt.UTC),
        public_grades=svc.settings.evaluation.public_grades, matter=matter,
    )
    if shown is None:
        await reply(update, "该主体已不在档案中。")
        return
    text, more = card_text(shown.card, viewer.is_staff, category, page)
    extra_lines, extra_buttons = card_extras(viewer, subject_id, shown.grade, shown.watching) if page == 0 else ([], [])
    if extra_lines:
        head, _, rest = text.partition("\n\n")
        text = "\n".join([head, *extra_lines]) + ("\n\n" + rest if rest else "")
    if note:
        text = f"{note}\n\n{text}"
    buttons: Buttons = []
    if more:
        buttons.append([("更多记录", MORE_RECORDS.pack(subject_id, page + 1, category or None))])
    if viewer.is_staff:
        buttons.append([("逢办必查：选择办理事项", CHOOSE_MATTER.pack(subject_id))])
    buttons += extra_buttons  # 关注 / 取消关注
    await reply(update, text, buttons)
    if shown.check is not None:
        await reply(update, *check_answer(shown.check))


async def offer_candidates(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    viewer: Viewer,
    intro: str,
    subject_ids: list[int] | tuple[int, ...],
    query: Query,
) -> None:
    # Only candidates this viewer may be offered (no natural person for the public): services.findable.
    briefs = await findable_briefs(services(context).db, viewer, list(subject_ids))
    if not briefs:
        await reply(update, NOT_FOUND_ANY)
        return
    buttons: Buttons = []
    for sid in subject_ids:
        brief = briefs.get(sid)
        if brief is None:
            continue
        name = mask_person_name(brief.name) if sees_name_masked(viewer, brief.kind, sid) else brief.name
        label = " · ".join(part for part in (name, brief.division, brief.uscc or brief.id_masked) if part)
        buttons.append([(label[:60], PICK_SUBJECT.pack(sid, query.category or None, query.matter or None))])
    await reply(update, intro, buttons)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, asked: Asked, query: Query) -> None:
    """One subject the message asks about (services.subject_query): its card only when it is clearly
    the one meant; otherwise the question, the choice or the nearest names as buttons."""
    if asked.status == "clear" and asked.subject_id is not None:
        await show_card(update, context, viewer, asked.subject_id, query.category, note=asked.message or None,
                        matter=query.matter)
    elif asked.candidates and asked.status != "refused":
        await offer_candidates(update, context, viewer, asked.message, asked.candidates, query)
    else:
        await reply(update, asked.message or NOT_FOUND_ANY)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    if len(message.text) > MAX_QUESTION_CHARS:
        # Segmenting and matching cost grows with the text (4,000 characters kept the loop busy half a
        # second); no name or question needs more than this.
        await reply(update, TOO_LONG)
        return
    svc = services(context)
    viewer = await viewer_of(update, context)
    reading = await read_text(svc, viewer, message.text)
    query = reading.query
    named = bool(reading.asked) and reading.asked[0].status != "loading"
    if query.intent in ("help", "greeting") and not named:
        from handlers.start import help_text

        await reply(update, await help_text(update, context))
        return
    if query.intent == "due" and not named:
        from handlers.due import due_in_words

        await due_in_words(update, context, message.text)
        return
    if query.intent in ROUTED:
        await reply(update, ROUTED[query.intent])
        return
    if message_names.wants_more(query) or (not named and message_names.is_followup(query)):
        # A matter, a category or "更多" and no name: the subject last shown in this chat.
        current = await context_of.current_subject(update, context)
        if current is not None:
            page = 1 if message_names.wants_more(query) else 0
            await show_card(update, context, viewer, current, query.category, page=page, matter=query.matter)
            return
    if not reading.asked:
        await reply(update, "请告诉我要查询的企业名称、简称或统一社会信用代码，例如：查询 恒达建材。发送 /help 查看更多用法。")
        return
    for asked in reading.asked:
        await answer(update, context, viewer, asked, query)


async def on_pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A candidate button (`PICK_SUBJECT`)."""
    values = await pressed(update, PICK_SUBJECT)
    if values is None:
        return
    subject_id, category, matter = values
    viewer = await viewer_of(update, context)
    entry = resolver_of(services(context)).subject(subject_id)
    # A matter word that was part of the picked subject's name (恒信招标代理 → 招标) was never chosen.
    picked_matter = message_names.matter_allowed_for(entry.name, matter) if entry else matter
    await show_card(update, context, viewer, subject_id, normalize_category(category) if category else None, matter=picked_matter)


async def on_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "more" button (`MORE_RECORDS`)."""
    values = await pressed(update, MORE_RECORDS)
    if values is None:
        return
    subject_id, page, category = values
    viewer = await viewer_of(update, context)
    await show_card(update, context, viewer, subject_id, category, page=page)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_pick, pattern=PICK_SUBJECT.pattern))
    app.add_handler(CallbackQueryHandler(on_page, pattern=MORE_RECORDS.pattern))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
