"""The database side of a free-text question (issue 11); the pure side is nlp.message_names.

* Old identifiers (15-digit ID, 组织机构代码, 工商注册号) looked up for the roles allowed to: an old
  ID only for staff, and shown masked in every answer, "not found" included.
* Follow-ups: a message with a matter, a category or "更多" and no name refers to the subject last
  shown to this user in this chat (services.resolver_context; the window is `query.followup_minutes`).
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import services
from nlp.legacy_codes import LegacyCode
from services.lookup import Viewer
from services.resolver_context import (
    ORGANISATION_CODE,
    REGISTRATION_NUMBER,
    recent_subject,
    remember_subject,
    subject_by_uscc,
    subjects_by_legacy_code,
)
from services.subjects import find_by_id_number


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


INDEX_LOADING = "名称索引正在加载，请稍候再按名称查询；现在可以输入统一社会信用代码查询。"


async def uscc_while_index_loads(context: ContextTypes.DEFAULT_TYPE, codes: list[str]) -> list[int | None]:
    """While the name index is being built in the background, valid USCCs are looked up in the
    database (one indexed query each), so codes answer from the first second after a restart."""
    svc = services(context)
    return [await subject_by_uscc(svc.db, code) for code in codes]
