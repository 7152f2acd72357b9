"""Self-declaration (自主申报) use cases: the conversation's steps, submission, verification, revocation.

Every step of the conversation is one transaction on the declarant's open draft row: it locks the
row, recognises a redelivered update (its key is already in `seen`), checks the answer with
rules.declarations, moves `step` on and pushes the expiry forward. The row, not PTB's memory, says
where the user is, so a restarted bot (or another process) continues from the same place, and the
same update delivered twice is applied once.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts import account_for_user
from db.evaluation import refresh_subjects
from db.listings import department_chats, next_number, region_abbr, subject_chats
from db.lookup import Viewer
from db.models import Account, AuditEntry, CreditRecord, Department, Subject, utcnow
from db.models_declarations import Declaration, LinkAttempts
from db.session import Database
from nlp.dates import DateError, parse_date
from rules import declarations as rules
from rules import lifecycle
from rules.codes import clean_code, looks_like_ric, repair_lookalikes, validate_ric, validate_uscc
from rules.masking import id_match_key
from rules.publication import add_months, edition_for

SEEN_KEEP = 30
Apply = Callable[[AsyncSession, "Declaration", Account], Awaitable["str | Outcome | None"]]
SEQUENCE_KIND = "declaration"
COMMITMENT_SOURCE = "self-declaration"
COMMITMENT_SOURCE_NAME = "申报主体自主承诺"
ENTERPRISE_HOWTO = (
    "如需以企业身份申报，请由单位向本平台（或所在地信用主管部门）申请企业账号：提交营业执照复印件和经办人授权书，"
    "取得绑定码后在本机器人发送 /bind 绑定码，即可直接为本单位申报，无需再核验身份。"
)


class DeclareError(Exception):
    """A refusal with a Chinese reason meant for the user."""


def _same_name(a: str | None, b: str | None) -> bool:
    def norm(x: str | None) -> str:
        return "".join(unicodedata.normalize("NFKC", x or "").split())

    return bool(norm(a)) and norm(a) == norm(b)


# -- what the handlers get back ---------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """The open draft as the conversation needs it to ask the next question."""

    id: int
    step: str
    subject_name: str | None
    category: str | None
    values: dict[str, str]
    attachments: tuple[dict[str, Any], ...]
    subject_choices: tuple[tuple[int, str], ...] = ()
    link_tries_left: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What a step did: `draft` is where the user is now (None once the conversation is over)."""

    draft: Draft | None
    error: str | None = None
    duplicate: bool = False
    ended: str | None = None  # submitted / cancelled / refused / expired / locked / none
    note: str | None = None
    submitted: Submitted | None = None
    until: dt.datetime | None = None  # end of a cool-down, UTC


@dataclass(frozen=True)
class Submitted:
    declaration_id: int
    receipt_no: str
    subject_name: str
    category_label: str
    department_name: str
    department_chats: tuple[int, ...]


@dataclass
class Ctx:
    """Who acts and with which limits; built by the handler from the update and the settings."""

    telegram_user_id: int
    chat_id: int
    key: str | None
    now: dt.datetime
    today: dt.date
    limits: rules.DeclarationSettings = field(default_factory=rules.DeclarationSettings)
    display_name: str | None = None
    id_key: str = ""
    division_code: str = "610900"


# -- the draft row ----------------------------------------------------------------------------------


async def _lock_open(s: AsyncSession, account_id: int) -> Declaration | None:
    """The account's open draft, locked: the UPDATE takes the row lock on PostgreSQL and the write
    lock on SQLite before anything is read, so two deliveries of one update run one after the other."""
    found = await s.scalar(
        update(Declaration)
        .where(Declaration.open_key == str(account_id))
        .values(version=Declaration.version + 1)
        .returning(Declaration.id)
        .execution_options(synchronize_session=False)
    )
    if found is None:
        return None
    return await s.get(Declaration, found, populate_existing=True)


def _seen(draft: Declaration, key: str | None) -> bool:
    return key is not None and key in (draft.seen or {}).get("keys", [])


def _remember(draft: Declaration, key: str | None) -> None:
    if key is None:
        return
    keys = [k for k in (draft.seen or {}).get("keys", []) if k != key][-(SEEN_KEEP - 1) :]
    draft.seen = {"keys": [*keys, key]}


