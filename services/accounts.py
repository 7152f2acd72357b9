"""Accounts and one-time binding codes.

An admin prints a code for a role (and department or subject); the person types `/bind CODE` in
chat, which ties their Telegram user to that role. Codes are random, short-lived and single-use,
and only their hash is stored, so a leaked database cannot be used to bind anyone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, BindingCode, Department, Subject, utcnow
from db.session import Database
from rules.codes import clean_code
from rules.roles import DEPARTMENT_ROLES, ROLE_LABELS, ROLES
from services.attempts import BIND_POLICY, COOLING_DOWN, clear, ensure_not_locked, record_failure
from services.departments import department_by_code
from services.errors import Refusal

BIND_SCOPE = "bind:user"
BAD_CODE = "bad_code"

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and retyped


def code_hash(code: str) -> str:
    """The stored form of a one-time code: typed codes are cleaned first (spaces, dashes, case)."""
    return hashlib.sha256(clean_code(code).encode()).hexdigest()


def new_code() -> str:
    """A random one-time code, XXXXX-XXXXX from CODE_ALPHABET (about 50 bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


async def account_for_user(session: AsyncSession, telegram_user_id: int, display_name: str | None = None) -> Account:
    """The caller's account; an unknown user gets a fresh `public` one."""
    account = await session.scalar(select(Account).where(Account.telegram_user_id == telegram_user_id))
    if account is None:
        account = Account(telegram_user_id=telegram_user_id, display_name=display_name, role="public")
        session.add(account)
        await session.flush()
    return account


async def subject_by_uscc(session: AsyncSession, uscc: str) -> Subject:
    subject = await session.scalar(select(Subject).where(Subject.uscc == clean_code(uscc)))
    if subject is None:
        raise Refusal(f"档案中没有统一社会信用代码为 {clean_code(uscc)} 的主体")
    return subject


@dataclass(frozen=True)
class Invitation:
    code: str
    role: str
    expires_at: dt.datetime


async def create_invitation(
    db: Database,
    role: str,
    dept_code: str | None = None,
    subject_uscc: str | None = None,
    valid_for: dt.timedelta = dt.timedelta(hours=72),
    now: dt.datetime | None = None,
) -> Invitation:
    if role not in ROLES:
        raise Refusal(f"未知角色 {role}，可选：{', '.join(ROLES)}")
    if role in DEPARTMENT_ROLES and not dept_code:
        raise Refusal(f"{ROLE_LABELS[role]}必须属于一个部门（--dept）")
    if role == "enterprise" and not subject_uscc:
        raise Refusal("企业账号必须绑定一个主体（--subject）")
    now = now or utcnow()
    code = new_code()
    async with db.transaction() as s:
        dept = await department_by_code(s, dept_code) if dept_code else None
        subject = await subject_by_uscc(s, subject_uscc) if subject_uscc else None
        s.add(
            BindingCode(
                code_hash=code_hash(code),
                role=role,
                department_id=dept.id if dept else None,
                subject_id=subject.id if subject else None,
                expires_at=now + valid_for,
            )
        )
    return Invitation(code, role, now + valid_for)


async def redeem_invitation(
    db: Database, telegram_user_id: int, code: str, display_name: str | None = None, now: dt.datetime | None = None
) -> Account:
    """`/bind CODE`: give the user the code's role, department and subject; the code is spent.

    Raises Refusal for an unknown, used or expired code (each counts towards a cool-down of the
    user: `BIND_POLICY` wrong codes in its window lock binding for its cool-down, so codes cannot be
    guessed in bulk), while cooling down, and for a deactivated account."""
    now = now or utcnow()
    key = str(telegram_user_id)
    try:
        async with db.transaction() as s:
            await ensure_not_locked(s, BIND_SCOPE, key, now)
            account = await _redeem(s, telegram_user_id, code, display_name, now)
            await clear(s, BIND_SCOPE, key)
            return account
    except Refusal as exc:
        if exc.code == BAD_CODE and await record_failure(db, BIND_SCOPE, key, BIND_POLICY, now):
            minutes = int(BIND_POLICY.cooldown.total_seconds() // 60)
            raise Refusal(f"{exc.reason}\n错误次数过多，请 {minutes} 分钟后再试。", code=COOLING_DOWN) from None
        raise


async def _redeem(
    s: AsyncSession, telegram_user_id: int, code: str, display_name: str | None, now: dt.datetime
) -> Account:
    invite = await s.scalar(select(BindingCode).where(BindingCode.code_hash == code_hash(code)).with_for_update())
    if invite is None:
        raise Refusal("绑定码无效，请核对后重新输入（区分不了时可向管理员重新申请）。", code=BAD_CODE)
    if invite.used_at is not None:
        raise Refusal("该绑定码已被使用，每个绑定码只能使用一次。", code=BAD_CODE)
    if invite.expires_at <= now:
        raise Refusal("该绑定码已过期，请向管理员重新申请。", code=BAD_CODE)
    account = await account_for_user(s, telegram_user_id, display_name)
    if not account.active:
        raise Refusal("您的账号已被停用，请联系系统管理员。")
    account.role = invite.role
    account.department_id = invite.department_id
    if invite.subject_id is not None:
        subject = await s.get(Subject, invite.subject_id)
        subjects = await account.awaitable_attrs.subjects
        if subject is not None and subject not in subjects:
            subjects.append(subject)
    invite.used_at = now
    invite.used_by_account_id = account.id
    await s.flush()
    await s.refresh(account, ["department"])
    return account


@dataclass(frozen=True)
class Binding:
    """What an account is bound to, as shown when the user was asked to confirm /unbind."""

    role: str
    department_id: int | None
    subject_ids: tuple[int, ...]

    @classmethod
    def of(cls, account: Account, subjects: list[Subject]) -> Binding:
        return cls(account.role, account.department_id, tuple(sorted(x.id for x in subjects)))

    @property
    def empty(self) -> bool:
        return self.role == "public" and self.department_id is None and not self.subject_ids


BINDING_CHANGED = "您的绑定在确认之前已发生变化，本次未解除。如仍需解除，请重新发送 /unbind。"


async def unbind(db: Database, telegram_user_id: int, confirmed: Binding | None = None) -> Account:
    """Back to `public`: role, department and subjects released. With `confirmed`, only if the
    account is still bound as it was when the user confirmed (else Refusal BINDING_CHANGED)."""
    async with db.transaction() as s:
        account = await account_for_user(s, telegram_user_id)
        if confirmed is not None and Binding.of(account, await account.awaitable_attrs.subjects) != confirmed:
            raise Refusal(BINDING_CHANGED)
        account.role = "public"
        account.department_id = None
        (await account.awaitable_attrs.subjects).clear()
        return account


async def set_active(db: Database, telegram_user_id: int, active: bool) -> Account:
    async with db.transaction() as s:
        account = await s.scalar(select(Account).where(Account.telegram_user_id == telegram_user_id))
        if account is None:
            raise Refusal(f"没有 Telegram 用户 {telegram_user_id} 的账号")
        account.active = active
        return account


async def ensure_local_account(
    db: Database,
    telegram_user_id: int,
    role: str,
    dept_code: str | None = None,
    subject_uscc: str | None = None,
    display_name: str | None = None,
) -> Account:
    """The console's account: console access means server access, so the role is taken as given."""
    if role not in ROLES:
        raise Refusal(f"未知角色 {role}，可选：{', '.join(ROLES)}")
    async with db.transaction() as s:
        account = await account_for_user(s, telegram_user_id, display_name)
        account.role = role
        account.active = True
        if dept_code:
            account.department_id = (await department_by_code(s, dept_code)).id
        elif role in DEPARTMENT_ROLES and account.department_id is None:
            first = await s.scalar(select(Department).order_by(Department.id).limit(1))
            account.department_id = first.id if first else None
        if subject_uscc:
            subject = await subject_by_uscc(s, subject_uscc)
            subjects = await account.awaitable_attrs.subjects
            if subject not in subjects:
                subjects.append(subject)
        await s.flush()
        await s.refresh(account, ["department"])
        return account
