"""The draft of a self-declaration: one row per open conversation, one transaction per step.

Every step locks the declarant's open draft row, recognises a redelivered update (its key is already
in `seen`), applies the answer, moves `step` on and pushes the expiry forward. The row, not PTB's
memory, says where the user is, so a restarted bot (or another process) continues from the same
place, and the same update delivered twice is applied once. The steps themselves are in
`services.declarations.steps` and `.link`; submission in `.submit`.

Chat words stay out: a refusal that a channel completes with its own advice carries a `hint` code
(HINT_CANCEL, HINT_ENTERPRISE_ACCOUNT) or a Refusal code (DRAFT_ELSEWHERE).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, Declaration, LinkAttempts, Subject
from db.session import Database
from rules import declarations as rules
from services.accounts import account_for_user
from services.errors import Refusal

SEEN_KEEP = 30
HINT_CANCEL = "cancel"  # the channel adds how to give up the declaration
HINT_ENTERPRISE_ACCOUNT = "enterprise_account"  # the channel adds how to get an enterprise account
HINT_LINK_SECRET = "link_secret"  # the channel adds how to get a 授权码
# An account's failed link proofs are forgotten this long after the last one (a day, like the
# per-subject window): two wrong tries months ago must not leave one try before a cool-down.
LINK_FAILURE_WINDOW = dt.timedelta(hours=24)
DRAFT_ELSEWHERE = "draft_elsewhere"  # Refusal code: another process opened the draft a moment ago
BINDING_LOST = (
    "您的账号已不再绑定申报的主体（已解除绑定或被停用），这份申报已终止，未提交任何内容。"
    "如仍需为该主体申报，请重新发送 /declare 并完成关联核验。"
)


@dataclass(frozen=True)
class Said:
    """A step's answer that is not a move: `text` for the user, and a `hint` code the channel
    completes with its own advice."""

    text: str
    hint: str | None = None


Apply = Callable[[AsyncSession, "Declaration", Account], Awaitable["str | Said | Outcome | None"]]


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
    hint: str | None = None  # HINT_*: advice the channel adds after `error`


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


async def lock_open(s: AsyncSession, account_id: int) -> Declaration | None:
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


def already_seen(draft: Declaration, key: str | None) -> bool:
    """True when the update `key` was already applied to this draft (a redelivery)."""
    return key is not None and key in (draft.seen or {}).get("keys", [])


def remember(draft: Declaration, key: str | None) -> None:
    """Keep `key` among the draft's last SEEN_KEEP update keys."""
    if key is None:
        return
    keys = [k for k in (draft.seen or {}).get("keys", []) if k != key][-(SEEN_KEEP - 1) :]
    draft.seen = {"keys": [*keys, key]}


def set_data(draft: Declaration, **data: Any) -> None:
    """JSON columns are replaced, never mutated in place, so the ORM sees the change."""
    merged = dict(draft.data or {})
    merged.update(data)
    draft.data = merged


def close(draft: Declaration, status: str) -> None:
    """End the draft with `status` (pending, cancelled, expired): it is no longer the open one."""
    draft.status = status
    draft.open_key = None


async def view(s: AsyncSession, draft: Declaration, account: Account | None = None, tries_left: int | None = None) -> Draft:
    """The draft as the conversation needs it; `tries_left` is shown while the link is being proved."""
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


async def account_of(s: AsyncSession, ctx: Ctx) -> Account:
    """The acting account, created as `public` on first contact."""
    return await account_for_user(s, ctx.telegram_user_id, ctx.display_name)


def bound(account: Account, subjects: list[Subject]) -> list[Subject]:
    """The subjects an active account acts for, by id; none for an inactive account."""
    return sorted(subjects, key=lambda x: x.id) if account.active else []


def link_failures(row: LinkAttempts | None, now: dt.datetime) -> int:
    """The account's failed link proofs that still count (see LINK_FAILURE_WINDOW)."""
    if row is None or not row.failures:
        return 0
    if row.last_failed_at is not None and now - row.last_failed_at > LINK_FAILURE_WINDOW:
        return 0
    return row.failures


async def binding_lost(draft: Declaration, account: Account) -> bool:
    """True when the draft was opened on the account's binding (`link` "bound") and the account no
    longer holds that subject (unbound or deactivated meanwhile): checked at every step and on
    resume, so a person who left the company cannot file in its name."""
    if draft.link != "bound":
        return False
    held = {sub.id for sub in bound(account, await account.awaitable_attrs.subjects)}
    return draft.subject_id not in held if draft.subject_id is not None else not held


def end_unbound(draft: Declaration, key: str | None) -> Outcome:
    """Close a draft whose binding is lost (`binding_lost`), remembering the update that found it."""
    remember(draft, key)
    close(draft, "cancelled")
    return Outcome(None, ended="refused", error=BINDING_LOST)


