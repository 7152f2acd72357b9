"""The 服务号 channel's plumbing over real HTTP: server URL check, security mode, replay window,
repeats, numbered choices, the 48-hour window, tokens, limits, long texts, the menu."""

from __future__ import annotations

import logging
import time

import httpx
from sqlalchemy import func, select

from bot.callbacks.crypto import plain_signature
from bot.wechat import store
from bot.wechat.menu import menu_body
from bot.wechat.transport import TEXT_LIMIT_BYTES
from db.models import AuditEntry, WeChatUser
from tests.test_query_flow import FULL_ID, FULL_PHONE, HENGDA, HENGDA_HY, HUATAI, seed
from tests.wechat_harness import WeChatHarness, open_harness, texts, wechat
from tests.wechat_standin import APP_ID, TOKEN

__all__ = ["wechat"]


async def test_server_url_check_answers_the_echo_only_when_signed(wechat: WeChatHarness) -> None:
    ts, nonce = str(int(time.time())), "123456"
    params = {"signature": plain_signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "8876540"}
    async with httpx.AsyncClient(timeout=3) as client:
        ok = await client.get(wechat.replica.url, params=params)
        forged = await client.get(wechat.replica.url, params={**params, "nonce": "654321"})
    assert (ok.status_code, ok.text) == (200, "8876540")
    assert forged.status_code == 403 and "8876540" not in forged.text


async def test_subscribing_greets_and_a_search_answers_with_numbered_choices(wechat: WeChatHarness) -> None:
    await seed(wechat.db)
    await wechat.refresh()
    openid = "oNewUser000000000000000000001"
    greeting = await wechat.post(wechat.standin.event(openid, "subscribe"))
    assert "信用通" in texts(greeting)
    out = await wechat.say(openid, "恒达建材")
    assert "多个" in texts(out) and len(out[-1].choices) == 2
    chosen = await wechat.choose(openid, next(c for c in out[-1].choices if "汉阴" in c))
    assert texts(chosen).startswith("【汉阴县恒达建材有限公司】")
    # The same roles and masking as every door: a natural person is not found by name by the public,
    # and no ID or phone number reaches a WeChat user in clear.
    person = texts(await wechat.say(openid, "陈建国"))
    assert person == "没有找到与“陈建国”相符的主体。请核对名称，或输入统一社会信用代码查询。"
    everything = "\n".join(d.text for d in wechat.standin.delivered)
    assert not FULL_PHONE.search(everything)
    assert not FULL_ID.search(everything.replace(HENGDA, "").replace(HENGDA_HY, "").replace(HUATAI, ""))
    # A public account on first contact, stored once.
    async with wechat.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(WeChatUser)) == 1
    assert all(c.errcode == 0 for c in wechat.standin.calls)


async def test_a_number_is_a_press_only_of_the_latest_choices(wechat: WeChatHarness) -> None:
    await seed(wechat.db)
    await wechat.refresh()
    user = await wechat.user("public")
    as_text = texts(await wechat.say(user, "7"))  # no choices offered: an ordinary message
    assert "请告诉我要查询的企业名称" in as_text
    await wechat.say(user, "恒达建材")
    beyond = texts(await wechat.say(user, "9"))  # only 2 choices: a message "9", never a press
    assert beyond == as_text
    await wechat.say(user, "/whoami")  # a later message without choices clears them
    assert texts(await wechat.say(user, "1")) == as_text


