"""授权码: the one-time link secret a public declarant needs besides the public facts (issue 12).

USCC, legal representative and date of establishment are printed on every business licence and
published by the registry, so anyone could "prove" a link to any company with them. The link proof
therefore also asks for a code that only someone answerable for the subject can issue (`/linkcode`):
an official of the credit department (a department whose region role is "credit", 发展改革/信用办),
a system admin, or the subject's own bound enterprise account.

- The caller's right is checked before the subject is looked up, and every caller without it gets
  the same answer whatever they typed: `/linkcode` is no oracle of who has a credit file. An
  enterprise account is matched against its own subjects only, never against the archive. Every
  attempt, issued or refused, is audited.
- The code is random (about 50 bits), shown once to its issuer, stored as a keyed hash (HMAC under a
  label of `privacy.id_hash_key`, so a database dump alone cannot be searched), valid for
  `VALID_FOR`, spent by the first successful proof, and revocable (`/linkcode revoke`). It dies with
  its issuer's right: an issuer deactivated, unbound or no longer bound to the subject makes it void.
- The subject's bound accounts are told (through the outbox) when someone else issues a code for
  them and when a code is used to link to them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, AuditEntry, LinkSecret, Subject, utcnow
from db.session import Database
from rules.codes import clean_code, looks_like_ric, repair_lookalikes, validate_ric, validate_uscc
from rules.masking import id_match_key
from rules.roles import Viewer
from services import notices
from services.accounts import CODE_ALPHABET, new_code
from services.errors import Refusal
from services.recipients import subject_chats

VALID_FOR = dt.timedelta(hours=72)
MAX_LIVE_PER_ISSUER = 20  # unspent codes one account may hold at a time
NOT_ALLOWED = "只有信用主管部门（发展改革委/信用办）的办事人员、系统管理员或该主体已绑定的企业账号可以签发授权码。"
_HASH_LABEL = b"creditbot link code v1\x00"
CODE_LENGTH = 10


@dataclass(frozen=True)
class IssuedSecret:
    """The code in clear (shown once, to the issuer only), for which subject, until when (UTC)."""

    code: str
    subject_name: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class LiveSecret:
    """An outstanding code, as `/linkcode` lists it: never the code itself, only its number."""

    id: int
    subject_name: str
    expires_at: dt.datetime
    mine: bool  # issued by the caller (else: by someone else, for a subject bound to the caller)


def link_code_hash(code: str, key: str) -> str:
    """The stored form of a 授权码: HMAC-SHA256 of the cleaned code under a key derived from `key`."""
    derived = hashlib.sha256(_HASH_LABEL + key.encode()).digest()
    return hmac.new(derived, clean_code(code).upper().encode(), hashlib.sha256).hexdigest()


def looks_like_link_code(typed: str) -> bool:
    """Whether `typed` has the shape of a 授权码 (10 characters of CODE_ALPHABET, dashes and spaces
    aside), so that any other answer can be asked again without counting as a failed proof."""
    code = clean_code(typed).upper()
    return len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)


@functools.lru_cache(maxsize=4)
def credit_departments(division_code: str) -> frozenset[str]:
    """Codes of the region's credit departments (role "credit" in the region file)."""
    from db.regions import default_region

    return frozenset(d.code for d in default_region(division_code).departments if d.role == "credit")


def issues_for_any(account: Account, division_code: str) -> bool:
    """Admins and officials of the credit department may issue codes for any subject."""
    if not account.active:
        return False
    if account.role == "admin":
        return True
    dept = account.department
    return account.role == "official" and dept is not None and dept.code in credit_departments(division_code)


def may_issue(account: Account, subject_ids: set[int], subject_id: int, division_code: str) -> bool:
    """Credit-department officials and admins for any subject; an enterprise account for its own."""
    if issues_for_any(account, division_code):
        return True
    return account.active and account.role == "enterprise" and subject_id in subject_ids


def _subject_where(raw: str, id_key: str, today: dt.date | None) -> tuple[str, str]:
    """("uscc" | "id_hash", value) for a typed USCC or resident ID number. Raises Refusal for a code
    that is neither (the message names what is wrong with it, which reveals nothing of the archive)."""
    code = repair_lookalikes(clean_code(raw))
    if looks_like_ric(code) or (len(code) > 18 and code.isdigit()):
        check = validate_ric(code, today)
        if not check.ok:
            raise Refusal(f"身份证号码有误：{check.error}")
        return "id_hash", id_match_key(check.value, id_key)
    check = validate_uscc(code)
    if not check.ok:
        raise Refusal(f"统一社会信用代码有误：{check.error}")
    return "uscc", check.value


