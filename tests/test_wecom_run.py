"""`creditbot run` with [wecom] configured, and one Application serving Telegram and WeCom at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx

import bot.app as bot_app
from bot.callbacks.router import ChannelRouter, wecom_route
from bot.callbacks.run import serve
from bot.transport import InProcessBotAPI
from bot.wecom import store
from bot.wecom.api import WeComApp, WeComClient
from bot.wecom.transport import WeComBotAPI
from db.session import Database
from services.accounts import ensure_local_account
from services.settings import WeComSettings
from tests.conftest import settings_for
from tests.test_webhook import free_port
from tests.wecom_standin import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, StandIn


async def test_run_serves_the_callback_url_and_answers_through_the_api(db: Database) -> None:
    standin = StandIn()
    standin.start(free_port())
    port = free_port()
    wecom = WeComSettings(corp_id=CORP_ID, agent_id=AGENT_ID, secret=SECRET, token=TOKEN,
                          encoding_aes_key=AES_KEY, api_base_url=standin.url, port=port, path="/cb")
    settings = replace(settings_for(db), wecom=wecom)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    try:
        standin.callback_url = f"http://127.0.0.1:{port}/cb"
        for _ in range(200):  # until the server listens
            try:
                response = await standin.post_callback(standin.text_event("sun.jiu", "/help"))
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
        assert response.status_code == 200
        for _ in range(200):
            if standin.inbox("sun.jiu"):
                break
            await asyncio.sleep(0.05)
        assert standin.inbox("sun.jiu") and "/declare" in standin.inbox("sun.jiu")[0].text
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await standin.aclose()


async def test_one_application_serves_telegram_and_wecom_users(db: Database) -> None:
    standin = StandIn()
    standin.start(free_port())
    telegram = InProcessBotAPI()
    client = WeComClient(WeComApp(CORP_ID, AGENT_ID, SECRET, standin.url), db)
    app = bot_app.build_application(settings_for(db), ChannelRouter(telegram, wecom_route(WeComBotAPI(client))), db=db)
    try:
        async with app:
            wecom_user = await store.ptb_id_for(db, CORP_ID, "zhou.shi")
            await ensure_local_account(db, wecom_user, "public", None, None, "周")
            await app.bot.send_message(wecom_user, "企业微信用户的消息")
            await app.bot.send_message(31337, "Telegram 用户的消息")
    finally:
        await client.close()
        await standin.aclose()
    assert [d.text for d in standin.inbox("zhou.shi")] == ["企业微信用户的消息"]
    assert [(o.chat_id, o.text) for o in telegram.sent] == [(31337, "Telegram 用户的消息")]
