"""What one card message costs the database (issue 27): statements and transactions per update.

Counted with SQLAlchemy's own events on the engine the bot uses, on SQLite and PostgreSQL, for a
plain name question and a code question from an official (the costliest ordinary card: grade, watch
flag and the 逢办必查 button). The figures are held as ceilings: a change that adds a round trip to
every message fails here, with the statements it ran. What the card shows is asserted alongside, so
a cheaper path that drops part of the answer fails too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event, func, select

from db.models import AuditEntry, ChatSubject
from db.session import Database
from services.accounts import set_active
from tests.conftest import BotHarness
from tests.test_query_flow import HENGDA, seed, texts

# Measured after issue 27 (before: 10 statements in 6 transactions for each card): one read outside
# any transaction (flow, redelivery check, account), then one transaction with the subject and its
# records (grade and watch flag joined), the audit row and the chat's current subject.
CARD_STATEMENTS = 4
CARD_UNITS = 2  # the read and the transaction (SQLAlchemy's "begin" event fires for both)
CARD_COMMITS = 1
CHOICE_STATEMENTS = 2  # the read, then the candidates' labels


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    begins: int = 0
    commits: int = 0


@contextmanager
def counting(db: Database) -> Iterator[Counted]:
    """Every statement the engine sends and every transaction it begins or commits while inside."""
    counted = Counted()
    engine = db.engine.sync_engine

    def statement(_conn, _cursor, sql, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        counted.statements.append(" ".join(sql.split())[:90])

    def begin(_conn) -> None:  # type: ignore[no-untyped-def]
        counted.begins += 1

    def commit(_conn) -> None:  # type: ignore[no-untyped-def]
        counted.commits += 1

    listeners = [("before_cursor_execute", statement), ("begin", begin), ("commit", commit)]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    try:
        yield counted
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)


async def audit_count(db: Database) -> int:
    async with db.transaction() as s:
        return await s.scalar(select(func.count()).select_from(AuditEntry)) or 0


async def test_a_card_costs_one_read_and_one_transaction(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    await harness.say(chat, "你好")  # first contact: the declaration filter's one-time reads are not a card's
    for question in ("查询 安康市恒达建材有限公司", HENGDA):
        before = await audit_count(harness.db)
        with counting(harness.db) as counted:
            out = await harness.say(chat, question)
        card = texts(out)
        assert "安康市恒达建材有限公司" in card and "〔2026〕11号" in card, card
        buttons = [label for o in out for row in o.buttons for label in row]
        assert "逢办必查：选择办理事项" in buttons and any("关注" in b for b in buttons)
        assert len(counted.statements) <= CARD_STATEMENTS, (question, counted.statements)
        assert counted.begins <= CARD_UNITS and counted.commits == CARD_COMMITS, (question, counted)
        assert await audit_count(harness.db) == before + 1  # still audited, in that one transaction
    async with harness.db.transaction() as s:
        assert await s.get(ChatSubject, (chat.chat.id, chat.user.id)) is not None


async def test_a_choice_costs_two_statements(harness: BotHarness) -> None:
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    await harness.say(chat, "你好")
    with counting(harness.db) as counted:
        out = await harness.say(chat, "恒达建材")  # two subjects carry the name: the bot asks which
    assert any(o.buttons for o in out)
    assert len(counted.statements) <= CHOICE_STATEMENTS, counted.statements
    assert counted.commits == 0  # nothing written


async def test_the_account_is_read_afresh_for_every_update(harness: BotHarness) -> None:
    """No cache between updates: an account another process deactivates sees the public card at
    its very next message (the read that replaced the account's own transaction is per update)."""
    await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    assert "〔2026〕12号" in texts(await harness.say(chat, HENGDA))  # unpublished: officials see it
    await set_active(harness.db, chat.user.id, False)  # as `creditbot admin` would, from another process
    card = texts(await harness.say(chat, HENGDA))
    assert "〔2026〕11号" in card and "〔2026〕12号" not in card
