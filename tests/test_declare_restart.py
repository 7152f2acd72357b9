"""The declaration survives what a chat bot meets in production: a restart mid-way (a second
Application on the same database continues), the same update delivered twice, and the timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.console import ConsoleChat
from rules.declarations import DeclarationSettings
from services.accounts import ensure_local_account
from tests.conftest import BotHarness, settings_for
from tests.test_declare_flow import LICENCE
from tests.test_declare_support import (
    HENGDA,
    JPEG,
    PDF,
    SettingsWithDeclarations,
    build,
    company,
    continue_chat,
    declarations,
    deliver,
    no_errors,
    photo_update,
    text_update,
    texts,
    write,
)


async def test_a_restart_mid_way_continues_where_the_user_was(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    await harness.say(owner, "/declare")
    await harness.say(owner, "#1")
    for value in LICENCE[:3]:
        await harness.say(owner, value)

    # The bot restarts: a new Application, nothing in memory, the same database.
    app, transport = await build(harness.db)
    try:
        again = continue_chat(owner, app, transport)
        out = texts(await again.handle_line("2024-03-01"))
        assert "有效期至" in out  # the fourth field was answered, the fifth is asked
        await again.handle_line("跳过")
        assert "已收到第 1 个附件" in texts(await again.handle_line(f"@{write(tmp_path, '证书.pdf', PDF)}"))
        summary = texts(await again.handle_line("#1"))
        assert "证照名称：建筑业企业资质证书" in summary and "证照编号：D261000001" in summary
        assert "信用承诺书" in texts(await again.handle_line("#1"))

        # Restart again, this time the user presses a button of the message the old process sent.
        app2, transport2 = await build(harness.db)
        try:
            third = continue_chat(again, app2, transport2)
            transport2.messages.update(transport.messages)  # the chat history is Telegram's, not ours
            transport2._message_ids = transport._message_ids  # and its message ids keep counting up
            assert "授权书" in texts(await third.handle_line("#1"))  # 我承诺
            done = texts(await third.handle_line("#1"))
            assert "受理编号" in done
        finally:
            await app2.shutdown()
        no_errors(transport)
    finally:
        await app.shutdown()
    [d] = await declarations(harness.db)
    assert d.status == "pending" and d.data["values"]["issued"] == "2024-03-01" and len(d.attachments["items"]) == 1
    no_errors(harness.transport)


async def test_the_same_update_twice_is_applied_once(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    start = text_update(owner, "/declare")
    from telegram import MessageEntity

    start.message._unfreeze()  # type: ignore[union-attr]
    start.message.entities = (MessageEntity(MessageEntity.BOT_COMMAND, 0, 8),)  # type: ignore[union-attr]
    assert "请选择申报类别" in texts(await deliver(owner, start))
    assert await deliver(owner, start) == []  # a redelivered /declare: no second draft, no reply
    await owner.handle_line("#1")
    name = text_update(owner, LICENCE[0])
    await deliver(owner, name)
    assert await deliver(owner, name) == []  # not taken as the answer to the next field
    for value in LICENCE[1:]:
        await owner.handle_line(value)
    photo = photo_update(owner, JPEG)
    assert "已收到第 1 个附件" in texts(await deliver(owner, photo))
    assert await deliver(owner, photo) == []
    await owner.handle_line(f"@{write(tmp_path, '证书.pdf', PDF)}")
    for press in ("#1", "#1", "#1"):
        await owner.handle_line(press)
    agree = text_update(owner, "同意")
    assert "受理编号" in texts(await deliver(owner, agree))
    assert await deliver(owner, agree) == []  # after the end as well: nothing reaches the query handler

    # The same update once more, delivered to a restarted bot.
    app, transport = await build(harness.db)
    try:
        again = continue_chat(owner, app, transport)
        assert await deliver(again, agree) == []
        assert await deliver(again, photo) == []
    finally:
        await app.shutdown()
    [d] = await declarations(harness.db)
    assert d.status == "pending" and len(d.attachments["items"]) == 2
    assert d.data["values"]["name"] == LICENCE[0] and d.data["values"]["issuer"] == LICENCE[1]
    no_errors(harness.transport)


async def test_an_abandoned_conversation_times_out_with_a_message(harness: BotHarness) -> None:
    await company(harness.db)
    settings = SettingsWithDeclarations(
        database=settings_for(harness.db).database, declarations=DeclarationSettings(timeout_seconds=1)
    )
    app, transport = await build(harness.db, settings)
    assert app.job_queue is not None
    await app.job_queue.start()
    try:
        await ensure_local_account(harness.db, 610001, "enterprise", None, HENGDA, "测试用户")
        chat = ConsoleChat(app, transport, 610001)
        assert "请选择申报类别" in texts(await chat.handle_line("/declare"))
        for _ in range(40):
            await asyncio.sleep(0.1)
            if any("超时作废" in (o.text or "") for o in transport.sent):
                break
        assert any(o.chat_id == 610001 and "超时作废" in (o.text or "") for o in transport.sent)
        assert [d.status for d in await declarations(harness.db)] == ["expired"]
        no_errors(transport)
    finally:
        await app.job_queue.stop(wait=False)
        await app.shutdown()
