"""Proving the link between a declarant and a subject, for an account without a bound subject:
code → name → (organisations) date of establishment → 授权码, checked against the file once all
answers are in.

The public facts alone prove nothing (they are on every licence), so the proof also needs a one-time
授权码 (services.declarations.link_secrets) that is spent by the proof; the first question says so.
"没有授权码" (NO_CODE_WORDS, or its button) ends the conversation with the how-to at no cost, and an
answer that is not shaped like a code is asked again without counting. Failures are counted per
account (rules.declarations.DeclarationSettings: `link_attempts`, `cooldown_minutes`; forgotten after
drafts.LINK_FAILURE_WINDOW) and per subject (services.attempts.LINK_SUBJECT_POLICY), so that opening
new accounts buys no new tries. The per-subject pause refuses wrong codes only: the code is the real
secret (about 50 bits, one use), so a declarant holding a live code for the subject always gets
through, and strangers failing on purpose cannot block a company. The subject's bound accounts are
told when a code was used to link to them.
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
from services import notices
from services.attempts import LINK_SUBJECT_POLICY, count_failure, locked_until
from services.declarations.drafts import (
    HINT_ENTERPRISE_ACCOUNT,
    HINT_LINK_SECRET,
    Apply,
    Ctx,
    Outcome,
    Said,
    close,
    link_failures,
    set_data,
)
from services.declarations.link_secrets import looks_like_link_code, spend_link_secret
from services.recipients import subject_chats

LINK_SUBJECT_SCOPE = "link:subject"
NO_CODE_WORDS = ("没有授权码", "我没有授权码", "无授权码", "没有")


def has_no_code(text: str) -> bool:
    """The declarant says they have no 授权码 (typed, or the button's word)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).rstrip("。.!！") in NO_CODE_WORDS


def subject_key(link: dict[str, Any]) -> str:
    """Who the failures of a link proof are counted against: the claimed USCC or ID hash, whether or
    not the file has such a subject (so probing unknown codes is counted too)."""
    return str(link.get("uscc") or link.get("id_hash") or "")


def _subject_paused(until: dt.datetime, now: dt.datetime) -> Said:
    hours = max(1, int((until - now).total_seconds() // 3600) + 1)
    return Said(
        f"该主体的在线核验因多次核验未通过已暂停（约 {hours} 小时后恢复）：暂停期间只接受有效的授权码，"
        "请核对授权码后再试；也可由该主体以企业账号直接申报。",
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
        if has_no_code(text):
            close(draft, "cancelled")
            return Outcome(
                None, ended="refused", error="没有授权码无法在线核验您与主体的关系，本次申报已结束，未计入核验次数。",
                hint=HINT_LINK_SECRET,
            )
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
            if not looks_like_link_code(text):  # not a try: nothing is counted
                return "请输入授权码：10 位字母和数字，形如 ABCDE-FGHJK（没有授权码请点击“没有授权码”）。"
            return await _prove(s, draft, account, ctx, link, text)
        return "请按当前步骤操作。"

    return apply


async def _prove(
    s: AsyncSession, draft: Declaration, account: Account, ctx: Ctx, link: dict[str, Any], secret: str
) -> str | Said | Outcome | None:
    key = subject_key(link)
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
    spent = None
    if ok and subject is not None:
        spent = await spend_link_secret(s, subject.id, secret, account.id, ctx.now, ctx.id_key, ctx.division_code)
    row = await s.get(LinkAttempts, account.id)
    if row is None:
        row = LinkAttempts(account_id=account.id, failures=0)
        s.add(row)
    set_data(draft, link={})  # answers are not kept once checked, right or wrong
    if spent is not None and subject is not None:
        row.failures, row.locked_until, row.last_failed_at = 0, None, None
        draft.subject_id, draft.link, draft.step = subject.id, "proved", "category"
        s.add(
            AuditEntry(
                account_id=account.id, role=account.role, action="declaration_link_proved", subject_id=subject.id,
                detail={"secret_id": spent.id, "issued_by": spent.issued_by_account_id},
            )
        )
        await _tell_subject(s, subject, ctx)
        return None
    row.failures = link_failures(row, ctx.now) + 1
    row.last_failed_at = ctx.now
    paused = await locked_until(s, LINK_SUBJECT_SCOPE, key, ctx.now)
    # During a pause a wrong try is refused and counted for the account, and does not extend the pause.
    subject_locked = paused is None and await count_failure(s, LINK_SUBJECT_SCOPE, key, LINK_SUBJECT_POLICY, ctx.now)
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
    if paused is not None:
        return _subject_paused(paused, ctx.now)
    left = ctx.limits.link_attempts - row.failures
    return f"您提供的信息与档案不符，未能核验您与该主体的关系。还可尝试 {left} 次。"


async def _tell_subject(s: AsyncSession, subject: Subject, ctx: Ctx) -> None:
    """The subject's bound accounts learn that a 授权码 was used to link to them (sent by the outbox
    job within a minute: this runs inside the proof's transaction)."""
    chats = await subject_chats(s, subject.id)
    if chats:
        await notices.enqueue(
            s, chats,
            f"【授权码已使用】有申报人凭授权码核验了与{subject.name}的关系，可为其提交自主申报"
            "（申报经核验部门审核后方计入信用档案）。如非贵单位授权，请及时联系信用主管部门。",
            "link_proved", ctx.now, ctx.id_key, subject_id=subject.id, claim=False,
        )
