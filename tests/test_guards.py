"""Groups, channels and floods are stopped before any conversation sees them."""

from __future__ import annotations

import datetime as dt
import json
from itertools import count

from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bot.guards import PRIVATE_ONLY, TOO_FAST, FloodLimit
from tests.conftest import BotHarness

IDS = count(10_000)
GROUP = Chat(id=-100123, type=Chat.SUPERGROUP, title="某局办事群")


async def deliver(harness: BotHarness, update: Update) -> list:  # type: ignore[type-arg]
    start = len(harness.transport.sent)
    parsed = Update.de_json(json.loads(json.dumps(update.to_dict())), harness.app.bot)
    await harness.app.process_update(parsed)
    return harness.transport.sent[start:]


def group_message(user: User, text: str, **extra: object) -> Update:
    entities = None
    if text.startswith("/"):
        entities = [MessageEntity(MessageEntity.BOT_COMMAND, 0, len(text.split()[0]))]
    message = Message(next(IDS), dt.datetime.now(dt.UTC), GROUP, from_user=user, text=text, entities=entities, **extra)
    return Update(next(IDS), message=message)


async def test_an_official_in_a_group_gets_no_card(harness: BotHarness) -> None:
    official = await harness.chat("official", dept="SCJGJ")
    user = official.user
    out = await deliver(harness, group_message(user, "/report 安康市恒达建材有限公司"))
    assert [o.text for o in out] == [PRIVATE_ONLY] and out[0].chat_id == GROUP.id
    assert out[0].params.get("reply_markup")  # a button that opens the private chat
    # Plain group talk is not for the bot: no answer at all.
    assert await deliver(harness, group_message(user, "恒达建材 政府采购")) == []
    mention = group_message(user, "@xinyongtong_bot 恒达建材")
    mention.message._unfreeze()  # type: ignore[union-attr]
    mention.message.entities = (MessageEntity(MessageEntity.MENTION, 0, 16),)  # type: ignore[union-attr]
    assert [o.text for o in await deliver(harness, mention)] == [PRIVATE_ONLY]


async def test_channel_posts_anonymous_admins_and_edits_are_quiet(harness: BotHarness) -> None:
    channel = Chat(id=-100777, type=Chat.CHANNEL, title="信用安康")
    post = Update(next(IDS), channel_post=Message(next(IDS), dt.datetime.now(dt.UTC), channel, text="/start"))
    assert await deliver(harness, post) == []
    anonymous = User(1087968824, "Group", is_bot=True, username="GroupAnonymousBot")
    admin_post = group_message(anonymous, "/start", sender_chat=GROUP)
    assert await deliver(harness, admin_post) == []
    chat = await harness.chat("official")
    edited = Message(next(IDS), dt.datetime.now(dt.UTC), chat.chat, from_user=chat.user, text="恒达建材",
                     edit_date=dt.datetime.now(dt.UTC))
    assert await deliver(harness, Update(next(IDS), edited_message=edited)) == []
    assert not harness.transport.refused


async def test_a_button_pressed_in_a_group_is_answered_privately(harness: BotHarness) -> None:
    chat = await harness.chat("official")
    bot_message = Message(next(IDS), dt.datetime.now(dt.UTC), GROUP, from_user=User(700000001, "信用通", is_bot=True))
    query = CallbackQuery(str(next(IDS)), chat.user, chat_instance="g", data="s:1:-:-", message=bot_message)
    out = await deliver(harness, Update(next(IDS), callback_query=query))
    assert [(o.method, o.text) for o in out] == [("answerCallbackQuery", PRIVATE_ONLY)]


async def test_a_flood_is_answered_once_then_dropped(harness_default_limits: BotHarness) -> None:
    harness = harness_default_limits
    chat = await harness.chat("public")
    per_minute = harness.app.bot_data["services"].settings.limits.messages_per_minute
    answered = [await harness.say(chat, "/whoami") for _ in range(per_minute)]
    assert all(out and out[-1].text and out[-1].text.startswith("角色") for out in answered)
    warned = await harness.say(chat, "/whoami")
    assert len(warned) == 1 and (warned[0].text or "").startswith(TOO_FAST.split("{")[0])
    assert await harness.say(chat, "/whoami") == []  # further updates: dropped quietly
    other = await harness.chat("public")
    assert (await harness.say(other, "/whoami"))[-1].text.startswith("角色")  # others are not affected


def test_flood_window_slides() -> None:
    limit = FloodLimit(per_minute=3)
    assert [limit.wait_seconds(1, t) for t in (0.0, 1.0, 2.0)] == [0.0, 0.0, 0.0]
    assert limit.wait_seconds(1, 3.0) == 57.0
    assert limit.wait_seconds(1, 60.0) == 0.0  # the first one left the window
    assert limit.first_warning(1, 3.0) and not limit.first_warning(1, 30.0) and limit.first_warning(1, 64.0)


async def test_control_characters_are_answered_before_any_conversation(harness: BotHarness) -> None:
    from bot.guards import CONTROL_CHARACTERS

    admin = await harness.chat("admin", dept="SCJGJ")
    for text, shown in (("/duties \x00", "U+0000"), ("恒达\x00建材", "U+0000"), ("/due 2026-01-01\x1b", "U+001B"),
                        ("恒达建材\u202e司公限有", "U+202E"), ("/report \u2066恒达", "U+2066")):
        out = await harness.say(admin, text)
        assert len(out) == 1 and shown in out[0].text, text
        assert out[0].text.startswith("消息含有") and out[0].text.endswith(CONTROL_CHARACTERS.split("}")[-1])
    assert (await harness.say(admin, "/whoami"))[-1].text.startswith("角色")  # tabs and newlines are fine
