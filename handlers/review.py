"""The department's review of a case, written once for every flow of the same shape.

Objections (/objections), credit repair (/repairs) and verification of self-declarations (/verify)
all go: queue → open a case (its details, its attachments) → press a decision → (for some
decisions an extra answer, e.g. the corrections) → the reason → the use case decides → the official
gets the outcome and the subject's chats are told. A `ReviewFlow` gives the words and the use-case
calls of one flow; `register` builds the same handlers and conversation from it.

The answers after the decision button are a flow of handlers/flow.py (named after the ReviewFlow,
`[conversations] review_minutes` to answer), so they survive a restart and reach any replica.
Role and ownership are checked again by the use cases; a refusal ends the decision unless its code
is one of the flow's `ask_again_on` (a missing reason: the official just types it again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import flow as flows
from handlers.common import caller, reply, resend_attachments, services
from handlers.notify import delivery_line, tell
from render.buttons import Buttons, ButtonSpec, pressed
from rules import lifecycle
from rules.roles import Viewer
from services.conversations import Convo
from services.errors import Refusal
from services.runtime import Services

EXTRA, REASON = "extra", "reason"


@dataclass(frozen=True)
class Decided:
    """What a decision says: `answer` to the official, `notice` to each of `chats` (the subject's,
    called `whom` when the official is told whether it arrived)."""

    answer: str
    chats: Sequence[int]
    notice: str
    whom: str = "该主体"


@dataclass(frozen=True)
class Files:
    """A case's attachments to send again, and whether each goes with its file name as caption."""

    items: Sequence[Mapping[str, Any]]
    with_names: bool = False


@dataclass(frozen=True)
class ExtraAnswer:
    """A decision that needs one more answer before the reason (an objection's corrections).

    `question(decision)` is the question, or None when this decision needs none; `read(text)`
    returns the value kept for `decide` or raises ValueError with a Chinese message (asked again);
    `then` asks for the reason."""

    question: Callable[[str], str | None]
    read: Callable[[str], Any]
    then: str


Queue = Callable[[ContextTypes.DEFAULT_TYPE, Viewer], Awaitable[tuple[str, Buttons]]]
# Why `decision` cannot be made on the case now (decided already, not the viewer's), or None.
Undecidable = Callable[[Services, Viewer, int, str], Awaitable[str | None]]
Show = Callable[[Services, Viewer, int], Awaitable[tuple[str, Buttons]]]
Fetch = Callable[[Services, Viewer, int], Awaitable[Files]]
Decide = Callable[[Services, Viewer, int, str, str, Any], Awaitable[Decided]]


@dataclass(frozen=True)
class ReviewFlow:
    """One review flow.

    - `label` names the decision flow to the official (「异议处理」);
    - `command` shows `queue` (text and buttons; the viewer's role is checked there or by its use case);
    - `decide_button` (fields: case id, decision) asks `ask(decision)`, then `decide(services, viewer,
      case id, decision, reason, extra)` runs; `extra` is the value of `extra_answer` or None;
    - optional `open_button` (field: case id) shows `show`, and `files_button` re-sends `files`;
    - optional `undecidable` refuses a decision button before the reason is asked (a stale card of
      a case decided meanwhile).
    Refusals raised by `show`/`files`/`undecidable` are answered by the chat's error handler."""

    name: str
    label: str
    command: str
    queue: Queue
    decide_button: ButtonSpec
    ask: Callable[[str], str]
    decide: Decide
    open_button: ButtonSpec | None = None
    show: Show | None = None
    files_button: ButtonSpec | None = None
    files: Fetch | None = None
    extra_answer: ExtraAnswer | None = None
    ask_again_on: frozenset[str] = frozenset()
    undecidable: Undecidable | None = None


def register(app: Application, flow: ReviewFlow) -> None:
    """The queue command, the open and attachment buttons, and the decision conversation of `flow`."""

    async def queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        _account, viewer = await caller(update, context)
        await reply(update, *await flow.queue(context, viewer))

    async def on_open(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert flow.open_button is not None and flow.show is not None
        values = await pressed(update, flow.open_button)
        if values is None:
            return
        _account, viewer = await caller(update, context)
        await reply(update, *await flow.show(services(context), viewer, values[0]))

    async def on_files(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert flow.files_button is not None and flow.files is not None
        values = await pressed(update, flow.files_button)
        if values is None:
            return
        _account, viewer = await caller(update, context)
        found = await flow.files(services(context), viewer, values[0])
        await resend_attachments(update, context, found.items, with_names=found.with_names)

    async def on_decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        values = await pressed(update, flow.decide_button)
        if values is None:
            return
        case_id, decision = values
        if flow.undecidable is not None:
            _account, viewer = await caller(update, context)
            refused = await flow.undecidable(services(context), viewer, case_id, decision)
            if refused is not None:
                await reply(update, refused)
                return
        question = flow.extra_answer.question(decision) if flow.extra_answer else None
        step = EXTRA if question is not None else REASON
        await flows.begin(update, context, conversation, step, {"id": case_id, "decision": decision})
        await reply(update, question if question is not None else flow.ask(decision))

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
        assert update.effective_message is not None
        answer = update.effective_message.text or ""
        if convo.step == EXTRA and flow.extra_answer is not None:
            try:
                extra = flow.extra_answer.read(answer)
            except ValueError as exc:
                await reply(update, str(exc))
                return
            await flows.advance(update, context, convo, REASON, {**convo.data, "extra": extra})
            await reply(update, flow.extra_answer.then)
            return
        if len(answer) > lifecycle.DECISION_REASON_LIMIT:  # kept whole in the record and the notice, or not at all
            await reply(update, f"理由最多 {lifecycle.DECISION_REASON_LIMIT} 字（本条 {len(answer)} 字），请精简后重新输入，或发送 /cancel 取消。")
            return
        await on_reason(update, context, convo, answer)

    async def on_reason(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo, reason: str) -> None:
        svc = services(context)
        data = convo.data
        await flows.finish(update, context, convo)
        _account, viewer = await caller(update, context)
        try:
            decided = await flow.decide(svc, viewer, data["id"], data["decision"], reason, data.get("extra"))
        except Refusal as exc:
            if exc.code in flow.ask_again_on:  # the official just types it again
                await flows.begin(update, context, conversation, REASON, data)
            await reply(update, exc.reason)
            return
        delivery = await tell(context, decided.chats, decided.notice, kind=flow.name, by_account_id=viewer.account_id)
        await reply(update, decided.answer + delivery_line(decided.whom, delivery))

    conversation = flows.define(
        flows.Flow(
            name=flow.name,
            label=flow.label,
            command=flow.command,
            timeout=flows.minutes("review_minutes"),
            on_text=on_text,
        )
    )

    app.add_handler(CommandHandler(flow.command, queue))
    if flow.open_button is not None:
        app.add_handler(CallbackQueryHandler(on_open, pattern=flow.open_button.pattern))
    if flow.files_button is not None:
        app.add_handler(CallbackQueryHandler(on_files, pattern=flow.files_button.pattern))
    app.add_handler(CallbackQueryHandler(on_decide, pattern=flow.decide_button.pattern))