async def locked_until(s: AsyncSession, account_id: int, now: dt.datetime) -> dt.datetime | None:
    """End of the account's cool-down after too many failed link proofs (aware, UTC), or None."""
    row = await s.get(LinkAttempts, account_id)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


# -- starting and resuming --------------------------------------------------------------------------


async def start(db: Database, ctx: Ctx) -> Outcome:
    """/declare: resume the open draft if there is one, else open a new one at the first step.

    An enterprise account with one bound subject goes straight to the category; with several it
    picks; an account without one proves its link first (unless it is cooling down: `ended`
    "locked", `until` in UTC). Returns the Outcome, `note` "resumed" or "new".
    Raises Refusal (code DRAFT_ELSEWHERE) when another process opened a draft for the account a
    moment ago."""
    async with db.transaction() as s:
        account = await account_of(s, ctx)
        draft = await lock_open(s, account.id)
        if draft is not None:
            if already_seen(draft, ctx.key):
                return Outcome(await view(s, draft, account), duplicate=True)
            if draft.expires_at > ctx.now and await binding_lost(draft, account):
                return end_unbound(draft, ctx.key)
            if draft.expires_at > ctx.now:
                remember(draft, ctx.key)
                draft.expires_at = ctx.now + dt.timedelta(seconds=ctx.limits.timeout_seconds)
                return Outcome(await view(s, draft, account), note="resumed")
            close(draft, "expired")
            await s.flush()
        subjects = bound(account, await account.awaitable_attrs.subjects)
        if not subjects:
            until = await locked_until(s, account.id, ctx.now)
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
            raise Refusal("您的申报正在另一处办理，请稍后继续。", code=DRAFT_ELSEWHERE) from None
        tries = None
        if step == "link_code":
            tries = ctx.limits.link_attempts - link_failures(await s.get(LinkAttempts, account.id), ctx.now)
        return Outcome(await view(s, draft, account, tries), note="new")


async def current(db: Database, ctx: Ctx) -> Outcome:
    """The open draft without answering anything (after a restart, or /declare mid-way).

    Returns the Outcome (`ended` "none" without an open draft, "expired" for a stale one). Raises
    nothing."""
    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | None:
        return None

    return await run_step(db, ctx, apply)


async def run_step(db: Database, ctx: Ctx, apply: Apply) -> Outcome:
    """One step in one transaction: lock the draft, ignore a redelivered update, expire a stale
    draft, apply the change, remember the update, push the expiry forward
    (`DeclarationSettings.timeout_seconds`). `apply` returns None (moved on), a Chinese reason or a
    `Said` (stays, `Outcome.error`), or a finished Outcome."""
    async with db.transaction() as s:
        account = await account_of(s, ctx)
        draft = await lock_open(s, account.id)
        if draft is None:
            return Outcome(None, ended="none")
        if already_seen(draft, ctx.key):
            return Outcome(await view(s, draft, account), duplicate=True)
        if draft.expires_at <= ctx.now:
            close(draft, "expired")
            return Outcome(None, ended="expired")
        if await binding_lost(draft, account):
            return end_unbound(draft, ctx.key)
        remember(draft, ctx.key)
        draft.expires_at = ctx.now + dt.timedelta(seconds=ctx.limits.timeout_seconds)
        result = await apply(s, draft, account)
        if isinstance(result, Outcome):
            return result
        hint = result.hint if isinstance(result, Said) else None
        error = result.text if isinstance(result, Said) else result
        if draft.status != rules.OPEN:
            return Outcome(None, ended=draft.status, error=error, hint=hint)
        tries = None
        if draft.step.startswith("link_"):
            tries = ctx.limits.link_attempts - link_failures(await s.get(LinkAttempts, account.id), ctx.now)
        return Outcome(await view(s, draft, account, tries), error=error, hint=hint)


async def cancel(db: Database, ctx: Ctx) -> bool:
    """/cancel: the open draft ends with nothing submitted. Returns True when there was one; raises nothing."""
    async with db.transaction() as s:
        account = await account_of(s, ctx)
        draft = await lock_open(s, account.id)
        if draft is None:
            return False
        remember(draft, ctx.key)
        close(draft, "cancelled")
        return True


async def expire(db: Database, ctx: Ctx) -> bool:
    """The conversation timed out: the open draft ends. Returns True when there was one to end; raises nothing."""
    async with db.transaction() as s:
        account = await account_of(s, ctx)
        draft = await lock_open(s, account.id)
        if draft is None:
            return False
        close(draft, "expired")
        return True


@dataclass(frozen=True)
class Recent:
    """What the duplicate filter needs about one user: an open draft, and the updates handled."""

    open_draft: bool
    keys: frozenset[str]


async def recent(db: Database, telegram_user_id: int, now: dt.datetime, window: dt.timedelta) -> Recent:
    """Read-only: whether the user has an open draft, and the update keys of their declarations
    touched within `window` before `now` (aware, UTC), for the in-memory duplicate filter. Raises
    nothing."""
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


