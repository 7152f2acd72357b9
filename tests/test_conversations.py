"""The conversation store (services/conversations.py) on SQLite and PostgreSQL: one open flow per chat
and user, steps applied only to the version they read, the end claimed once, expired flows swept
once across processes, typed text masked at rest."""

from __future__ import annotations

import datetime as dt

import pytest

from db.session import Database
from rules.codes import complete_ric
from services import conversations as c
from services.errors import CONFLICT, Refusal
from services.settings import ConfigError, load_settings
from tests.dbscan import clear_id_numbers, clear_mobile_numbers

NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
TEN = dt.timedelta(minutes=10)


async def test_start_replaces_the_open_flow_and_says_which(db: Database) -> None:
    first = await c.start(db, 1, 1, "objection", "pick", {"attachments": []}, NOW, TEN)
    assert first.ended is None and first.convo.version == 1
    second = await c.start(db, 1, 1, "propose", "subject", {}, NOW, TEN)
    assert second.ended is not None and second.ended.flow == "objection" and second.ended.step == "pick"
    assert (await c.current(db, 1, 1)) == second.convo
    other_user = await c.start(db, 1, 2, "feedback_note", "note", {"check_id": 5}, NOW, TEN)
    assert other_user.ended is None  # keyed by chat and user


async def test_a_step_applies_only_to_the_version_it_read(db: Database) -> None:
    convo = (await c.start(db, 1, 1, "objection", "reason", {"record_id": 3}, NOW, TEN)).convo
    moved = await c.advance(db, convo, "attach", {**convo.data, "reason": "甲"}, NOW, TEN, key="m1:5")
    assert moved.version == convo.version + 1 and (await c.look(db, 1, 1, "m1:5"))[1]
    with pytest.raises(Refusal) as lost:
        await c.advance(db, convo, "attach", {**convo.data, "reason": "乙"}, NOW, TEN)  # read before the move
    assert lost.value.code == CONFLICT and lost.value.reason == c.LOST_RACE
    assert (await c.current(db, 1, 1)).data["reason"] == "甲"  # type: ignore[union-attr]
    with pytest.raises(Refusal):
        await c.finish(db, convo, NOW)  # the stale version cannot claim the end either
    await c.finish(db, moved, NOW)
    assert await c.current(db, 1, 1) is None
    with pytest.raises(Refusal):
        await c.finish(db, moved, NOW)  # a second claim of the same end


async def test_applied_keys_outlive_the_flow_for_a_day(db: Database) -> None:
    """Review 2, F1/F5: every key that applied a step is known, not only the last one, and also
    after the flow ended, until the sweep forgets it after KEYS_KEPT."""
    convo = (await c.start(db, 1, 1, "objection", "reason", {}, NOW, TEN, key="m1:1")).convo
    convo = await c.advance(db, convo, "attach", {"reason": "甲"}, NOW, TEN, key="m1:2")
    convo = await c.advance(db, convo, "attach", {"reason": "甲", "n": 1}, NOW, TEN, key="m1:3")
    assert [(await c.look(db, 1, 1, k))[1] for k in ("m1:1", "m1:2", "m1:3", "m1:4")] == [True, True, True, False]
    assert not (await c.look(db, 1, 2, "m1:2"))[1]  # per chat and user
    await c.finish(db, convo, NOW, key="cq77")
    assert await c.look(db, 1, 1, "cq77") == (None, True)
    await c.start(db, 1, 1, "propose", "subject", {}, NOW, TEN)
    assert (await c.cancel(db, 1, 1, key="m1:9", now=NOW)) is not None and (await c.look(db, 1, 1, "m1:9"))[1]
    await c.expired(db, NOW + c.KEYS_KEPT - dt.timedelta(seconds=1))
    assert (await c.look(db, 1, 1, "m1:1"))[1]
    await c.expired(db, NOW + c.KEYS_KEPT + dt.timedelta(seconds=1))
    assert not (await c.look(db, 1, 1, "m1:1"))[1]


async def test_cancel_and_touch(db: Database) -> None:
    assert await c.cancel(db, 1, 1) is None
    await c.start(db, 1, 1, "declare", "draft", {}, NOW, TEN)
    assert await c.touch(db, 1, 1, "declare", NOW + TEN, TEN)
    assert (await c.current(db, 1, 1)).expires_at == NOW + 2 * TEN  # type: ignore[union-attr]
    assert not await c.touch(db, 1, 1, "objection", NOW, TEN)  # only the flow that is open
    assert await c.cancel(db, 1, 1, "objection") is None
    ended = await c.cancel(db, 1, 1)
    assert ended is not None and ended.flow == "declare"
    assert await c.current(db, 1, 1) is None


async def test_expired_flows_are_claimed_once_across_processes(db: Database) -> None:
    await c.start(db, 1, 1, "objection", "reason", {}, NOW, TEN)
    await c.start(db, 2, 2, "repair", "proof", {}, NOW, 3 * TEN)
    other = Database(db.url)  # a second process: its own engine
    try:
        assert await c.expired(db, NOW + TEN - dt.timedelta(seconds=1)) == []
        later = NOW + 2 * TEN
        found = await c.expired(db, later) + await c.expired(other, later)
        assert [(x.chat_id, x.flow) for x in found] == [(1, "objection")]
        assert (await c.current(other, 2, 2)) is not None
        stale = (await c.start(db, 3, 3, "propose", "basis", {}, NOW, TEN)).convo
        assert await c.claim(db, stale) and not await c.claim(other, stale)
    finally:
        await other.dispose()


async def test_typed_text_is_masked_at_rest(db: Database) -> None:
    person = complete_ric("61090219850512003")
    data = {
        "reason": f"处罚对象错误，我的身份证{person}，电话13912345678",
        "attachments": [{"file_id": "BQACAgUAAxkBAAIB13912345678", "name": "13912345678.pdf", "kind": "document"}],
    }
    convo = (await c.start(db, 1, 1, "objection", "attach", data, NOW, TEN)).convo
    assert convo.data["reason"] == f"处罚对象错误，我的身份证610902********{person[-4:]}，电话139****5678"
    assert convo.data["attachments"][0]["file_id"] == "BQACAgUAAxkBAAIB13912345678"  # Telegram's handle, untouched
    await c.advance(db, convo, "attach", {**data, "more": f"补充：{person}"}, NOW, TEN)
    assert await clear_id_numbers(db) == []
    assert await clear_mobile_numbers(db) == []


def test_timeouts_are_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text("[conversations]\nobjection_minutes = 45\nfeedback_minutes = 5\n", encoding="utf-8")
    settings = load_settings(path, env={})
    assert settings.conversations.objection_minutes == 45 and settings.conversations.review_minutes == 20
    path.write_text("[conversations]\nreview_minutes = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"conversations\.review_minutes"):
        load_settings(path, env={})
