"""The webhook channel: PTB's own server on 127.0.0.1 takes real Update JSON and the reply goes out;
webhook mode never starts without a secret Telegram would accept, and a forged post is refused."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from telegram import Bot, Chat, Message, MessageEntity, Update, User
from telegram.error import BadRequest, Conflict, RetryAfter
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

import bot.app as bot_app
from bot import telegram_run
from bot.cli import main
from bot.logging_setup import PrivacyFilter
from bot.telegram_run import webhook_options
from bot.transport import InProcessBotAPI
from db.session import Database
from services.accounts import ensure_local_account
from services.database_setup import prepare_database
from services.settings import ConfigError, TelegramSettings, load_settings
from tests.conftest import settings_for

SECRET = "s3cret-token_for-tests"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"  # the shape of a token; never sent anywhere


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_update(update_id: int, user_id: int = 31337, text: str = "/start") -> dict[str, object]:
    user = User(id=user_id, first_name="李", is_bot=False)
    message = Message(
        message_id=update_id,
        date=dt.datetime.now(dt.UTC),
        chat=Chat(id=user_id, type=Chat.PRIVATE),
        from_user=user,
        text=text,
        entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, len(text.split()[0]))],
    )
    return Update(update_id, message=message).to_dict()


async def test_webhook_round_trip(db: Database) -> None:
    transport = InProcessBotAPI()
    app = bot_app.build_application(settings_for(db), transport, db=db)
    port = free_port()
    async with app:
        await bot_app.start_services(app)
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url="https://bot.example.org/telegram",
            secret_token=SECRET,
        )
        await app.start()
        try:
            assert transport.webhook_url == "https://bot.example.org/telegram"
            url = f"http://127.0.0.1:{port}/telegram"
            async with httpx.AsyncClient(timeout=10) as client:
                denied = await client.post(
                    url,
                    content=json.dumps(start_update(1)),
                    headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
                assert denied.status_code == 403
                accepted = await client.post(
                    url,
                    content=json.dumps(start_update(2)),
                    headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                assert accepted.status_code == 200
            for _ in range(100):
                if any(o.method == "sendMessage" for o in transport.sent):
                    break
                await asyncio.sleep(0.05)
            replies = [o for o in transport.sent if o.method == "sendMessage"]
            assert len(replies) == 1, "only the update with the right secret is handled"
            assert replies[0].chat_id == 31337
            assert "信用通" in (replies[0].text or "")
        finally:
            await app.updater.stop()
            await app.stop()


# -- the secret token: refused at start-up as Telegram's setWebhook would refuse it ---------------------
# https://core.telegram.org/bots/api#setwebhook: "1-256 characters. Only characters A-Z, a-z, 0-9, _
# and - are allowed"; the Bot API server answers "secret token is too long" / "secret token contains
# unallowed characters" (tdlib/telegram-bot-api, Client.cpp).

GOOD_SECRETS = ["a", "A-z_0-9", "x" * 256]
BAD_SECRETS = ["abc+/=:", "x" * 257, "密钥abc", "with space", "a.b"]


def webhook_config(tmp_path: Path, secret: str | None, url: str = "https://bot.example.org/telegram") -> Path:
    line = "" if secret is None else f'secret_token = "{secret}"\n'
    path = tmp_path / "config.toml"
    path.write_text(f'[telegram]\nmode = "webhook"\nwebhook_url = "{url}"\n{line}', encoding="utf-8")
    return path


@pytest.mark.parametrize("secret", GOOD_SECRETS)
def test_secrets_telegram_accepts_pass_the_config_check(tmp_path: Path, secret: str) -> None:
    settings = load_settings(webhook_config(tmp_path, secret), env={"CREDITBOT_TELEGRAM_TOKEN": TOKEN})
    assert webhook_options(settings.telegram)["secret_token"] == secret


@pytest.mark.parametrize("secret", [None, "", *BAD_SECRETS])
def test_webhook_mode_refuses_a_missing_or_malformed_secret(tmp_path: Path, secret: str | None) -> None:
    with pytest.raises(ConfigError, match=r"telegram\.secret_token") as info:
        load_settings(webhook_config(tmp_path, secret), env={"CREDITBOT_TELEGRAM_TOKEN": TOKEN})
    assert "\n" not in str(info.value)
    # Whatever path settings come by, webhook mode does not start without one.
    with pytest.raises(ConfigError, match=r"telegram\.secret_token"):
        webhook_options(TelegramSettings(mode="webhook", webhook_url="https://bot.example.org/telegram",
                                         secret_token=secret or ""))


@pytest.mark.parametrize(
    "url", ["http://bot.example.org/telegram", "https://bot.example.org:8080/telegram", "bot.example.org/telegram"]
)
def test_webhook_urls_telegram_refuses_are_refused_at_start(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match=r"telegram\.webhook_url"):
        load_settings(webhook_config(tmp_path, "s3cret", url), env={"CREDITBOT_TELEGRAM_TOKEN": TOKEN})


def test_run_without_a_valid_secret_is_one_chinese_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITBOT_TELEGRAM_TOKEN", TOKEN)
    assert main(["--config", str(webhook_config(tmp_path, None)), "run"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("配置错误：telegram.secret_token 在 webhook 模式下必须填写")
    # The example, as an operator meets it: a process, its exit code and its terminal.
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(webhook_config(tmp_path, "abc+/=:")), "run"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}, "CREDITBOT_TELEGRAM_TOKEN": TOKEN},
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("配置错误：telegram.secret_token 只能由"), lines
    assert "Traceback" not in result.stderr + result.stdout and TOKEN not in result.stderr


# -- the in-process Bot API refuses in setWebhook what Telegram refuses --------------------------------


@pytest.mark.parametrize(
    ("params", "code", "description"),
    [
        ({"url": "https://bot.example.org/t", "secret_token": "abc+/=:"}, 400,
         "Bad Request: secret token contains unallowed characters"),
        ({"url": "https://bot.example.org/t", "secret_token": "x" * 257}, 400, "Bad Request: secret token is too long"),
        ({"url": "http://bot.example.org/t"}, 400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
        ({"url": "https://bot.example.org:8080/t"}, 400,
         "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"),
        ({"url": "ftp://bot.example.org/t"}, 400, "Bad Request: invalid webhook URL specified"),
        ({"url": "https://127.0.0.1/t"}, 400, "Bad Request: bad webhook: IP address 127.0.0.1 is reserved"),
        ({"url": "https://192.168.1.20:8443/t"}, 400, "Bad Request: bad webhook: IP address 192.168.1.20 is reserved"),
        ({"url": "https://localhost/t"}, 400, "Bad Request: bad webhook: IP address 127.0.0.1 is reserved"),
        ({"url": "https://bot.example.invalid/t"}, 400,
         "Bad Request: bad webhook: Failed to resolve host: Name or service not known"),
    ],
)
async def test_set_webhook_refusals_have_telegrams_shape(params: dict[str, str], code: int, description: str) -> None:
    transport = InProcessBotAPI()
    status, body = await transport.do_request(f"https://api.telegram.org/bot{TOKEN}/setWebhook", "POST",
                                              RequestData([RequestParameter(k, v, []) for k, v in params.items()]))
    assert status == code
    assert json.loads(body) == {"ok": False, "error_code": code, "description": description}
    assert transport.webhook_url is None


async def test_set_webhook_accepts_what_telegram_accepts_and_limits_the_rate() -> None:
    transport = InProcessBotAPI()
    bot = Bot(TOKEN, request=transport, get_updates_request=transport)
    for url in ("https://bot.example.org/telegram", "https://203.0.114.7:8443/t", "bot.example.org:88/t"):
        transport._next_set_webhook = 0.0  # a second apart, as far as the stand-in can tell
        assert await bot.set_webhook(url, secret_token="x" * 256) is True
        assert transport.webhook_url == url and transport.webhook_secret == "x" * 256
    with pytest.raises(RetryAfter):  # a second new webhook within a second
        await bot.set_webhook("https://bot.example.org/other")
    with pytest.raises(Conflict, match="getUpdates"):
        await bot.get_updates()
    assert await bot.delete_webhook() is True and transport.webhook_url is None
    assert await bot.get_updates() == ()


async def test_a_webhook_telegram_refuses_ends_run_with_one_line(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    """A refusal only Telegram can make (a reserved address): exit code 2, one Chinese line."""
    settings = replace(settings_for(db), telegram=TelegramSettings(
        token=TOKEN, mode="webhook", listen="127.0.0.1", port=free_port(),
        webhook_url="https://10.0.0.8/telegram", secret_token=SECRET,
    ))
    assert await telegram_run.serve(settings, InProcessBotAPI()) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Telegram 拒绝了机器人的启动请求：") and "is reserved" in err[0]


# -- a forged post: PTB's server answers 403 and nothing is acted on -----------------------------------


async def test_a_forged_post_claiming_to_be_an_official_is_refused(db: Database) -> None:
    """`creditbot run` in webhook mode (bot.telegram_run.serve, the command's own code path) on the
    in-process Bot API: posts without the secret, or with another, get 403 and the official hears
    nothing; Telegram's post with the secret is answered."""
    official = 31_337
    await prepare_database(db, "610900")
    await ensure_local_account(db, official, "official", "SCJGJ")
    port = free_port()
    settings = replace(settings_for(db), telegram=TelegramSettings(
        token=TOKEN, mode="webhook", listen="127.0.0.1", port=port,
        webhook_url="https://bot.example.org/telegram", secret_token=SECRET,
    ))
    transport, stop = InProcessBotAPI(), asyncio.Event()
    running = asyncio.create_task(telegram_run.serve(settings, transport, stop))
    try:
        url = f"http://127.0.0.1:{port}/telegram"
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(400):  # until the server listens (start-up builds the name index first)
                with contextlib.suppress(httpx.TransportError):
                    await client.get(url)
                    break
                await asyncio.sleep(0.05)
            assert transport.webhook_url == "https://bot.example.org/telegram" and transport.webhook_secret == SECRET
            body = json.dumps(start_update(10, official, "/whoami"))
            plain = {"Content-Type": "application/json"}
            assert (await client.post(url, content=body, headers=plain)).status_code == 403
            for wrong in ("", SECRET[:-1], SECRET + "x", SECRET.upper()):
                forged = await client.post(url, content=body, headers={**plain, SECRET_HEADER: wrong})
                assert forged.status_code == 403, wrong
            await asyncio.sleep(0.3)
            assert not [o for o in transport.sent if o.chat_id == official], "a forged update was acted on"
            real = await client.post(url, content=json.dumps(start_update(11, official, "/whoami")),
                                     headers={**plain, SECRET_HEADER: SECRET})
            assert real.status_code == 200
        for _ in range(100):
            if any(o.chat_id == official for o in transport.sent):
                break
            await asyncio.sleep(0.05)
        replies = [o.text or "" for o in transport.sent if o.chat_id == official]
        assert len(replies) == 1 and "角色：办事人员" in replies[0]
    finally:
        stop.set()
        assert await asyncio.wait_for(running, 30) == 0


def test_a_refusal_from_telegram_is_logged_without_a_traceback() -> None:
    """PTB logs a failed setWebhook with its traceback; it is Telegram's answer, not our bug."""
    try:
        raise BadRequest("bad webhook: IP address 10.0.0.8 is reserved")
    except BadRequest:
        record = logging.LogRecord("telegram.ext.Updater", logging.ERROR, __file__, 1, "Network Retry Loop (%s): Aborting.",
                                   ("Bootstrap Set Webhook",), sys.exc_info())
    assert PrivacyFilter().filter(record)
    shown = logging.Formatter("%(levelname)s %(message)s").format(record)
    assert "Traceback" not in shown and "\n" not in shown
    assert shown == ("ERROR Network Retry Loop (Bootstrap Set Webhook): Aborting. "
                     "(BadRequest: bad webhook: IP address 10.0.0.8 is reserved)")
