"""The local console channel: a person (or a program) chats with the real Application over stdin.

Each input line becomes a genuine Telegram Update (built from PTB objects, serialised and parsed
back exactly as a webhook would), so handlers, conversation states and keyboards run unchanged.
Input: plain text; `/cmd args`; `#N` presses the N-th button of the latest message with buttons;
`@PATH` sends that file as a document.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from telegram import CallbackQuery, Chat, Document, Message, MessageEntity, Update, User
from telegram.ext import Application

from bot.console_files import FileSaver
from bot.transport import InProcessBotAPI, Outgoing

# How long one input may keep background work going before the console moves on regardless.
SETTLE_SECONDS = 600.0
# `#N` presses a button; digits are ASCII or full-width (a phone keyboard's), never "²" or "①".
BUTTON_INPUT = re.compile(r"^\s*[#＃]\s*([0-9０-９]{1,3})\s*$")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


class ConsoleError(Exception):
    """An input line that cannot be delivered (no such button, unreadable file)."""


class ConsoleChat:
    """One user's private chat with the bot, driven line by line."""

    def __init__(self, app: Application, transport: InProcessBotAPI, user_id: int, first_name: str = "控制台用户") -> None:
        self.app = app
        self.transport = transport
        self.user = User(id=user_id, first_name=first_name, is_bot=False, language_code="zh-hans")
        self.chat = Chat(id=user_id, type=Chat.PRIVATE, first_name=first_name)
        # Update ids keep growing across restarts (they start from the clock, in milliseconds), as
        # Telegram's do: flows that drop a redelivered update by its id must not take a new one for an
        # old one. Message ids come from the transport: one sequence per chat, the bot's and the user's.
        self._update_ids = itertools.count(time.time_ns() // 1_000_000)

    async def _deliver(self, update: Update) -> None:
        # Round-trip through JSON: the Application sees what a webhook would hand it.
        parsed = Update.de_json(json.loads(json.dumps(update.to_dict())), self.app.bot)
        assert parsed is not None
        await self.app.process_update(parsed)

    def _message(self, **fields: Any) -> Message:
        return Message(
            message_id=self.transport.next_message_id(),
            date=dt.datetime.now(dt.UTC),
            chat=self.chat,
            from_user=self.user,
            **fields,
        )

    async def send_text(self, text: str) -> None:
        entities = None
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command.encode("utf-16-le")) // 2)]
        await self._deliver(Update(next(self._update_ids), message=self._message(text=text, entities=entities)))

    async def press(self, n: int) -> None:
        message = self.transport.latest_with_buttons(self.chat.id)
        if message is None:
            raise ConsoleError("没有可以点击的按钮")
        markup = message["reply_markup"]
        if "inline_keyboard" in markup:
            buttons = [b for row in markup["inline_keyboard"] for b in row]
            if not 1 <= n <= len(buttons):
                raise ConsoleError(f"没有第 {n} 个按钮（共 {len(buttons)} 个）")
            bot_message = Message.de_json(message, self.app.bot)
            query = CallbackQuery(
                id=f"{self.chat.id}:{next(self._update_ids)}",  # unique across chats, as Telegram's are
                from_user=self.user,
                chat_instance=f"console-{self.chat.id}",
                data=buttons[n - 1].get("callback_data"),
                message=bot_message,
            )
            await self._deliver(Update(next(self._update_ids), callback_query=query))
            return
        labels = [b if isinstance(b, str) else b["text"] for row in markup.get("keyboard", []) for b in row]
        if not 1 <= n <= len(labels):
            raise ConsoleError(f"没有第 {n} 个按钮（共 {len(labels)} 个）")
        await self.send_text(labels[n - 1])

    async def send_file(self, path: Path, caption: str | None = None) -> None:
        try:
            content = path.read_bytes()
        except OSError:
            raise ConsoleError(f"无法读取文件：{path}") from None
        info = self.transport.register_file(content, path.name)
        document = Document(
            file_id=info["file_id"],
            file_unique_id=info["file_unique_id"],
            file_name=info["file_name"],
            file_size=info["file_size"],
        )
        await self._deliver(Update(next(self._update_ids), message=self._message(document=document, caption=caption)))

    async def handle_line(self, line: str) -> list[Outgoing]:
        """Deliver one input line and wait until it is fully handled; returns what the bot did.

        Handlers registered with block=False (a large upload is checked in the background so other
        users stay served) run as tasks: the line counts as handled only when those have finished."""
        start = len(self.transport.sent)
        before = asyncio.all_tasks()
        line = line.rstrip("\r\n")
        button = BUTTON_INPUT.match(line)
        if button:
            await self.press(int(button[1].translate(FULL_WIDTH_DIGITS)))
        elif line.startswith("@") and len(line) > 1:
            await self.send_file(Path(line[1:].strip()).expanduser())
        elif line.strip():
            await self.send_text(line.strip())
        await _settle(before)
        return self.transport.sent[start:]


