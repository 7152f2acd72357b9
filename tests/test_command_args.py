"""Command arguments: every command's decision, each one exercised; the question limit holds after
a command; /unbind asks before it unbinds, and stale or forged presses act on nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from telegram.ext import CommandHandler

from db.models import Account, AuditEntry, Conversation, Department
from handlers import command_args as ca
from handlers.query import MAX_QUESTION_CHARS
from render.buttons import UNKNOWN_BUTTON
from services.accounts import BINDING_CHANGED
from tests.conftest import BotHarness
from tests.test_buttons import _press

# Who may run each command at all, so the test reaches the command and not a role refusal.
ROLE_OF = {
    "deactivate": "admin", "activate": "admin", "duties": "admin", "overdue": "admin", "ontime": "admin",
    "stats": "admin", "grades": "admin", "mytasks": "collector", "zero": "collector",
}


def texts(out: list) -> str:  # type: ignore[type-arg]
    return "\n".join(o.text or "" for o in out)


def registered_commands(harness: BotHarness) -> set[str]:
    return {
        command
        for handlers in harness.app.handlers.values()  # type: ignore[attr-defined]
        for h in handlers
        if isinstance(h, CommandHandler)
        for command in h.commands
    }


async def audit_rows(harness: BotHarness) -> int:
    async with harness.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_every_command_has_a_decision(harness: BotHarness) -> None:
    """A new command must say what it takes; /cancel is the flow dispatcher's own."""
    assert registered_commands(harness) | {"cancel"} == set(ca.COMMANDS)


async def test_a_command_that_takes_nothing_says_so_and_does_nothing(harness: BotHarness) -> None:
    for command, takes in ca.COMMANDS.items():
        if takes.words != 0:
            continue
        chat = await harness.chat(ROLE_OF.get(command, "official"), dept="FGW")
        out = await harness.say(chat, f"/{command} 900001")
        assert texts(out) == ca.takes_nothing_text(command, takes), command
        async with harness.db.transaction() as s:  # nothing started: no flow is open
            assert await s.scalar(select(func.count()).select_from(Conversation)) == 0, command


async def test_commands_with_fixed_words_refuse_more(harness: BotHarness) -> None:
    for command, takes in ca.COMMANDS.items():
        if not takes.words or takes.words < 1:
            continue
        chat = await harness.chat(ROLE_OF.get(command, "public"), dept="FGW")
        out = await harness.say(chat, f"/{command} {' '.join(['2026-10'] * (takes.words + 1))}")
        assert texts(out) == ca.too_many_words_text(command, takes), command


async def test_the_question_limit_holds_after_every_command(harness: BotHarness) -> None:
    """`/report` followed by 5,000 characters used to run a look-up and echo it all back."""
    long = "安康市恒达建材有限公司" * 455  # 5,005 characters
    before = await audit_rows(harness)
    for command, takes in ca.COMMANDS.items():
        if takes.words == -1:
            continue
        chat = await harness.chat(ROLE_OF.get(command, "official"), dept="FGW")
        out = await harness.say(chat, f"/{command} {long}")
        if takes.words == 0:
            assert texts(out) == ca.takes_nothing_text(command, takes), command
            continue
        assert texts(out) == ca.too_long_text(command), command
        assert "恒达" not in texts(out), command
    assert await audit_rows(harness) == before  # no subject was looked up
    # The limit itself: 300 characters still reach the command.
    official = await harness.chat("official", dept="FGW")
    at_limit = await harness.say(official, "/watch " + "恒" * MAX_QUESTION_CHARS)
    assert texts(at_limit).startswith("没有找到与“恒")


async def test_start_payload_and_cancel_words_are_ignored(harness: BotHarness) -> None:
    chat = await harness.chat("public")
    assert "信用通" in texts(await harness.say(chat, "/start from-website"))
    assert "当前没有进行中的操作" in texts(await harness.say(chat, "/cancel 请取消"))


# -- /unbind -------------------------------------------------------------------------------------------


async def role_of(harness: BotHarness, user_id: int) -> str:
    async with harness.db.transaction() as s:
        return str(await s.scalar(select(Account.role).where(Account.telegram_user_id == user_id)))


async def test_unbind_with_an_argument_keeps_the_admin(harness: BotHarness) -> None:
    admin = await harness.chat("admin", dept="FGW")
    out = await harness.say(admin, "/unbind 900001")
    assert "本次未执行" in texts(out) and "/deactivate" in texts(out)
    assert await role_of(harness, admin.chat.id) == "admin"


async def test_unbind_asks_first_and_keeps_or_releases(harness: BotHarness) -> None:
    collector = await harness.chat("collector", dept="SCJGJ")
    asked = await harness.say(collector, "/unbind")
    assert "确定要解除绑定吗" in texts(asked) and "部门：安康市市场监督管理局" in texts(asked)
    assert asked[-1].buttons == [["确认解除绑定", "保持绑定"]]
    assert await role_of(harness, collector.chat.id) == "collector"  # asking changed nothing
    kept = await harness.say(collector, "#2")
    assert "绑定保持不变" in texts(kept) and await role_of(harness, collector.chat.id) == "collector"
    # The same question's other button, pressed after it was answered: stale, nothing happens.
    stale = await harness.say(collector, "#1")
    assert "已失效" in texts(stale) and await role_of(harness, collector.chat.id) == "collector"

    await harness.say(collector, "/unbind")
    done = await harness.say(collector, "#1")
    assert "已解除绑定" in texts(done) and await role_of(harness, collector.chat.id) == "public"
    assert "没有需要解除的绑定" in texts(await harness.say(collector, "/unbind"))


async def test_unbind_presses_forged_expired_or_after_a_change_act_on_nothing(harness: BotHarness) -> None:
    official = await harness.chat("official", dept="SCJGJ")
    assert "确定要解除绑定吗" in texts(await harness.say(official, "/unbind"))
    for n, data in enumerate(["ub:yes", "ub", "ub:ok:1"], start=95_000):  # forged data
        assert UNKNOWN_BUTTON in await _press(harness, official, data, n), data
    assert await role_of(harness, official.chat.id) == "official"

    # Timed out: the confirmation is gone, the binding stays.
    async with harness.db.transaction() as s:
        await s.execute(update(Conversation).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    late = await harness.say(official, "#1")
    assert "绑定保持不变" in texts(late) and await role_of(harness, official.chat.id) == "official"

    # The binding changed between the question and the press (moved to another department).
    await harness.say(official, "/unbind")
    async with harness.db.transaction() as s:
        other = await s.scalar(select(Department.id).where(Department.code == "FGW"))
        await s.execute(update(Account).where(Account.telegram_user_id == official.chat.id).values(department_id=other))
    changed = await harness.say(official, "#1")
    assert BINDING_CHANGED in texts(changed) and await role_of(harness, official.chat.id) == "official"
