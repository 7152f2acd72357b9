"""Issue 23 on WeCom: what was acknowledged is handled (a burst on SQLite, a locked database, a crash
mid-way), callbacks outside the replay window are refused, and no body gets a 500 or a traceback."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import httpx
from sqlalchemy import event, select, text, update

from bot.callbacks import inbox
from bot.callbacks.crypto import signature
from db import migrate
from db.models import InboundEvent
from db.session import Database
from tests.test_query_flow import HUATAI, seed
from tests.wecom_harness import WeComHarness, open_harness, wecom
from tests.wecom_standin import AGENT_ID

__all__ = ["wecom"]


def _texts(out) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(d.text for d in out)


async def _post_signed(h: WeComHarness, body_xml: str, timestamp: str) -> httpx.Response:
    """A correctly signed and encrypted callback with this inner XML and timestamp."""
    crypto = h.standin.crypto
    sig, body = crypto.encrypted_envelope(body_xml, timestamp, "7", str(AGENT_ID))
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.post(h.replicas[0].url, params={"msg_signature": sig, "timestamp": timestamp, "nonce": "7"},
                                 content=body)


async def test_a_burst_on_sqlite_answers_every_acknowledged_message(db: Database) -> None:
    """200 signed callbacks from 20 members at once: every one acknowledged is answered, in each
    member's order (on main 8 of 200 were lost on SQLite: 'database is locked' after the 200)."""
    async for h in open_harness(db):
        await seed(db)
        await h.refresh()
        members = [await h.member("official", dept="SCJGJ") for _ in range(20)]
        h.standin.callback_url = h.replicas[0].url
        h.standin.member_limit = (10**6, 60.0)
        questions = ["/whoami", "华泰商贸", "/whoami", HUATAI] * 2 + ["/whoami", "华泰商贸"]
        events = [(m, h.standin.text_event(m, q)) for q in questions for m in members]
        responses = await asyncio.gather(*(h.standin.post_callback(e) for _m, e in events))
        acknowledged = [e for (_m, e), r in zip(events, responses, strict=True) if r.status_code == 200]
        assert len(acknowledged) == 200
        channel = h.replicas[0].channel
        assert channel is not None
        await channel.drain()
        for m in members:
            # One answer per question, none lost, in the member's order: W the role, C the card.
            got = [d.text for d in h.standin.inbox(m)]
            kinds = "".join("W" if "角色：办事人员" in t else "C" if "【安康市华泰商贸有限公司】" in t else "" for t in got)
            assert kinds == "WC" * 5, got
        async with db.transaction() as s:
            states = (await s.execute(select(InboundEvent.status, InboundEvent.payload))).all()
        assert len(states) == 200 and all(st == "done" and p is None for st, p in states)
        assert channel.worker.given_up == 0