async def _settle(before: set[asyncio.Task[object]], limit: float = SETTLE_SECONDS) -> None:
    """Wait for every task started since `before` (and the tasks those start) to finish."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    me = asyncio.current_task()
    while True:
        pending = {t for t in asyncio.all_tasks() if t not in before and t is not me and not t.done()}
        remaining = deadline - loop.time()
        if not pending or remaining <= 0:
            return
        await asyncio.wait(pending, timeout=remaining)


def _print_pretty(out: Outgoing, stream: TextIO, saved: Path | None = None) -> None:
    from rich.console import Console
    from rich.panel import Panel

    console = Console(file=stream, highlight=False)
    if out.method == "answerCallbackQuery":
        console.print(f"[dim]（提示）{out.text}[/dim]")
        return
    body = out.text or ""
    if out.file_name:
        body = f"📎 文件：{out.file_name}" + (f"\n{body}" if body else "")
        if saved is not None:
            body += f"\n已保存到：{saved}"
    labels = [label for row in out.buttons for label in row]
    if labels:
        body += "\n\n" + "\n".join(f"  [{i}] {label}" for i, label in enumerate(labels, 1))
        body += "\n（输入 #序号 点击按钮）"
    title = "信用通" if out.method != "editMessageText" else "信用通（已更新）"
    console.print(Panel(body, title=title, title_align="left", border_style="cyan"))


async def run_console(
    chat: ConsoleChat,
    json_mode: bool,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    saver: FileSaver | None = None,
) -> None:
    """Read lines until end of input; every bot action is printed as it happens. With a `saver`,
    every document and photo shown is also written to disk and its path printed (`"saved"` in JSON)."""

    def keep(out: Outgoing) -> Path | None:
        if saver is None or out.content is None:
            return None
        try:
            return saver.save(out.file_name, out.content)
        except OSError as exc:
            message = f"文件未能保存：{exc.strerror or exc}"
            stdout.write((json.dumps({"error": message}, ensure_ascii=False) if json_mode else f"（{message}）") + "\n")
            return None

    def emit(out: Outgoing) -> None:
        if json_mode:
            line = out.as_json()
            if (saved := keep(out)) is not None:
                line["saved"] = str(saved)
            stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            stdout.flush()
        elif out.chat_id in (None, chat.chat.id):
            # Reminders the job queue sends to other accounts belong to their chats, not this one.
            _print_pretty(out, stdout, keep(out))

    chat.transport.listeners.append(emit)
    interactive = not json_mode and stdin.isatty()
    try:
        while True:
            if interactive:
                stdout.write("你> ")
                stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            try:
                await chat.handle_line(line)
            except ConsoleError as exc:
                if json_mode:
                    stdout.write(json.dumps({"error": str(exc)}, ensure_ascii=False) + "\n")
                else:
                    stdout.write(f"（{exc}）\n")
            if json_mode:
                stdout.write('{"idle": true}\n')
                stdout.flush()
    finally:
        chat.transport.listeners.remove(emit)
