"""What a free-text question refers to beyond the parser's slots (issue 11).

* Whole names first: the longest stretch of the message that is a registered name or alias wins
  before any filler, category or matter word is cut, so 安康市恒信招标代理有限公司 is never cut to
  安康市恒信 with 招标 taken for the matter; a word inside the matched name is never a slot.
* Old identifiers (15-digit ID, 组织机构代码, 工商注册号), recognised anywhere in a message.
* Follow-ups: a message with a matter, a category or "更多" and no name refers to the subject last
  shown in this chat (db.resolver_context; the window is `query.followup_minutes`).

No reply from here prints a person's ID number: old IDs are shown masked, and any long run of digits
echoed from the user's text is masked too (`safe_echo`).
"""

from __future__ import annotations

import datetime as dt
import re

from telegram import Update
from telegram.ext import ContextTypes

from db.lookup import Viewer
from db.resolver_context import (
    ORGANISATION_CODE,
    REGISTRATION_NUMBER,
    recent_subject,
    remember_subject,
    subjects_by_legacy_code,
)
from db.subjects import find_by_id_number
from handlers.common import services
from nlp.intent import Query, parse
from nlp.legacy_codes import LegacyCode
from nlp.normalize import name_key
from nlp.resolver import NameIndex
from rules.categories import normalize_category
from rules.masking import mask_id
from rules.measures import MATTERS

# Words that ask for the rest of the current subject's card.
MORE_WORDS = frozenset({"更多", "更多记录", "还有呢", "还有吗", "下一页", "继续", "其他记录", "全部记录"})
# Tiers trusted when the whole message (fillers aside) is tried as a name: no typo or homophone
# guessing on text that may carry other words.
_WHOLE_TEXT_TIERS = frozenset({"exact", "core", "brand", "contains"})
_LONG_DIGITS = re.compile(r"\d{8,}")


def safe_echo(text: str) -> str:
    """The user's text as a reply may quote it: every run of 8+ digits masked like an ID number."""
    return _LONG_DIGITS.sub(lambda m: mask_id(m.group(0)), text)


def whole_name_first(index: NameIndex, text: str, query: Query) -> tuple[str | None, Query]:
    """(the name the message carries whole, the slots parsed from the text outside it).

    A registered name or alias typed anywhere in the message wins; failing that, the whole message
    without fillers, when it alone resolves through a trusted tier (恒信招标 for 恒信招标代理有限公司:
    招标 belongs to the name; two such names are a choice, not 恒信 plus a matter). Returns
    (None, query) when neither applies.
    """
    span = index.longest_name_in(text)
    if span is not None:
        outside = name_key(text).replace(span, " ", 1)
        rest = parse(outside, index.lexicon)
        return span, rest
    if not query.names or query.uscc or query.id_numbers:
        return None, query
    whole = name_key(query.text)
    if whole == query.names[0] or len(whole) < 3:
        return None, query
    result = index.resolve(whole)
    if result.status != "none" and result.candidates[0].how in _WHOLE_TEXT_TIERS:
        return whole, Query(query.intent, [whole], raw=query.raw, text=query.text)
    return None, query


def drop_slots_inside(name: str, query: Query) -> Query:
    """A matter or category word that is part of the chosen subject's name was never asked for."""
    key = name_key(name)
    matter, category = query.matter, query.category
    if matter and (MATTERS.get(matter, "") in key or any(w in key for w in _matter_words(matter, query.text))):
        matter = None
    if category and any(w in key for w in _category_words(category, query.text)):
        category = None
    if matter == query.matter and category == query.category:
        return query
    return Query(query.intent, query.names, query.uscc, query.id_numbers, category, query.division_code, matter, query.raw, query.text)


def _matter_words(matter: str, text: str) -> list[str]:
    from rules.measures import matter_from_text

    return [w for w in _words_in(text) if matter_from_text(w) == matter]


def _category_words(category: str, text: str) -> list[str]:
    return [w for w in _words_in(text) if normalize_category(w) == category or _alias(w) == category]


def _alias(word: str) -> str | None:
    return normalize_category({"处罚": "行政处罚", "许可": "行政许可", "黑名单": "严重失信主体名单"}.get(word, word))


def _words_in(text: str) -> list[str]:
    """Every 2-4 character piece of the text: the slot words the parser may have taken from it."""
    key = name_key(text)
    return [key[i : i + n] for n in (2, 3, 4) for i in range(len(key) - n + 1)]


def matter_allowed_for(name: str, matter: str | None) -> str | None:
    """On a button press only the key survives: drop a matter whose own words are in the name."""
    if not matter:
        return None
    from rules.measures import _MATTER_WORDS

    key = name_key(name)
    if any(word in key for word, k in _MATTER_WORDS if k == matter):
        return None
    return matter


def is_followup(query: Query) -> bool:
    """No name and no code, but a matter, a category or "更多": it asks about the current subject."""
    if query.names or query.uscc or query.id_numbers:
        return False
    return bool(query.matter or query.category or name_key(query.raw) in MORE_WORDS)


def wants_more(query: Query) -> bool:
    return name_key(query.raw) in MORE_WORDS


async def current_subject(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    svc = services(context)
    window = dt.timedelta(minutes=svc.settings.query.followup_minutes)
    return await recent_subject(svc.db, chat.id, user.id, dt.datetime.now(dt.UTC), window)


async def note_subject_shown(update: Update, context: ContextTypes.DEFAULT_TYPE, subject_id: int) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    await remember_subject(services(context).db, chat.id, user.id, subject_id, dt.datetime.now(dt.UTC))


async def answer_legacy_codes(
    update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, codes: list[LegacyCode]
) -> list[int] | str | None:
    """Subjects for the first old code in the message: a list of ids, a Chinese refusal or
    not-found text, or None when the message carries no old code."""
    if not codes:
        return None
    svc = services(context)
    assert svc.index is not None
    code = codes[0]
    if code.kind == "org":
        found = [e.subject_id for e in svc.index.by_org_code(code.value)]
        if not found:
            found = await subjects_by_legacy_code(
                svc.db, ORGANISATION_CODE, [code.value, f"{code.value[:8]}-{code.value[8]}"]
            )
        return found or f"档案中没有组织机构代码为 {code.shown} 的主体。"
    if code.kind in ("reg", "ric15") and (code.kind == "reg" or code.also_reg):
        found = await subjects_by_legacy_code(svc.db, REGISTRATION_NUMBER, [code.raw_digits])
        if found:
            return found
    if code.kind == "ric15":
        if not viewer.is_staff:
            return "按身份证号查询仅限办事人员使用。公众可输入企业名称或统一社会信用代码查询。"
        subject_id = await find_by_id_number(svc.db, code.value, svc.settings.privacy.id_hash_key)
        if subject_id is None:
            return f"档案中没有身份证号 {code.shown}（15 位旧号码，已按 18 位查询）对应的自然人。"
        return [subject_id]
    if code.kind == "reg":
        return f"档案中没有工商注册号为 {code.shown} 的主体。"
    return f"“{code.shown}”既不是有效的 15 位身份证号，也不是有效的工商注册号，请核对后重新输入。"
