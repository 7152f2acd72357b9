"""Issue 12, part A: a public link proof needs a one-time 授权码 besides the public facts; failures are
counted per subject as well as per account; codes expire and are spent once; issuing is limited and
audited, and only the code's hash is stored."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.models import AttemptLimit, AuditEntry, LinkSecret
from db.session import Database
from rules.roles import Viewer
from services.accounts import ensure_local_account
from services.attempts import LINK_SUBJECT_POLICY
from services.declarations.link_secrets import VALID_FOR, issue_link_secret, spend_link_secret
from services.errors import Refusal
from tests.conftest import BotHarness
from tests.test_declare_support import HENGDA, HUATAI, company, issue_code, no_errors, texts
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
