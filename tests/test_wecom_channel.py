"""The WeCom channel's plumbing over real HTTP: URL verification, refused callbacks, repeats, the
shared access token, platform errors, sending limits, long texts and two replicas on one database."""

from __future__ import annotations

import itertools
import logging

import httpx
from sqlalchemy import func, select

from bot.wecom import store
from bot.wecom.limits import MemberRateLimiter, split_bytes
from db.models import Check
from tests.test_query_flow import HUATAI, seed
from tests.wecom_harness import WeComHarness, open_harness, wecom
from tests.wecom_standin import CORP_ID

__all__ = ["wecom"]


def texts(out) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(d.text for d in out)


async def test_url_verification_answers_the_decrypted_echo(wecom: WeComHarness) -> None:
    crypto = wecom.standin.crypto
    echo = "6021928573712389012"
    encrypted = crypto.encrypt(echo.encode())
    from bot.callbacks.crypto import signature

    params = {"msg_signature": signature(crypto.token, "1764500000", "42", encrypted), "timestamp": "1764500000",
              "nonce": "42", "echostr": encrypted}
    async with httpx.AsyncClient(timeout=2) as client:
        ok = await client.get(wecom.replicas[0].url, params=params)
        bad = await client.get(wecom.replicas[0].url, params={**params, "nonce": "43"})
    assert ok.status_code == 200 and ok.text == echo
    assert bad.status_code == 403 and echo not in bad.text


async def test_bad_signature_is_refused_and_logged_without_content(wecom: WeComHarness, caplog) -> None:  # type: ignore[no-untyped-def]
    wecom.standin.callback_url = wecom.replicas[0].url
    event = wecom.standin.text_event("wang.wu", "查询 13912345678")
    with caplog.at_level(logging.INFO):
        response = await wecom.standin.post_callback(event, signature_ok=False)
        assert wecom.replicas[0].channel is not None
        await wecom.replicas[0].channel.drain()
    assert response.status_code == 403
    assert wecom.standin.delivered == [] and wecom.replicas[0].channel.worker.handled == 0
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused (403): bad signature" in logged
    assert "wang.wu" not in logged and "13912345678" not in logged and "Encrypt" not in logged


async def test_a_callback_for_another_corp_is_refused(wecom: WeComHarness) -> None:
    from bot.callbacks.crypto import CallbackCrypto

    wecom.standin.crypto = CallbackCrypto(wecom.standin.crypto.token, wecom.standin.crypto.encoding_aes_key, "wwother0000000000")
    wecom.standin.callback_url = wecom.replicas[0].url
    response = await wecom.standin.post_callback(wecom.standin.text_event("wang.wu", "你好"))
    assert response.status_code == 403 and wecom.standin.delivered == []


async def test_a_repeated_msgid_is_handled_once_even_on_another_replica(db) -> None:  # type: ignore[no-untyped-def]
    async for pair in open_harness(db, replicas=2):
        await seed(pair.db)
        await pair.refresh()
        event = pair.standin.text_event("zhao.liu", HUATAI, msg_id=4242)
        first = await pair.post(event, replica=0)
        again = await pair.post(event, replica=0)  # WeCom's retry of an unanswered callback
        elsewhere = await pair.post(event, replica=1)  # ... reaching the other replica
        assert "安康市华泰商贸有限公司" in texts(first)
        assert again == [] and elsewhere == []
        channels = [r.channel for r in pair.replicas]
        assert [c.duplicates for c in channels if c] == [1, 1]