async def test_a_locked_database_delays_the_answer_never_loses_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """While another process holds SQLite's write lock, a callback is stored once the lock allows (or
    refused with 503 for the platform to retry); a handler that meets a locked database is run again
    instead of apologising. Both are answered exactly once."""
    import sqlite3

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'locked.sqlite3'}")
    locked_once = {"audit": False}

    @event.listens_for(db.engine.sync_engine, "connect")
    def _short_wait(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=300")  # give up quickly, as after a long import's lock
        cursor.close()

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _locked_at_the_first_audit(conn, cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        # The database answers "locked" to the handler's first audit write, as SQLite does when
        # another connection keeps the lock past the busy timeout.
        if statement.startswith("INSERT INTO audit_entries") and not locked_once["audit"]:
            locked_once["audit"] = True
            raise sqlite3.OperationalError("database is locked")

    await migrate.upgrade(db)
    try:
        async for h in open_harness(db):
            await seed(db)
            await h.refresh()
            member = await h.member("official", dept="SCJGJ")
            h.standin.callback_url = h.replicas[0].url
            channel = h.replicas[0].channel
            assert channel is not None
            assert (await h.standin.post_callback(h.standin.text_event(member, "华泰商贸"))).status_code == 200
            await channel.drain()
            assert locked_once["audit"] and channel.worker.retried == 1
            blocker = Database(db.url)
            async with blocker.engine.connect() as conn:
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
                await conn.execute(text("DELETE FROM chat_subjects WHERE 0"))
                posted = asyncio.create_task(h.standin.post_callback(h.standin.text_event(member, HUATAI, msg_id=5151)))
                await asyncio.sleep(1.0)
                await conn.exec_driver_sql("COMMIT")
            await blocker.dispose()
            response = await posted
            if response.status_code == 503:  # not stored, not acknowledged: the platform retries
                response = await h.standin.post_callback(h.standin.text_event(member, HUATAI, msg_id=5151))
            assert response.status_code == 200
            await channel.drain()
            said = [d.text for d in h.standin.inbox(member)]
            assert sum("【安康市华泰商贸有限公司】" in t for t in said) == 2 and not any("抱歉" in t for t in said)
    finally:
        await db.dispose()


async def test_an_event_a_dead_replica_held_is_handled_by_another(db: Database) -> None:
    async for h in open_harness(db):
        member = await h.member("public")
        channel = h.replicas[0].channel
        assert channel is not None
        await channel.stop()  # this replica stops claiming; the "dead" one below claims instead
        fields = h.standin.text_event(member, "/whoami")
        assert await inbox.store(db, "wecom", [(f"msg:{fields['MsgId']}", member, fields)], channel.secret) == [True]
        [held] = await inbox.claim(db, "wecom", "dead-replica", dt.timedelta(seconds=60), channel.secret, 5)
        assert held.fields["Content"] == "/whoami"
        channel.start()
        await asyncio.sleep(0.3)
        assert h.standin.inbox(member) == []  # its claim is still live: nobody else handles it
        async with db.transaction() as s:  # ... until the dead replica's lease runs out
            await s.execute(update(InboundEvent).values(claimed_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        channel.worker.wake()
        await channel.drain()
        assert ["公众" in d.text for d in h.standin.inbox(member)] == [True]
        assert not await inbox.finish(db, held, "dead-replica")  # the late finisher changes nothing


async def test_callbacks_outside_the_replay_window_are_refused(wecom: WeComHarness, caplog) -> None:  # type: ignore[no-untyped-def]
    member = await wecom.member("public")
    inner = wecom.standin.text_event(member, "/whoami")
    xml = "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in inner.items()) + "</xml>"
    with caplog.at_level(logging.WARNING):
        dated_2020 = await _post_signed(wecom, xml, "1577836800")
        stale = await _post_signed(wecom, xml, str(int(time.time()) - 400))  # captured 400 s ago
        future = await _post_signed(wecom, xml, str(int(time.time()) + 400))
        fresh = await _post_signed(wecom, xml, str(int(time.time()) - 20))
        replay = await _post_signed(wecom, xml, str(int(time.time())))  # the same MsgId, in the window
    assert [r.status_code for r in (dated_2020, stale, future)] == [403, 403, 403]
    assert fresh.status_code == 200 and replay.status_code == 200
    await wecom.replicas[0].channel.drain()  # type: ignore[union-attr]
    assert len(wecom.standin.inbox(member)) == 1  # handled once
    assert sum("outside the replay window" in r.getMessage() for r in caplog.records) == 3


def test_dedupe_keys_outlive_the_replay_window() -> None:
    assert inbox.retention(300) == dt.timedelta(days=2)
    assert inbox.retention(3 * 86_400) == dt.timedelta(days=6)


async def test_hostile_bodies_get_400_or_403_and_a_log_line_never_500(wecom: WeComHarness, caplog) -> None:  # type: ignore[no-untyped-def]
    crypto = wecom.standin.crypto
    ts = str(int(time.time()))
    good_sig, good_body = crypto.encrypted_envelope("<xml><MsgType>text</MsgType></xml>", ts, "1", str(AGENT_ID))
    encrypted = good_body.decode().split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    gbk = '<?xml version="1.0" encoding="gbk"?><xml><Encrypt>中文</Encrypt></xml>'.encode("gbk")
    bodies = {
        "gbk": (gbk, 400),
        "gbk single quotes": (b"<?xml version='1.0' encoding='GB2312'?><xml><Encrypt>x</Encrypt></xml>", 400),
        "utf-16": ('<?xml version="1.0" encoding="utf-16"?><xml/>'.encode("utf-16"), 400),
        "dtd": (b'<!DOCTYPE xml SYSTEM "http://example.com/x.dtd"><xml><Encrypt>x</Encrypt></xml>', 400),
        "bomb": (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
                 b"<xml><Encrypt>&b;</Encrypt></xml>", 400),
        "xxe": (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>', 400),
        "wrong root": (f"<message><Encrypt>{encrypted}</Encrypt></message>".encode(), 400),
        "no encrypt": (b"<xml><ToUserName>x</ToUserName></xml>", 400),
        "truncated": (good_body[:40], 400),
        "empty": (b"", 400),
        "not xml": (b"\xff\xfe\x00garbage", 400),
        "garbage ciphertext": (b"<xml><Encrypt>QUJD</Encrypt></xml>", 403),  # signature checked first
    }
    async with httpx.AsyncClient(timeout=5) as client:
        for name, (body, status) in bodies.items():
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                params = {"msg_signature": good_sig, "timestamp": ts, "nonce": "1"}
                response = await client.post(wecom.replicas[0].url, params=params, content=body)
            assert response.status_code == status, name
            lines = [r for r in caplog.records if "callback refused" in r.getMessage()]
            assert len(lines) == 1 and not any(r.exc_info for r in caplog.records), name
        # A ciphertext that passes the signature but does not decrypt to the layout: 400, not 500.
        bogus = "QUJDREVGR0hJSktMTU5PUA=="
        sig = signature(crypto.token, ts, "2", bogus)
        response = await client.post(wecom.replicas[0].url, params={"msg_signature": sig, "timestamp": ts, "nonce": "2"},
                                     content=f"<xml><Encrypt>{bogus}</Encrypt></xml>".encode())
        assert response.status_code == 400
    assert wecom.standin.delivered == []


async def test_an_event_that_keeps_failing_is_retried_then_given_up_with_an_apology(wecom: WeComHarness) -> None:
    member = await wecom.member("collector", dept="SCJGJ")
    channel = wecom.replicas[0].channel
    assert channel is not None
    channel.worker.max_attempts = 2
    wecom.standin.fail_next("media/get", 40007)  # the file cannot be fetched, twice
    wecom.standin.fail_next("media/get", 40007)
    out = await wecom.post(wecom.standin.media_event(member, "file", b"a,b\n1,2\n", "data.csv"))
    assert [d.text for d in out] == ["抱歉，系统处理您的请求时出现问题，已记录下来。请稍后再试，或发送 /help 查看用法。"]
    assert (channel.worker.retried, channel.worker.given_up) == (1, 1)
    async with wecom.db.transaction() as s:
        [(status, payload, error)] = (await s.execute(
            select(InboundEvent.status, InboundEvent.payload, InboundEvent.last_error))).all()
    assert (status, payload, error) == ("failed", None, "WeComError")