def _set(draft: Declaration, **data: Any) -> None:
    """JSON columns are replaced, never mutated in place, so the ORM sees the change."""
    merged = dict(draft.data or {})
    merged.update(data)
    draft.data = merged


def _close(draft: Declaration, status: str) -> None:
    draft.status = status
    draft.open_key = None


async def _view(s: AsyncSession, draft: Declaration, account: Account | None = None, tries_left: int | None = None) -> Draft:
    subject = await s.get(Subject, draft.subject_id) if draft.subject_id else None
    choices: tuple[tuple[int, str], ...] = ()
    if draft.step == "subject":
        account = account or await s.get(Account, draft.account_id)
        assert account is not None
        choices = tuple((sub.id, sub.name) for sub in sorted(await account.awaitable_attrs.subjects, key=lambda x: x.id))
    return Draft(
        id=draft.id,
        step=draft.step,
        subject_name=subject.name if subject else None,
        category=draft.category,
        values=dict((draft.data or {}).get("values", {})),
        attachments=tuple((draft.attachments or {}).get("items", [])),
        subject_choices=choices,
        link_tries_left=tries_left,
    )


async def _account(s: AsyncSession, ctx: Ctx) -> Account:
    return await account_for_user(s, ctx.telegram_user_id, ctx.display_name)


def _bound(account: Account, subjects: list[Subject]) -> list[Subject]:
    return sorted(subjects, key=lambda x: x.id) if account.active else []


async def _locked_until(s: AsyncSession, account_id: int, now: dt.datetime) -> dt.datetime | None:
    row = await s.get(LinkAttempts, account_id)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


# -- starting and resuming --------------------------------------------------------------------------


async def start(db: Database, ctx: Ctx) -> Outcome:
    """/declare: resume the open draft if there is one, else open a new one at the first step.

    An enterprise account with one bound subject goes straight to the category; with several it
    picks; an account without one proves its link first (unless it is cooling down)."""
    async with db.transaction() as s:
        account = await _account(s, ctx)
        draft = await _lock_open(s, account.id)
        if draft is not None:
            if _seen(draft, ctx.key):
                return Outcome(await _view(s, draft, account), duplicate=True)
            if draft.expires_at > ctx.now:
                _remember(draft, ctx.key)
                draft.expires_at = ctx.now + dt.timedelta(seconds=ctx.limits.timeout_seconds)
                return Outcome(await _view(s, draft, account), note="resumed")
            _close(draft, "expired")
            await s.flush()
        subjects = _bound(account, await account.awaitable_attrs.subjects)
        if not subjects:
            until = await _locked_until(s, account.id, ctx.now)
            if until is not None:
                return Outcome(None, ended="locked", until=until)
        step = "category" if len(subjects) == 1 else ("subject" if subjects else "link_code")
        draft = Declaration(
            open_key=str(account.id),
            account_id=account.id,
            chat_id=ctx.chat_id,
            subject_id=subjects[0].id if len(subjects) == 1 else None,
            link="bound" if subjects else None,
            step=step,
            data={"values": {}},
            attachments={"items": []},
            seen={"keys": [ctx.key] if ctx.key else []},
            expires_at=ctx.now + dt.timedelta(seconds=ctx.limits.timeout_seconds),
        )
        try:
            async with s.begin_nested():
                s.add(draft)
                await s.flush()
        except IntegrityError:  # another process opened one for this account a moment ago
            raise DeclareError("您的申报正在另一处办理，请稍后发送 /declare 继续。") from None
        tries = None
        if step == "link_code":
            row = await s.get(LinkAttempts, account.id)
            tries = ctx.limits.link_attempts - (row.failures if row else 0)
        return Outcome(await _view(s, draft, account, tries), note="new")


async def current(db: Database, ctx: Ctx) -> Outcome:
    """The open draft without answering anything (after a restart, or /declare mid-way)."""
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        return None

    return await _step(db, ctx, apply)