async def test_two_replicas_take_turns_in_one_conversation(db) -> None:  # type: ignore[no-untyped-def]
    async for pair in open_harness(db, replicas=2):
        ids = await seed(pair.db)
        await pair.refresh()
        official = await pair.member("official", dept="SCJGJ")
        card = (await pair.say(official, "华泰商贸", replica=0))[-1]
        check_button = [label for label, _ in card.buttons].index("逢办必查：选择办理事项") + 1
        matters = await pair.press(official, check_button, replica=1, card=card)
        target = next(c for c in matters if any(label == "评优评先" for label, _ in c.buttons))
        answer = await pair.press(official, [label for label, _ in target.buttons].index("评优评先") + 1,
                                   replica=0, card=target)
        assert "逢办必查" in texts(answer)
        done = await pair.press(official, 1, replica=1, card=answer[-1])  # the first feedback button
        assert "已记录反馈" in texts(done)
        async with pair.db.transaction() as s:
            check = await s.scalar(select(Check).where(Check.subject_id == ids["huatai"]))
        assert check is not None and check.matter == "award" and check.feedback is not None
        # One access token for both replicas: the second read it from the database.
        assert len(pair.standin.calls_to("gettoken")) == 1
        assert all(c.errcode == 0 for c in pair.standin.calls)


async def test_an_expired_token_is_refreshed_once(wecom: WeComHarness) -> None:
    member = await wecom.member("public")
    before = texts(await wecom.say(member, "/help"))
    assert len(wecom.standin.calls_to("gettoken")) == 1
    wecom.standin.expire_tokens()
    assert texts(await wecom.say(member, "/help")) == before  # delivered all the same
    sequence = [(c.path, c.errcode) for c in wecom.standin.calls if c.path in ("gettoken", "message/send")]
    assert sequence[-3:] == [("message/send", 42001), ("gettoken", 0), ("message/send", 0)]
    assert len(wecom.standin.calls_to("gettoken")) == 2


async def test_platform_errors_are_logged_with_their_code_never_shown(wecom: WeComHarness, caplog) -> None:  # type: ignore[no-untyped-def]
    member = await wecom.member("public")
    wecom.standin.fail_next("message/send", 60020)  # "IP not on the trusted list"
    with caplog.at_level(logging.WARNING):
        out = await wecom.say(member, "/help")
    said = texts(out)
    assert "抱歉" in said and "60020" not in said and "errcode" not in said
    assert any("errcode 60020" in r.getMessage() for r in caplog.records)
    assert not any("access_token" in r.getMessage() for r in caplog.records)


async def test_long_text_is_split_within_the_byte_limit(wecom: WeComHarness) -> None:
    member = await wecom.member("public")
    ptb_id = await store.ptb_id_for(wecom.db, CORP_ID, member)
    lines = [f"第{i}条：安康市某某建材有限公司行政处罚记录，决定书文号安市监处罚〔2026〕{i}号" for i in range(1, 80)]
    text = "\n".join(lines)
    assert len(text.encode()) > 3 * 2048
    await wecom.app.bot.send_message(ptb_id, text)
    pieces = [d.body["content"] for d in wecom.standin.inbox(member)]
    assert len(pieces) >= 4 and all(len(p.encode()) <= 2048 for p in pieces)
    assert "\n".join(pieces) == text  # cut at line ends, nothing lost


def test_split_bytes_never_cuts_a_character() -> None:
    text = "信" * 1000  # 3,000 bytes on one line
    pieces = split_bytes(text, 2048)
    assert [len(p.encode()) for p in pieces] == [2046, 954] and "".join(pieces) == text


async def test_sending_limits_queue_instead_of_losing_messages(wecom: WeComHarness) -> None:
    member = await wecom.member("public")
    ptb_id = await store.ptb_id_for(wecom.db, CORP_ID, member)
    wecom.standin.member_limit = (3, 0.4)  # a tight platform limit to reach in a test
    client = wecom.replicas[0].client
    client.limiter = MemberRateLimiter(windows=((3, 0.45),))
    for i in range(7):
        await wecom.app.bot.send_message(ptb_id, f"提醒 {i}")
    assert [d.text for d in wecom.standin.inbox(member)] == [f"提醒 {i}" for i in range(7)]
    assert wecom.standin.dropped == [] and client.limiter.waited > 0
    # Without the queue the platform would silently have lost messages.
    client.limiter = MemberRateLimiter(windows=((1000, 1.0),))
    for i in range(7):
        await wecom.app.bot.send_message(ptb_id, f"再次提醒 {i}")
    assert len(wecom.standin.dropped) > 0