async def test_plain_text_mode_replays_and_repeats_are_refused_or_dropped(wechat: WeChatHarness, caplog) -> None:  # type: ignore[no-untyped-def]
    user = await wechat.user("public")
    event = wechat.standin.text_event(user, "/whoami", msg_id=88001)
    first = await wechat.post(event)
    again = await wechat.post(event)  # WeChat's retry of a callback it thinks went unanswered
    assert "公众" in texts(first) and again == []
    crypto = wechat.standin.crypto
    inner = "<xml><ToUserName>gh</ToUserName><FromUserName>" + user + "</FromUserName><CreateTime>1</CreateTime>" \
            "<MsgType>text</MsgType><Content>/whoami</Content><MsgId>88002</MsgId></xml>"
    old = str(int(time.time()) - 3600)
    sig, body = crypto.encrypted_envelope(inner, old, "9")
    query = {"signature": plain_signature(TOKEN, old, "9"), "timestamp": old, "nonce": "9", "openid": user,
             "encrypt_type": "aes", "msg_signature": sig}
    async with httpx.AsyncClient(timeout=3) as client:
        with caplog.at_level(logging.WARNING):
            replayed = await client.post(wechat.replica.url, params=query, content=body)
            plain = await client.post(wechat.replica.url, params={**query, "encrypt_type": "raw"}, content=body)
            gbk = await client.post(wechat.replica.url, params=query,
                                    content=b'<?xml version="1.0" encoding="gbk"?><xml/>')
    assert (replayed.status_code, plain.status_code, gbk.status_code) == (403, 403, 400)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "replay window" in logged and "security mode" in logged and user not in logged


async def test_an_expired_or_replaced_token_is_fetched_again_once(wechat: WeChatHarness) -> None:
    user = await wechat.user("public")
    await wechat.say(user, "/whoami")
    for spoil in (wechat.standin.expire_tokens, wechat.standin.invalidate_tokens):
        spoil()
        assert "公众" in texts(await wechat.say(user, "/whoami"))
    sequence = [(c.path, c.errcode) for c in wechat.standin.calls if c.path in ("token", "message/custom/send")]
    assert sequence == [("token", 0), ("message/custom/send", 0),
                        ("message/custom/send", 42001), ("token", 0), ("message/custom/send", 0),
                        ("message/custom/send", 40001), ("token", 0), ("message/custom/send", 0)]


async def test_long_texts_are_split_within_the_byte_limit(wechat: WeChatHarness) -> None:
    user = await wechat.user("public")
    chat = await store.ptb_id_for(wechat.db, APP_ID, user)
    await wechat.say(user, "/whoami")  # the user wrote: the window is open
    text = "\n".join(f"第{i}条：安康市某某建材有限公司行政处罚记录，文号安市监处罚〔2026〕{i}号" for i in range(1, 90))
    assert len(text.encode()) > 3 * TEXT_LIMIT_BYTES
    before = len(wechat.standin.inbox(user))
    await wechat.app.bot.send_message(chat, text)
    pieces = [d.body["content"] for d in wechat.standin.inbox(user)[before:]]
    assert len(pieces) >= 4 and all(len(p.encode()) <= TEXT_LIMIT_BYTES for p in pieces)
    assert "\n".join(pieces) == text


async def test_outside_the_48_hour_window_a_notice_goes_as_a_template_with_a_link(db) -> None:  # type: ignore[no-untyped-def]
    from handlers.notify import delivery_line, send_claimed
    from services import notices

    for template in (True, False):
        async for h in open_harness(db, template=template):
            user = await h.user("enterprise")
            chat = await store.ptb_id_for(h.db, APP_ID, user)
            await h.say(user, "/whoami")
            h.standin.advance(49 * 3600)  # two days later the decision is made
            claimed = await notices.post(h.db, [chat], "【异议处理结果】您的异议已处理：更正。联系电话 13912345678", "objection_decided", "k")
            done = await send_claimed(h.app.bot, h.db, claimed)
            if not template:  # WeChat's refusal stands and the official is told the truth
                assert "未能送达" in delivery_line("该主体", done)
                assert [c.errcode for c in h.standin.calls_to("message/custom/send")][-1] == 45015
                continue
            assert "未能送达" not in delivery_line("该主体", done) and done.delivered == 1
            [notice] = [d for d in h.standin.inbox(user) if d.kind == "template"]
            assert notice.body["data"]["thing1"]["value"] == "异议处理结果"  # nothing personal on the lock screen
            assert "13912345678" not in str(notice.body)
            page = await h.fetch(notice.links[0], as_user=user)
            assert page.status_code == 200 and "您的异议已处理：更正" in page.text
            async with h.db.transaction() as s:
                actions = list((await s.scalars(select(AuditEntry.action))).all())
            assert "download_link_issued" in actions and "document_download" in actions