async def _step(db: Database, ctx: Ctx, apply: Apply) -> Outcome:
    """One step in one transaction: lock the draft, ignore a redelivered update, expire a stale
    draft, apply the change, remember the update, push the expiry forward."""
    async with db.transaction() as s:
        account = await _account(s, ctx)
        draft = await _lock_open(s, account.id)
        if draft is None:
            return Outcome(None, ended="none")
        if _seen(draft, ctx.key):
            return Outcome(await _view(s, draft, account), duplicate=True)
        if draft.expires_at <= ctx.now:
            _close(draft, "expired")
            return Outcome(None, ended="expired")
        _remember(draft, ctx.key)
        draft.expires_at = ctx.now + dt.timedelta(seconds=ctx.limits.timeout_seconds)
        result = await apply(s, draft, account)
        if isinstance(result, Outcome):
            return result
        if draft.status != rules.OPEN:
            return Outcome(None, ended=draft.status, error=result)
        tries = None
        if draft.step.startswith("link_"):
            row = await s.get(LinkAttempts, account.id)
            tries = ctx.limits.link_attempts - (row.failures if row else 0)
        return Outcome(await _view(s, draft, account, tries), error=result)


# -- the steps --------------------------------------------------------------------------------------


def _pick_subject(ctx: Ctx, subject_id: int) -> Apply:
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "subject":
            return "请按当前步骤操作。"
        if subject_id not in {sub.id for sub in _bound(account, await account.awaitable_attrs.subjects)}:
            return "只能为本账号绑定的主体申报。"
        draft.subject_id, draft.link, draft.step = subject_id, "bound", "category"
        return None

    return apply


async def pick_subject(db: Database, ctx: Ctx, subject_id: int) -> Outcome:
    return await _step(db, ctx, _pick_subject(ctx, subject_id))


def _link_answer(ctx: Ctx, text: str) -> Apply:
    """Proving the link, one answer at a time: code → name → (organisations) date of establishment.
    The check happens once all answers are in, so a failure never says which part was wrong."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | Outcome | None:
        link = dict((draft.data or {}).get("link", {}))
        if draft.step == "link_code":
            code = repair_lookalikes(clean_code(text))
            if looks_like_ric(code) or (len(code) == 18 and code[:17].isdigit()):
                check = validate_ric(code, ctx.today)
                if not check.ok:
                    return f"身份证号码有误：{check.error}。请重新输入。"
                # Only the keyed hash is kept: the clear number never reaches the database.
                link = {"person": True, "id_hash": id_match_key(check.value, ctx.id_key)}
            else:
                check = validate_uscc(code)
                if not check.ok:
                    return f"统一社会信用代码有误：{check.error}。请重新输入。"
                link = {"person": False, "uscc": check.value}
            _set(draft, link=link)
            draft.step = "link_name"
            return None
        if draft.step == "link_name":
            name = " ".join(text.split())
            if not name or len(name) > 64:
                return "请输入姓名。"
            link["name"] = name
            _set(draft, link=link)
            if link.get("person"):
                return await _prove(s, draft, account, ctx, link)
            draft.step = "link_date"
            return None
        if draft.step == "link_date":
            try:
                link["established"] = parse_date(text, ctx.today).isoformat()
            except DateError as exc:
                return str(exc)
            _set(draft, link=link)
            return await _prove(s, draft, account, ctx, link)
        return "请按当前步骤操作。"

    return apply


async def link_answer(db: Database, ctx: Ctx, text: str) -> Outcome:
    return await _step(db, ctx, _link_answer(ctx, text))


async def _prove(s: AsyncSession, draft: Declaration, account: Account, ctx: Ctx, link: dict[str, Any]) -> str | Outcome | None:
    if link.get("person"):
        subject = await s.scalar(select(Subject).where(Subject.id_hash == link.get("id_hash")))
        ok = subject is not None and _same_name(subject.name, link.get("name"))
    else:
        subject = await s.scalar(select(Subject).where(Subject.uscc == link.get("uscc")))
        if subject is not None and (not subject.legal_rep or subject.established is None):
            _close(draft, "cancelled")
            return Outcome(
                None, ended="refused",
                error="档案中缺少该主体在线核验所需的登记信息，无法通过机器人核验与主体的关系。\n" + ENTERPRISE_HOWTO,
            )
        ok = (
            subject is not None
            and _same_name(subject.legal_rep, link.get("name"))
            and subject.established is not None
            and subject.established.isoformat() == link.get("established")
        )
    row = await s.get(LinkAttempts, account.id)
    if row is None:
        row = LinkAttempts(account_id=account.id, failures=0)
        s.add(row)
    _set(draft, link={})  # answers are not kept once checked, right or wrong
    if ok and subject is not None:
        row.failures, row.locked_until = 0, None
        draft.subject_id, draft.link, draft.step = subject.id, "proved", "category"
        s.add(AuditEntry(account_id=account.id, role=account.role, action="declaration_link_proved", subject_id=subject.id))
        return None
    row.failures = (row.failures or 0) + 1
    s.add(AuditEntry(account_id=account.id, role=account.role, action="declaration_link_failed", detail={"try": row.failures}))
    if row.failures >= ctx.limits.link_attempts:
        until = ctx.now + dt.timedelta(minutes=ctx.limits.cooldown_minutes)
        row.failures, row.locked_until = 0, until
        _close(draft, "cancelled")
        return Outcome(None, ended="locked", until=until)
    draft.step = "link_code"
    left = ctx.limits.link_attempts - row.failures
    return f"您提供的信息与档案不符，未能核验您与该主体的关系。还可尝试 {left} 次。"


def _pick_category(ctx: Ctx, key: str) -> Apply:
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "category":
            return "请按当前步骤操作。"
        cat = rules.category(key)
        if draft.category != key:
            _set(draft, values={})
        draft.category = key
        draft.step = f"field:{cat.fields[0].key}"
        return None

    return apply


async def pick_category(db: Database, ctx: Ctx, key: str) -> Outcome:
    return await _step(db, ctx, _pick_category(ctx, key))


def _answer_field(ctx: Ctx, text: str) -> Apply:
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if not draft.step.startswith("field:") or draft.category is None:
            return "请按当前步骤操作。"
        cat = rules.category(draft.category)
        f = rules.field_of(cat, draft.step.split(":", 1)[1])
        values = dict((draft.data or {}).get("values", {}))
        try:
            value = rules.validate(cat, f, text, ctx.today, values)
        except rules.DeclarationError as exc:
            return str(exc)
        if value is None:
            values.pop(f.key, None)
        else:
            values[f.key] = value
        _set(draft, values=values)
        following = rules.next_field(cat, f.key)
        draft.step = f"field:{following.key}" if following else "attach"
        return None

    return apply


async def answer_field(db: Database, ctx: Ctx, text: str) -> Outcome:
    return await _step(db, ctx, _answer_field(ctx, text))


def _go_back(ctx: Ctx) -> Apply:
    """“返回”: one step back; the answers already given are kept and shown again."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        step = draft.step
        several = len(_bound(account, await account.awaitable_attrs.subjects)) > 1
        if step == "link_name":
            draft.step = "link_code"
        elif step == "link_date":
            draft.step = "link_name"
        elif step == "category":
            if draft.link == "bound" and several:
                draft.step, draft.subject_id = "subject", None
            else:
                return "已是第一步。如需放弃申报，请发送 /cancel。"
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
            return "已是第一步。如需放弃申报，请发送 /cancel。"
        return None

    return apply