async def test_member_ids_are_stored_and_stable(wecom: WeComHarness) -> None:
    first = await store.ptb_id_for(wecom.db, CORP_ID, "chen.qi")
    assert await store.ptb_id_for(wecom.db, CORP_ID, "chen.qi") == first
    other = await store.ptb_id_for(wecom.db, CORP_ID, "chen.ba")
    assert other != first and store.is_wecom_chat(first) and not store.is_wecom_chat(900003)
    from db.models import WeComUser

    async with wecom.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(WeComUser)) == 2


async def test_one_members_messages_to_two_replicas_are_handled_in_turn(db) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    async for pair in open_harness(db, replicas=2):
        await seed(pair.db)
        await pair.refresh()
        official = await pair.member("official", dept="SCJGJ")
        events = [pair.standin.text_event(official, q) for q in ("华泰商贸", "恒达建材", HUATAI, "汉阴的恒达建材")]
        await asyncio.gather(*(pair.post(e, replica=i % 2) for i, e in enumerate(events)))
        turns = sorted((start, end) for r in pair.replicas if r.channel for _m, start, end in r.channel.worker.turns)
        assert len(turns) == 4
        assert all(prev_end <= start for (_s, prev_end), (start, _e) in itertools.pairwise(turns))
        assert len([d for d in pair.standin.inbox(official) if "【" in d.text]) >= 3


async def test_old_dedupe_keys_are_forgotten_recent_ones_kept(db) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from sqlalchemy import update

    from bot.callbacks import inbox
    from db.models import InboundEvent

    assert await inbox.store(db, "wecom", [(k, "m", {"MsgId": k}) for k in ("msg:1", "msg:2", "msg:3", "msg:1")], "k") \
        == [True, True, True, False]
    async with db.transaction() as s:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
        await s.execute(update(InboundEvent).where(InboundEvent.dedupe_key != "msg:2")
                        .values(received_at=old))
        await s.execute(update(InboundEvent).where(InboundEvent.dedupe_key == "msg:1").values(status="done"))
    # Only the settled old key goes; an old one never handled (msg:3) is kept until it is.
    assert await inbox.forget(db, "wecom", inbox.retention(300)) == 1
    assert await inbox.store(db, "wecom", [(k, "m", {}) for k in ("msg:1", "msg:2", "msg:3")], "k") == [True, False, False]


async def test_an_edit_after_a_press_updates_that_card_once(wecom: WeComHarness) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    member = await wecom.member("public")
    ptb_id = await store.ptb_id_for(wecom.db, CORP_ID, member)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("第一项", callback_data="x:1"),
                                      InlineKeyboardButton("第二项", callback_data="x:2")]])
    sent = await wecom.app.bot.send_message(ptb_id, "请选择\n两项中的一项", reply_markup=keyboard)
    card = wecom.standin.latest_card(member)
    assert card.text == "请选择\n两项中的一项" and card.buttons == [("第一项", "x:1"), ("第二项", "x:2")]
    click = wecom.standin.click_event(member, card, 2)
    await store.card_clicked(wecom.db, click["TaskId"], click["ResponseCode"])  # as the endpoint notes a press
    await wecom.app.bot.edit_message_text("已选择第二项", chat_id=ptb_id, message_id=sent.message_id)
    [update] = wecom.standin.updates
    assert update["template_card"]["task_id"] == card.body["task_id"]
    assert update["template_card"]["main_title"]["title"] == "已选择第二项"
    # The response code is used up: a second edit arrives as a new message, not as an update.
    await wecom.app.bot.edit_message_text("再次修改", chat_id=ptb_id, message_id=sent.message_id)
    assert len(wecom.standin.updates) == 1 and wecom.standin.inbox(member)[-1].text == "再次修改"
    assert all(c.errcode == 0 for c in wecom.standin.calls)