async def test_too_many_replies_since_the_user_wrote_go_as_a_notice(wechat: WeChatHarness) -> None:
    user = await wechat.user("public")
    chat = await store.ptb_id_for(wechat.db, APP_ID, user)
    await wechat.say(user, "/whoami")
    wechat.standin.replies_per_interaction = 3
    for i in range(4):
        await wechat.app.bot.send_message(chat, f"【提醒】第{i}条")
    kinds = [d.kind for d in wechat.standin.inbox(user)]
    assert kinds == ["text"] * 3 + ["template"] * 2  # the answer to /whoami counts too
    assert [c.errcode for c in wechat.standin.calls_to("message/custom/send")][-1] == 45047


async def test_a_used_up_quota_is_retried_later_not_refused(wechat: WeChatHarness) -> None:
    from handlers.notify import send_claimed
    from services import notices

    user = await wechat.user("enterprise")
    chat = await store.ptb_id_for(wechat.db, APP_ID, user)
    await wechat.say(user, "/whoami")
    wechat.standin.quota = 1  # the daily quota of message/custom/send is used up
    claimed = await notices.post(wechat.db, [chat], "【提醒】测试", "objection_decided", "k")
    done = await send_claimed(wechat.app.bot, wechat.db, claimed)
    assert done.retrying == 1 and wechat.standin.calls_to("message/custom/send")[-1].errcode == 45009


async def test_the_menu_is_within_the_platforms_limits(wechat: WeChatHarness) -> None:
    await wechat.replica.client.create_menu(menu_body())
    assert wechat.standin.menu == menu_body()
    tops = [b["name"] for b in menu_body()["button"]]
    assert tops == ["信用查询", "企业办事", "我的账号"]
    bad = {"button": [{"name": "这个菜单名字太长了", "type": "click", "key": "K"}]}
    import pytest

    from bot.wechat.api import WeChatError

    with pytest.raises(WeChatError) as refused:
        await wechat.replica.client.create_menu(bad)
    assert refused.value.errcode == 40018


async def test_menu_clicks_and_a_binding_qr_code_run_their_commands(wechat: WeChatHarness) -> None:
    import datetime as dt

    from services.accounts import create_invitation

    user = "oScanner00000000000000000001"
    wechat.standin.follow(user)
    who = await wechat.post(wechat.standin.event(user, "CLICK", "A_WHOAMI"))
    assert "公众" in texts(who)
    code = (await create_invitation(wechat.db, "official", "SCJGJ", valid_for=dt.timedelta(hours=1))).code
    bound = await wechat.post(wechat.standin.event(user, "SCAN", f"bind_{code}"))
    assert "办事人员" in texts(bound)
    unsupported = await wechat.post(wechat.standin.voice_event(user))
    assert "暂不支持语音" in texts(unsupported)


async def test_run_serves_the_server_url_and_publishes_the_menu(db) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    from dataclasses import replace

    from bot.callbacks.run import serve
    from services.settings import WeChatSettings
    from tests.conftest import settings_for
    from tests.test_webhook import free_port
    from tests.wechat_standin import AES_KEY, APP_SECRET, WeChatStandIn

    standin = WeChatStandIn()
    standin.start(free_port())
    port = free_port()
    base = settings_for(db)
    settings = replace(
        base, region=replace(base.region, public_url="https://credit.example.gov.cn"),
        wechat=WeChatSettings(app_id=APP_ID, app_secret=APP_SECRET, token=TOKEN, encoding_aes_key=AES_KEY,
                              api_base_url=standin.url, port=port, path="/wx"),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    try:
        standin.callback_url = f"http://127.0.0.1:{port}/wx"
        for _ in range(400):  # until the server listens
            try:
                response = await standin.post_callback(standin.text_event("oRunner0000000000000000000001", "/help"))
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
        assert response.status_code == 200 and response.text == "success"
        for _ in range(400):
            if standin.inbox("oRunner0000000000000000000001"):
                break
            await asyncio.sleep(0.05)
        assert "/declare" in standin.inbox("oRunner0000000000000000000001")[0].text
        assert standin.menu == menu_body()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await standin.aclose()
