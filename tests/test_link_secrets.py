"""Issue 12, part A: a public link proof needs a one-time 授权码 besides the public facts; failures are
counted per subject as well as per account; codes expire and are spent once; issuing is limited and
audited, and only the code's hash is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Account, AttemptLimit, AuditEntry, LinkAttempts, LinkSecret, utcnow
from db.session import Database
from handlers.notify import retry_due
from rules.codes import clean_code, complete_ric, complete_uscc
from rules.roles import Viewer
from services.accounts import ensure_local_account
from services.attempts import LINK_SUBJECT_POLICY
from services.declarations.link_secrets import VALID_FOR, issue_link_secret, link_code_hash, spend_link_secret
from services.errors import Refusal
from services.settings import PrivacySettings
from tests.conftest import BotHarness
from tests.test_declare_support import (
    HENGDA,
    HUATAI,
    PDF,
    PERSON_ID,
    company,
    issue_code,
    no_errors,
    person,
    texts,
    write,
)
from tests.test_lifecycle_support import dept_id

NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


async def viewer(db: Database, uid: int, role: str, dept: str | None = None, subject: str | None = None) -> Viewer:
    if dept:
        await dept_id(db, dept)
    account = await ensure_local_account(db, uid, role, dept, subject)
    return Viewer(account_id=account.id, role=role, department_id=account.department_id)


async def test_who_may_issue_and_what_is_kept(db: Database) -> None:
    own = await company(db)
    await company(db, HUATAI, "安康市华泰商贸有限公司")
    official = await viewer(db, 9001, "official", "FGW")  # the credit department (市信用办)
    issued = await issue_link_secret(db, official, HENGDA, "k", NOW)
    assert issued.expires_at == NOW + VALID_FOR and issued.subject_name == "安康市恒达建材有限公司"
    enterprise = await viewer(db, 9002, "enterprise", subject=HENGDA)
    await issue_link_secret(db, enterprise, HENGDA, "k", NOW)
    with pytest.raises(Refusal, match="企业账号"):
        await issue_link_secret(db, enterprise, HUATAI, "k", NOW)  # not its own company
    with pytest.raises(Refusal, match="企业账号"):
        await issue_link_secret(db, await viewer(db, 9003, "public"), HENGDA, "k", NOW)
    # A forged viewer claiming to be an admin is checked against its account.
    forged = Viewer(account_id=(await viewer(db, 9004, "public")).account_id, role="admin")
    with pytest.raises(Refusal):
        await issue_link_secret(db, forged, HENGDA, "k", NOW)
    async with db.transaction() as s:
        rows = (await s.scalars(select(LinkSecret))).all()
        audit = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "link_secret_issued"))).all()
    assert len(rows) == 2 and all(r.subject_id == own for r in rows)
    assert issued.code not in {r.code_hash for r in rows} and len(audit) == 2
    # A keyed hash (F14): a database dump alone does not let anyone try the code space.
    plain = hashlib.sha256(clean_code(issued.code).encode()).hexdigest()
    assert plain not in {r.code_hash for r in rows}
    assert link_code_hash(issued.code, "k") in {r.code_hash for r in rows}
    assert link_code_hash(issued.code, "other") not in {r.code_hash for r in rows}


async def test_a_code_expires_and_is_spent_once(db: Database) -> None:
    own = await company(db)
    other = await company(db, HUATAI, "安康市华泰商贸有限公司")
    admin = await viewer(db, 9010, "admin")
    account_id = admin.account_id
    assert account_id is not None
    late = await issue_link_secret(db, admin, HENGDA, "k", NOW)
    async with db.transaction() as s:
        assert not await spend_link_secret(s, own, late.code, account_id, NOW + VALID_FOR, "k")  # expired
    code = (await issue_link_secret(db, admin, HENGDA, "k", NOW)).code
    async with db.transaction() as s:
        assert not await spend_link_secret(s, other, code, account_id, NOW, "k")  # another subject's code
        assert await spend_link_secret(s, own, f" {code.lower()} ", account_id, NOW, "k")  # typed loosely
    async with db.transaction() as s:
        assert not await spend_link_secret(s, own, code, account_id, NOW, "k")  # spent


async def prove(harness: BotHarness, chat: object, code: str, uscc: str = HENGDA, rep: str = "张伟") -> str:
    await harness.say(chat, "/declare")  # type: ignore[arg-type]
    await harness.say(chat, uscc)  # type: ignore[arg-type]
    await harness.say(chat, rep)  # type: ignore[arg-type]
    await harness.say(chat, "2015-03-01")  # type: ignore[arg-type]
    return texts(await harness.say(chat, code))  # type: ignore[arg-type]


async def test_public_facts_alone_no_longer_link_and_a_code_works_once(harness: BotHarness) -> None:
    await company(harness.db)
    await harness.refresh()
    guesser = await harness.chat("public")
    assert "与档案不符" in await prove(harness, guesser, "ABCDE-FGHJK")  # every public fact right
    code = await issue_code(harness, HENGDA)
    assert "与档案不符" in await prove(harness, guesser, code, rep="李四")  # the code, wrong facts: not spent
    owner = await harness.chat("public")
    assert "请选择申报类别" in await prove(harness, owner, code)
    await harness.say(owner, "/cancel")
    again = await harness.chat("public")
    assert "与档案不符" in await prove(harness, again, code)  # spent
    no_errors(harness.transport)


async def test_new_accounts_buy_no_new_tries_but_cannot_block_a_declarant_with_a_code(harness: BotHarness) -> None:
    await company(harness.db)
    await harness.refresh()
    code = await issue_code(harness, HENGDA)  # handed to the real declarant before the attack
    tries = 0
    while tries < LINK_SUBJECT_POLICY.failures:
        account = await harness.chat("public")
        for _ in range(2):  # fewer than the per-account limit (3)
            out = await prove(harness, account, "WRNGC-DESXY")
            tries += 1
            if tries == LINK_SUBJECT_POLICY.failures:
                assert "请于" in out  # this failure paused the subject
                break
            assert "与档案不符" in out
    async with harness.db.transaction() as s:
        row = await s.get(AttemptLimit, ("link:subject", HENGDA))
    assert row is not None and row.locked_until is not None
    # During the pause a wrong code is refused with the pause, and it does not extend it ...
    fresh = await harness.chat("public")
    paused = await prove(harness, fresh, "WRNGC-DESXY")
    assert "已暂停" in paused and "只接受有效的授权码" in paused
    async with harness.db.transaction() as s:
        again = await s.get(AttemptLimit, ("link:subject", HENGDA))
    assert again is not None and again.locked_until == row.locked_until
    # ... but the declarant holding a live code for the subject gets through.
    declarant = await harness.chat("public")
    assert "请选择申报类别" in await prove(harness, declarant, code)
    no_errors(harness.transport)


KEY = PrivacySettings().id_hash_key  # the harness's settings
HONOUR_BY_CREDIT_OFFICE = ["建筑业企业资质证书", "安康市发展和改革委员会", "D261000001", "2024-3-1", "2029年3月1日"]


async def test_a_non_issuer_gets_one_answer_for_every_subject_and_every_try_is_audited(harness: BotHarness) -> None:
    await person(harness.db, KEY)
    await company(harness.db)
    await company(harness.db, HUATAI, "安康市华泰商贸有限公司")
    await harness.refresh()
    public = await harness.chat("public")
    known = texts(await harness.say(public, f"/linkcode {PERSON_ID}"))
    unknown = texts(await harness.say(public, f"/linkcode {complete_ric('61090219900101001')}"))
    assert known == unknown and "信用主管部门" in known
    owner = await harness.chat("enterprise", subject=HENGDA)
    other = texts(await harness.say(owner, f"/linkcode {HUATAI}"))  # in the archive, not its own
    nowhere = texts(await harness.say(owner, f"/linkcode {complete_uscc('91610900MA70YYYY0')}"))  # not in the archive
    assert other == nowhere == known
    zjj = await harness.chat("official", dept="ZJJ")  # a department, but not the credit department
    assert texts(await harness.say(zjj, f"/linkcode {HENGDA}")) == known
    async with harness.db.transaction() as s:
        refused = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "link_secret_refused"))).all()
        issued = (await s.scalars(select(LinkSecret))).all()
    assert len(refused) == 5 and not issued
    no_errors(harness.transport)


async def test_the_issuer_cannot_verify_and_the_company_is_told(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    issuer = await harness.chat("official", dept="FGW")
    out = texts(await harness.say(issuer, f"/linkcode {HENGDA}"))
    code = out.split("授权码：", 1)[1].split()[0]
    puppet = await harness.chat("public")
    for line in ("/declare", HENGDA, "张伟", "2015-03-01", code, "#1", *HONOUR_BY_CREDIT_OFFICE):
        await harness.say(puppet, line)
    await harness.say(puppet, f"@{write(tmp_path, 'x.pdf', PDF)}")
    for line in ("#1", "#1", "我承诺"):
        await harness.say(puppet, line)
    assert "申报已提交" in texts(await harness.say(puppet, "#1"))
    for line in ("/verify", "#1", "#2"):
        await harness.say(issuer, line)
    refused = texts(await harness.say(issuer, "核对无误"))
    assert "您签发的授权码" in refused and "核验通过" not in refused
    colleague = await harness.chat("official", dept="FGW")
    for line in ("/verify", "#1", "#2"):
        await harness.say(colleague, line)
    harness.transport.blocked.add(owner.chat.id)  # type: ignore[attr-defined]
    approved = texts(await harness.say(colleague, "核对无误"))
    harness.transport.blocked.clear()
    # The declarant and the company's account were told (F12): the line names both, counts both.
    assert "核验通过" in approved and "通知申报人及该主体的绑定账号（共 2 个账号）：已送达 1 个；1 个未能送达" in approved
    await retry_due(harness.app.bot, harness.db, KEY)  # type: ignore[attr-defined]
    told = [o.text or "" for o in harness.transport.sent if o.chat_id == owner.chat.id]  # type: ignore[attr-defined]
    assert any("【授权码签发】" in t for t in told) and any("【授权码已使用】" in t for t in told)
    assert not any(code in t for t in told)  # the code itself only ever goes to its issuer
    no_errors(harness.transport)


async def test_the_code_is_asked_up_front_and_having_none_costs_nothing(harness: BotHarness) -> None:
    await company(harness.db)
    await harness.refresh()
    user = await harness.chat("public")
    first = texts(await harness.say(user, "/declare"))
    assert "授权码" in first and "/linkcode" in first  # said before any fact is asked
    for line in (HENGDA, "张伟", "2015-03-01"):
        await harness.say(user, line)
    assert "请输入授权码：10 位" in texts(await harness.say(user, "我不知道"))  # not a code: asked again
    ended = texts(await harness.say(user, "我没有授权码"))
    assert "本次申报已结束" in ended and "如何取得授权码" in ended
    again = await harness.chat("public")
    await harness.say(again, "/declare")
    assert "如何取得授权码" in texts(await harness.say(again, "#1"))  # the 没有授权码 button
    async with harness.db.transaction() as s:
        assert await s.get(AttemptLimit, ("link:subject", HENGDA)) is None
        assert not (await s.scalars(select(LinkAttempts).where(LinkAttempts.failures > 0))).all()
    no_errors(harness.transport)


async def test_codes_are_listed_revoked_and_die_with_their_issuer(harness: BotHarness) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    out = texts(await harness.say(owner, f"/linkcode {HENGDA}"))
    by_owner = out.split("授权码：", 1)[1].split()[0]
    listed = texts(await harness.say(owner, "/linkcode"))
    assert "未使用的授权码 1 个" in listed and by_owner not in listed
    number = listed.split("#", 1)[1].split()[0]
    await harness.say(owner, "/unbind")
    await harness.say(owner, "#1")  # 确认解除绑定
    assert "与档案不符" in await prove(harness, await harness.chat("public"), by_owner)  # died with the binding
    admin = await harness.chat("admin")
    out = texts(await harness.say(admin, f"/linkcode {HENGDA}"))
    by_admin = out.split("授权码：", 1)[1].split()[0]
    stranger = await harness.chat("public")
    assert "信用主管部门" in texts(await harness.say(stranger, f"/linkcode revoke {number}"))
    listed = texts(await harness.say(admin, "/linkcode"))
    mine = listed.split("#", 1)[1].split()[0]
    assert "已撤销" in texts(await harness.say(admin, f"/linkcode revoke {mine}"))
    assert "与档案不符" in await prove(harness, await harness.chat("public"), by_admin)
    no_errors(harness.transport)


async def test_old_link_failures_are_forgotten(harness: BotHarness) -> None:
    await company(harness.db)
    await harness.refresh()
    user = await harness.chat("public")
    async with harness.db.transaction() as s:
        account = await s.scalar(select(Account).where(Account.telegram_user_id == user.chat.id))  # type: ignore[attr-defined]
        if account is None:
            account = Account(telegram_user_id=user.chat.id, role="public")  # type: ignore[attr-defined]
            s.add(account)
            await s.flush()
        s.add(LinkAttempts(account_id=account.id, failures=2, last_failed_at=utcnow() - dt.timedelta(days=60)))
    assert "还可尝试 3 次" in texts(await harness.say(user, "/declare"))


async def test_help_and_the_menu_name_linkcode_and_undelivered_for_their_roles(harness: BotHarness) -> None:
    from bot.app import COMMANDS

    await company(harness.db)
    await harness.refresh()
    official = texts(await harness.say(await harness.chat("official", dept="FGW"), "/help"))
    admin = texts(await harness.say(await harness.chat("admin"), "/help"))
    owner = texts(await harness.say(await harness.chat("enterprise", subject=HENGDA), "/help"))
    public = texts(await harness.say(await harness.chat("public"), "/help"))
    assert all(c in t for t in (official, admin) for c in ("/linkcode", "/undelivered", "身份证号"))
    assert "/linkcode" in owner and "/undelivered" not in owner and "/linkcode" not in public
    assert {"linkcode", "undelivered"} <= {c.command for c in COMMANDS}
    # An ID number one digit too long is told as an ID number, not as a 19-digit USCC.
    wrong = texts(await harness.say(await harness.chat("admin"), f"/linkcode {PERSON_ID}0"))
    assert "身份证号码有误" in wrong
