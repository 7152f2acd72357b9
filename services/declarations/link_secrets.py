"""授权码: the one-time link secret a public declarant needs besides the public facts (issue 12).

USCC, legal representative and date of establishment are printed on every business licence and
published by the registry, so anyone could "prove" a link to any company with them. The link proof
therefore also asks for a code that only someone answerable for the subject can issue: an official
with a department, a system admin, or the subject's own bound enterprise account (`/linkcode`).
The code is random, shown once to its issuer, stored as a hash, valid for `VALID_FOR`, and spent by
the first successful proof. Issuing is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, AuditEntry, LinkSecret, Subject, utcnow
from db.session import Database
from rules.codes import clean_code, looks_like_ric, repair_lookalikes, validate_ric, validate_uscc
from rules.masking import id_match_key
from rules.roles import Viewer
from services.accounts import code_hash, new_code
from services.errors import Refusal

VALID_FOR = dt.timedelta(hours=72)
NOT_ALLOWED = "只有信用主管部门的办事人员、系统管理员或该主体已绑定的企业账号可以签发授权码。"


@dataclass(frozen=True)
class IssuedSecret:
    """The code in clear (shown once, to the issuer only), for which subject, until when (UTC)."""

    code: str
    subject_name: str
    expires_at: dt.datetime


async def subject_by_code(s: AsyncSession, raw: str, id_key: str, today: dt.date | None = None) -> Subject | None:
    """The subject a typed USCC or resident ID number names (the ID only through its keyed hash).

    Raises Refusal for a code that is neither."""
    code = repair_lookalikes(clean_code(raw))
    if looks_like_ric(code):
        check = validate_ric(code, today)
        if not check.ok:
            raise Refusal(f"身份证号码有误：{check.error}")
        return await s.scalar(select(Subject).where(Subject.id_hash == id_match_key(check.value, id_key)))
    check = validate_uscc(code)
    if not check.ok:
        raise Refusal(f"统一社会信用代码有误：{check.error}")
    return await s.scalar(select(Subject).where(Subject.uscc == check.value))


def may_issue(account: Account, subject_ids: set[int], subject_id: int) -> bool:
    """Officials with a department and admins for any subject; an enterprise account for its own."""
    if not account.active:
        return False
    if account.role == "admin" or (account.role == "official" and account.department_id is not None):
        return True
    return account.role == "enterprise" and subject_id in subject_ids


async def issue_link_secret(
    db: Database, viewer: Viewer, subject_code: str, id_key: str, now: dt.datetime | None = None
) -> IssuedSecret:
    """`/linkcode <USCC or ID number>`: a new one-time 授权码 for that subject, valid for VALID_FOR.

    The role is checked again from the account, whatever the caller claims. Raises Refusal for an
    unknown subject, a malformed code, or a caller who may not issue one."""
    now = now or utcnow()
    async with db.transaction() as s:
        account = await s.get(Account, viewer.account_id) if viewer.account_id is not None else None
        if account is None:
            raise Refusal(NOT_ALLOWED)
        subject = await subject_by_code(s, subject_code, id_key, now.date())
        if subject is None:
            raise Refusal("档案中没有该主体，无法签发授权码。")
        if not may_issue(account, {x.id for x in await account.awaitable_attrs.subjects}, subject.id):
            raise Refusal(NOT_ALLOWED)
        code = new_code()
        expires = now + VALID_FOR
        s.add(
            LinkSecret(
                subject_id=subject.id, code_hash=code_hash(code), issued_by_account_id=account.id, expires_at=expires
            )
        )
        s.add(
            AuditEntry(
                account_id=account.id,
                role=account.role,
                action="link_secret_issued",
                subject_id=subject.id,
                detail={"expires_at": expires.isoformat()},
            )
        )
        return IssuedSecret(code, subject.name, expires)


async def spend_link_secret(s: AsyncSession, subject_id: int, typed: str, account_id: int, now: dt.datetime) -> bool:
    """True, and the code is spent, when `typed` is an unused, unexpired code for `subject_id`.

    The row is locked first, so two proofs racing with one code cannot both spend it."""
    if not clean_code(typed):
        return False
    secret = await s.scalar(
        select(LinkSecret)
        .where(LinkSecret.code_hash == code_hash(typed), LinkSecret.subject_id == subject_id)
        .with_for_update()
    )
    if secret is None or secret.used_at is not None or secret.expires_at <= now:
        return False
    secret.used_at, secret.used_by_account_id = now, account_id
    return True
