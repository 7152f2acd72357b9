"""Binding codes: single use, expiring, hashed at rest; unbinding and deactivation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.models import Account, BindingCode, Department, Subject
from db.session import Database
from services.accounts import (
    create_invitation,
    ensure_local_account,
    redeem_invitation,
    set_active,
    unbind,
)
from services.errors import Refusal

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)


async def seed(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Department(code="SCJGJ", name="安康市市场监督管理局", division_code="610900"))
        s.add(Subject(kind="法人", name="安康市恒达建材有限公司", uscc="91610900MA70A1B2C3"))


async def test_invitation_binds_role_and_department(db: Database) -> None:
    await seed(db)
    invitation = await create_invitation(db, "official", dept_code="SCJGJ", now=NOW)
    async with db.transaction() as s:
        stored = (await s.scalars(select(BindingCode.code_hash))).all()
    assert invitation.code not in stored and len(stored) == 1  # only the hash is kept
    account = await redeem_invitation(db, 4242, invitation.code.lower(), "王办事", now=NOW + dt.timedelta(hours=1))
    assert account.role == "official"
    assert account.department is not None and account.department.code == "SCJGJ"


async def test_enterprise_invitation_binds_the_subject(db: Database) -> None:
    await seed(db)
    invitation = await create_invitation(db, "enterprise", subject_uscc="91610900ma70a1b2c3", now=NOW)
    account = await redeem_invitation(db, 4243, invitation.code, now=NOW)
    assert [s.name for s in account.subjects] == ["安康市恒达建材有限公司"]


async def test_reused_code_is_refused(db: Database) -> None:
    await seed(db)
    invitation = await create_invitation(db, "collector", dept_code="SCJGJ", now=NOW)
    await redeem_invitation(db, 1, invitation.code, now=NOW)
    with pytest.raises(Refusal, match="已被使用"):
        await redeem_invitation(db, 2, invitation.code, now=NOW)
    async with db.transaction() as s:
        second = await s.scalar(select(Account).where(Account.telegram_user_id == 2))
    assert second is None or second.role == "public"


async def test_expired_code_is_refused(db: Database) -> None:
    await seed(db)
    invitation = await create_invitation(db, "official", dept_code="SCJGJ", valid_for=dt.timedelta(hours=1), now=NOW)
    with pytest.raises(Refusal, match="已过期"):
        await redeem_invitation(db, 3, invitation.code, now=NOW + dt.timedelta(hours=1, seconds=1))


async def test_wrong_code_is_refused(db: Database) -> None:
    await seed(db)
    await create_invitation(db, "official", dept_code="SCJGJ", now=NOW)
    with pytest.raises(Refusal, match="无效"):
        await redeem_invitation(db, 4, "ZZZZZ-ZZZZZ", now=NOW)


@pytest.mark.parametrize(
    ("role", "kwargs", "message"),
    [
        ("official", {}, "必须属于一个部门"),
        ("enterprise", {}, "必须绑定一个主体"),
        ("mayor", {}, "未知角色"),
        ("official", {"dept_code": "NOPE"}, "找不到部门代码"),
        ("enterprise", {"subject_uscc": "91610900MA70A1B2C4"}, "档案中没有"),
    ],
)
async def test_invitation_arguments_are_checked(db: Database, role: str, kwargs: dict[str, str], message: str) -> None:
    await seed(db)
    with pytest.raises(Refusal, match=message):
        await create_invitation(db, role, now=NOW, **kwargs)


async def test_unbind_and_deactivate(db: Database) -> None:
    await seed(db)
    await ensure_local_account(db, 77, "official", dept_code="SCJGJ")
    account = await unbind(db, 77)
    assert account.role == "public" and account.department_id is None
    await set_active(db, 77, False)
    invitation = await create_invitation(db, "official", dept_code="SCJGJ", now=NOW)
    with pytest.raises(Refusal, match="停用"):
        await redeem_invitation(db, 77, invitation.code, now=NOW)
    with pytest.raises(Refusal):
        await set_active(db, 78, False)


async def test_guessing_codes_starts_a_cool_down_that_survives_a_restart(db: Database) -> None:
    from services.attempts import BIND_POLICY

    await seed(db)
    good = await create_invitation(db, "official", dept_code="SCJGJ", now=NOW)
    for i in range(BIND_POLICY.failures - 1):
        with pytest.raises(Refusal, match="绑定码无效"):
            await redeem_invitation(db, 5151, f"WRONG-{i:05d}", now=NOW)
    with pytest.raises(Refusal, match="错误次数过多"):
        await redeem_invitation(db, 5151, "WRONG-LAST0", now=NOW)
    other_process = Database(db.url)  # the count lives in the database, not in this process
    try:
        with pytest.raises(Refusal, match="尝试次数过多"):  # even the right code waits
            await redeem_invitation(other_process, 5151, good.code, now=NOW + dt.timedelta(minutes=5))
    finally:
        await other_process.dispose()
    later = NOW + BIND_POLICY.cooldown + dt.timedelta(minutes=1)
    assert (await redeem_invitation(db, 5151, good.code, now=later)).role == "official"
    # Another user is not affected by this one's guesses.
    with pytest.raises(Refusal, match="绑定码无效"):
        await redeem_invitation(db, 5152, "WRONG-00000", now=NOW)


async def test_failures_outside_the_window_do_not_add_up(db: Database) -> None:
    from services.attempts import BIND_POLICY

    await seed(db)
    for i in range(BIND_POLICY.failures * 2):
        with pytest.raises(Refusal, match="绑定码无效"):  # one a window apart: never a lock
            await redeem_invitation(db, 5153, "WRONG-00000", now=NOW + i * (BIND_POLICY.window + dt.timedelta(seconds=1)))


async def test_a_platform_display_name_is_stored_cleaned(db: Database) -> None:
    """A Telegram or WeCom user chooses their name: bidi overrides and invisible characters are
    removed (rules/text_input.py), not refused."""
    from services.accounts import account_for_user

    async with db.transaction() as s:
        account = await account_for_user(s, 4343, "王\u202e办事\u200b\n员")
    assert account.display_name == "王办事 员"
