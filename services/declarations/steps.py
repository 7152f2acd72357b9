"""The steps of the declaration conversation after the link: subject, category, fields, going
back, attachments, confirmation and the credit commitment. Each public function is one step in one
transaction (`drafts.run_step`) and returns an `Outcome`: where the user is now and what went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, Declaration
from db.session import Database
from nlp import form_answers
from rules import declarations as rules
from rules import lifecycle
from services.declarations.drafts import (
    HINT_CANCEL,
    Apply,
    Ctx,
    Outcome,
    Said,
    account_of,
    bound,
    close,
    run_step,
    set_data,
)
from services.declarations.link import link_answer_step
from services.declarations.submit import authorise_step


def _pick_subject(ctx: Ctx, subject_id: int) -> Apply:
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "subject":
            return "请按当前步骤操作。"
        if subject_id not in {sub.id for sub in bound(account, await account.awaitable_attrs.subjects)}:
            return "只能为本账号绑定的主体申报。"
        draft.subject_id, draft.link, draft.step = subject_id, "bound", "category"
        return None

    return apply


async def pick_subject(db: Database, ctx: Ctx, subject_id: int) -> Outcome:
    """Step `subject`: declare for `subject_id`, one of the account's bound subjects.

    Returns the Outcome (next: the category); a subject not bound to the account, or another step,
    is answered in `Outcome.error`. Raises nothing."""
    return await run_step(db, ctx, _pick_subject(ctx, subject_id))


def _pick_category(ctx: Ctx, key: str) -> Apply:
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "category":
            return "请按当前步骤操作。"
        cat = rules.category(key)
        if draft.category != key:
            set_data(draft, values={})
        draft.category = key
        draft.step = f"field:{cat.fields[0].key}"
        return None

    return apply


async def pick_category(db: Database, ctx: Ctx, key: str) -> Outcome:
    """Step `category`: `key` is a key of rules.declarations.CATEGORIES; the first field comes next.

    Changing the category clears the values already typed. Returns the Outcome; raises
    rules.declarations.DeclarationError for a key that is not a category (buttons carry only real
    ones: render.buttons.DECLARE_CATEGORY)."""
    return await run_step(db, ctx, _pick_category(ctx, key))


def _answer_field(ctx: Ctx, text: str) -> Apply:
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if not draft.step.startswith("field:") or draft.category is None:
            return "请按当前步骤操作。"
        cat = rules.category(draft.category)
        f = rules.field_of(cat, draft.step.split(":", 1)[1])
        values = dict((draft.data or {}).get("values", {}))
        try:
            value = form_answers.validate(cat, f, text, ctx.today, values)
        except rules.DeclarationError as exc:
            return str(exc)
        if value is None:
            values.pop(f.key, None)
        else:
            values[f.key] = value
        set_data(draft, values=values)
        following = rules.next_field(cat, f.key)
        draft.step = f"field:{following.key}" if following else "attach"
        return None

    return apply


async def answer_field(db: Database, ctx: Ctx, text: str) -> Outcome:
    """Step `field:<key>`: the typed value of the current field, checked by rules.declarations.validate
    (dates as 2025-03-01 or 2025年3月1日, amounts in 万元); rules.declarations.SKIP_WORD skips an optional
    field. A bad value stays on the step with its reason in `Outcome.error`. Raises nothing."""
    return await run_step(db, ctx, _answer_field(ctx, text))


def _go_back(ctx: Ctx) -> Apply:
    """“返回”: one step back; the answers already given are kept and shown again."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | Said | None:
        step = draft.step
        several = len(bound(account, await account.awaitable_attrs.subjects)) > 1
        if step == "link_name":
            draft.step = "link_code"
        elif step == "link_date":
            draft.step = "link_name"
        elif step == "link_secret":
            draft.step = "link_name" if (draft.data or {}).get("link", {}).get("person") else "link_date"
        elif step == "category":
            if draft.link == "bound" and several:
                draft.step, draft.subject_id = "subject", None
            else:
                return Said("已是第一步。", HINT_CANCEL)
        elif step.startswith("field:") and draft.category:
            cat = rules.category(draft.category)
            before = rules.previous_field(cat, step.split(":", 1)[1])
            draft.step = f"field:{before.key}" if before else "category"
        elif step == "attach" and draft.category:
            draft.step = f"field:{rules.category(draft.category).fields[-1].key}"
        elif step == "confirm":
            draft.step = "attach"
        elif step == "commit":
            draft.step = "confirm"
        elif step == "authorise":
            draft.step = "commit"
        else:
            return Said("已是第一步。", HINT_CANCEL)
        return None

    return apply


async def go_back(db: Database, ctx: Ctx) -> Outcome:
    """“返回”: one step back, the answers already given kept. At the first step `Outcome.error` says so
    with `hint` HINT_CANCEL (the channel adds how to give up). Raises nothing."""
    return await run_step(db, ctx, _go_back(ctx))