async def go_back(db: Database, ctx: Ctx) -> Outcome:
    return await _step(db, ctx, _go_back(ctx))


def _text(ctx: Ctx, text: str) -> Apply:
    """A typed answer, read according to the step the draft is at (the row, not memory, knows)."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | Outcome | None:
        step = draft.step
        if rules.is_word(text, rules.BACK_WORD):
            return await _go_back(ctx)(s, draft, account)
        if step.startswith("link_"):
            return await _link_answer(ctx, text)(s, draft, account)
        if step.startswith("field:"):
            return await _answer_field(ctx, text)(s, draft, account)
        if step == "attach":
            if rules.is_word(text, "完成") or rules.is_word(text, "材料已发送完毕"):
                return await _attachments_done(ctx)(s, draft, account)
            return "请以文件或照片形式发送证明材料；发送完毕请点击“材料已发送完毕”。"
        if step == "confirm":
            if rules.is_word(text, "确认") or rules.is_word(text, "确认无误"):
                return await _confirm(ctx)(s, draft, account)
            return "请核对申报内容：无误请点击“确认无误”，需要修改请点击“返回修改”。"
        if step == "commit":
            if rules.is_word(text, "不承诺"):
                return await _commit(ctx, False)(s, draft, account)
            if lifecycle.is_commitment(text):
                return await _commit(ctx, True)(s, draft, account)
            return f"须作出信用承诺才能提交申报：请点击或回复“{rules.COMMITMENT_WORD}”；不同意请点击“不承诺”。"
        if step == "authorise":
            if rules.is_word(text, "不同意"):
                return await _authorise(ctx, False)(s, draft, account)
            if rules.is_word(text, rules.AUTHORISE_WORD) or rules.is_word(text, "同意授权"):
                return await _authorise(ctx, True)(s, draft, account)
            return f"请点击“同意授权”或回复“{rules.AUTHORISE_WORD}”；不同意请点击“不同意”。"
        return "请点击上方按钮选择。"

    return apply


async def answer_text(db: Database, ctx: Ctx, text: str) -> Outcome:
    return await _step(db, ctx, _text(ctx, text))


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
    """Refusal before downloading (wrong step, type, size, count), or None to go ahead."""
    async with db.transaction() as s:
        account = await _account(s, ctx)
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

    return await _step(db, ctx, apply)


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
    return await _step(db, ctx, _attachments_done(ctx))


def _confirm(ctx: Ctx) -> Apply:
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "confirm":
            return "请按当前步骤操作。"
        draft.step = "commit"
        return None

    return apply


async def confirm(db: Database, ctx: Ctx) -> Outcome:
    return await _step(db, ctx, _confirm(ctx))


def _commit(ctx: Ctx, accept: bool) -> Apply:
    """The credit commitment: accepted, its text and version are kept with the declaration;
    refused, the draft ends and nothing is submitted."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        if draft.step != "commit":
            return "请按当前步骤操作。"
        if not accept:
            _close(draft, "cancelled")
            return None
        draft.commitment_version, draft.commitment_text = rules.COMMITMENT_VERSION, rules.COMMITMENT_TEXT
        draft.committed_at = ctx.now
        draft.step = "authorise"
        return None

    return apply


