"""Proving the link between a declarant and a subject, for an account without a bound subject:
code → name → (organisations) date of establishment → 授权码, checked against the file once all
answers are in.

The public facts alone prove nothing (they are on every licence), so the proof also needs a one-time
授权码 (services.declarations.link_secrets) that is spent by the proof. Failures are counted per
account (rules.declarations.DeclarationSettings: `link_attempts`, `cooldown_minutes`) and per subject
(services.attempts.LINK_SUBJECT_POLICY), so that opening new accounts buys no new tries.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Account, AuditEntry, Declaration, LinkAttempts, Subject
from nlp.dates import DateError, parse_date
from rules.codes import clean_code, looks_like_ric, repair_lookalikes, validate_ric, validate_uscc
from rules.masking import id_match_key
from services.attempts import LINK_SUBJECT_POLICY, count_failure, locked_until
from services.declarations.drafts import HINT_ENTERPRISE_ACCOUNT, Apply, Ctx, Outcome, Said, close, set_data
from services.declarations.link_secrets import spend_link_secret

LINK_SUBJECT_SCOPE = "link:subject"


def subject_key(link: dict[str, Any]) -> str:
    """Who the failures of a link proof are counted against: the claimed USCC or ID hash, whether or
    not the file has such a subject (so probing unknown codes is counted too)."""
    return str(link.get("uscc") or link.get("id_hash") or "")


def _subject_paused(until: dt.datetime, now: dt.datetime) -> Said:
    hours = max(1, int((until - now).total_seconds() // 3600) + 1)
    return Said(
        f"该主体的在线核验因多次核验未通过已暂停，请约 {hours} 小时后再试；也可由该主体以企业账号直接申报。",
        HINT_ENTERPRISE_ACCOUNT,
    )


def _same_name(a: str | None, b: str | None) -> bool:
    def norm(x: str | None) -> str:
        return "".join(unicodedata.normalize("NFKC", x or "").split())

    return bool(norm(a)) and norm(a) == norm(b)


def link_answer_step(ctx: Ctx, text: str) -> Apply:
    """Proving the link, one answer at a time: code → name → (organisations) date of establishment.
    The check happens once all answers are in, so a failure never says which part was wrong."""

    async def apply(s: AsyncSession, draft: Declaration, account: Account) -> str | Said | Outcome | None:
        link = dict((draft.data or {}).get("link", {}))
        if draft.step == "link_code":
            code = repair_lookalikes(clean_code(text))
            if looks_like_ric(code) or (len(code) == 18 and code[:17].isascii() and code[:17].isdigit()):
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
            until = await locked_until(s, LINK_SUBJECT_SCOPE, subject_key(link), ctx.now)
            if until is not None:
                return _subject_paused(until, ctx.now)
            set_data(draft, link=link)
            draft.step = "link_name"
            return None
        if draft.step == "link_name":
            name = " ".join(text.split())
            if not name or len(name) > 64:
                return "请输入姓名。"
            link["name"] = name
            set_data(draft, link=link)
            draft.step = "link_secret" if link.get("person") else "link_date"
            return None
        if draft.step == "link_date":
            try:
                link["established"] = parse_date(text, ctx.today).isoformat()
            except DateError as exc:
                return str(exc)
            set_data(draft, link=link)
            draft.step = "link_secret"
            return None
        if draft.step == "link_secret":
            if not clean_code(text) or len(text) > 64:
                return "请输入授权码。"
            return await _prove(s, draft, account, ctx, link, text)
        return "请按当前步骤操作。"

    return apply


async def _prove(
    s: AsyncSession, draft: Declaration, account: Account, ctx: Ctx, link: dict[str, Any], secret: str
) -> str | Said | Outcome | None:
    key = subject_key(link)
    until = await locked_until(s, LINK_SUBJECT_SCOPE, key, ctx.now)
    if until is not None:  # locked by someone else while this declarant was typing
        set_data(draft, link={})
        draft.step = "link_code"
        return _subject_paused(until, ctx.now)
    if link.get("person"):
        subject = await s.scalar(select(Subject).where(Subject.id_hash == link.get("id_hash")))
        ok = subject is not None and _same_name(subject.name, link.get("name"))
    else:
        subject = await s.scalar(select(Subject).where(Subject.uscc == link.get("uscc")))
        if subject is not None and (not subject.legal_rep or subject.established is None):
            close(draft, "cancelled")
            return Outcome(
                None, ended="refused",
                error="档案中缺少该主体在线核验所需的登记信息，无法通过机器人核验与主体的关系。",
                hint=HINT_ENTERPRISE_ACCOUNT,
            )
        ok = (
            subject is not None
            and _same_name(subject.legal_rep, link.get("name"))
            and subject.established is not None
            and subject.established.isoformat() == link.get("established")
        )
    # The code is looked at (and spent) only when the facts match: a wrong guess burns no one's code.
    ok = ok and subject is not None and await spend_link_secret(s, subject.id, secret, account.id, ctx.now)
    row = await s.get(LinkAttempts, account.id)
    if row is None:
        row = LinkAttempts(account_id=account.id, failures=0)
        s.add(row)
    set_data(draft, link={})  # answers are not kept once checked, right or wrong
    if ok and subject is not None:
        row.failures, row.locked_until = 0, None
        draft.subject_id, draft.link, draft.step = subject.id, "proved", "category"
        s.add(AuditEntry(account_id=account.id, role=account.role, action="declaration_link_proved", subject_id=subject.id))
        return None
    row.failures = (row.failures or 0) + 1
    subject_locked = await count_failure(s, LINK_SUBJECT_SCOPE, key, LINK_SUBJECT_POLICY, ctx.now)
    s.add(
        AuditEntry(
            account_id=account.id,
            role=account.role,
            action="declaration_link_failed",
            subject_id=subject.id if subject is not None else None,
            detail={"try": row.failures, "subject_paused": subject_locked},
        )
    )
    if subject_locked:
        close(draft, "cancelled")
        return Outcome(None, ended="locked", until=ctx.now + LINK_SUBJECT_POLICY.cooldown)
    if row.failures >= ctx.limits.link_attempts:
        until = ctx.now + dt.timedelta(minutes=ctx.limits.cooldown_minutes)
        row.failures, row.locked_until = 0, until
        close(draft, "cancelled")
        return Outcome(None, ended="locked", until=until)
    draft.step = "link_code"
    left = ctx.limits.link_attempts - row.failures
    return f"您提供的信息与档案不符，未能核验您与该主体的关系。还可尝试 {left} 次。"


