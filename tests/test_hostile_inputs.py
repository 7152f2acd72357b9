"""Hostile and odd input reaches every command, every conversation step and every button family:
each gets an answer, never the generic apology (an exception that reached the error handler).

The inputs are generated with hypothesis (derandomised, so a failure reproduces) from the shapes
that broke the bot in the field: digits that pass `str.isdigit()` but not `int()` (², ①),
out-of-range dates and months, NUL and other control characters, right-to-left marks, emoji, very
long text, SQL and format-string lookalikes, and malformed data behind a known button prefix.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import CallbackQuery, Message, Update, User
from telegram.ext import CommandHandler

from bot.app import SORRY
from render.buttons import ALL as BUTTON_FAMILIES
from tests.conftest import BotHarness

IDS = count(7_000_000)
SEEDS = [
    "²", "①", "٣", "0001-01-01", "3000-12-31", "2026-13-45", "0001-01", "9999-99", "-1", "0", "00",
    "99999999999999999999999", "1e308", "\x00", "a\x00b", "\u202e反转\u202c", "😀" * 3, "　", " ", "",
    "'; DROP TABLE subjects; --", "%s%s%n", "{name}", "<b>x</b>", "安" * 5000, "9161" + "０" * 14,
    "91610900MA70XYTL0T", "610902199001011234", "近9年", "近0年", "行政处罚", "#1", "@x", "/start",
]
ODD_TEXT = st.one_of(
    st.sampled_from(SEEDS),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    st.builds(lambda a, b: f"{a} {b}", st.sampled_from(SEEDS), st.sampled_from(SEEDS)),
)


def typed(values: list[str]) -> list[str]:
    """What a person can type: the console reads a leading # or @ as a button press or a file."""
    return [v for v in values if not v.lstrip().startswith(("#", "@", "＃"))]


def samples(strategy: st.SearchStrategy[str], n: int) -> list[str]:
    """`n` values of `strategy`, the same on every run."""
    out: list[str] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None)
    @given(strategy)
    def collect(value: str) -> None:
        out.append(value)

    collect()
    return out[:n]


def commands(harness: BotHarness) -> list[str]:
    """Every command any handler of the Application answers, and /cancel (the flows' dispatcher's)."""
    found = {"cancel"}
    for group in harness.app.handlers.values():
        for handler in group:
            if isinstance(handler, CommandHandler):
                found.update(handler.commands)
    return sorted(found)


async def deliver(harness: BotHarness, update: Update) -> list:  # type: ignore[type-arg]
    start = len(harness.transport.sent)
    parsed = Update.de_json(json.loads(json.dumps(update.to_dict())), harness.app.bot)
    await harness.app.process_update(parsed)
    return harness.transport.sent[start:]


def no_apology(out: list, what: str) -> None:  # type: ignore[type-arg]
    assert all(SORRY not in (o.text or "") for o in out), what


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR, logger="bot.app")
    return caplog


@pytest.mark.parametrize("role", ["official", "public", "collector", "admin"])
async def test_every_command_with_odd_arguments(harness: BotHarness, errors: pytest.LogCaptureFixture, role: str) -> None:
    chat = await harness.chat(role, dept=None if role == "public" else "SCJGJ")
    args = typed(SEEDS + samples(ODD_TEXT, 8))  # every known troublemaker, then generated ones
    for command in commands(harness):
        for arg in args:
            # No /cancel between: a command ends whatever flow the previous one opened (and says so),
            # so each argument also meets a flow left half-done.
            out = await harness.say(chat, f"/{command} {arg}".strip())
            no_apology(out, f"/{command} {arg!r} as {role}")
        no_apology(await harness.say(chat, "/cancel"), f"/cancel after /{command} as {role}")
    assert not errors.records, errors.records[0].getMessage()[:300]


@pytest.mark.parametrize("start", ["/declare", "/objection", "/repair", "/propose", "/checkreport", "/report"])
async def test_every_conversation_step_with_odd_answers(harness: BotHarness, errors: pytest.LogCaptureFixture, start: str) -> None:
    chat = await harness.chat("official", dept="SCJGJ")
    owner = await harness.chat("enterprise")
    for who in (chat, owner):
        await harness.say(who, start)
        for answer in typed(SEEDS + samples(ODD_TEXT, 20)):
            out = await harness.say(who, answer)
            no_apology(out, f"{start} then {answer!r}")
            if harness.transport.latest_with_buttons(who.chat.id) is not None:
                no_apology(await harness.say(who, "#1"), f"{start}, {answer!r}, then the first button")
        await harness.say(who, "/cancel")
    assert not errors.records, errors.records[0].getMessage()[:300]


@pytest.mark.parametrize("role", ["official", "public"])
async def test_forged_presses_of_every_button_family(harness: BotHarness, errors: pytest.LogCaptureFixture, role: str) -> None:
    chat = await harness.chat(role, dept=None if role == "public" else "SCJGJ")
    bot_user = User(700000001, "信用通", is_bot=True)
    fields = samples(st.one_of(st.sampled_from(["", "-", "0", "²", "①", "99999999999999999999", "\x00", "x" * 70]),
                               st.text(max_size=8)), 6)
    for spec in BUTTON_FAMILIES:
        for value in fields:
            data = f"{spec.prefix}:{value}"[:64].encode()[:64].decode("utf-8", "ignore") or spec.prefix
            message = Message(next(IDS), dt.datetime.now(dt.UTC), chat.chat, from_user=bot_user, text="按钮")
            query = CallbackQuery(str(next(IDS)), chat.user, chat_instance="x", data=data, message=message)
            out = await deliver(harness, Update(next(IDS), callback_query=query))
            no_apology(out, f"{data!r} as {role}")
    assert not errors.records, errors.records[0].getMessage()[:300]


async def test_odd_free_text_as_every_role(harness: BotHarness, errors: pytest.LogCaptureFixture) -> None:
    for role in ("official", "public", "enterprise", "collector", "admin"):
        chat = await harness.chat(role, dept=None if role in ("public", "enterprise") else "SCJGJ")
        for text in typed(SEEDS + samples(ODD_TEXT, 30)):
            if not text.strip():
                continue
            out = await harness.say(chat, text)
            no_apology(out, f"{text!r} as {role}")
            assert out, f"no answer to {text!r} as {role}"
    assert not errors.records, errors.records[0].getMessage()[:300]


def test_samples_are_stable_and_odd() -> None:
    """Guard the generator: the same inputs every run, and the known troublemakers among them."""
    first, again = samples(ODD_TEXT, 30), samples(ODD_TEXT, 30)
    assert first == again and len(first) == 30
    assert any(any(ch in s for ch in "²①\x00") for s in samples(ODD_TEXT, 200))