async def commit(db: Database, ctx: Ctx, accept: bool) -> Outcome:
    return await _step(db, ctx, _commit(ctx, accept))


def _authorise(ctx: Ctx, accept: bool) -> Apply:
    """The authorisation to integrate and share; accepted, the declaration is submitted: receipt
    number, routing to the verifying department and the commitment record, all in this transaction."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | Outcome | None:
        if draft.step != "authorise":
            return "请按当前步骤操作。"
        if not accept:
            _close(draft, "cancelled")
            return None
        return await _submit(s, draft, account, ctx)

    return apply


async def authorise(db: Database, ctx: Ctx, accept: bool) -> Outcome:
    return await _step(db, ctx, _authorise(ctx, accept))


@functools.lru_cache(maxsize=4)
def _routing(division_code: str) -> tuple[tuple[rules.DepartmentRef, ...], str]:
    from db.regions import default_region

    region = default_region(division_code)
    refs = tuple(rules.DepartmentRef(d.code, d.name, d.short_name, d.role, d.division_code) for d in region.departments)
    return refs, region.code


async def _submit(s: AsyncSession, draft: Declaration, account: Account, ctx: Ctx) -> Outcome:
    assert draft.category is not None and draft.subject_id is not None and draft.committed_at is not None
    cat = rules.category(draft.category)
    values = dict((draft.data or {}).get("values", {}))
    refs, city = _routing(ctx.division_code)
    code = rules.route(cat, values, list(refs), city)
    dept = await s.scalar(select(Department).where(Department.code == code)) if code else None
    seq = await next_number(s, SEQUENCE_KIND, ctx.today.year)
    receipt = rules.receipt_number(region_abbr(ctx.division_code), ctx.today.year, seq)
    subject = await s.get(Subject, draft.subject_id)
    assert subject is not None
    record = CreditRecord(
        subject_id=subject.id,
        category="信用承诺",
        department_id=dept.id if dept else None,
        source_key=COMMITMENT_SOURCE,
        source_name=COMMITMENT_SOURCE_NAME,
        doc_number=receipt,
        title=f"自主申报信用承诺（{cat.label}）",
        content=draft.commitment_text,
        decision_date=ctx.today,
        severity=None,
        rule_edition=None,
        status="active",
        fields={"承诺书版本": draft.commitment_version, "申报编号": receipt},
    )
    s.add(record)
    await s.flush()
    draft.receipt_no = receipt
    draft.authorisation_version, draft.authorisation_text = rules.AUTHORISATION_VERSION, rules.AUTHORISATION_TEXT
    draft.authorised_at = ctx.now
    draft.department_id = dept.id if dept else None
    draft.submitted_on = ctx.today
    draft.commitment_record_id = record.id
    draft.step = "submitted"
    _close(draft, "pending")
    s.add(
        AuditEntry(
            account_id=account.id, role=account.role, action="declaration_submitted", subject_id=subject.id,
            detail={"receipt": receipt, "category": cat.label, "link": draft.link},
        )
    )
    chats = tuple(await department_chats(s, draft.department_id))
    return Outcome(
        None,
        ended="submitted",
        submitted=Submitted(draft.id, receipt, subject.name, cat.label, dept.name if dept else "本平台", chats),
    )


async def cancel(db: Database, ctx: Ctx) -> bool:
    """/cancel: the open draft ends with nothing submitted. True when there was one."""
    async with db.transaction() as s:
        account = await _account(s, ctx)
        draft = await _lock_open(s, account.id)
        if draft is None:
            return False
        _remember(draft, ctx.key)
        _close(draft, "cancelled")
        return True


async def expire(db: Database, ctx: Ctx) -> bool:
    """The conversation timed out: the open draft ends. True when there was one to end."""
    async with db.transaction() as s:
        account = await _account(s, ctx)
        draft = await _lock_open(s, account.id)
        if draft is None:
            return False
        _close(draft, "expired")
        return True


@dataclass(frozen=True)
class Recent:
    """What the duplicate filter needs about one user: an open draft, and the updates handled."""

    open_draft: bool
    keys: frozenset[str]


async def recent(db: Database, telegram_user_id: int, now: dt.datetime, window: dt.timedelta) -> Recent:
    """Read-only: the user's open draft and the update keys of declarations touched recently."""
    async with db.transaction() as s:
        account_id = await s.scalar(select(Account.id).where(Account.telegram_user_id == telegram_user_id))
        if account_id is None:
            return Recent(False, frozenset())
        rows = (
            await s.execute(
                select(Declaration.seen).where(
                    Declaration.account_id == account_id, Declaration.updated_at >= now - window
                )
            )
        ).all()
        open_draft = await s.scalar(select(Declaration.id).where(Declaration.open_key == str(account_id)))
    keys = frozenset(k for (seen,) in rows for k in (seen or {}).get("keys", []))
    return Recent(open_draft is not None, keys)


