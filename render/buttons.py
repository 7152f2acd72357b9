"""Button data: one typed spec per button family, instead of a hand-written regex in every handler.

Telegram hands back a button's `callback_data` untouched, so anyone can forge it. A `ButtonSpec`
says once what a family's data looks like — `prefix:field:field…` — and gives the three things a
conversation needs: `pack` (build the data when sending, checked against Telegram's 64-byte limit),
`pattern` (route every press of the family to its handler, malformed ones included) and `unpack`
(the typed values, or None for data that does not fit; it never raises). `pressed` answers a press
and unpacks it, telling the user in Chinese when the data is not what this bot sends.

Prefixes are unique and none is another's prefix followed by ":" (tests/test_buttons.py checks), so
every press reaches exactly one family.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from rules import lifecycle
from rules.declarations import CATEGORIES as DECLARATION_CATEGORIES
from rules.measures import MATTERS
from services.checks import FEEDBACK

# Rows of (label, callback_data): what a message's inline keyboard is before it becomes PTB objects.
Buttons = list[list[tuple[str, str]]]
CALLBACK_DATA_LIMIT = 64  # bytes, UTF-8: Telegram refuses a longer callback_data
UNKNOWN_BUTTON = "该按钮无法识别或已失效，请重新发送相应命令。"


@dataclass(frozen=True)
class Field:
    """One `:`-separated part: what it may look like (`regex`, no ":"), how it is read and written."""

    name: str
    regex: str
    read: Callable[[str], Any] = str
    write: Callable[[Any], str] = str


def number(name: str) -> Field:
    """A non-negative integer (a row id, a page): any number of digits, read as int."""
    return Field(name, r"\d+", int, str)


def choice(name: str, options: Iterable[str]) -> Field:
    """One of a fixed set of words (a decision, a matter key)."""
    words = sorted(options, key=len, reverse=True)
    return Field(name, "|".join(re.escape(w) for w in words))


def word(name: str) -> Field:
    """Free text without ":" (a category name, a department code)."""
    return Field(name, r"[^:]+")


def token(name: str, length: int = 32) -> Field:
    """A lower-case hex token (an upload id)."""
    return Field(name, f"[0-9a-f]{{{length}}}")


def optional(inner: Field) -> Field:
    """`inner`, or None written as "-"."""

    def read(text: str) -> Any:
        return None if text == "-" else inner.read(text)

    def write(value: Any) -> str:
        return "-" if value is None else inner.write(value)

    return Field(inner.name, f"-|{inner.regex}", read, write)


@dataclass(frozen=True)
class ButtonSpec:
    """A button family: `prefix` (may itself contain ":") and its fields in order."""

    prefix: str
    fields: tuple[Field, ...] = ()
    _full: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        body = "".join(f":({f.regex})" for f in self.fields)
        object.__setattr__(self, "_full", re.compile(re.escape(self.prefix) + body))

    @property
    def pattern(self) -> str:
        """The PTB `CallbackQueryHandler` pattern: the prefix, then ":" or the end. Loose on purpose,
        so a forged press of this family reaches its handler and gets an answer."""
        return f"^{re.escape(self.prefix)}(?::|$)"

    def pack(self, *values: Any) -> str:
        """The callback_data for `values` (one per field). Raises ValueError when a value does not fit
        its field or the data exceeds 64 bytes: a programming error, found by the tests."""
        if len(values) != len(self.fields):
            raise ValueError(f"{self.prefix}: {len(self.fields)} values expected, got {len(values)}")
        data = ":".join([self.prefix, *(f.write(v) for f, v in zip(self.fields, values, strict=True))])
        if self._full.fullmatch(data) is None:
            raise ValueError(f"{self.prefix}: a value does not fit its field")
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"{self.prefix}: callback data over {CALLBACK_DATA_LIMIT} bytes")
        return data

    def unpack(self, data: str | None) -> tuple[Any, ...] | None:
        """The field values of `data`, or None when it is not exactly this family's shape."""
        found = self._full.fullmatch(data or "")
        if found is None:
            return None
        return tuple(f.read(text) for f, text in zip(self.fields, found.groups(), strict=True))


