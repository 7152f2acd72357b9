"""Helpers for the self-declaration tests (no tests here): wiring, subjects, files, photos, duplicates."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from telegram import Message, PhotoSize, Update
from telegram.ext import Application

import bot.app as bot_app
from bot.console import ConsoleChat
from bot.transport import InProcessBotAPI, Outgoing
from db.models import Declaration, Subject
from db.session import Database
from rules.codes import complete_ric
from rules.declarations import DeclarationSettings
from rules.masking import id_match_key, mask_id
from services.settings import Settings
from tests.conftest import BotHarness, settings_for
from tests.test_lifecycle_support import HENGDA, HUATAI, add_subject  # noqa: F401  (re-exported)

PERSON_ID = complete_ric("61090219850312123")
ESTABLISHED = dt.date(2015, 3, 1)
PDF = b"%PDF-1.4 test certificate\n%%EOF"
JPEG = b"\xff\xd8\xff\xe0 test photo"
SORRY = "抱歉，系统处理您的请求时出现问题"




@dataclass(frozen=True)
class SettingsWithDeclarations(Settings):
    """Settings carrying the `declarations` section the lead adds to bot/config.py."""

    declarations: DeclarationSettings = field(default_factory=DeclarationSettings)


async def build(database: Database, settings: Settings | None = None) -> tuple[Application, InProcessBotAPI]:
    """A second Application on the same database, exactly as the bot starts (a restart)."""
    transport = InProcessBotAPI()
    app = bot_app.build_application(settings or settings_for(database), transport, db=database)
    await app.initialize()
    await bot_app.start_services(app)
    return app, transport


async def company(db: Database, uscc: str = HENGDA, name: str = "安康市恒达建材有限公司") -> int:
    return await add_subject(db, name=name, uscc=uscc, established=ESTABLISHED)


async def person(db: Database, key: str, name: str = "李娜") -> int:
    return await add_subject(
        db, name=name, uscc=None, kind="自然人", id_hash=id_match_key(PERSON_ID, key), id_masked=mask_id(PERSON_ID)
    )


def texts(out: list[Outgoing]) -> str:
    return "\n".join(o.text or "" for o in out)


def last_buttons(out: list[Outgoing]) -> list[str]:
    for o in reversed(out):
        if o.buttons:
            return [label for row in o.buttons for label in row]
    return []


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def continue_chat(old: ConsoleChat, app: Application, transport: InProcessBotAPI) -> ConsoleChat:
    """The same Telegram chat seen by another Application: message ids keep counting up, as in Telegram."""
    transport._message_ids = old.transport._message_ids
    chat = ConsoleChat(app, transport, old.user.id)
    chat._update_ids = itertools.count(next(old._update_ids) + 1000)
    return chat


def photo_update(chat: ConsoleChat, content: bytes) -> Update:
    info = chat.transport.register_file(content, "photo.jpg")
    size = PhotoSize(info["file_id"], info["file_unique_id"], 800, 600, file_size=len(content))
    return Update(next(chat._update_ids), message=chat._message(photo=(size,)))


def text_update(chat: ConsoleChat, text: str) -> Update:
    return Update(next(chat._update_ids), message=chat._message(text=text))


async def deliver(chat: ConsoleChat, update: Update) -> list[Outgoing]:
    """Deliver one exact update (as a webhook would, JSON round trip); returns what the bot did."""
    start = len(chat.transport.sent)
    parsed = Update.de_json(json.loads(json.dumps(update.to_dict())), chat.app.bot)
    assert parsed is not None
    await chat.app.process_update(parsed)
    return chat.transport.sent[start:]


def message_of(update: Update) -> Message:
    assert update.message is not None
    return update.message


async def declarations(db: Database) -> list[Declaration]:
    async with db.transaction() as s:
        return list((await s.scalars(select(Declaration).order_by(Declaration.id))).all())


async def subject_id(db: Database, uscc: str) -> int:
    async with db.transaction() as s:
        found = await s.scalar(select(Subject.id).where(Subject.uscc == uscc))
        assert found is not None
        return int(found)


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def no_errors(transport: InProcessBotAPI) -> None:
    assert not [o for o in transport.sent if SORRY in (o.text or "")]


async def issue_code(harness: BotHarness, subject_code: str) -> str:
    """An official issues a 授权码 with /linkcode; the code is read from the reply only its issuer sees."""
    official = await harness.chat("official", dept="FGW")  # the credit department (市信用办)
    out = texts(await harness.say(official, f"/linkcode {subject_code}"))
    assert "签发授权码" in out, out
    return out.split("授权码：", 1)[1].split()[0]