# -- lists ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclarationItem:
    id: int
    receipt_no: str | None
    subject_name: str
    category: str | None
    category_label: str
    headline: str
    status: str
    submitted_on: dt.date | None
    department: str | None
    attachments: tuple[dict[str, Any], ...]
    values: dict[str, str]
    decision_reason: str | None
    commitment_version: str | None
    link: str | None


def _item(d: Declaration, subject_name: str, dept: str | None) -> DeclarationItem:
    cat = rules.CATEGORIES.get(d.category or "")
    values = dict((d.data or {}).get("values", {}))
    return DeclarationItem(
        id=d.id,
        receipt_no=d.receipt_no,
        subject_name=subject_name,
        category=d.category,
        category_label=cat.label if cat else "（未选类别）",
        headline=values.get(cat.headline, "") if cat else "",
        status=d.status,
        submitted_on=d.submitted_on,
        department=dept,
        attachments=tuple((d.attachments or {}).get("items", [])),
        values=values,
        decision_reason=d.decision_reason,
        commitment_version=d.commitment_version,
        link=d.link,
    )


async def _items(s: AsyncSession, *where: Any) -> list[DeclarationItem]:
    rows = (
        await s.execute(
            select(Declaration, Subject.name, Department.name)
            .outerjoin(Subject, Subject.id == Declaration.subject_id)
            .outerjoin(Department, Department.id == Declaration.department_id)
            .where(*where)
            .order_by(Declaration.id.desc())
        )
    ).all()
    return [_item(d, name or "（未选主体）", dept) for d, name, dept in rows]


async def my_declarations(db: Database, telegram_user_id: int) -> list[DeclarationItem]:
    """Everything this account submitted, newest first, plus an open draft if there is one."""
    async with db.transaction() as s:
        account_id = await s.scalar(select(Account.id).where(Account.telegram_user_id == telegram_user_id))
        if account_id is None:
            return []
        return await _items(s, Declaration.account_id == account_id, Declaration.status.in_([*rules.SUBMITTED, "draft"]))