def keyboard(buttons: Buttons | None) -> InlineKeyboardMarkup | None:
    """The inline keyboard for `buttons`, or None for none."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in buttons])


def family_pattern(*specs: ButtonSpec) -> str:
    """One pattern for a handler that serves several families."""
    return "^(?:" + "|".join(re.escape(s.prefix) for s in specs) + ")(?::|$)"


# What Telegram says to an answer it will not take: the press was answered already (a redelivery),
# or it waited longer than Telegram's answer window (a backlog after a restart). Nothing to do.
_ANSWER_REFUSED = ("query is too old", "query id is invalid")


async def answer_press(update: Update) -> None:
    """Answer a button press (Telegram shows a spinner until then), if the update is one: the one
    place presses are answered. An answer Telegram refuses as too old or answered already is
    harmless; the press still goes on. Other errors propagate."""
    cq = update.callback_query
    if cq is None:
        return
    try:
        await cq.answer()
    except BadRequest as exc:
        if not any(words in str(exc).lower() for words in _ANSWER_REFUSED):
            raise


async def pressed(update: Update, spec: ButtonSpec) -> tuple[Any, ...] | None:
    """Answer the button press (`answer_press`) and unpack its data; for data this bot never sends,
    say so in Chinese and return None."""
    cq = update.callback_query
    assert cq is not None
    await answer_press(update)
    values = spec.unpack(cq.data)
    if values is None and update.effective_chat is not None:
        await update.effective_chat.send_message(UNKNOWN_BUTTON)
    return values


YES_NO = ("yes", "no")

# -- 查询 and 逢办必查 (handlers/query.py, handlers/check.py) --------------------------------------------
PICK_SUBJECT = ButtonSpec("s", (number("subject"), optional(word("category")), optional(choice("matter", MATTERS))))
MORE_RECORDS = ButtonSpec("p", (number("subject"), number("page"), optional(word("category"))))
CHOOSE_MATTER = ButtonSpec("c", (number("subject"),))
MATTER = ButtonSpec("mt", (number("subject"), choice("matter", MATTERS)))
CHECK_FEEDBACK = ButtonSpec("fb", (number("check"), choice("feedback", FEEDBACK)))

# -- /report ------------------------------------------------------------------------------------------
REPORT_FOR = ButtonSpec("rpt", (number("subject"),))
# A subject's own report over 1-5 years (rules.report_sections).
REPORT_SPAN = ButtonSpec("rps", (number("subject"), Field("span_years", "[1-5]", int, str)))

# -- /propose -----------------------------------------------------------------------------------------
PROPOSE_SUBJECT = ButtonSpec("lp:s", (number("subject"),))
PROPOSE_LIST_TYPE = ButtonSpec("lp:t", (word("list_type"),))
PROPOSE_DEFAULT_PERIOD = ButtonSpec("lp:d")
PROPOSE_CONFIRM = ButtonSpec("lp:c", (choice("answer", ("ok", "no")),))

# -- /objection and /objections -----------------------------------------------------------------------
OBJECTION_RECORD = ButtonSpec("ob:r", (number("record"),))
OBJECTION_SUBMIT = ButtonSpec("ob:go")
OBJECTION_OPEN = ButtonSpec("od", (number("objection"),))
OBJECTION_FILES = ButtonSpec("oda", (number("objection"),))
OBJECTION_DECIDE = ButtonSpec("odd", (number("objection"), choice("decision", lifecycle.OBJECTION_DECISIONS)))

# -- /repair and /repairs -----------------------------------------------------------------------------
REPAIR_RECORD = ButtonSpec("rp:r", (number("record"),))
REPAIR_OBLIGATION = ButtonSpec("rp:ob", (choice("fulfilled", YES_NO),))
REPAIR_COMMIT = ButtonSpec("rp:commit")
REPAIR_DECIDE = ButtonSpec("rd", (number("request"), choice("decision", ("approve", "reject", "accept", "refuse"))))
DOCUMENT_GET = ButtonSpec("doc", (word("number"),))

# -- /verify ------------------------------------------------------------------------------------------
VERIFY_OPEN = ButtonSpec("dv:o", (number("declaration"),))
VERIFY_FILES = ButtonSpec("dv:a", (number("declaration"),))
VERIFY_DECIDE = ButtonSpec("dv:d", (number("declaration"), choice("decision", ("approve", "reject", "revoke"))))

# -- /declare -----------------------------------------------------------------------------------------
DECLARE_PATTERN = r"^dc:"  # every press under it reaches the declaration conversation, forged ones included
DECLARE_BACK = ButtonSpec("dc:back")
DECLARE_SUBJECT = ButtonSpec("dc:s", (number("subject"),))
DECLARE_CATEGORY = ButtonSpec("dc:c", (choice("category", DECLARATION_CATEGORIES),))
DECLARE_SKIP = ButtonSpec("dc:skip")
DECLARE_NO_CODE = ButtonSpec("dc:nocode")  # "没有授权码": the link proof ends with the how-to
DECLARE_FILES_DONE = ButtonSpec("dc:done")
DECLARE_CONFIRM = ButtonSpec("dc:ok")
DECLARE_COMMIT = ButtonSpec("dc:commit", (choice("accept", YES_NO),))
DECLARE_AUTHORISE = ButtonSpec("dc:auth", (choice("accept", YES_NO),))

# -- reporting: uploads, 本期无新增, duties, reminders, admin views -----------------------------------------
UPLOAD = ButtonSpec("up", (choice("action", ("ok", "no")), token("upload")))
ZERO = ButtonSpec("zero", (word("category"),))
DUTY = ButtonSpec("duty", (choice("action", ("add", "rm")), word("department"), word("category")))
REMINDER = ButtonSpec("rem", (choice("action", ("tasks", "zero", "mute")),))
ADMIN_OVERDUE = ButtonSpec("adm:overdue")
ADMIN_CHART = ButtonSpec("adm:chart", (Field("period", r"\d{4}-\d{2}"),))

# -- /unbind: confirm or keep the binding -------------------------------------------------------------
UNBIND = ButtonSpec("ub", (choice("answer", ("ok", "no")),))

# -- credit evaluation (/watch, /watchlist, /grades) --------------------------------------------------
WATCH = ButtonSpec("w", (number("subject"),))
UNWATCH = ButtonSpec("uw", (number("subject"),))
GRADES_VIEW = ButtonSpec("gr", (choice("view", ("county", "industry", "changes")),))

ALL: tuple[ButtonSpec, ...] = tuple(v for v in list(globals().values()) if isinstance(v, ButtonSpec))