async def test_two_replicas_share_one_members_sending_window(db) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from bot.wecom.limits import SharedMemberRateLimiter

    async for pair in open_harness(db, replicas=2):
        member = await pair.member("public")
        ptb_id = await store.ptb_id_for(pair.db, CORP_ID, member)
        pair.standin.member_limit = (3, 0.5)

        async def burst(replicas: list, chat_id: int, tag: str) -> None:  # type: ignore[type-arg]
            await asyncio.gather(*(
                r.app.bot.send_message(chat_id, f"{tag} {i} · 副本{n}")
                for n, r in enumerate(replicas) for i in range(4)
            ))

        # Each replica counting for itself: together they exceed the member's limit; messages are lost.
        for r in pair.replicas:
            r.client.limiter = MemberRateLimiter(windows=((3, 0.6),))
        await burst(pair.replicas, ptb_id, "各自计数")
        assert pair.standin.dropped
        await asyncio.sleep(0.7)
        pair.standin.dropped.clear()
        # Counting in the database: the replicas wait for each other and nothing is lost.
        for r in pair.replicas:
            r.client.limiter = SharedMemberRateLimiter(pair.db, windows=((3, 0.6),))
        await burst(pair.replicas, ptb_id, "共同计数")
        assert pair.standin.dropped == []
        assert len([d for d in pair.standin.inbox(member) if d.text.startswith("共同计数")]) == 8


async def test_progress_edits_arrive_as_messages_without_flooding(wecom: WeComHarness) -> None:
    member = await wecom.member("collector", dept="SCJGJ")
    ptb_id = await store.ptb_id_for(wecom.db, CORP_ID, member)
    status = await wecom.app.bot.send_message(ptb_id, "正在导入……")
    for rows in (500, 1000, 1500, 2000):
        await wecom.app.bot.edit_message_text(f"正在导入……已处理 {rows} 行", chat_id=ptb_id, message_id=status.message_id)
    await wecom.app.bot.edit_message_text("导入结束。", chat_id=ptb_id, message_id=status.message_id)
    assert [d.text for d in wecom.standin.inbox(member)] == ["正在导入……", "正在导入……已处理 500 行", "导入结束。"]


async def _notice_after_errors(wecom: WeComHarness, errcode: int, times: int) -> tuple[str, str | None, str]:
    """A notice to a WeCom member whose message/send fails `times` times with `errcode`: its status,
    last error, and the line the official reads."""
    from handlers.notify import delivery_line, send_claimed
    from services import notices

    member = await wecom.member("enterprise")
    chat = await store.ptb_id_for(wecom.db, CORP_ID, member)
    for _ in range(times):
        wecom.standin.fail_next("message/send", errcode)
    claimed = await notices.post(wecom.db, [chat], "【异议处理结果】测试", "objection_decided", "k")
    done = await send_claimed(wecom.app.bot, wecom.db, claimed)
    async with wecom.db.transaction() as s:
        from db.models import Notice

        row = await s.get(Notice, claimed[0].id)
        assert row is not None
        return row.status, row.last_error, delivery_line("该主体", done)


async def test_a_busy_or_misconfigured_platform_is_retried_not_refused(wecom: WeComHarness) -> None:
    for errcode in (-1, 60020, 42001):
        status, error, line = await _notice_after_errors(wecom, errcode, 6)
        assert (status, error) == ("pending", "NetworkError"), errcode
        assert "自动重试" in line and "屏蔽" not in line, errcode


async def test_an_unreachable_member_is_refused_for_good(wecom: WeComHarness) -> None:
    status, error, line = await _notice_after_errors(wecom, 81013, 1)
    assert (status, error) == ("refused", "Forbidden")
    assert "未能送达该主体" in line