async def pending_for(db: Database, viewer: Viewer) -> list[DeclarationItem]:
    """The verification queue of the viewer's department, oldest first."""
    if viewer.role != "official" or viewer.department_id is None:
        raise DeclareError("自主申报核验仅限负责部门的办事人员。")
    async with db.transaction() as s:
        items = await _items(s, Declaration.department_id == viewer.department_id, Declaration.status == "pending")
    return list(reversed(items))


async def open_for_official(db: Database, viewer: Viewer, declaration_id: int | None = None, receipt: str | None = None) -> DeclarationItem:
    """One submitted declaration of the viewer's department, by id or by receipt number."""
    if viewer.role != "official" or viewer.department_id is None:
        raise DeclareError("自主申报核验仅限负责部门的办事人员。")
    async with db.transaction() as s:
        where = Declaration.id == declaration_id if receipt is None else Declaration.receipt_no == receipt
        items = await _items(s, where, Declaration.department_id == viewer.department_id, Declaration.status.in_(rules.SUBMITTED))
    if not items:
        raise DeclareError("该申报不存在，或不属于本部门核验。")
    return items[0]


@dataclass(frozen=True)
class Decided:
    declaration_id: int
    receipt_no: str
    subject_name: str
    category_label: str
    headline: str
    status: str
    reason: str
    declarant_chats: tuple[int, ...]


async def decide(db: Database, viewer: Viewer, declaration_id: int, action: str, reason: str, today: dt.date) -> Decided:
    """approve / reject a pending declaration, or revoke a verified one found false.

    Revocation records the broken commitment (rules.declarations says how it is graded) and takes
    the original commitment record off the file; rejection takes the commitment record off too,
    since it vouched for a declaration that never counted."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DeclareError("请填写核验意见或理由。")
    if viewer.role != "official" or viewer.department_id is None:
        raise DeclareError("自主申报核验仅限负责部门的办事人员。")
    async with db.transaction() as s:
        d = await s.scalar(select(Declaration).where(Declaration.id == declaration_id).with_for_update())
        if d is None or d.department_id != viewer.department_id or d.status not in rules.SUBMITTED:
            raise DeclareError("该申报不存在，或不属于本部门核验。")
        wanted = {"approve": "pending", "reject": "pending", "revoke": "verified"}[action]
        if d.status != wanted:
            raise DeclareError(f"该申报当前状态为“{rules.STATUS_LABELS[d.status]}”，不能{ {'approve': '核验通过', 'reject': '驳回', 'revoke': '撤销'}[action] }。")
        subject = await s.get(Subject, d.subject_id)
        assert subject is not None and d.receipt_no is not None
        commitment = await s.get(CreditRecord, d.commitment_record_id) if d.commitment_record_id else None
        d.decided_by_account_id, d.decided_at = viewer.account_id, utcnow()
        if action == "approve":
            d.status = "verified"
            d.decision_reason = reason
        elif action == "reject":
            d.status = "rejected"
            d.decision_reason = reason
            if commitment is not None:
                commitment.status = "revoked"
        else:
            d.status = "revoked"
            d.decision_reason = reason
            if commitment is not None:
                commitment.status = "revoked"
            broken = CreditRecord(
                subject_id=subject.id,
                category="信用承诺",
                department_id=viewer.department_id,
                source_key=COMMITMENT_SOURCE,
                source_name=(await s.get(Department, viewer.department_id)).name,  # type: ignore[union-attr]
                doc_number=f"{d.receipt_no}（违诺）",
                title=rules.BROKEN_TITLE,
                content=reason,
                decision_date=today,
                severity=rules.BROKEN_SEVERITY,
                rule_edition=edition_for(today),
                publication_end=add_months(today, rules.BROKEN_PUBLICATION_MONTHS),
                status="active",
                fields={"申报编号": d.receipt_no, "承诺书版本": d.commitment_version},
            )
            s.add(broken)
            await s.flush()
            d.broken_record_id = broken.id
        s.add(
            AuditEntry(
                account_id=viewer.account_id, role=viewer.role, action=f"declaration_{d.status}", subject_id=subject.id,
                detail={"receipt": d.receipt_no, "reason": reason[:200]},
            )
        )
        await refresh_subjects(s, [subject.id], today)
        chats = {d.chat_id, *await subject_chats(s, subject.id)}
        item = _item(d, subject.name, None)
        return Decided(d.id, d.receipt_no, subject.name, item.category_label, item.headline, d.status, reason, tuple(sorted(chats)))
