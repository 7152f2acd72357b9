"""Free-text questions: understand, find the subject, answer with its card (逢办必查 starts here).

The rule that matters most: a card is shown straight away only when the resolver says the subject
is clearly the one meant; otherwise the user picks from buttons. A confident wrong answer is the
worst thing this bot can do.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from handlers import query_context as context_of
from handlers.check import check_answer
from handlers.common import caller, reply, services
from handlers.evaluation import card_extras
from handlers.render import card_text
from nlp import message_names
from nlp.index_parts import Candidate
from nlp.intent import Query, parse
from nlp.legacy_codes import find_legacy_codes
from render.buttons import CHOOSE_MATTER, MORE_RECORDS, PICK_SUBJECT, Buttons, pressed
from rules.categories import normalize_category
from rules.masking import mask_person_name
from rules.measures import MATTERS
from rules.roles import Viewer, sees_name_masked
from services.checks import CheckAnswer, view_and_check
from services.findable import findable_briefs, resolve_for
from services.lookup import view_subject
from services.name_index import index_ready
from services.subjects import find_by_id_number

ROUTED = {
    "repair": "申请信用修复请发送 /repair，按提示选择记录并提交材料。",
    "objection": "对信用记录或拟列入名单有异议，请发送 /objection，按提示选择记录并说明理由。",
    "remind": "查看报送待办请发送 /mytasks；本期没有新增信息请发送 /zero。",
    "declare": "自主申报请发送 /declare（或直接发送“我要申报”），按提示填写并上传证明材料。",
}
MAX_QUESTION_CHARS = 300
TOO_LONG = f"消息太长（超过 {MAX_QUESTION_CHARS} 字）。请只发送要查询的名称、简称或统一社会信用代码，或一个简短的问题。"
NOT_FOUND = "没有找到与“{name}”相符的主体。请核对名称，或输入统一社会信用代码查询。"
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
    """The subject's card; with a `matter` an official also gets the 逢办必查 answer, looked up in
    the same transaction (one action, one audit entry)."""
    svc = services(context)
    answer: CheckAnswer | None = None
    if matter in MATTERS and viewer.is_staff:
        both = await view_and_check(svc.db, viewer, subject_id, matter, svc.today())
        card, answer = both.card, both.check
    else:
        reason = f"逢办必查:{MATTERS[matter]}" if matter in MATTERS else "查询"
        card = await view_subject(svc.db, subject_id, viewer, svc.today(), reason=reason)
    if card is None:
        await reply(update, "该主体已不在档案中。")
        return
    text, more = card_text(card, viewer.is_staff, category, page)
    extra_lines, extra_buttons = await card_extras(context, viewer, subject_id) if page == 0 else ([], [])
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
    await context_of.note_subject_shown(update, context, subject_id)
    if answer is not None:
        await reply(update, *check_answer(answer))


async def offer_candidates(
    update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, intro: str, candidates: list[Candidate], query: Query
) -> None:
    # Only candidates this viewer may be offered (no natural person for the public): services.findable.
    briefs = await findable_briefs(services(context).db, viewer, [c.subject_id for c in candidates])
    if not briefs:
        await reply(update, NOT_FOUND_ANY)
        return
    buttons: Buttons = []
    for c in candidates:
        brief = briefs.get(c.subject_id)
        if brief is None:
            continue
        name = mask_person_name(brief.name) if sees_name_masked(viewer, brief.kind, c.subject_id) else brief.name
        label = " · ".join(part for part in (name, brief.division, brief.uscc or brief.id_masked) if part)
        buttons.append([(label[:60], PICK_SUBJECT.pack(c.subject_id, query.category or None, query.matter or None))])
    await reply(update, intro, buttons)


async def answer_codes(update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, query: Query) -> bool:
    svc = services(context)
    assert svc.index is not None
    for mention in query.uscc:
        if mention.valid:
            entry = svc.index.by_uscc(mention.value)
            if entry is None:
                await reply(update, f"档案中没有统一社会信用代码为 {mention.value} 的主体。")
            else:
                await show_card(update, context, viewer, entry.subject_id, query.category, matter=query.matter)
            return True
        near = svc.index.near_uscc(mention.value) if mention.value and len(mention.value) == 18 else []
        if len(near) == 1:
            await offer_candidates(
                update,
                context,
                viewer,
                f"您输入的代码有误：{mention.error}\n档案中只有一个主体的代码与它仅差一位，是否要查它？",
                [Candidate(near[0].subject_id, near[0].name, near[0].division_code, near[0].uscc, 0.0, near[0].uscc or "", "code")],
                query,
            )
        else:
            await reply(update, f"统一社会信用代码有误：{mention.error}。请核对后重新输入。")
        return True
    for mention in query.id_numbers:
        if not viewer.is_staff:
            await reply(update, "按身份证号查询仅限办事人员使用。公众可输入企业名称或统一社会信用代码查询。")
            return True
        if not mention.valid:
            await reply(update, f"身份证号码有误：{mention.error}。")
            return True
        subject_id = await find_by_id_number(svc.db, mention.value, svc.settings.privacy.id_hash_key)
        if subject_id is None:
            await reply(update, "档案中没有该身份证号对应的自然人。")
        else:
            await show_card(update, context, viewer, subject_id, query.category, matter=query.matter)
        return True
    return False


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
    assert svc.lexicon is not None and svc.index is not None
    _account, viewer = await caller(update, context)
    legacy, text = find_legacy_codes(message.text)
    query = parse(text, svc.lexicon)
    whole, query = message_names.whole_name_first(svc.index, text, query)
    if whole is not None:
        query.names = [whole]
        query.intent = query.intent if query.intent in ROUTED else "query"
    if query.intent == "help" or query.intent == "greeting":
        from handlers.start import help_text

        await reply(update, await help_text(update, context))
        return
    if query.intent == "due":
        from handlers.due import due_in_words

        await due_in_words(update, context, message.text)
        return
    if query.intent in ROUTED:
        await reply(update, ROUTED[query.intent])
        return
    found = await context_of.answer_legacy_codes(update, context, viewer, legacy)
    if isinstance(found, str):
        await reply(update, found)
        return
    if found:
        if len(found) == 1:
            await show_card(update, context, viewer, found[0], query.category, matter=query.matter)
        else:
            picks = [Candidate(sid, "", None, None, 0.0, "", "code") for sid in found]
            await offer_candidates(update, context, viewer, "该代码对应多个主体，请选择：", picks, query)
        return
    if not index_ready(svc):
        valid = [m.value for m in query.uscc if m.valid]
        found_ids = await context_of.uscc_while_index_loads(context, valid[:1])
        if found_ids and found_ids[0] is not None:
            await show_card(update, context, viewer, found_ids[0], query.category, matter=query.matter)
        elif valid:
            await reply(update, f"档案中没有统一社会信用代码为 {valid[0]} 的主体。")
        else:
            await reply(update, context_of.INDEX_LOADING)
        return
    if await answer_codes(update, context, viewer, query):
        return
    if message_names.is_followup(query):
        current = await context_of.current_subject(update, context)
        if current is not None:
            page = 1 if message_names.wants_more(query) else 0
            await show_card(update, context, viewer, current, query.category, page=page, matter=query.matter)
            return
    if not query.names:
        await reply(update, "请告诉我要查询的企业名称、简称或统一社会信用代码，例如：查询 恒达建材。发送 /help 查看更多用法。")
        return
    name = query.names[0]
    result = resolve_for(svc.index, viewer, name, division_code=query.division_code)
    name = message_names.safe_echo(name)
    if result.status == "clear":
        query = message_names.drop_slots_inside(result.candidates[0].name, query)
        await show_card(update, context, viewer, result.candidates[0].subject_id, query.category, matter=query.matter)
    elif result.status == "ambiguous":
        await offer_candidates(update, context, viewer, f"找到多个与“{name}”相近的主体，请选择：", result.candidates, query)
    elif result.candidates:
        await offer_candidates(
            update, context, viewer, NOT_FOUND.format(name=name) + "\n以下是名称最接近的主体：", result.candidates, query
        )
    else:
        await reply(update, NOT_FOUND.format(name=name))


async def on_pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A candidate button (`PICK_SUBJECT`)."""
    values = await pressed(update, PICK_SUBJECT)
    if values is None:
        return
    subject_id, category, matter = values
    _account, viewer = await caller(update, context)
    entry = services(context).index.get(subject_id) if services(context).index else None
    # A matter word that was part of the picked subject's name (恒信招标代理 → 招标) was never chosen.
    picked_matter = message_names.matter_allowed_for(entry.name, matter) if entry else matter
    await show_card(update, context, viewer, subject_id, normalize_category(category) if category else None, matter=picked_matter)


async def on_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "more" button (`MORE_RECORDS`)."""
    values = await pressed(update, MORE_RECORDS)
    if values is None:
        return
    subject_id, page, category = values
    _account, viewer = await caller(update, context)
    await show_card(update, context, viewer, subject_id, category, page=page)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_pick, pattern=PICK_SUBJECT.pattern))
    app.add_handler(CallbackQueryHandler(on_page, pattern=MORE_RECORDS.pattern))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