def _text(ctx: Ctx, text: str) -> Apply:
    """A typed answer, read according to the step the draft is at (the row, not memory, knows)."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | Said | Outcome | None:
        step = draft.step
        if form_answers.is_word(text, rules.BACK_WORD):
            return await _go_back(ctx)(s, draft, account)
        if step.startswith("link_"):
            return await link_answer_step(ctx, text)(s, draft, account)
        if step.startswith("field:"):
            return await _answer_field(ctx, text)(s, draft, account)
        if step == "attach":
            if form_answers.is_word(text, "完成") or form_answers.is_word(text, "材料已发送完毕"):
                return await _attachments_done(ctx)(s, draft, account)
            return "请以文件或照片形式发送证明材料；发送完毕请点击“材料已发送完毕”。"
        if step == "confirm":
            if form_answers.is_word(text, "确认") or form_answers.is_word(text, "确认无误"):
                return await _confirm(ctx)(s, draft, account)
            return "请核对申报内容：无误请点击“确认无误”，需要修改请点击“返回修改”。"
        if step == "commit":
            if form_answers.is_word(text, "不承诺"):
                return await _commit(ctx, False)(s, draft, account)
            if lifecycle.is_commitment(text):
                return await _commit(ctx, True)(s, draft, account)
            return f"须作出信用承诺才能提交申报：请点击或回复“{rules.COMMITMENT_WORD}”；不同意请点击“不承诺”。"
        if step == "authorise":
            if form_answers.is_word(text, "不同意"):
                return await authorise_step(ctx, False)(s, draft, account)
            if form_answers.is_word(text, rules.AUTHORISE_WORD) or form_answers.is_word(text, "同意授权"):
                return await authorise_step(ctx, True)(s, draft, account)
            return f"请点击“同意授权”或回复“{rules.AUTHORISE_WORD}”；不同意请点击“不同意”。"
        return "请点击上方按钮选择。"

    return apply


async def answer_text(db: Database, ctx: Ctx, text: str) -> Outcome:
    """Any typed text, read according to the step the draft is at (the row, not memory, knows):
    the link's answers, a field, or the words for done / confirm / commit / authorise. Returns the
    Outcome of the step it stands for; raises nothing."""
    return await run_step(db, ctx, _text(ctx, text))


@dataclass(frozen=True)
class FileIn:
    """A file as it arrived, before it is fetched: refused early when too big or too many."""

    file_id: str
    file_unique_id: str
    kind: str  # document / photo
    name: str | None
    mime_type: str | None
    size: int | None


async def attachment_allowed(db: Database, ctx: Ctx, file: FileIn) -> str | None:
    """Checks before downloading a file: wrong step, type, size (`file.size` in bytes) or count.

    Returns the Chinese reason to refuse it, or None to go ahead (also when there is no open draft:
    `add_attachment` says so). Raises nothing."""
    async with db.transaction() as s:
        account = await account_of(s, ctx)
        draft = await s.scalar(select(Declaration).where(Declaration.open_key == str(account.id)))
        if draft is None:
            return None  # add_attachment will say so
        if draft.step != "attach":
            return "现在还不需要附件。请先按提示完成当前步骤（可发送“返回”回到上一步）。"
        if file.kind == "document" and rules.declared_type(file.name, file.mime_type) is None:
            return rules.REFUSED_TYPE
        try:
            rules.check_size(file.size, len((draft.attachments or {}).get("items", [])), ctx.limits)
        except rules.DeclarationError as exc:
            return str(exc)
        return None


async def add_attachment(db: Database, ctx: Ctx, file: FileIn, content: bytes, sha256: str) -> Outcome:
    """Step `attach`: keep a fetched file (`content`, its `sha256` hex digest) as proof.

    The content's type is sniffed, not trusted from the name; size limits are
    `DeclarationSettings.max_file_mb` (MB) and `max_files`; the same file twice is refused. Refusals are
    in `Outcome.error`; raises nothing."""
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "attach":
            return "现在还不需要附件。请先按提示完成当前步骤。"
        items = list((draft.attachments or {}).get("items", []))
        try:
            rules.check_size(len(content), len(items), ctx.limits)
            kind = rules.check_content("jpeg" if file.kind == "photo" else rules.declared_type(file.name, file.mime_type), content, ctx.limits)
        except rules.DeclarationError as exc:
            return str(exc)
        if any(i["sha256"] == sha256 for i in items):
            return "该文件已收到过，无需重复发送。"
        items.append(
            {
                "file_id": file.file_id, "file_unique_id": file.file_unique_id, "kind": file.kind,
                "name": file.name or f"照片{len(items) + 1}.jpg", "type": kind, "size": len(content), "sha256": sha256,
            }
        )
        draft.attachments = {"items": items}
        return None

    return await run_step(db, ctx, apply)


def _attachments_done(ctx: Ctx) -> Apply:
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "attach":
            return "请按当前步骤操作。"
        if not (draft.attachments or {}).get("items"):
            return "自主申报须附至少一份证明材料（证书、合同、凭证等的照片或 PDF），请先发送文件。"
        draft.step = "confirm"
        return None

    return apply


async def attachments_done(db: Database, ctx: Ctx) -> Outcome:
    """Step `attach` ends: at least one file is required, then the summary to confirm. Raises nothing."""
    return await run_step(db, ctx, _attachments_done(ctx))


def _confirm(ctx: Ctx) -> Apply:
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "confirm":
            return "请按当前步骤操作。"
        draft.step = "commit"
        return None

    return apply


async def confirm(db: Database, ctx: Ctx) -> Outcome:
    """Step `confirm`: the summary is right; the credit commitment comes next. Raises nothing."""
    return await run_step(db, ctx, _confirm(ctx))


def _commit(ctx: Ctx, accept: bool) -> Apply:
    """The credit commitment: accepted, its text and version are kept with the declaration;
    refused, the draft ends and nothing is submitted."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "commit":
            return "请按当前步骤操作。"
        if not accept:
            close(draft, "cancelled")
            return None
        draft.commitment_version, draft.commitment_text = rules.COMMITMENT_VERSION, rules.COMMITMENT_TEXT
        draft.committed_at = ctx.now
        draft.step = "authorise"
        return None

    return apply


async def commit(db: Database, ctx: Ctx, accept: bool) -> Outcome:
    """Step `commit`: the credit commitment. Accepted, its text and version are kept with the declaration
    and the authorisation comes next; refused, the draft ends (`ended` "cancelled") and nothing is
    submitted. Raises nothing."""
    return await run_step(db, ctx, _commit(ctx, accept))