def _matches(subject: Subject, where: tuple[str, str]) -> bool:
    return getattr(subject, where[0]) == where[1]


async def subject_by_code(s: AsyncSession, raw: str, id_key: str, today: dt.date | None = None) -> Subject | None:
    """The subject a typed USCC or resident ID number names (the ID only through its keyed hash).

    Raises Refusal for a code that is neither."""
    field, value = _subject_where(raw, id_key, today)
    return await s.scalar(select(Subject).where(getattr(Subject, field) == value))


def _audit(account: Account | None, viewer: Viewer, action: str, subject_id: int | None = None, **detail: object) -> AuditEntry:
    return AuditEntry(
        account_id=account.id if account else None, role=account.role if account else viewer.role,
        action=action, subject_id=subject_id, detail=dict(detail),
    )


async def _issue(
    s: AsyncSession, account: Account | None, viewer: Viewer, raw: str, id_key: str, division_code: str, now: dt.datetime
) -> IssuedSecret | str:
    """The code, or the refusal to give (the caller audits it)."""
    if account is None or not account.active:
        return NOT_ALLOWED
    own = await account.awaitable_attrs.subjects
    if not issues_for_any(account, division_code) and not (account.role == "enterprise" and own):
        return NOT_ALLOWED  # checked before the code is even read: the same answer for every subject
    where = _subject_where(raw, id_key, now.date())
    if issues_for_any(account, division_code):
        subject = await s.scalar(select(Subject).where(getattr(Subject, where[0]) == where[1]))
        if subject is None:
            return "档案中没有该主体，无法签发授权码。"
    else:  # an enterprise account: only its own subjects are looked at, never the archive
        subject = next((x for x in own if _matches(x, where)), None)
        if subject is None:
            return NOT_ALLOWED
    live = await s.scalar(
        select(func.count()).select_from(LinkSecret).where(
            LinkSecret.issued_by_account_id == account.id, LinkSecret.used_at.is_(None),
            LinkSecret.revoked_at.is_(None), LinkSecret.expires_at > now,
        )
    )
    if (live or 0) >= MAX_LIVE_PER_ISSUER:
        return f"您已有 {MAX_LIVE_PER_ISSUER} 个未使用的授权码，请先发送 /linkcode 查看并撤销不再需要的。"
    code = new_code()
    expires = now + VALID_FOR
    s.add(LinkSecret(subject_id=subject.id, code_hash=link_code_hash(code, id_key), issued_by_account_id=account.id, expires_at=expires))
    s.add(_audit(account, viewer, "link_secret_issued", subject.id, expires_at=expires.isoformat()))
    others = [c for c in await subject_chats(s, subject.id) if c != account.telegram_user_id]
    if others:
        hours = int(VALID_FOR.total_seconds() // 3600)
        await notices.enqueue(
            s, others,
            f"【授权码签发】平台已为{subject.name}签发一个自主申报授权码（{hours} 小时内有效，只能使用一次）。"
            "如非贵单位申请，请联系信用主管部门；发送 /linkcode 可查看并撤销。",
            "link_secret_issued", now, id_key, subject_id=subject.id, claim=False,
        )
    return IssuedSecret(code, subject.name, expires)


async def issue_link_secret(
    db: Database, viewer: Viewer, subject_code: str, id_key: str, now: dt.datetime | None = None,
    division_code: str = "610900",
) -> IssuedSecret:
    """`/linkcode <USCC or ID number>`: a new one-time 授权码 for that subject, valid for VALID_FOR.

    The right is checked first, from the account whatever the caller claims; every attempt is
    audited. Raises Refusal: the caller may not issue (one answer for every subject), a malformed
    code, an unknown subject (only to those who may issue for any subject), too many live codes."""
    now = now or utcnow()
    async with db.transaction() as s:
        account = await s.get(Account, viewer.account_id) if viewer.account_id is not None else None
        try:
            result = await _issue(s, account, viewer, subject_code, id_key, division_code, now)
        except Refusal as exc:
            result = exc.reason
        if isinstance(result, str):
            s.add(_audit(account, viewer, "link_secret_refused", reason=result[:40]))
    if isinstance(result, str):
        raise Refusal(result)
    return result


def _visible(account: Account, subject_ids: set[int]):  # type: ignore[no-untyped-def]
    """The codes an account may list and revoke: its own, and those for the subjects bound to it."""
    mine = LinkSecret.issued_by_account_id == account.id
    if account.role == "enterprise" and subject_ids:
        return or_(mine, LinkSecret.subject_id.in_(subject_ids))
    return mine


async def _account(s: AsyncSession, viewer: Viewer) -> tuple[Account, set[int]]:
    account = await s.get(Account, viewer.account_id) if viewer.account_id is not None else None
    if account is None or not account.active or account.role not in ("admin", "official", "enterprise"):
        raise Refusal(NOT_ALLOWED)
    return account, {x.id for x in await account.awaitable_attrs.subjects}


def _live(now: dt.datetime):  # type: ignore[no-untyped-def]
    return (LinkSecret.used_at.is_(None), LinkSecret.revoked_at.is_(None), LinkSecret.expires_at > now)


async def live_link_secrets(db: Database, viewer: Viewer, now: dt.datetime | None = None) -> list[LiveSecret]:
    """`/linkcode` alone: the caller's outstanding codes (and, for an enterprise account, those
    issued for its subjects), soonest to expire first. Raises Refusal for anyone who cannot issue."""
    now = now or utcnow()
    async with db.transaction() as s:
        account, subject_ids = await _account(s, viewer)
        rows = (
            await s.execute(
                select(LinkSecret, Subject.name)
                .join(Subject, Subject.id == LinkSecret.subject_id)
                .where(_visible(account, subject_ids), *_live(now))
                .order_by(LinkSecret.expires_at, LinkSecret.id)
            )
        ).all()
    return [LiveSecret(r.id, name, r.expires_at, r.issued_by_account_id == account.id) for r, name in rows]


async def revoke_link_secret(db: Database, viewer: Viewer, ref: str, id_key: str, now: dt.datetime | None = None) -> str:
    """`/linkcode revoke <number or the code itself>`: the code can no longer be used. Returns the
    subject's name. Raises Refusal when no such live code is the caller's to revoke."""
    now = now or utcnow()
    typed = ref.strip().lstrip("#＃")
    async with db.transaction() as s:
        account, subject_ids = await _account(s, viewer)
        which = LinkSecret.id == int(typed) if typed.isdecimal() and len(typed) < 10 else LinkSecret.code_hash == link_code_hash(typed, id_key)
        secret = await s.scalar(select(LinkSecret).where(which, *_live(now)).with_for_update())
        if secret is None or not (account.role == "admin" or secret.issued_by_account_id == account.id or secret.subject_id in subject_ids):
            raise Refusal("没有可撤销的该授权码（编号或授权码有误，或已使用、已过期、已撤销）。发送 /linkcode 查看。")
        secret.revoked_at = now
        s.add(_audit(account, viewer, "link_secret_revoked", secret.subject_id, secret_id=secret.id))
        subject = await s.get(Subject, secret.subject_id)
        return subject.name if subject else ""


async def spend_link_secret(
    s: AsyncSession, subject_id: int, typed: str, account_id: int, now: dt.datetime, id_key: str, division_code: str = "610900"
) -> LinkSecret | None:
    """The code, now spent, when `typed` is a live code for `subject_id` whose issuer still has the
    right to issue it; else None.

    The row is locked first, so two proofs racing with one code cannot both spend it."""
    if not looks_like_link_code(typed):
        return None
    secret = await s.scalar(
        select(LinkSecret)
        .where(LinkSecret.code_hash == link_code_hash(typed, id_key), LinkSecret.subject_id == subject_id, *_live(now))
        .with_for_update()
    )
    if secret is None:
        return None
    issuer = await s.get(Account, secret.issued_by_account_id)
    if issuer is None or not may_issue(issuer, {x.id for x in await issuer.awaitable_attrs.subjects}, subject_id, division_code):
        return None  # the issuer lost its right (deactivated, unbound): its codes died with it
    secret.used_at, secret.used_by_account_id = now, account_id
    return secret
