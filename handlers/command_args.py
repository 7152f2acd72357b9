"""What each command takes after its name, checked once before any command runs.

Decided per command (the table below) and enforced for all of them in one place, ahead of the
flow dispatcher, so a refused command neither runs nor ends an open flow:

- A command that takes nothing says so when given something, and does nothing: `/unbind 900001`
  typed by an admin used to unbind the admin at once.
- A command that takes a fixed number of words (`/bind 绑定码`) refuses more, with its usage.
- The text after any command is held to the question limit (300 characters,
  handlers.query.MAX_QUESTION_CHARS): `/report` followed by 5,000 characters is refused at once,
  never looked up and never echoed back.
- `/start` may carry a deep-link payload (t.me/<bot>?start=…) and `/cancel` must always work:
  both ignore what follows them.

Commands not in the table are not this module's business (the last handler answers an unknown one).
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler, filters

from handlers.common import reply
from handlers.query import MAX_QUESTION_CHARS

ARGS_GROUP = -5  # after the guards (-20, -10), before the declaration's probe (-2) and the flows (-1)


@dataclass(frozen=True)
class Takes:
    """`words`: the most words the command takes (None: free text up to the question limit; -1: any
    text, ignored); `usage`: said with a refusal."""

    words: int | None
    usage: str = ""


NOTHING = Takes(0)
TEXT = Takes(None)
IGNORED = Takes(-1)

COMMANDS: dict[str, Takes] = {
    "start": IGNORED,  # a deep-link payload
    "cancel": IGNORED,  # cancelling always works
    "help": NOTHING,
    "whoami": NOTHING,
    "unbind": Takes(0, "/unbind 只解除您本人的绑定，不带任何内容；停用他人的账号请用 /deactivate 用户ID。"),
    "mydeclarations": NOTHING,
    "declare": NOTHING,
    "objection": NOTHING,
    "repair": NOTHING,
    "listings": NOTHING,
    "objections": NOTHING,
    "repairs": NOTHING,
    "mytasks": NOTHING,
    "overdue": NOTHING,
    "stats": NOTHING,
    "undelivered": NOTHING,
    "watchlist": NOTHING,
    "risklist": NOTHING,
    "documents": NOTHING,
    "masks": NOTHING,
    "mask": TEXT,  # USCC, basis, court, ruling number, dates: handlers/masking.py checks the words
    "unmask": TEXT,  # id, how it ended, reason
    "bind": Takes(1, "用法：/bind 绑定码（例如 /bind ABCDE-FGHJK）"),
    "deactivate": Takes(1, "用法：/deactivate 用户ID"),
    "activate": Takes(1, "用法：/activate 用户ID"),
    "ontime": Takes(1, "用法：/ontime 或 /ontime 2026-10"),
    "grades": Takes(1, "用法：/grades（按区县）、/grades 行业、/grades 变化"),
    # Free text: names, codes, dates, categories, receipt numbers.
    "report": TEXT,
    "propose": TEXT,
    "watch": TEXT,
    "due": TEXT,
    "linkcode": TEXT,
    "checkreport": TEXT,
    "verify": TEXT,
    "zero": TEXT,
    "duties": TEXT,
}


def takes_nothing_text(command: str, takes: Takes) -> str:
    if takes.usage:
        return f"本次未执行：{takes.usage}"
    return f"/{command} 不带任何内容，命令后面的文字没有使用，本次未执行。需要时请只发送 /{command}。"


def too_many_words_text(command: str, takes: Takes) -> str:
    return f"/{command} 后面的内容多于所需，本次未执行。{takes.usage}"


def too_long_text(command: str) -> str:
    return (f"/{command} 后面的内容太长（超过 {MAX_QUESTION_CHARS} 字），本次未执行。"
            "请只输入名称、统一社会信用代码或简短的内容。")


def refusal(command: str, rest: str) -> str | None:
    """Why `/command rest` must not run (Chinese), or None when it may."""
    takes = COMMANDS.get(command)
    if takes is None or takes.words == -1:
        return None
    words = rest.split()
    if takes.words == 0 and words:
        return takes_nothing_text(command, takes)
    if len(rest.strip()) > MAX_QUESTION_CHARS:
        return too_long_text(command)
    if takes.words is not None and len(words) > takes.words:
        return too_many_words_text(command, takes)
    return None


async def check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if update.callback_query is not None or message is None or not filters.COMMAND.check_update(update):
        return
    head, *rest = (message.text or "").split(maxsplit=1)
    command = head[1:].split("@")[0].lower()
    why = refusal(command, rest[0] if rest else "")
    if why is not None:
        await reply(update, why)
        raise ApplicationHandlerStop


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, check), group=ARGS_GROUP)
